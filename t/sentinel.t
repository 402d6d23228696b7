#!/usr/bin/perl
# Redis replication with Sentinel failover, on loopback: a primary, two
# replicas and three Sentinels (Debian's redis-sentinel); nginx with
# ticket_redis_sentinel, mailbridge deliver and ticketctl with a
# sentinel:// address and redis_wait_replicas = 1.  Web writes and mail
# delivery run while the primary is killed: writes resume on the promoted
# replica within 10 s, every mail that deliver acknowledged (exit 0) and
# every article the API accepted (201) is on the new primary, and web
# clients see nothing but successes and 503s meanwhile.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Net::EmptyPort qw(empty_port wait_port);
use Time::HiRes qw(time sleep);
use POSIX ();
use HTTP::Tiny;
use JSON::PP;
use Redis;
use TK;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'redis-sentinel is not installed (make deps)' unless -x '/usr/bin/redis-sentinel';

my $tk = TK->new(nginx => 0, init => 0);
my $d = $tk->dir;
my $NAME = 'tkm';
note "test dir $d";

# ---- a primary and two replicas on TCP ------------------------------------
my @port = map { empty_port() } 1 .. 3;
for my $i (0 .. 2) {
    mkdir "$d/r$i";
    TK::write_file("$d/r$i.conf", join "\n",
        "bind 127.0.0.1", "port $port[$i]", "dir $d/r$i", 'appendonly yes',
        'save ""', 'daemonize no', 'replica-read-only yes',
        ($i ? "replicaof 127.0.0.1 $port[0]" : ()),
        "include \"$TK::ROOT/redis-schema/redis.conf\"", '');
    $tk->spawn("r$i", 'redis-server', "$d/r$i.conf");
    wait_port({ port => $port[$i], max_wait => 10 }) or die "redis r$i";
}
my $primary = Redis->new(server => "127.0.0.1:$port[0]");
TK::wait_for('two replicas online', 20, sub {
    ($primary->info('replication'))->{connected_slaves} == 2 });

