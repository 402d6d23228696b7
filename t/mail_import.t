# mailbridge import: mbox files (with ">From " escapes and "From" lines
# in bodies), maildirs and directories of .eml files become tickets, with
# threading inside one batch; a second run stores nothing twice; the
# summary counts stored, duplicates, quarantined and errors.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path);
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = MB::setup(extra => "import_batch = 7\n");
my $d = $tk->dir;

# 30 mails, a minute apart: every third a reply to the one before it
# (same batch or not; files named out of order: imported by Date)
my (@mails, @ids);
for my $i (1 .. 30) {
    my %h = (subject => "Archiv $i", date => sprintf('Tue, 03 Mar 2020 12:%02d:00 +0100', $i - 1));
    $h{in_reply_to} = "<$ids[-1]>" if $i % 3 == 0;
    $h{body} = "Text $i\nFrom here on it is line 2\n\n>From the archive\nEnde\n" if $i == 5;
    my $m = MB::mail(%h);
    $m =~ s/\r\n/\n/g;
    push @mails, $m;
    push @ids, MB::msgid_of($m);
}

sub mbox_escape { my $m = shift; $m =~ s/^(>*From )/>$1/mg; return $m }

TK::write_file("$d/archive.mbox", join '', map {
    "From anna\@example.net Tue Mar  3 12:00:00 2020\n" . mbox_escape($mails[$_]) . "\n" } 0 .. 9);
make_path("$d/maildir/$_") for qw(cur new tmp);
for my $i (10 .. 19) {
    TK::write_file(sprintf("%s/maildir/%s/15830000%02d.M1P1.host:2,S", $d, $i % 2 ? 'cur' : 'new', $i), $mails[$i]);
}
TK::write_file("$d/maildir/tmp/halbfertig", "From: x\n\nnot yet delivered\n");
make_path("$d/eml/sub");
TK::write_file(sprintf("%s/eml/%s/%02d.eml", $d, $_ % 2 ? 'sub' : '.', $_), $mails[$_]) for 20 .. 29;
TK::write_file("$d/eml/.DS_Store", "\0\0\0\1Bud1");

my ($rc, $out, $err) = MB::mailbridge($tk, 'import', "$d/archive.mbox", "$d/maildir", "$d/eml");
is $rc, 0, 'exit 0' or diag $err;
like $out, qr/archive\.mbox: 10 of 10 mails .*stored 10, duplicates 0, quarantined 0, errors 0/, 'mbox summary';
like $out, qr/maildir: 10 of 10 mails .*stored 10/, 'maildir summary (tmp/ skipped)';
like $out, qr/eml: 10 of 10 mails .*stored 10/, 'eml directory summary (dot files skipped)';
unlike $err, qr/\r\[/, 'no progress bar without a terminal';

for my $i (0 .. 29) {
    ok MB::where($tk, $ids[$i]), "mail $i stored";
}
is MB::article_count($tk), 30, '30 articles';
is MB::ticket_count($tk), 20, '20 tickets (10 replies threaded)';
for my $i (grep { $_ % 3 == 2 } 0 .. 29) {
    my ($n1) = MB::stored($tk, $ids[$i - 1]);
    my ($n2) = MB::stored($tk, $ids[$i]);
    is $n2, $n1, "mail $i threaded to mail " . ($i - 1);
}

subtest 'mbox: From lines in bodies, >From unescaped' => sub {
    my (undef, $a) = MB::stored($tk, $ids[4]);
    like $a->{body}, qr/^Text 5\nFrom here on it is line 2\n\n>From the archive\nEnde$/, 'body intact';
};

subtest 'archive times: the Date header' => sub {
    my ($n, $a) = MB::stored($tk, $ids[0]);
    is $a->{time}, 1583233200, 'article time = Date';
    is MB::ticket($tk, $n)->{created}, 1583233200, 'ticket created = Date';
};

subtest 'again: nothing stored twice' => sub {
    my ($rc, $out) = MB::mailbridge($tk, 'import', "$d/archive.mbox", "$d/maildir", "$d/eml");
    is $rc, 0, 'exit 0';
    like $out, qr/archive\.mbox: 10 of 10 mails .*stored 0, duplicates 10/, 'all duplicates';
    is MB::article_count($tk), 30, 'still 30 articles';
    is_deeply $tk->index_counts, $tk->expected_counts, 'index counts consistent';
};

subtest 'unparseable files are quarantined and counted' => sub {
    make_path("$d/bad");
    TK::write_file("$d/bad/1.eml", "// not a mail\n");
    TK::write_file("$d/bad/2.eml", MB::mail(subject => 'gut'));
    my ($rc, $out) = MB::mailbridge($tk, 'import', "$d/bad");
    is $rc, 0, 'exit 0';
    like $out, qr/stored 1, duplicates 0, quarantined 1, errors 0/, 'summary';
};

subtest 'Redis down: EX_TEMPFAIL, run again later' => sub {
    $tk->stop_redis;
    my ($rc, undef, $err) = MB::mailbridge($tk, 'import', "$d/archive.mbox");
    is $rc, 75, 'exit 75';
    $tk->start_redis;
};

subtest 'a missing path' => sub {
    my ($rc, undef, $err) = MB::mailbridge($tk, 'import', "$d/nonexistent");
    is $rc, 66, 'EX_NOINPUT';
    like $err, qr/No such file/, 'says why';
};

done_testing;
