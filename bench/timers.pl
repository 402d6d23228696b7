#!/usr/bin/perl
# timers.pl -- the timers role's two numbers from issue 11:
#   1. memory of 1 M pending timers in the due sets (the shards
#      tk:{ix}:due:escalation:K of TK_DUE_SHARD tickets and their index,
#      written the way tk_timer_due_add writes them; INFO used_memory
#      before/after, per entry); target <= 100 MB;
#   2. 10 000 timers due in the same second, two "mailbridge timers"
#      running: how long from that second until all 10 000 fired (each
#      exactly once: notification requests and history entries counted
#      per ticket); target <= 2 s.
# Own Redis (redis-schema/redis.conf, no AOF/RDB) and mailbridges under
# a temp dir; prints one line per number and, with --json FILE, writes
# them there.
#
#   perl bench/timers.pl [--pending 1000000] [--due 10000] [--json F]
use strict;
use warnings;
use File::Temp qw(tempdir);
use Getopt::Long;
use IO::Socket::UNIX;
use POSIX ();
use Time::HiRes qw(time sleep);

my ($PENDING, $DUE, $JSON) = (1_000_000, 10_000, undef);
GetOptions('pending=i' => \$PENDING, 'due=i' => \$DUE, 'json=s' => \$JSON)
    or die "usage: $0 [--pending N] [--due N] [--json FILE]\n";

my $ROOT = POSIX::getcwd();
$ROOT =~ s{/bench$}{};
my $BUILD = "$ROOT/build";
-x "$BUILD/mailbridge" && -x "$BUILD/ticketctl" && -f "$BUILD/TKSchema.pm"
    or die "build first (make all)\n";
require "$BUILD/TKSchema.pm";
TKSchema->import;
my $DUE_E = TKSchema::TK_KEY_DUE_ESCALATION();
my $SHARD = TKSchema::TK_DUE_SHARD();
sub shard_key { TKSchema::tk_key_due_escalation_shard(int($_[0] / $SHARD)) }

my $dir = tempdir('tk-bench-timers-XXXXXX', DIR => '/tmp', CLEANUP => !$ENV{BENCH_KEEP});
my $sock = "$dir/redis.sock";
my @pids;
END { kill 'TERM', @pids if @pids; waitpid($_, 0) for @pids; }

