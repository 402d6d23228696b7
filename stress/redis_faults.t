#!/usr/bin/perl
# stress/redis_faults.t -- Redis in trouble while the web is under load.
#
# - kill -9 of Redis under load (wrk, mixed pages and API writes), started
#   again on its AOF after a few seconds: 503 while it is down, no socket
#   error or timeout, no worker crash (error.log), the same workers serve
#   200 again by themselves; API notes: every 201 is stored.
# - CLIENT PAUSE longer than ticket_redis_timeout (1 s): 503 within the
#   timeout, no timeout at the client, no connection left hanging.
# - maxmemory below what is used (noeviction): a mail is deferred with 75
#   and a clear message, the API and the reply form answer 503 with a
#   message, nothing is half-written; with memory back, it is stored once.
# - the AOF's disk full (a small tmpfs, needs root; skipped otherwise):
#   writes are refused (deliver 75, web 503), nothing acknowledged is
#   lost, and with space back everything works again.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);
use TK;
require "$FindBin::Bin/../t/mail_lib.pl";
require "$FindBin::Bin/lib.pl";

my $tk = TK->new(redis_timeout => '1s', workers => 2, redis_extra => "appendfsync always\n");
$tk->add_group('legal', email => 'legal@example.org', all_agents => 1);
$tk->add_group('ALSO', email => 'also@example.org');
my $pw = $tk->add_user('rudi', rights => 'ALSO:full,legal:full');
my $token = $tk->add_token('rudi');
my @t = map { $tk->add_ticket(title => "Last $_", group => $_ % 2 ? 'ALSO' : 'legal',
    body => "Text $_") } 1 .. 20;
my $c = $tk->login_client('rudi', $pw);
my $cookie = join '; ', map { "$_=" . $c->jar->{$_} } sort keys %{ $c->jar };
MB::write_conf($tk);

my %web = (Cookie => $cookie);
my %api = (Authorization => "Bearer $token", Accept => 'application/json');
my @reqs = (
    (map { [ GET => "/t/$_", undef, \%web ] } @t[0 .. 9]),
    [ GET => '/', undef, \%web ],
    [ GET => '/overview/all', undef, \%web ],
    [ GET => '/api/v1/tickets', undef, \%api ],
    [ GET => "/api/v1/tickets/$t[3]", undef, \%api ],
    (map { [ POST => "/api/v1/tickets/$_/articles", '{"type":"note","body":"Notiz unter Last"}',
      { %api, 'Content-Type' => 'application/json' } ] } @t[10 .. 19]),
);

