# XSS: every vector of t/xss/vectors.txt injected wherever outside text
# reaches a page -- mail HTML, plain-text body, subject, sender display
# name, attachment name (all through mailbridge deliver), ticket title
# (rename form) and a user's display name (profile form) -- and every page
# that shows them rendered in headless Chromium (t/ui/xss.js), with the
# CSP as sent and with the CSP bypassed.  A vector calls __xss(N); the
# hook records any call, the CSP listener any blocked attempt, a DOM scan
# anything that would run on a click.  None may; the controls prove the
# hook and the listener do fire.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Encode qw(encode);
use TK;
use TKUI;
require "$FindBin::Bin/mail_lib.pl";

TKUI::need_browser();
plan skip_all => 'build/mailbridge is not built' unless TK::mailbridge_bin();

# the vectors, XSS -> __xss(N)
my @vec;
open my $fh, '<', "$FindBin::Bin/xss/vectors.txt" or die $!;
while (my $l = <$fh>) {
    chomp $l;
    next if $l =~ /^#/ || $l eq '';
    my $n = @vec + 1;
    $l =~ s/XSS/__xss($n)/g;
    push @vec, $l;
}
close $fh;
cmp_ok scalar @vec, '>=', 50, scalar(@vec) . ' vectors';

my $tk = TK->new;
$tk->add_group('legal', all_agents => 1);
MB::write_conf($tk);
my $pw = $tk->add_user('xadmin', name => 'X Admin', admin => 1);

sub b64w { '=?UTF-8?B?' . encode_base64(encode('UTF-8', $_[0]), '') . '?=' }
sub pct  { my $s = encode('UTF-8', $_[0]); $s =~ s/([^A-Za-z0-9._-])/sprintf '%%%02X', ord $1/ge; $s }

my (@tickets, %stored);
for my $i (0 .. $#vec) {
    my $v = $vec[$i];
    my $k = $i + 1;
    # A: HTML only (shown sanitised), an attachment named by the vector,
    # the vector as subject and sender display name
    my $id = "xss.$k.$$\@example.net";
    my $mail = join "\r\n", 'From: ' . b64w($v) . " <x$k\@example.net>", 'To: legal@example.org',
        'Subject: ' . b64w($v), "Message-ID: <$id>", 'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="B"', '',
        '--B', 'Content-Type: text/html; charset=utf-8', '', "<p>vector $k:</p>$v<p>end</p>",
        '--B', 'Content-Type: application/octet-stream',
        "Content-Disposition: attachment; filename*=UTF-8''" . pct($v), 'Content-Transfer-Encoding: base64', '',
        encode_base64("x\n", ''), '--B--', '';
    my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'legal@example.org');
    is $rc, 0, "vector $k: HTML mail delivered" or diag $err;
    my ($n) = MB::stored($tk, $id);
    # B: the vector as plain text (links made by tk_out_text_as_html)
    my $id2 = "xss.t$k.$$\@example.net";
    ($rc, undef, $err) = MB::deliver($tk, MB::mail(subject => b64w("text $k: $v"),
        message_id => "<$id2>", from => "x$k\@example.net",
        'Content-Type' => 'text/plain; charset=utf-8', body => "text $k:\r\n$v\r\nhttps://example.org/?q=$k\r\n"),
        '--recipient', 'legal@example.org');
    is $rc, 0, "vector $k: text mail delivered" or diag $err;
    my ($n2) = MB::stored($tk, $id2);
    push @tickets, grep { defined } $n, $n2;
    $stored{$k} = $n;
}
is scalar @tickets, 2 * @vec, 'every mail made a ticket';

# web forms: each vector as a user's display name, and as the title that
# user gives "its" ticket (the history shows the name)
my ($names_ok, $titles_ok) = (0, 0);
for my $i (0 .. $#vec) {
    my $k = $i + 1;
    my $upw = $tk->add_user("x$k", name => "User $k");
    my $c = $tk->login_client("x$k", $upw);
    my $r = $c->submit('/profile', 'form#profile', name => $vec[$i]);
    $names_ok++ if $r->{status} == 303 || $r->{status} == 200;
    next unless $stored{$k};
    $r = $c->submit("/t/$stored{$k}", 'form#rename', title => "$vec[$i] (renamed)");
    $titles_ok++ if $r->{status} == 303;
    # a state change, for one more history entry with the name
    $c->submit("/t/$stored{$k}", 'form#ticket-update', state => 2);
}
ok $names_ok > 0, "display names set through the profile form ($names_ok)";
ok $titles_ok > 0, "titles set through the rename form ($titles_ok)";
my $ac = $tk->login_client('xadmin', $pw);
$ac->submit('/profile', 'form#profile', name => $vec[0]);

# the pages: every ticket, every overview and its pages, the profile
my @pages = ('/profile', map { "/t/$_" } @tickets);
my $home = $ac->get('/');
my %seen;
for my $a ($home->dom->find('nav#overviews a')) {
    my $u = $a->attr('href') // next;
    $u =~ s{^https?://[^/]+}{};
    my $guard = 0;
    while ($u && !$seen{$u}++ && $guard++ < 12) {
        push @pages, $u;
        my $p = $ac->get($u);
        my $next = $p->dom->at('a[rel=next]');
        $u = $next ? $next->attr('href') : undef;
        $u =~ s{^https?://[^/]+}{} if $u;
        $u =~ s/&amp;/&/g if $u;
    }
}
ok scalar(grep { !m{^/t/} } @pages) >= 3, 'overview pages to render: ' . scalar(grep { !m{^/t/} } @pages);

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'xadmin';
local $ENV{PASSWORD} = $pw;
local $ENV{PAGES} = JSON::PP->new->encode(\@pages);
my $r = TKUI::run_script('xss.js', timeout => 600);
note "Chromium $r->{browser}, $r->{pages} page loads";

# the controls: the hook and the CSP listener can fail this test
is_deeply $r->{controls}{hook}, ['control-onerror', 'control-script'],
    'control: the hook records a script that runs';
cmp_ok $r->{controls}{inlineCsp}{csp}, '>=', 1, 'control: the CSP listener sees a refused inline script';
is $r->{controls}{inlineCsp}{ran}, 0, '  which did not run';
is $r->{controls}{inlineBypassed}{ran}, 1, 'control: with the CSP bypassed it runs and the hook sees it';
is $r->{pages}, 2 * @pages, 'every page loaded twice';

my @runs = @{ $r->{runs} };
@runs = grep { $_->{page} !~ /^control/ } @runs;
is scalar @runs, 0, 'no vector ran, with or without the CSP'
    or diag join "\n", map { "ran: vector $_->{id} on $_->{page}" . ($_->{bypassCSP} ? ' (CSP bypassed)' : '')
        . ($_->{id} =~ /^(\d+)$/ ? "\n  $vec[$1 - 1]" : '') } @runs;
my @found = @{ $r->{found} };
is scalar @found, 0, 'no CSP violation, no handler or script URL in the DOM'
    or diag join "\n", map { "$_->{page}: $_->{what}" } @found[0 .. ($#found > 40 ? 40 : $#found)];

done_testing;