sub spawn {
    my ($log, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/$log";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    push @pids, $pid;
    return $pid;
}

spawn('redis.log', 'redis-server', "$ROOT/redis-schema/redis.conf", '--port', '0',
    '--unixsocket', $sock, '--save', '', '--appendonly', 'no', '--dir', $dir);
for (1 .. 400) { last if -S $sock; sleep 0.05 }

# a minimal blocking RESP client (no CPAN module needed)
my $c = IO::Socket::UNIX->new(Peer => $sock) or die "redis: $!";
sub resp { my $s = "*" . @_ . "\r\n"; $s .= '$' . length($_) . "\r\n$_\r\n" for @_; $s }
sub reply {
    my $l = <$c>;
    my $t = substr($l, 0, 1, '');
    $l =~ s/\r\n$//;
    return $l if $t eq '+' || $t eq ':';
    die "redis: $l\n" if $t eq '-';
    if ($t eq '$') { return undef if $l < 0; my $b = ''; read($c, $b, $l + 2); return substr($b, 0, $l) }
    if ($t eq '*') { return [ map { reply() } 1 .. $l ] if $l >= 0; return undef }
    die "redis: bad reply\n";
}
sub cmd { print $c resp(@_); return reply() }
sub pipeline {               # many commands, replies read and dropped
    my ($cmds) = @_;
    my $n = 0;
    while (@$cmds) {
        my @chunk = splice(@$cmds, 0, 10_000);
        print $c join '', map { resp(@$_) } @chunk;
        reply() for @chunk;
    }
}
sub used { my ($m) = cmd('INFO', 'memory') =~ /used_memory:(\d+)/; $m }

system("$BUILD/ticketctl", '--redis', "unix:$sock", 'init') == 0 or die "init failed\n";
cmd('SADD', TKSchema::TK_KEY_GROUPS(), 'legal');

# ---- 1. memory of pending timers -----------------------------------------
my $now = int time;
my $before = used();
my @cmds;
# tickets 1 .. N, due one a second from tomorrow on: per shard one ZADD
# of its entries and the ZADD LT of its bound (tk_timer_due_add)
for (my $i = 1; $i <= $PENDING; $i++) {
    my $k = int($i / $SHARD);
    my @a = ('ZADD', shard_key($i));
    my $min = $now + 86400 + $i;
    for (; $i <= $PENDING && int($i / $SHARD) == $k; $i++) { push @a, $now + 86400 + $i, $i }
    $i--;
    push @cmds, \@a, [ 'ZADD', $DUE_E, 'LT', $min, $k ];
}
pipeline(\@cmds);
my $after = used();
my $mem = $after - $before;
my $enc = cmd('OBJECT', 'ENCODING', shard_key($PENDING));
printf "timers: %d pending timers: %.1f MB (%.0f B each; %d shards of %d, %s; target <= 100 MB)\n",
    $PENDING, $mem / 1e6, $mem / $PENDING, cmd('ZCARD', $DUE_E), $SHARD, $enc;

# ---- 2. many due in one second, two roles --------------------------------
open my $cf, '>', "$dir/mb.conf" or die;
print $cf "redis = unix:$sock\nredis_timeout = 5000\nlog_level = warn\ndefault_group = legal\n";
close $cf;
chmod 0600, "$dir/mb.conf";
spawn("timers-$_.log", "$BUILD/mailbridge", '-c', "$dir/mb.conf", 'timers') for 1, 2;
sleep 1;                     # both started, their first rescan done

my $first = $PENDING + 1;
my $due = int(time) + 3;
@cmds = ();
for my $n ($first .. $first + $DUE - 1) {
    push @cmds, [ 'HSET', TKSchema::tk_key_ticket($n), number => $n, title => "Frist $n",
        group => 'legal', owner => '', state => 1, priority => 4, created => $due - 86400,
        updated => $due - 86400, escalation_at => $due, flags => '', rev => 1 ];
    push @cmds, [ 'ZADD', shard_key($n), $due, $n ],
        [ 'ZADD', $DUE_E, 'LT', $due, int($n / $SHARD) ];
}
pipeline(\@cmds);
# due entries come from the roles' own recompute in production, so they
# know the next due time; these were written behind their back: one feed
# entry wakes them to look again
cmd('XADD', TKSchema::TK_KEY_FEED(), '*', 'ticket', 0, 'event', 'update', 'changed', 'bench');
# the roles went back to sleep until the earliest due time: $due.  Done:
# a notification request for each, and no shard's bound due any more.
my $NOTIFY = TKSchema::TK_KEY_NOTIFY();
my $left = $DUE;
while (time < $due + 30) {
    $left = $DUE - cmd('XLEN', $NOTIFY);
    last if $left <= 0 && cmd('ZCOUNT', $DUE_E, '-inf', $due) == 0;
    sleep 0.01;
}
my $took = time - $due;
sleep 0.5;                   # a second fire would come now
my $notes = cmd('XRANGE', $NOTIFY, '-', '+');
my %per;
for my $e (@$notes) { my %f = @{ $e->[1] }; $per{ $f{ticket} }++ }
my $twice = grep { $_ > 1 } values %per;
# and the history: one entry "escalated" per ticket
@cmds = map { [ 'XLEN', TKSchema::tk_key_history($_) ] } $first .. $first + $DUE - 1;
my $hist_bad = 0;
while (@cmds) {
    my @chunk = splice(@cmds, 0, 10_000);
    print $c join '', map { resp(@$_) } @chunk;
    $hist_bad += (reply() != 1) for @chunk;
}
my $ok = keys(%per) == $DUE && $twice == 0 && $hist_bad == 0;
printf "timers: %d due in one second, 2 roles: all fired %.2f s after their "
    . "second (%d fired, %d twice, %d without one history entry, %d left; target <= 2 s, each once)\n",
    $DUE, $took, scalar(keys %per), $twice, $hist_bad, $left > 0 ? $left : 0;

if ($JSON) {
    open my $j, '>', $JSON or die "$JSON: $!";
    printf $j '{"pending":%d,"pending_bytes":%d,"due":%d,"fire_seconds":%.3f,'
        . '"fired":%d,"twice":%d,"history_bad":%d,"exactly_once":%d}' . "\n", $PENDING, $mem,
        $DUE, $took, scalar(keys %per), $twice, $hist_bad, $ok ? 1 : 0;
}
