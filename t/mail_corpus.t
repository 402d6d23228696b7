# Real-world and hostile mails (t/corpus, see its README) through
# mailbridge deliver: every one gives exactly the outcome t/corpus/EXPECTED
# lists (stored with which flags, or quarantined with which reason) --
# exit 0, never a crash -- and what is stored is valid UTF-8 with HTML
# inside the sanitiser's own allow-list.  A sample runs under valgrind:
# no invalid reads, no definite leaks.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(decode_utf8);
use File::Find;
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = MB::setup(log_level => 'info');
my $dir = "$FindBin::Bin/corpus";
my @files;
find({ wanted => sub { push @files, $File::Find::name if -f && !/README|EXPECTED/ }, follow => 1, no_chdir => 1 }, $dir);
@files = sort @files;
ok @files >= 90, scalar(@files) . ' corpus files';

sub valid_utf8 { my $s = shift; return eval { decode_utf8($s, Encode::FB_CROAK); 1 } }

# What each mail must give, exactly: t/corpus/EXPECTED, one line a file:
#   PATH  stored       FLAGS    (the article's flags, "-" for none)
#   PATH  quarantined  REASON
# TK_CORPUS_WRITE=1 prints the lines this build gives instead, to review
# and paste after a deliberate change.
my %expected;
my $expected_file = "$dir/EXPECTED";
for (split /\n/, TK::read_file($expected_file)) {
    next if /^\s*(#|$)/;
    my ($name, $what) = /^(\S+)\s+(\S.*?)\s*$/ or die "$expected_file: bad line: $_\n";
    $expected{$name} = $what;
}

my (%got, @actual);
my $i = 0;
my $r = $tk->redis;
for my $f (@files) {
    my $mail = TK::read_file($f);
    (my $name = $f) =~ s{^\Q$dir\E/}{};
    # test suites reuse Message-IDs; each file should really be stored
    $i++;
    $mail =~ s/^(Message-ID:[ \t]*)<[^>\r\n]*>/$1<corpus-$i\@mailbridge.test>/mi;
    my %before = map { $_ => 1 } $r->zrange(TK_KEY_QUARANTINE, 0, -1);
    my ($rc, undef, $err) = MB::deliver($tk, $mail);
    is $rc, 0, "$name: exit 0" or diag $err;
    my ($what, $t, $a) = $err =~ /: (stored|duplicate|quarantined): .* ticket (\d+) article (\d+)/;
    my $outcome = $what // 'none';
    if (($what // '') eq 'stored') {
        my $flags = MB::article($tk, $t, $a)->{flags} // '';
        $outcome .= ' ' . (length $flags ? join(',', sort split /,/, $flags) : '-');
    } elsif (($what // '') eq 'quarantined') {
        my ($id) = grep { !$before{$_} } $r->zrange(TK_KEY_QUARANTINE, 0, -1);
        $outcome .= ' ' . ($id ? $r->hget(tk_key_quarantine($id), 'reason') // '?' : '?');
    }
    $got{$name} = $outcome;
    push @actual, sprintf "%-55s %s", $name, $outcome;
}

diag "$_" for $ENV{TK_CORPUS_WRITE} ? @actual : ();

subtest 'every corpus mail has exactly its expected outcome' => sub {
    for my $name (sort keys %got) {
        is $got{$name}, $expected{$name} // '(not in EXPECTED)', "$name: $got{$name}";
    }
    for my $name (sort keys %expected) {
        ok exists $got{$name}, "$name: listed in EXPECTED and present";
    }
};

# The sanitiser's own allow-list ("mailbridge html-allowlist"): every tag
# in stored HTML is an allowed element, every attribute allowed on every
# element or written by the sanitiser itself with a value it checked.
my (%element, %attribute, %own);
{
    my ($rc, $out) = TK::run_cmd(MB::bin(), 'html-allowlist');
    is $rc, 0, 'mailbridge html-allowlist';
    for (split /\n/, $out) {
        my ($kind, @w) = split ' ';
        if    ($kind eq 'element')   { $element{ $w[0] } = 1 }
        elsif ($kind eq 'attribute') { $attribute{ $w[0] } = 1 }
        elsif ($kind eq 'own')       { $own{"$w[0] $w[1]"} = [ @w[2 .. $#w] ] }
    }
    ok scalar(keys %element) > 20 && $element{a} && !$element{script},
        'the allow-list has elements, "a", not "script"';
    ok $attribute{title} && !$attribute{onclick} && !$attribute{style}, 'and attributes';
}

# Problems of one stored HTML body, or none.
sub html_problems {
    my ($html) = @_;
    my @bad;
    while ($html =~ /<([^>]*)(>|$)/g) {
        my ($tag, $end) = ($1, $2);
        if ($end ne '>') { push @bad, "unclosed '<$tag'"; next }
        my ($close, $el, $attrs) = $tag =~ m{^(/?)([a-z][a-z0-9]*)((?:\s+[a-z][a-z0-9-]*="[^"<>]*")*)\s*/?$}
            or do { push @bad, "not a tag of ours: <$tag>"; next };
        push @bad, "element <$el> is not allowed" unless $element{$el};
        push @bad, "</$el> has attributes" if $close && length $attrs;
        while ($attrs =~ /\s+([a-z][a-z0-9-]*)="([^"]*)"/g) {
            my ($name, $value) = ($1, $2);
            if (my $prefixes = $own{"$el $name"}) {
                push @bad, "<$el $name=\"$value\">: value not allowed"
                    if @$prefixes && !grep { index($value, $_) == 0 } @$prefixes;
            } elsif (!$attribute{$name}) {
                push @bad, "<$el $name>: attribute not allowed";
            }
        }
    }
    push @bad, "a bare '>' outside a tag" if $html =~ />[^<]*>/;
    return @bad;
}

subtest 'the allow-list check finds what it must' => sub {
    is_deeply [ html_problems('<p title="x">a &lt;b&gt;</p><a href="https://x" rel="r">l</a>') ], [],
        'allowed HTML passes';
    ok scalar(html_problems('<script>x</script>')), 'script';
    ok scalar(html_problems('<p onclick="x">a</p>')), 'an event attribute';
    ok scalar(html_problems('<p style="x">a</p>')), 'style';
    ok scalar(html_problems('<a href="javascript:x">a</a>')), 'a javascript: link';
    ok scalar(html_problems('<img src="http://x/y">')), 'a remote image that would load';
    ok scalar(html_problems('<svg><p>a</p>')), 'an unknown element';
    ok scalar(html_problems('<p>a <b')), 'a broken tag';
};

subtest 'everything stored is UTF-8, its HTML within the allow-list' => sub {
    my $max = $r->get(TK_KEY_SEQ_TICKET);
    my $html_bodies = 0;
    for my $n (1 .. $max) {
        for my $a (@{ MB::article_ids($tk, $n) }) {
            my $h = MB::article($tk, $n, $a);
            for my $f (qw(subject from to cc body body_html attachment_names)) {
                ok valid_utf8($h->{$f} // ''), "ticket $n article $a: $f" or diag $h->{$f};
            }
            my $html = $h->{body_html} // '';
            $html_bodies++ if length $html;
            my @bad = html_problems($html);
            ok !@bad, "ticket $n article $a: html within the allow-list"
                or diag join("\n", @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
        }
        ok valid_utf8(MB::ticket($tk, $n)->{title}), "ticket $n: title";
    }
    cmp_ok $html_bodies, '>=', 10, "$html_bodies HTML bodies checked";
};

subtest 'deliver under valgrind: no invalid accesses, no definite leaks' => sub {
    plan skip_all => 'valgrind not installed' unless -x '/usr/bin/valgrind';
    plan skip_all => 'valgrind and ASan do not mix (make asan)' if $ENV{TK_NGINX_PRELOAD};
    my @sample = grep { m{(mime-mixed-related|html-mime-inline|attachment\.raw|chardet-success-big-5|bad-final-boundary|nested-rfc822|html-only-latin1-meta|rfc2231-continuations|sample-nonspam|8bit-headers)} } @files;
    ok @sample >= 8, scalar(@sample) . ' sample mails';
    $i = 0;
    for my $f (@sample) {
        my $log = $tk->dir . '/valgrind.' . $i++ . '.log';
        # a fresh Message-ID so the mail is really parsed and stored
        (my $mail = TK::read_file($f)) =~ s/^Message-ID:[^\n]*\n//mig;
        local $ENV{G_SLICE} = 'always-malloc';
        my ($rc, undef, $err) = TK::run_cmd({ stdin => $mail }, 'valgrind', '--leak-check=full',
            '--errors-for-leak-kinds=definite', '--error-exitcode=9', "--log-file=$log",
            MB::bin(), '-c', MB::conf($tk), 'deliver');
        is $rc, 0, "$f: clean" or diag TK::tail($log, 40);
    }
};

done_testing;
