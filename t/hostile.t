# Hostile input at the edges: path tricks and header injection in
# attachment names (the download's Content-Disposition), CR/LF in
# subjects, display names and titles (what replies are built from),
# oversized form bodies (413, nothing written), and slow clients that
# hold connections while others are served (bounded: a few seconds).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use MIME::Base64 qw(encode_base64);
use Encode qw(encode decode);
use TK;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is not built' unless TK::mailbridge_bin();

my $tk = TK->new;
$tk->add_group('legal', all_agents => 1);
MB::write_conf($tk);
my $pw = $tk->add_user('hanna', name => 'Hanna Hart');
my $c = $tk->login_client('hanna', $pw);

sub pct { my $s = encode('UTF-8', $_[0]); $s =~ s/([^A-Za-z0-9._-])/sprintf '%%%02X', ord $1/ge; $s }
sub b64w { '=?UTF-8?B?' . encode_base64(encode('UTF-8', $_[0]), '') . '?=' }

# ---- attachment names ----------------------------------------------------
my @names = ('../../../../etc/passwd', '..\\..\\Windows\\system32\\evil.exe',
    "C:\\Users\\anna\\Desktop\\Vollmacht.pdf", '/absolute/path/brief.pdf',
    "bericht\r\nX-Injected: 1.pdf", "bericht\r\n\r\n<html>.pdf", '..', '.', '.htaccess',
    'name"with"quotes.txt', "tab\tand\x01control.txt", 'Ladung über Termin §5.pdf',
    ('x' x 300) . '.pdf', "%2e%2e%2fetc%2fpasswd", 'nul%00byte.txt');
my $id = "hostile.att.$$\@example.net";
my @parts = map {
    ('--B', 'Content-Type: application/octet-stream',
     "Content-Disposition: attachment; filename*=UTF-8''" . pct($names[$_]),
     'Content-Transfer-Encoding: base64', '', encode_base64("file $_\n", ''))
} 0 .. $#names;
my $mail = join "\r\n", 'From: Anna <anna@example.net>', 'To: legal@example.org',
    'Subject: Anhänge', "Message-ID: <$id>", 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="B"', '',
    '--B', 'Content-Type: text/plain; charset=utf-8', '', 'siehe Anhang', @parts, '--B--', '';
my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'legal@example.org');
is $rc, 0, 'mail with hostile attachment names delivered' or diag $err;
my ($n) = MB::stored($tk, $id);
ok $n, "stored as ticket $n";

