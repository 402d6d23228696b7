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

# Anonymous private memory of a pid (heap, pools; not shared memory
# zones such as the page cache, not files), in KB: what a leak grows.
sub uss {
    my ($pid) = @_;
    my $s = TK::read_file("/proc/$pid/smaps_rollup");
    return $s =~ /^Anonymous:\s+(\d+)/m ? $1 : 0;
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


# One line of figures for docs/reliability.md: build/stress-results.txt.
sub result {
    my ($line) = @_;
    Test::More::note($line);
    open my $fh, '>>', "$TK::ROOT/build/stress-results.txt" or return;
    print $fh scalar(gmtime) . " $line\n";
}

# ---- load with wrk ----------------------------------------------------------

# A wrk Lua script that rotates through @$reqs ([method, path, body]),
# with the cookie / bearer headers, and prints the status counts, the
# socket errors and the latency percentiles at the end.
sub wrk_script {
    my ($tk, $reqs, %o) = @_;
    my $q = sub { my $v = shift; $v =~ s/(["\\])/\\$1/g; $v =~ s/\n/\\n/g; qq("$v") };
    my $lua = "local reqs = {\n";
    for my $r (@$reqs) {
        my ($m, $path, $body, $hdr) = @$r;
        my %h = %{ $hdr // {} };
        $lua .= sprintf "  { %s, %s, %s, {%s} },\n", $q->($m), $q->($path),
            defined $body ? $q->($body) : 'nil',
            join ', ', map { sprintf '[%s] = %s', $q->($_), $q->($h{$_}) } sort keys %h;
    }
    $lua .= "}\nNMAX = " . ($o{nmax} // 1) . "\n" . <<'LUA';
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {}; i = math.random(#reqs) end
function request()
  i = i + 1
  local r = reqs[(i % #reqs) + 1]
  -- "{N}" in a path: a random ticket number 1..NMAX
  local path = string.gsub(r[2], "{N}", function() return tostring(math.random(NMAX)) end)
  return wrk.format(r[1], path, r[4], r[3])
end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do agg[k] = (agg[k] or 0) + v end
  end
  for k, v in pairs(agg) do io.write(string.format("status %d %d\n", k, v)) end
  local e = summary.errors
  io.write(string.format("errors connect %d read %d write %d status %d timeout %d\n",
    e.connect, e.read, e.write, e.status, e.timeout))
  io.write(string.format("requests %d duration_us %d\n", summary.requests, summary.duration))
  io.write(string.format("latency_us p50 %d p90 %d p99 %d max %d\n", latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
LUA
    my $path = $tk->dir . '/' . ($o{name} // 'load') . '.lua';
    TK::write_file($path, $lua);
    return $path;
}

# Run wrk (blocking) or start it (async => 1: returns a sub that waits
# and returns the result).  Result: {status => {code => n}, errors =>
# {connect read write status timeout}, requests, seconds, rps, p50 p90
# p99 max (ms), raw}.
sub wrk {
    my ($tk, $reqs, %o) = @_;
    my $script = wrk_script($tk, $reqs, %o);
    my @cmd = ('wrk', '-t', $o{threads} // 2, '-c', $o{clients} // 50,
        '-d', ($o{seconds} // 10) . 's', '--timeout', ($o{timeout} // 5) . 's',
        '-s', $script, $tk->base);
    my $out = $tk->dir . '/' . ($o{name} // 'load') . '.out';
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', $out; open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    my $wait = sub { waitpid $pid, 0; return wrk_parse(TK::read_file($out)) };
    return $o{async} ? $wait : $wait->();
}

sub wrk_parse {
    my ($text) = @_;
    my %r = (status => {}, errors => {}, raw => $text);
    $r{status}{$1} = $2 while $text =~ /^status (\d+) (\d+)$/mg;
    if ($text =~ /^errors connect (\d+) read (\d+) write (\d+) status (\d+) timeout (\d+)$/m) {
        @{ $r{errors} }{qw(connect read write status timeout)} = ($1, $2, $3, $4, $5);
    }
    if ($text =~ /^requests (\d+) duration_us (\d+)$/m) {
        $r{requests} = $1;
        $r{seconds} = $2 / 1e6;
        $r{rps} = $r{seconds} ? $1 / $r{seconds} : 0;
    }
    if ($text =~ /^latency_us p50 (\d+) p90 (\d+) p99 (\d+) max (\d+)$/m) {
        @r{qw(p50 p90 p99 max)} = map { $_ / 1000 } $1, $2, $3, $4;
    }
    return \%r;
}

sub sum_status {
    my ($r, $re) = @_;
    my $n = 0;
    $n += $r->{status}{$_} for grep { /$re/ } keys %{ $r->{status} };
    return $n;
}

sub socket_errors {
    my ($r) = @_;
    my $n = 0;
    $n += $r->{errors}{$_} // 0 for qw(connect read write timeout);
    return $n;
}

1;
