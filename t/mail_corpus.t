# Real-world and hostile mails (t/corpus, see its README) through
# mailbridge deliver: every one is stored, a duplicate, or quarantined --
# exit 0, never a crash -- and what is stored is valid UTF-8 with safe
# HTML.  A sample runs under valgrind: no invalid reads, no definite leaks.
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
find({ wanted => sub { push @files, $File::Find::name if -f && !/README/ }, follow => 1, no_chdir => 1 }, $dir);
@files = sort @files;
ok @files >= 90, scalar(@files) . ' corpus files';

sub valid_utf8 { my $s = shift; return eval { decode_utf8($s, Encode::FB_CROAK); 1 } }

my %outcome;
my $i = 0;
for my $f (@files) {
    my $mail = TK::read_file($f);
    (my $name = $f) =~ s{^\Q$dir\E/}{};
    # test suites reuse Message-IDs; each file should really be stored
    $i++;
    $mail =~ s/^(Message-ID:[ \t]*)<[^>\r\n]*>/$1<corpus-$i\@mailbridge.test>/mi;
    my ($rc, undef, $err) = MB::deliver($tk, $mail);
    is $rc, 0, "$name: exit 0" or diag $err;
    my ($what) = $err =~ /: (stored|duplicate|quarantined):/;
    ok $what, "$name: $what" or diag $err;
    $outcome{$what // 'none'}++;
}
diag join ', ', map { "$_ $outcome{$_}" } sort keys %outcome;
ok $outcome{stored} >= @files - 5, 'nearly all stored as tickets';

subtest 'everything stored is UTF-8, its HTML has no active content' => sub {
    my $r = $tk->redis;
    my $max = $r->get(TK_KEY_SEQ_TICKET);
    for my $n (1 .. $max) {
        for my $a (@{ MB::article_ids($tk, $n) }) {
            my $h = MB::article($tk, $n, $a);
            for my $f (qw(subject from to cc body body_html attachment_names)) {
                ok valid_utf8($h->{$f} // ''), "ticket $n article $a: $f" or diag $h->{$f};
            }
            my $html = $h->{body_html} // '';
            ok $html !~ /<\s*(script|style|iframe|object|embed)|\son\w+\s*=|javascript:/i,
                "ticket $n article $a: html safe" or diag $html;
        }
        ok valid_utf8(MB::ticket($tk, $n)->{title}), "ticket $n: title";
    }
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