# ---- three Sentinels -------------------------------------------------------
my @sport = map { empty_port() } 1 .. 3;
for my $i (0 .. 2) {
    TK::write_file("$d/s$i.conf", join "\n",
        "bind 127.0.0.1", "port $sport[$i]", "dir $d",
        "sentinel monitor $NAME 127.0.0.1 $port[0] 2",
        "sentinel down-after-milliseconds $NAME 1000",
        "sentinel failover-timeout $NAME 10000",
        "sentinel parallel-syncs $NAME 2", '');
    $tk->spawn("s$i", 'redis-sentinel', "$d/s$i.conf");
    wait_port({ port => $sport[$i], max_wait => 10 }) or die "sentinel s$i";
}
my @sentinels = map { Redis->new(server => "127.0.0.1:$_") } @sport;
TK::wait_for('Sentinels know each other and the replicas', 30, sub {
    for my $s (@sentinels) {
        my %m = @{ ($s->__std_cmd('SENTINEL', 'master', $NAME)) };
        return 0 unless ($m{'num-other-sentinels'} // 0) == 2 && ($m{'num-slaves'} // 0) == 2;
    }
    return 1;
});
my $SADDR = 'sentinel://' . join(',', map { "127.0.0.1:$_" } @sport) . "/$NAME";

# ---- data through ticketctl's sentinel:// address -------------------------
sub ctl {
    my ($rc, $out, $err) = TK::run_cmd({ stdin => $_[0] // '' }, "$TK::BUILD/ticketctl",
        '--redis', $SADDR, @_[1 .. $#_]);
    die "ticketctl @_[1..$#_]: $rc $err" if $rc;
    return $out;
}
like ctl(undef, 'init'), qr/schema version ${\ TK_SCHEMA_VERSION} set/, 'ticketctl init through Sentinel (sentinel://)';
ctl(undef, 'group', 'add', 'legal', '--email', 'legal@example.org', '--all-agents');
ctl("sentinel-test-pw\n", 'user', 'add', 'anna', '--name', 'Anna', '--email', 'anna@example.org',
    '--admin', '--password-stdin');
my ($token) = ctl(undef, 'token', 'add', 'anna') =~ /(\S{20,})/;
TK::wait_for('the replicas have the data', 10, sub {
    my $r = Redis->new(server => "127.0.0.1:$port[1]"); defined $r->get(TK_KEY_SCHEMA) });

{   # a replica address is refused by the sync client: nothing is written there
    my ($rc, undef, $err) = TK::run_cmd("$TK::BUILD/ticketctl", '--redis',
        "sentinel://127.0.0.1:$sport[0]/nosuchmaster", 'user', 'list');
    isnt $rc, 0, 'an unknown master name: refused';
    like $err, qr/does not know a primary named "nosuchmaster"/, 'and named';
}

# ---- nginx: ticket_redis_sentinel ----------------------------------------
$tk->start_nginx(no_redis => 1, redis_timeout => '1s',
    http => 'ticket_redis_sentinel ' . join(' ', map { "127.0.0.1:$_" } @sport) . " master $NAME;\nticket_redis_wait 1 500ms;");
my $http = HTTP::Tiny->new(timeout => 5, default_headers => { Authorization => "Bearer $token" });
my $res;
eval { TK::wait_for('nginx finds the primary through Sentinel', 10, sub {
    $res = $http->get($tk->url('/api/v1/me')); $res->{status} == 200 }) }
    or do { diag TK::tail("$d/nginx/logs/error.log", 30); diag "last: $res->{status} $res->{content}"; BAIL_OUT($@) };
is $res->{status}, 200, 'the API answers through ticket_redis_sentinel';

# ---- mailbridge deliver with WAIT 1 ----------------------------------------
TK::write_file("$d/mb.conf", "redis = $SADDR\nredis_timeout = 2000\nredis_wait_replicas = 1\n"
    . "redis_wait_timeout = 500\ndefault_group = legal\naddress.legal\@example.org = legal\n");
chmod 0600, "$d/mb.conf";
$tk->{mb_conf} = "$d/mb.conf";
my ($rc) = MB::deliver($tk, MB::mail(subject => 'Vor dem Failover'), '--recipient', 'legal@example.org');
is $rc, 0, 'deliver through Sentinel, confirmed by a replica (WAIT)';
my $first = decode_json($http->get($tk->url('/api/v1/tickets'))->{content});
my ($ticket) = map { $_->{number} } @{ $first->{tickets} };
ok $ticket, "the mail is ticket $ticket, read through nginx";

# ---- load: mail and web writes, then the primary dies -----------------------
my $t0 = time;
my $mail_pid = fork // die;
if ($mail_pid == 0) {           # deliver in a loop: "ID rc time" per mail
    open my $log, '>', "$d/mail.log" or POSIX::_exit(1);
    $log->autoflush(1);
    for my $i (1 .. 100000) {
        last if time - $t0 > 20;
        my $m = MB::mail(subject => "Failover-Mail $i");
        my $id = MB::msgid_of($m);
        my ($c) = MB::deliver($tk, $m, '--recipient', 'legal@example.org');
        printf $log "%s %d %.3f\n", $id, $c, time - $t0;
        sleep 0.05;
    }
    POSIX::_exit(0);
}
my $web_pid = fork // die;
if ($web_pid == 0) {            # notes through the API: "status time [article]"
    open my $log, '>', "$d/web.log" or POSIX::_exit(1);
    $log->autoflush(1);
    my $h = HTTP::Tiny->new(timeout => 5, default_headers => { Authorization => "Bearer $token" });
    for my $i (1 .. 100000) {
        last if time - $t0 > 20;
        my $body = encode_json({ type => 'note', body => "Notiz $i" });
        my $r = $h->post($tk->url("/api/v1/tickets/$ticket/articles"),
            { content => $body, headers => { 'Content-Type' => 'application/json' } });
        my $g = $h->get($tk->url("/api/v1/tickets/$ticket"));
        printf $log "%d %d %.3f Notiz-%d\n", $r->{status}, $g->{status}, time - $t0, $i;
        sleep 0.02;
    }
    POSIX::_exit(0);
}

sleep 4;
my $killed = time - $t0;
$tk->stop_proc('r0', 'KILL', 1);
note sprintf 'primary killed at %.1f s', $killed;

waitpid($_, 0) for $mail_pid, $web_pid;

# ---- afterwards: the new primary holds everything acknowledged --------------
my $new;
TK::wait_for('Sentinel names a new primary', 20, sub {
    my @a = eval { @{ $sentinels[0]->__std_cmd('SENTINEL', 'get-master-addr-by-name', $NAME) } };
    return 0 unless @a && $a[1] != $port[0];
    $new = Redis->new(server => "$a[0]:$a[1]");
    return 1;
});
ok $new, 'a replica was promoted';

my @mail = map { [split] } split /\n/, TK::read_file("$d/mail.log");
my @web  = map { [split] } split /\n/, TK::read_file("$d/web.log");
my @acked = grep { $_->[1] == 0 } @mail;
my @after = grep { $_->[2] > $killed } @acked;
ok @acked > 20, scalar(@acked) . ' mails acknowledged in all';
ok @after, scalar(@after) . ' of them after the kill';
my @missing = grep { !defined $new->get(tk_key_msgid($_->[0])) } @acked;
is_deeply \@missing, [], 'every acknowledged mail is on the new primary';
my @other = grep { $_->[1] != 0 && $_->[1] != 75 } @mail;
is_deeply \@other, [], 'deliver exited 0 or 75 (try again) only';

my @bad = grep { $_->[0] !~ /^(201|503)$/ || $_->[1] !~ /^(200|503)$/ } @web;
is_deeply \@bad, [], 'web clients saw successes and 503s only';
my ($first_ok) = grep { $_->[2] > $killed && $_->[0] == 201 } @web;
ok $first_ok, 'web writes resumed after the kill';
my $gap = $first_ok ? $first_ok->[2] - $killed : 99;
cmp_ok $gap, '<=', 10, sprintf('within 10 s (%.1f s)', $gap);
my ($mail_ok) = grep { $_->[2] > $killed } @acked;
my $mgap = $mail_ok ? $mail_ok->[2] - $killed : 99;
cmp_ok $mgap, '<=', 10, sprintf('mail acknowledged again within 10 s (%.1f s)', $mgap);

my %have = map { $_ => 1 } grep { /^Notiz / } map {
    my ($n, $a) = ($ticket, $_); $new->hget(tk_key_article($n, $a), 'body') // ''
} $new->lrange(tk_key_ticket_arts($ticket), 0, -1);
my @lost = grep { $_->[0] == 201 && !$have{"Notiz " . ($_->[3] =~ /(\d+)/)[0]} } @web;
is_deeply [map { $_->[3] } @lost], [], 'every article the API accepted (201) is on the new primary';

my %cs = %{ $new->info('commandstats') };
like $cs{cmdstat_wait} // '', qr/calls=[1-9]/, 'writes on the new primary were confirmed with WAIT';

# more replicas asked for than there are: committed, but not acknowledged.
# First the remaining replica must follow the new primary (a full resync,
# slow on a loaded machine): until then even WAIT 1 cannot be met.
TK::wait_for('the other replica follows the new primary', 30, sub {
    my %i = %{ $new->info('replication') };
    ($i{connected_slaves} // 0) >= 1 && ($i{slave0} // '') =~ /state=online/ });
TK::write_file("$d/mb.conf", TK::read_file("$d/mb.conf") =~ s/redis_wait_replicas = 1/redis_wait_replicas = 3/r);
my $m = MB::mail(subject => 'Zu wenige Repliken');
my ($c3, $o3, $e3) = MB::deliver($tk, $m, '--recipient', 'legal@example.org');
is $c3, 75, 'deliver with WAIT 3 and one replica: exit 75, the MTA keeps the mail';
like $e3, qr/of 3 replicas confirmed/, 'and says why' or diag "out: $o3 err: $e3";
TK::write_file("$d/mb.conf", TK::read_file("$d/mb.conf") =~ s/redis_wait_replicas = 3/redis_wait_replicas = 1/r);
# an MTA retries later: a WAIT that times out once (a loaded machine)
# is retried too, a few times
my ($c1, $e1);
for my $try (1 .. 5) {
    ($c1, undef, $e1) = MB::deliver($tk, $m, '--recipient', 'legal@example.org');
    last if $c1 != 75;
    sleep 1;
}
is $c1, 0, 'the MTA retries: exit 0';
like $e1, qr/duplicate/i, 'as a duplicate: stored once';

my $err = TK::read_file("$d/nginx/logs/error.log");
unlike $err, qr/\[(alert|emerg)\]|signal \d+/, 'no worker crashed';
like $err, qr/sentinel .* names .* as the primary/, 'nginx asked Sentinel';
like $err, qr/listening to sentinel .* for \+switch-master/, 'each worker subscribed to +switch-master';
like $err, qr/\+switch-master, the primary of "tkm" is now 127\.0\.0\.1:\d+/,
    'and heard of the failover';

done_testing;