sub notes {
    my $n = 0;
    for my $num (@t[10 .. 19]) {
        for my $id ($tk->redis->lrange(tk_key_ticket_arts($num), 0, -1)) {
            $n++ if ($tk->redis->hget(tk_key_article($num, $id), 'body') // '') eq 'Notiz unter Last';
        }
    }
    return $n;
}

sub statuses { my $r = shift; join ', ', map { "$_: $r->{status}{$_}" } sort keys %{ $r->{status} } }

my @workers = ST::workers($tk);
is scalar @workers, 2, 'two workers';

subtest 'kill -9 of Redis under load, restarted on its AOF' => sub {
    my $notes0 = notes();
    my $wait = ST::wrk($tk, \@reqs, clients => 50, seconds => 16, async => 1, name => 'redis-kill');
    sleep 4;
    my $t_kill = time;
    ST::redis_crash($tk, 4);
    my $down = time - $t_kill;
    my $r = $wait->();
    note sprintf '%d requests, %.0f/s, %s; errors %s; p99 %.1f ms, max %.1f ms', $r->{requests},
        $r->{rps}, statuses($r), join(' ', map { "$_=$r->{errors}{$_}" } sort keys %{ $r->{errors} }),
        $r->{p99}, $r->{max};
    ok $r->{requests} > 100, 'requests were made';
    ok ST::sum_status($r, '^503$') > 0, '503 while Redis was down';
    # 409: a note that lost the WATCH race on its ticket 5 times in a row
    # (50 clients writing to 10 tickets): refused, not stored
    is ST::sum_status($r, '^(?!200$|201$|409$|503$)'), 0, 'nothing but 200, 201, 409 and 503';
    is ST::socket_errors($r), 0, 'no connection error, no timeout';
    cmp_ok $r->{max}, '<', 3000, 'no answer took longer than 3 s';
    is ST::worker_crashes($tk), 0, 'no worker exited on a signal';
    is_deeply [ ST::workers($tk) ], \@workers, 'the same workers';
    is $c->get('/')->{status}, 200, 'pages again by themselves';
    my $created = $r->{status}{201} // 0;
    my $stored = notes() - $notes0;
    cmp_ok $stored, '>=', $created, "every 201 note is stored ($created answered, $stored stored)";
    # a write Redis committed (AOF written) just before the kill is kept
    # without its answer: at most one per connection in flight
    cmp_ok $stored, '<=', $created + 50, "at most the ones in flight at the kill more (" . ($stored - $created) . ')';
    ST::result(sprintf "redis_faults kill: %.1f s down, %d requests %.0f/s, %s, socket errors %d, p99 %.0f ms, max %.0f ms",
        $down, $r->{requests}, $r->{rps}, statuses($r), ST::socket_errors($r), $r->{p99}, $r->{max});
};

subtest 'CLIENT PAUSE longer than ticket_redis_timeout' => sub {
    my $wait = ST::wrk($tk, \@reqs, clients => 30, seconds => 8, async => 1, name => 'pause');
    sleep 2;
    ST::rediscli($tk, 'CLIENT', 'PAUSE', 3000, 'ALL');
    my $t0 = time;
    my $res = $c->get('/');
    my $dt = time - $t0;
    my $r = $wait->();
    note sprintf '%d requests, %s; p99 %.1f ms, max %.1f ms', $r->{requests}, statuses($r), $r->{p99}, $r->{max};
    ok ST::sum_status($r, '^503$') > 0, '503 during the pause';
    is ST::socket_errors($r), 0, 'no connection error, no client timeout';
    cmp_ok $r->{max}, '<', 2500, 'the slowest answer within the timeout (+ margin)';
    is $res->{status}, 503, 'a page during the pause: 503';
    cmp_ok $dt, '<', 2.5, sprintf 'in %.2f s', $dt;
    is ST::worker_crashes($tk), 0, 'no worker crash';
    sleep 1.5;
    is $c->get('/')->{status}, 200, '200 after the pause';
    # what is left open: nginx's Redis connections are few, HTTP none
    my $clients = () = ST::rediscli($tk, 'CLIENT', 'LIST') =~ /^id=/mg;
    cmp_ok $clients, '<=', 12, "Redis connections afterwards: $clients";
    my $port = $tk->port;
    TK::wait_for('HTTP connections closed', 10, sub {
        my $ss = `ss -Htn state established '( sport = :$port )' 2>/dev/null`;
        ($ss =~ tr/\n//) <= 2;
    });
    pass 'no HTTP connection left hanging';
    ST::result(sprintf "redis_faults pause 3 s: %d requests, %s, socket errors %d, max %.0f ms",
        $r->{requests}, statuses($r), ST::socket_errors($r), $r->{max});
};

# the visible state that a half-written mail would change
sub snapshot {
    my $r = $tk->redis;
    return { seq => $r->get(TK_KEY_SEQ_TICKET), counts => $tk->index_counts,
             tickets => scalar keys %{ $tk->all_tickets } };
}

sub refused_write_checks {
    my ($what, $re) = @_;
    my $before = snapshot();
    my $mail = MB::mail(subject => "Unter $what", body => "Text\r\n" x 2000);
    my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'legal@example.org');
    is $rc, 75, "$what: deliver exits 75 (the MTA keeps the mail)";
    like $err, $re, "$what: says why" or diag $err;
    ok !MB::where($tk, MB::msgid_of($mail)), "$what: not stored";
    my $res = $c->api('POST', "/api/v1/tickets/$t[1]/articles", $token,
        content => '{"type":"note","body":"bei vollem Speicher"}');
    is $res->{status}, 503, "$what: API write 503";
    like $res->{content}, qr/"error"\s*:\s*"[^"]{10,}/, "$what: with a message";
    my $page = $c->get("/t/$t[1]");
    if ($page->{status} == 200) {
        my ($action, $pairs) = $c->form_values($page, 'form#compose', type => 'note', body => 'Notiz voll');
        my $post = $c->post($action, $pairs);
        is $post->{status}, 503, "$what: reply form 503";
        my $h1 = $post->dom->at('h1');
        like $h1 ? $h1->text : '', qr/503/, "$what: the error page";
        like $post->{content}, qr/Nichts wurde gespeichert|Nothing was saved/, "$what: says nothing was saved";
    } else {
        is $page->{status}, 503, "$what: page 503 (Redis not readable either)";
    }
    my $after = snapshot();
    is_deeply $after, $before, "$what: nothing half-written (sequence, counts, tickets)";
    return $mail;
}

