# stress/lib.pl -- helpers of the fault and load tests (make stress).
# They use t/lib/TK.pm and t/mail_lib.pl like the tests of make test;
# numbers and durations come from the environment so that a quick run
# (STRESS_QUICK=1) and the full one share the code:
#
#   STRESS_MAILS (1000)   inbound mails of stress/mail_kill.t
#   STRESS_REPLIES (200)  outbound replies of stress/mail_kill.t
#   STRESS_DOWN (120)     seconds IMAP and SMTP stay down (mail_down.t)
#   STRESS_CLIENTS (200), STRESS_SECONDS (60)  load.t
#   STRESS_SEED           the random seed (printed; give it to replay)

package ST;

use strict;
use warnings;
use FindBin;
use Time::HiRes qw(sleep time);
use Test::More ();
use lib "$FindBin::Bin/../t/lib";
use TK;

our $QUICK = $ENV{STRESS_QUICK} ? 1 : 0;

sub num {
    my ($name, $full, $quick) = @_;
    return $ENV{$name} // ($QUICK ? $quick : $full);
}

sub seed {
    my $s = $ENV{STRESS_SEED} // int(time * 1000) % 1_000_000;
    srand $s;
    Test::More::note("STRESS_SEED=$s");
    return $s;
}

# The running children of a pid by their process name (mb-imap, ...).
sub kids {
    my ($ppid) = @_;
    my %k;
    for my $f (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $f or next;
        my $l = <$fh> // next;
        next unless $l =~ /^(\d+) \((.*)\) (\S) (\d+)/;
        $k{$2} = $1 if $4 == $ppid && $3 ne 'Z';
    }
    return \%k;
}

# Every pid whose parent chain leads to $root (not $root itself).
sub descendants {
    my ($root) = @_;
    my %parent;
    for my $f (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $f or next;
        my $l = <$fh> // next;
        $parent{$1} = $4 if $l =~ /^(\d+) \((.*)\) (\S) (\d+)/ && $3 ne 'Z';
    }
    my @out;
    for my $p (keys %parent) {
        my ($q, $n) = ($p, 0);
        while ($q && $n++ < 50) {
            $q = $parent{$q} // 0;
            if ($q == $root) { push @out, $p; last }
        }
    }
    return sort { $a <=> $b } @out;
}

# Resident set size of a pid, in KB (0 when gone).
sub rss {
    my ($pid) = @_;
    my $s = TK::read_file("/proc/$pid/status");
    return $s =~ /^VmRSS:\s+(\d+)/m ? $1 : 0;
}

# nginx's worker pids (children of the master).
sub workers {
    my ($tk) = @_;
    my $master = $tk->pid('nginx') or return ();
    my $k = kids_all($master);
    return sort { $a <=> $b } @$k;
}

sub kids_all {
    my ($ppid) = @_;
    my @k;
    for my $f (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $f or next;
        my $l = <$fh> // next;
        push @k, $1 if $l =~ /^(\d+) \((.*)\) (\S) (\d+)/ && $4 == $ppid && $3 ne 'Z';
    }
    return \@k;
}

# Worker crashes in nginx's error log ("exited on signal").
sub worker_crashes {
    my ($tk) = @_;
    my $log = TK::read_file($tk->dir . '/nginx/logs/error.log');
    return scalar(() = $log =~ /exited on signal/g);
}

sub rediscli {
    my ($tk, @args) = @_;
    my ($rc, $out, $err) = TK::run_cmd('redis-cli', '-s', $tk->redis_sock, @args);
    return wantarray ? ($rc, $out, $err) : $out;
}

# kill -9 of Redis, and start it again on the same data after $down s.
sub redis_crash {
    my ($tk, $down) = @_;
    my $pid = $tk->pid('redis') or return;
    kill 'KILL', $pid;
    waitpid $pid, 0;
    delete $tk->{procs}{redis};
    delete $tk->{redis};
    unlink $tk->redis_sock;
    sleep $down if $down;
    $tk->start_redis;
}

1;