my $page = $c->get("/t/$n");
my @links = $page->dom->find('article .files li.file a.download');
is scalar @links, scalar @names, 'every attachment listed';
for my $a (@links) {
    my $href = $a->attr('href');
    my $res = $c->get($href);
    my $cd = $res->header('content-disposition') // '';
    my $label = substr($cd, 0, 90);
    is $res->{status}, 200, "download $href";
    unlike $cd, qr/[\r\n]/, "  no CR/LF: $label";
    like $cd, qr/^attachment; filename="[^"\\\/\x00-\x1f]*"; filename\*=UTF-8''[A-Za-z0-9!#\$&+.^_`|~%-]+$/,
        '  RFC 6266: attachment, quoted ASCII fallback, RFC 8187 filename*';
    my ($star) = $cd =~ /filename\*=UTF-8''(\S+)$/;
    my $name = decode('UTF-8', ($star // '') =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ger);
    unlike $name, qr{[/\\]}, "  the name has no path separator: $name";
    unlike $name, qr/^\./, '  no leading dot (hidden file, "..")';
    unlike $name, qr/[\x00-\x1f\x7f]/, '  no control characters';
    is $res->header('x-injected'), undef, '  no injected header';
    is $res->header('x-content-type-options'), 'nosniff', '  nosniff';
}

# ---- CR/LF in what replies are built from -----------------------------------
my $id2 = "hostile.crlf.$$\@example.net";
($rc, undef, $err) = MB::deliver($tk, join("\r\n",
    'From: ' . b64w("Eve\r\nBcc: victim\@example.org") . ' <eve@example.net>',
    'To: legal@example.org', 'Subject: ' . b64w("Frage\r\nBcc: victim\@example.org\r\n\r\nbody"),
    "Message-ID: <$id2>", 'Reply-To: "x\r\nBcc: y@example.org" <eve@example.net>', '', 'Hallo', ''),
    '--recipient', 'legal@example.org');
is $rc, 0, 'mail with encoded CR/LF in subject and names delivered' or diag $err;
my ($n2, $art) = MB::stored($tk, $id2);
for my $f (qw(subject from reply_to to)) {
    next unless defined $art->{$f};
    unlike $art->{$f}, qr/[\r\n]/, "article $f holds no CR/LF";
}
unlike $tk->ticket_hash($n2)->{title} // '', qr/[\r\n]/, 'the ticket title holds no CR/LF';

my $r = $c->submit("/t/$n2", 'form#rename', title => "Neu\r\nBcc: victim\@example.org");
ok $r->{status} == 303 || $r->{status} == 422 || $r->{status} == 400, "rename with CR/LF: $r->{status}";
unlike $tk->ticket_hash($n2)->{title} // '', qr/[\r\n]/, '  the stored title holds no CR/LF';
$r = $c->submit('/profile', 'form#profile', name => "Hanna\r\nBcc: x\@example.org");
my %u = $tk->redis->hgetall(tk_key_user('hanna'));
unlike $u{name} // '', qr/[\r\n]/, 'a display name with CR/LF is not stored with it';

# ---- oversized requests --------------------------------------------------
my $before = $tk->ticket_hash($n2)->{title};
my $hist = $tk->redis->xlen(tk_key_history($n2));
$c->get("/t/$n2");
$r = $c->post_csrf("/t/$n2/title", [ title => 'x' x (1024 * 1024 + 10) ]);
is $r->{status}, 413, 'a form body over 1 MB: 413';
is $tk->ticket_hash($n2)->{title}, $before, '  nothing written';
is $tk->redis->xlen(tk_key_history($n2)), $hist, '  no history entry';

# the same without Content-Length (chunked): refused once it is too big
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tk->{port}, Timeout => 10) or die $!;
    my $cookie = join '; ', map { "$_=$c->{jar}{$_}" } sort keys %{ $c->{jar} };
    print $s "POST /t/$n2/title HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: $cookie\r\n"
        . "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";
    my $chunk = 'x' x 65536;
    local $SIG{PIPE} = 'IGNORE';
    print $s sprintf("%x\r\n", length "title=") . "title=\r\n";
    for (1 .. 20) { print $s sprintf("%x\r\n%s\r\n", length $chunk, $chunk) or last }
    print $s "0\r\n\r\n";
    my $line = <$s> // '';
    like $line, qr{^HTTP/1\.1 413}, 'a chunked body over 1 MB: 413' or diag $line;
    close $s;
    is $tk->ticket_hash($n2)->{title}, $before, '  nothing written';
}

# ---- slow clients ---------------------------------------------------------
# 20 connections that send their request a byte at a time for ~4 s
# (nginx keeps each on the event loop); meanwhile ordinary requests are
# answered as fast as ever.
{
    my @slow = map {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tk->{port}, Timeout => 5) or die $!
    } 1 .. 20;
    my $req = "GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " . ('a' x 100) . "\r\n\r\n";
    my ($worst, $ok, $i) = (0, 0, 0);
    my $end = time + 4;
    while (time < $end) {
        my $ch = substr($req, $i++ % 60, 1);    # never completes the headers
        syswrite $_, $ch for @slow;
        my $t0 = time;
        my $res = $tk->client->get('/login');
        my $dt = time - $t0;
        $worst = $dt if $dt > $worst;
        $ok++ if $res->{status} == 200;
        sleep 0.2;
    }
    cmp_ok $ok, '>=', 10, "$ok ordinary requests answered while 20 clients trickle headers";
    cmp_ok $worst, '<', 1, sprintf('  the slowest took %.3f s', $worst);
    close $_ for @slow;
}

done_testing;