subtest 'maxmemory below the data: writes refused, nothing half-written' => sub {
    my ($used) = ST::rediscli($tk, 'INFO', 'memory') =~ /^used_memory:(\d+)/m;
    ST::rediscli($tk, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    ST::rediscli($tk, 'CONFIG', 'SET', 'maxmemory', $used - 100_000);
    my $mail = refused_write_checks('OOM', qr/OOM|memory/i);
    is $c->get('/overview/all')->{status}, 200, 'reading still works';
    ST::rediscli($tk, 'CONFIG', 'SET', 'maxmemory', 0);
    my ($rc) = MB::deliver($tk, $mail, '--recipient', 'legal@example.org');
    is $rc, 0, 'memory back: the deferred mail is stored';
    my ($rc2) = MB::deliver($tk, $mail, '--recipient', 'legal@example.org');
    is $rc2, 0, 'delivered again (the MTA retried once too often)';
    my ($n) = MB::stored($tk, MB::msgid_of($mail));
    ok $n, 'stored';
    is scalar(grep { $_->{title} eq 'Unter OOM' } values %{ $tk->all_tickets }), 1, 'once';
    is_deeply $tk->index_counts, $tk->expected_counts, 'index counts right';
};

subtest 'disk full for the AOF (tmpfs)' => sub {
    plan skip_all => 'mounting a tmpfs needs root' if $>;
    my $mnt = $tk->dir . '/aof-tmpfs';
    mkdir $mnt;
    # room for the AOF as it is and a little more
    my $aof = 0;
    $aof += -s $_ for glob $tk->dir . '/redis/appendonlydir/*';
    my $size = int(($aof + 600_000) / 4096 + 1) * 4096;
    if (system('mount', '-t', 'tmpfs', '-o', "size=$size", 'tmpfs', $mnt) != 0) {
        plan skip_all => "mount -t tmpfs failed (no CAP_SYS_ADMIN?)";
    }
    # Redis on the tmpfs: copy its data, restart it there
    $tk->stop_redis;
    system('cp', '-a', $tk->dir . '/redis/appendonlydir', "$mnt/") == 0 or die 'cp';
    TK::write_file($tk->dir . '/redis/redis.conf',
        TK::read_file($tk->dir . '/redis/redis.conf') . "dir $mnt\n");
    $tk->start_redis;
    ok eval { TK::wait_for('nginx back', 10, sub { $c->get('/')->{status} == 200 }) },
        'Redis on the small disk serves';
    # fill the disk, leaving a few KB
    system("dd if=/dev/zero of=$mnt/filler bs=4k count=1000000 2>/dev/null");
    unlink "$mnt/filler.small";
    system("truncate -s -40k $mnt/filler");
    my $ok_before = snapshot();
    # write until the disk is full: each write either acknowledged or refused
    my (@acked, $refused);
    for my $k (1 .. 40) {
        my $mail = MB::mail(subject => "Disk $k", body => "Zeile\r\n" x 1500);
        my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'legal@example.org');
        if ($rc == 0) { push @acked, $mail; next }
        is $rc, 75, "disk full: deliver exits 75 ($k)" or diag $err;
        $refused = $err;
        last;
    }
    ok $refused, 'a write was refused once the disk was full (' . scalar(@acked) . ' stored before)';
    note "deliver said: $refused" if $refused;
    my $res = $c->api('POST', "/api/v1/tickets/$t[1]/articles", $token,
        content => '{"type":"note","body":"Platte voll"}');
    is $res->{status}, 503, 'API write: 503';
    like $res->{content}, qr/"error"/, 'with a message';
    is ST::worker_crashes($tk), 0, 'no worker crash';
    my $log = TK::read_file($tk->dir . '/redis.log');
    note 'redis: ' . join ' | ', grep { /AOF|space|write error/i } split /\n/, $log;
    # space back; Redis (if it stopped: the supervisor's job) starts again
    unlink "$mnt/filler";
    $tk->start_redis unless $tk->alive('redis') && eval { $tk->redis->ping };
    TK::wait_for('Redis writable again', 10, sub {
        my ($rc) = MB::deliver($tk, MB::mail(subject => 'Platz wieder da'), '--recipient', 'legal@example.org');
        $rc == 0;
    });
    ok MB::where($tk, MB::msgid_of($_)), 'an acknowledged mail survived: ' . MB::msgid_of($_) for @acked;
    is_deeply $tk->index_counts, $tk->expected_counts, 'index counts right';
    $tk->stop_redis;
    system('umount', $mnt);
};

done_testing;
