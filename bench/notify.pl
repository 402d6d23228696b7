#!/usr/bin/perl
# notify.pl -- the notify role's throughput (helper notify): N change-feed
# entries ("update: state changed") for a group of U agents with the
# default matrix, one "mailbridge run --role notify"; how long until the
# consumer group has acknowledged the last entry, i.e. every notice, mail
# (outbox entry) and done marker is written.  Uses the test harness's
# servers (t/lib/TK.pm: Redis with a unix socket under /tmp).
#
#   perl bench/notify.pl [--entries 2000] [--users 20]
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Getopt::Long;
use Time::HiRes qw(time sleep);
use TK;
require "$FindBin::Bin/../t/mail_lib.pl";

my ($N, $U) = (2000, 20);
GetOptions('entries=i' => \$N, 'users=i' => \$U) or die "usage: $0 [--entries N] [--users U]\n";

my $tk = TK->new(nginx => 0);
$tk->add_group('ALSO');
my $r = $tk->redis;
MB::write_conf($tk);
$tk->add_user("u$_", rights => 'ALSO:full') for 1 .. $U;
my $n = $tk->add_ticket(group => 'ALSO', title => 'Bench');
$tk->spawn('notify', MB::bin(), '-c', MB::conf($tk), 'run', '--role', 'notify');
TK::wait_for('the notify group', 10, sub {
    grep { my %g = @$_; $g{name} eq TK_NOTIFY_GROUP } eval { $r->xinfo('GROUPS', TK_KEY_FEED) } });
sleep 1;

my $t0 = time;
for my $i (1 .. $N) {
    $r->xadd(TK_KEY_FEED, '*', ticket => $n, rev => $i, event => 'update', src => 'cli',
        by => 'root', group => 'ALSO', changed => 'state', state => 2, 'state.from' => 1);
}
my ($last) = $r->xrevrange(TK_KEY_FEED, '+', '-', 'COUNT', 1);
TK::wait_for('the last entry', 600, sub {
    my ($g) = grep { my %g = @$_; $g{name} eq TK_NOTIFY_GROUP } $r->xinfo('GROUPS', TK_KEY_FEED);
    my %g = @$g;
    $g{pending} == 0 && $g{'last-delivered-id'} eq $last->[0];
});
my $dt = time - $t0;
printf "notify: %d entries x %d recipients in %.2f s: %.0f entries/s, %.0f notices+mails/s "
    . "(%.2f ms per entry); outbox %d\n", $N, $U, $dt, $N / $dt, $U * $N / $dt, 1000 * $dt / $N,
    $r->xlen(TK_KEY_OUTBOX);
