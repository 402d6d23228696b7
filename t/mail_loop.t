# mailbridge run: a supervisor with one process per role (imap, feed).
# The feed role picks up a change-feed entry within 100 ms while the imap
# role polls Dovecot; a role killed with -9 is restarted (with backoff)
# and loses nothing -- mail arriving later is stored, an entry delivered
# to it but not acknowledged is processed by its next life, entries a
# dead consumer held are taken over; SIGTERM stops everything in bounded
# time; an idle role sleeps (no 1 s poll, no busy loop).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Mail::IMAPClient;
use Time::HiRes qw(sleep time);
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $FEED     = 'tk:{ix}:feed';
my $GROUP    = 'mailbridge';
my $CONSUMER = 'loop-test';

my $tk = MB::setup();
my $dc = $tk->start_dovecot(users => { agent => 'secret', other => 'secret2' });

sub conf_for {
    my (%o) = @_;
    MB::write_conf($tk, log_level => 'debug', extra => join '',
        "mailbox.in.url = imap://127.0.0.1:$dc->{port}/INBOX\n",
        "mailbox.in.user = agent\n",
        "mailbox.in.password = secret\n",
        "mailbox.in.tls = none\n",
        "mailbox.in.poll = ", $o{poll} // 1, "\n",
        "feed_consumer = $CONSUMER\n",
        "feed_claim_idle = ", $o{claim_idle} // 1000, "\n",
        "stop_timeout = ", $o{stop_timeout} // 5, "\n");
}

sub append {
    my ($mail, $user, $pw) = @_;
    my $i = Mail::IMAPClient->new(Server => '127.0.0.1', Port => $dc->{port},
        User => $user // 'agent', Password => $pw // 'secret', Uid => 1)
        or die "IMAP: $@";
    $i->append_string('INBOX', $mail) or die 'append: ' . $i->LastError;
    $i->logout;
}

sub r { $tk->redis }

# The running children of a pid by their process name (mb-imap, mb-feed).
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

sub wait_kids {
    my ($ppid, @names) = @_;
    TK::wait_for("roles @names running", 10, sub {
        my $k = kids($ppid);
        !grep { !$k->{$_} } @names;
    });
    return kids($ppid);
}

# utime + stime (clock ticks) and context switches, over all threads
sub usage {
    my ($pid) = @_;
    my ($cpu, $sw) = (0, 0);
    for my $t (glob "/proc/$pid/task/*") {
        my $st = TK::read_file("$t/stat");
        $st =~ s/^.*\) //s;
        my @f = split ' ', $st;
        $cpu += $f[11] + $f[12];
        my $s = TK::read_file("$t/status");
        $sw += $1 while $s =~ /^(?:non)?voluntary_ctxt_switches:\s+(\d+)/mg;
    }
    return ($cpu, $sw);
}

sub group {
    my @g = eval { r()->xinfo('GROUPS', $FEED) };
    for my $g (@g) {
        my %h = @$g;
        return \%h if $h{name} eq $GROUP;
    }
    return;
}

# the feed role's connection (CLIENT SETNAME) blocked in XREADGROUP
sub consumer_ready {
    TK::wait_for("the feed role waiting in XREADGROUP", 10, sub {
        my $l = eval { r()->client_list } // '';
        $l =~ /name=mailbridge-feed .*flags=b.*cmd=xreadgroup/;
    });
}

sub id_ge {
    my ($a, $b) = @_;
    my @a = split /-/, $a;
    my @b = split /-/, $b;
    return $a[0] > $b[0] || ($a[0] == $b[0] && $a[1] >= $b[1]);
}

# delivered to the group and acknowledged: last-delivered-id reached, and
# nothing pending
sub acked {
    my ($id) = @_;
    my $g = group() or return 0;
    return id_ge($g->{'last-delivered-id'}, $id) && $g->{pending} == 0;
}

sub xadd { r()->xadd($FEED, '*', 'test', $_[0] // 'x') }

sub log_text { TK::read_file($tk->log_file('mailbridge')) }

sub start_run {
    $tk->spawn('mailbridge', MB::bin(), '-c', MB::conf($tk), 'run');
    return wait_kids($tk->pid('mailbridge'), 'mb-imap', 'mb-feed');
}

subtest 'idle: the roles and the supervisor sleep, no 1 s poll, no busy loop' => sub {
    conf_for(poll => 60, claim_idle => 60000);
    my $mail = MB::mail(subject => 'Vor der Ruhe');
    append($mail);
    my $k = start_run();
    TK::wait_for('first poll done', 15, sub { MB::where($tk, MB::msgid_of($mail)) });
    consumer_ready();
    sleep 0.5;
    my %before = map { $_ => [ usage($k->{$_} // $tk->pid('mailbridge')) ] } qw(mb-imap mb-feed super);
    $before{super} = [ usage($tk->pid('mailbridge')) ];
    sleep 3;
    for my $name (qw(mb-imap mb-feed super)) {
        my $pid = $name eq 'super' ? $tk->pid('mailbridge') : $k->{$name};
        my ($cpu, $sw) = usage($pid);
        is $cpu - $before{$name}[0], 0, "$name: no CPU time in 3 s";
        cmp_ok $sw - $before{$name}[1], '<=', 1, "$name: no wake-ups in 3 s";
    }
    is $tk->stop_proc('mailbridge', 'TERM', 10), 0, 'stopped';
};

subtest 'imap role: each mailbox on its own poll interval' => sub {
    MB::write_conf($tk, extra => join '', map {
        my ($name, $user, $pw, $poll) = @$_;
        "mailbox.$name.url = imap://127.0.0.1:$dc->{port}/INBOX\n"
        . "mailbox.$name.user = $user\nmailbox.$name.password = $pw\n"
        . "mailbox.$name.tls = none\nmailbox.$name.poll = $poll\n"
    } [ 'fast', 'agent', 'secret', 1 ], [ 'slow', 'other', 'secret2', 4 ]);
    my @first = (MB::mail(subject => 'schnell 1'), MB::mail(subject => 'langsam 1'));
    append($first[0]);
    append($first[1], 'other', 'secret2');
    $tk->spawn('imap', MB::bin(), '-c', MB::conf($tk), 'run', '--role', 'imap');
    TK::wait_for('first polls', 15, sub { !grep { !MB::where($tk, MB::msgid_of($_)) } @first });
    my ($fast, $slow) = (MB::mail(subject => 'schnell 2'), MB::mail(subject => 'langsam 2'));
    my $t0 = time;
    append($fast);
    append($slow, 'other', 'secret2');
    my %at;
    TK::wait_for('both stored', 15, sub {
        for ([ fast => $fast ], [ slow => $slow ]) {
            $at{ $_->[0] } //= time - $t0 if MB::where($tk, MB::msgid_of($_->[1]));
        }
        keys %at == 2;
    });
    diag sprintf 'stored after: fast %.2f s, slow %.2f s', $at{fast}, $at{slow};
    cmp_ok $at{fast}, '<', 1.8, 'poll = 1: within a second or so';
    ok $at{slow} > 2.5 && $at{slow} < 6, 'poll = 4: at its next poll, not before';
    is $tk->stop_proc('imap', 'TERM', 10), 0, 'SIGTERM: exit 0';
};

subtest 'imap role: SIGTERM cuts short a server that does not answer' => sub {
    # accepts connections (the kernel does, from the backlog), says nothing
    my $silent = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
        LocalPort => 0, Proto => 'tcp') or die "listen: $!";
    MB::write_conf($tk, extra => "mailbox.mute.url = imap://127.0.0.1:"
        . $silent->sockport . "/INBOX\nmailbox.mute.user = u\n"
        . "mailbox.mute.tls = none\nfeed = no\n");
    $tk->spawn('mute', MB::bin(), '-c', MB::conf($tk), 'run', '--role', 'imap');
    sleep 1.5;                                # inside curl, waiting
    my $t0 = time;
    is $tk->stop_proc('mute', 'TERM', 20), 0, 'SIGTERM: exit 0';
    cmp_ok time - $t0, '<', 3, 'within a second or two, not curl\'s 30 s';
};

subtest 'a feed entry is acknowledged within 100 ms while IMAP polls' => sub {
    conf_for(poll => 1);
    start_run();
    consumer_ready();
    my (@lat, @mails);
    for my $n (1 .. 16) {
        if ($n % 2) {
            push @mails, MB::mail(subject => "Nebenher $n");
            append($mails[-1]);
        }
        sleep rand 0.4;            # somewhere in the imap role's second
        my $t0 = time;
        my $id = xadd($n);
        sleep 0.001 until acked($id) || time - $t0 > 2;
        push @lat, time - $t0;
    }
    my ($max) = sort { $b <=> $a } @lat;
    diag sprintf 'feed latency: max %.1f ms, mean %.1f ms', $max * 1000,
        1000 * eval { my $s = 0; $s += $_ for @lat; $s / @lat };
    cmp_ok $max, '<', 0.1, 'every entry acked within 100 ms';
    TK::wait_for('mails stored meanwhile', 15,
        sub { !grep { !MB::where($tk, MB::msgid_of($_)) } @mails });
    ok 1, scalar(@mails) . ' mails stored by the imap role meanwhile';
    like log_text(), qr{mailbridge/imap\[\d+\]: info: imap:in uid \d+: stored}, 'imap role logs with its tag';
};

subtest 'kill -9 of the feed role: restarted, its unacked entry and a dead consumer\'s are processed' => sub {
    my $sup = $tk->pid('mailbridge');
    my $old = kids($sup)->{'mb-feed'};
    kill 'STOP', $old;
    my $mine = xadd('delivered-then-killed');
    TK::wait_for('entry delivered to the stopped consumer', 5, sub {
        my $g = group(); $g && $g->{pending} == 1 });
    my $theirs = xadd('held-by-a-dead-consumer');
    my $got = r()->xreadgroup('GROUP', $GROUP, 'gone-host', 'COUNT', 1, 'STREAMS', $FEED, '>');
    is $got->[0][1][0][0], $theirs, 'the other entry is pending at consumer gone-host';
    is group()->{pending}, 2, 'two pending';
    kill 'KILL', $old;
    my $new;
    TK::wait_for('feed role restarted', 10, sub {
        $new = kids($sup)->{'mb-feed'}; $new && $new != $old });
    TK::wait_for('both entries acknowledged', 10, sub { group()->{pending} == 0 });
    ok acked($theirs), 'nothing pending, last delivered is the newest';
    like log_text(), qr/role feed \(pid $old\) killed by signal 9/, 'the supervisor logged the signal';
    like log_text(), qr/1 entries read before but not acknowledged: processed again/,
        'its own unacknowledged entry re-read';
    like log_text(), qr/took over 1 entries/, 'took over the dead consumer\'s entry';
    my $id = xadd('after');
    TK::wait_for('new entries still flow', 5, sub { acked($id) });
};

subtest 'kill -9 of the imap role: restarted, later mail is stored' => sub {
    my $sup = $tk->pid('mailbridge');
    my $old = kids($sup)->{'mb-imap'};
    kill 'KILL', $old;
    my $new;
    TK::wait_for('imap role restarted', 10, sub {
        $new = kids($sup)->{'mb-imap'}; $new && $new != $old });
    my $mail = MB::mail(subject => 'Nach dem Absturz');
    append($mail);
    TK::wait_for('mail stored', 15, sub { MB::where($tk, MB::msgid_of($mail)) });
    like log_text(), qr/role imap \(pid $old\) killed by signal 9/, 'logged';
};

subtest 'a role that keeps dying is restarted with a growing delay' => sub {
    my $sup = $tk->pid('mailbridge');
    my @delays;
    for (1 .. 3) {
        my $old = kids($sup)->{'mb-feed'};
        kill 'KILL', $old;
        TK::wait_for("the restart after killing $old", 20, sub {
            my $n = kids($sup)->{'mb-feed'}; $n && $n != $old });
        push @delays, log_text() =~ /role feed \(pid $old\) killed by signal 9.*restarting in (\d+) ms/;
    }
    is scalar(@delays), 3, 'three restarts logged';
    ok $delays[0] >= 1000 && $delays[1] >= 2 * $delays[0] && $delays[2] >= 2 * $delays[1],
        "backoff doubles: @delays ms";
    consumer_ready();
    my $id = xadd('after the storm');
    TK::wait_for('entries flow again', 5, sub { acked($id) });
};

subtest 'Redis restarted: the feed role reconnects' => sub {
    $tk->stop_redis;
    sleep 1.5;
    $tk->start_redis;
    consumer_ready();
    my $id = xadd('after redis');
    TK::wait_for('acked after the reconnect', 40, sub { acked($id) });
    ok kids($tk->pid('mailbridge'))->{'mb-feed'}, 'feed role still there';
    like log_text(), qr/feed: Redis at \S+ is back/, 'logged the reconnect';
};

subtest 'SIGTERM: every role stops, supervisor exits 0, in bounded time' => sub {
    my $sup = $tk->pid('mailbridge');
    my $k = kids($sup);
    my $t0 = time;
    is $tk->stop_proc('mailbridge', 'TERM', 10), 0, 'exit 0';
    cmp_ok time - $t0, '<', 2, 'within 2 s';
    ok !kill(0, $k->{$_}), "$_ gone" for sort keys %$k;
    like log_text(), qr/mailbridge\[\d+\]: info: stopped/, 'supervisor logged its stop';
};

subtest 'a role that does not stop is killed after stop_timeout' => sub {
    conf_for(poll => 1, stop_timeout => 2);
    my $k = start_run();
    kill 'STOP', $k->{'mb-imap'};
    my $t0 = time;
    my $st = $tk->stop_proc('mailbridge', 'TERM', 10);
    my $took = time - $t0;
    is $st >> 8, 70, 'exit 70 (EX_SOFTWARE): not a clean stop';
    ok $took >= 1.9 && $took < 5, sprintf 'after stop_timeout (%.1f s)', $took;
    like log_text(), qr/role imap \(pid $k->{'mb-imap'}\) did not stop within 2 s: SIGKILL/, 'logged';
    ok !kill(0, $k->{$_}), "$_ gone" for sort keys %$k;
};

subtest 'kill -9 of the supervisor: the roles stop too' => sub {
    conf_for(poll => 1);
    my $k = start_run();
    kill 'KILL', $tk->pid('mailbridge');
    TK::wait_for('roles gone', 10, sub { !grep { kill 0, $_ } values %$k });
    $tk->stop_proc('mailbridge');
    ok 1, 'no orphaned role';
};

subtest 'run under valgrind: supervisor and roles without invalid accesses or leaks' => sub {
    plan skip_all => 'valgrind not installed' unless -x '/usr/bin/valgrind';
    plan skip_all => 'valgrind and ASan do not mix (make asan)' if $ENV{TK_NGINX_PRELOAD};
    # valgrind makes every role slow to start and to stop
    conf_for(poll => 1, claim_idle => 500, stop_timeout => 60);
    my $mail = MB::mail(subject => 'Valgrind Schleife');
    append($mail);
    my $vg = $tk->dir . '/vg';
    mkdir $vg;
    local $ENV{G_SLICE} = 'always-malloc';
    $tk->spawn('mailbridge', '/usr/bin/valgrind', '--leak-check=full',
        '--errors-for-leak-kinds=definite', '--error-exitcode=9',
        "--log-file=$vg/%p.log", MB::bin(), '-c', MB::conf($tk), 'run');
    TK::wait_for('mail stored', 60, sub { MB::where($tk, MB::msgid_of($mail)) });
    consumer_ready();
    my $theirs = xadd('claimed under valgrind');
    r()->xreadgroup('GROUP', $GROUP, 'gone-again', 'COUNT', 1, 'STREAMS', $FEED, '>');
    my @ids = map { xadd("vg $_") } 1 .. 5;
    TK::wait_for('all acknowledged', 30, sub { acked($ids[-1]) });
    is $tk->stop_proc('mailbridge', 'TERM', 90), 0, 'stopped, exit 0';
    my @logs = glob "$vg/*.log";
    is scalar(@logs), 5, 'supervisor and four roles (imap, feed, timers, notify) ran under valgrind';
    for my $l (@logs) {
        my $t = TK::read_file($l);
        like $t, qr/ERROR SUMMARY: 0 errors/, "clean: $l" or diag TK::tail($l, 40);
        unlike $t, qr/definitely lost: [1-9]/, "no definite leak: $l";
    }
    unlike log_text(), qr/exited with status 9/, 'no role exited with valgrind\'s error code';
};

subtest 'run --role NAME: one role in the foreground' => sub {
    conf_for(poll => 1);
    $tk->spawn('feed', MB::bin(), '-c', MB::conf($tk), 'run', '--role', 'feed');
    consumer_ready();
    my $id = xadd('foreground');
    TK::wait_for('acked', 5, sub { acked($id) });
    is kids($tk->pid('feed'))->{'mb-feed'}, undef, 'no child process';
    is $tk->stop_proc('feed', 'TERM', 10), 0, 'SIGTERM: exit 0';
    like TK::read_file($tk->log_file('feed')), qr{mailbridge/feed\[\d+\]: info: feed: stopped}, 'logged';

    my ($rc, undef, $err) = MB::mailbridge($tk, 'run', '--role', 'nosuch');
    is $rc, 64, 'unknown role: EX_USAGE';
    like $err, qr/unknown role "nosuch"/, 'says so';
    MB::write_conf($tk, extra => "feed = no\ntimers = no\nnotify = no\n");
    ($rc, undef, $err) = MB::mailbridge($tk, 'run', '--role', 'imap');
    is $rc, 78, 'imap without a mailbox: EX_CONFIG';
    ($rc, undef, $err) = MB::mailbridge($tk, 'run');
    is $rc, 78, 'run with no role enabled: EX_CONFIG';
    like $err, qr/nothing to run/, 'says why';
};

done_testing;
