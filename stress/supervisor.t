#!/usr/bin/perl
# stress/supervisor.t -- make run's supervisor (scripts/run.sh).
#
# - a crashed server (kill -9 of redis-server, the nginx master,
#   "mailbridge run", smtp-sink, the outbox) is started again with a
#   backoff, and the stack keeps serving; the nginx workers of a killed
#   master do not linger;
# - killing "make run" (kill -9 of make) or run.sh itself (TERM, INT,
#   HUP, KILL) leaves no process behind: no Redis, nginx, mailbridge,
#   smtp-sink, no supervisor.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp ();
use HTTP::Tiny;
use Net::EmptyPort qw(empty_port);
use POSIX ();
use Time::HiRes qw(sleep time);
use TK;
require "$FindBin::Bin/lib.pl";

plan skip_all => 'setpriv (util-linux) is missing' unless -x '/usr/bin/setpriv';
plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $http = HTTP::Tiny->new(timeout => 5, max_redirect => 0);

# Processes of one run: everything whose command line names its VAR.
sub procs_of {
    my ($var) = @_;
    my %p;
    for my $d (glob '/proc/[0-9]*') {
        my ($pid) = $d =~ /(\d+)$/;
        next if $pid == $$;
        my $cmd = TK::read_file("$d/cmdline");
        next unless index($cmd, $var) >= 0;
        my $st = TK::read_file("$d/stat");
        next if $st =~ /^\d+ \(.*\) Z/;
        $cmd =~ tr/\0/ /;
        $p{$pid} = $cmd;
    }
    return \%p;
}

sub find_proc {
    my ($var, $re) = @_;
    my $p = procs_of($var);
    # mailbridge's roles (comm mb-feed, ...) share the daemon's command line
    my ($pid) = sort { $a <=> $b } grep { $p->{$_} =~ $re
        && TK::read_file("/proc/$_/comm") !~ /^mb-/ } keys %$p;
    return $pid;
}

sub get_status {
    my ($port, $path) = @_;
    my $r = $http->get("http://127.0.0.1:$port" . ($path // '/login'));
    return $r->{status};
}

# start make run (via => 'make') or run.sh; returns {pid, port, var, log}
sub start_run {
    my (%o) = @_;
    my $var = File::Temp::tempdir('tk-run-XXXXXX', DIR => '/tmp', CLEANUP => 1);
    chmod 0755, $var;
    my $port = empty_port();
    my $log = "$var.log";
    my $pid = fork // die;
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $log; open STDERR, '>&', \*STDOUT;
        $ENV{TK_RUN_NO_BUILD} = 1;
        # as from a terminal: a test run in the background (make stress &)
        # inherits SIGINT ignored, and a shell cannot trap what it got
        # ignored
        $SIG{INT} = $SIG{QUIT} = 'DEFAULT';
        # a fresh process group, as a terminal would give make
        POSIX::setpgid(0, 0);
        if (($o{via} // '') eq 'make') {
            exec 'make', '-s', '-C', $TK::ROOT, 'run', "PORT=$port", "VAR=$var";
        } else {
            $ENV{PORT} = $port; $ENV{VAR} = $var;
            exec "$TK::ROOT/scripts/run.sh";
        }
        POSIX::_exit(127);
    }
    my $run = { pid => $pid, port => $port, var => $var, log => $log };
    TK::wait_for("make run to serve on $port", 60, sub { (get_status($port) // 0) == 200 });
    TK::wait_for('every server up', 30, sub {
        my $p = procs_of($var);
        my $all = join "\n", values %$p;
        $all =~ /redis-server/ && $all =~ /nginx: master/ && $all =~ / run ?$/m
            && $all =~ /smtp-sink/ && $all =~ /outbox ?$/m;
    });
    return $run;
}

sub gone_after {
    my ($run, $what) = @_;
    my $ok = eval { TK::wait_for("nothing of the run left ($what)", 30,
        sub { !%{ procs_of($run->{var}) } }); 1 };
    ok $ok, "$what: no process left" or diag explain procs_of($run->{var});
    kill 'KILL', $run->{pid} unless $ok;
    waitpid $run->{pid}, 0;
    kill 'KILL', keys %{ procs_of($run->{var}) };
}

subtest 'a crashed server is started again, the stack keeps serving' => sub {
    my $run = start_run(via => 'make');
    my $var = $run->{var};
    my %cases = (
        'redis-server'     => qr/^redis-server /,
        'nginx master'     => qr/^nginx: master/,
        'mailbridge run'   => qr{^\S*/mailbridge -c \S+/mailbridge\.conf run\s*$},
        'smtp-sink'        => qr/^\/usr\/sbin\/smtp-sink /,
        'mailbridge outbox'=> qr{^\S*/mailbridge -c \S+/outbox\.conf outbox\s*$},
    );
    for my $name ('redis-server', 'nginx master', 'mailbridge run', 'smtp-sink', 'mailbridge outbox') {
        my $re = $cases{$name};
        my $old = find_proc($var, $re);
        ok $old, "$name runs (pid " . ($old // '-') . ')';
        next unless $old;
        my @workers = $name eq 'nginx master' ? @{ ST::kids_all($old) } : ();
        my $t0 = time;
        kill 'KILL', $old;
        my $new;
        my $ok = eval { TK::wait_for("$name restarted", 30, sub {
            $new = find_proc($var, $re);
            $new && $new != $old;
        }); 1 };
        ok $ok, sprintf "$name: a new one (pid %s) after %.1f s", $new // '-', time - $t0;
        if (@workers) {
            ok !grep({ TK::read_file("/proc/$_/stat") =~ /^\d+ \(.*\) [^Z]/ } @workers),
                'the old master\'s workers are gone';
        }
        ok eval { TK::wait_for('pages again', 20, sub { (get_status($run->{port}) // 0) == 200 }); 1 },
            "$name: the stack serves";
    }
    like TK::read_file($run->{log}), qr/redis exited \(status 137\); restarting in \d+s/,
        'the log says what it restarted';
    # a server that keeps dying: the delay grows
    my $sink = qr/^\/usr\/sbin\/smtp-sink /;
    for (1 .. 3) {
        my $p; TK::wait_for('smtp-sink', 40, sub { $p = find_proc($var, $sink) });
        kill 'KILL', $p;
        sleep 0.3;
    }
    my @d = TK::read_file($run->{log}) =~ /smtp-sink exited \(status \d+\); restarting in (\d+)s/g;
    note "smtp-sink restart delays: @d";
    cmp_ok $d[-1], '>', $d[0], 'backoff: the delay grows while it keeps dying';
    ok kill('KILL', $run->{pid}), 'kill -9 of make';
    gone_after($run, 'kill -9 of make');
};

for my $sig (qw(TERM INT HUP KILL)) {
    subtest "run.sh killed with SIG$sig" => sub {
        my $run = start_run();
        my $n = keys %{ procs_of($run->{var}) };
        note "$n processes";
        kill $sig, $run->{pid};
        gone_after($run, "SIG$sig");
    };
}

done_testing;
