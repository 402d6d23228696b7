# Where Redis is: ticket_redis "host:port" with a host name (resolved
# when nginx starts, hiredis only sees the address), and a Redis that is
# a replica is refused like a Redis that is down (503, the log says
# why) until it is the master again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Net::EmptyPort qw(empty_port);
use TK;

# The master: the harness's Redis, also on TCP for this test.
my $tk = TK->new(nginx => 0, redis_timeout => '1s');
my $port = empty_port();
$tk->redis->config_set('bind', '127.0.0.1');
$tk->redis->config_set('port', $port);
$tk->standard_groups;
my $pw = $tk->add_user('rudi', rights => 'ALSO:full');
my $n = $tk->add_ticket(title => 'Served over TCP', group => 'ALSO');

subtest 'ticket_redis localhost:PORT: a host name works' => sub {
    $tk->start_nginx(redis => "localhost:$port");
    my $c = $tk->login_client('rudi', $pw);
    my $res = $c->get("/t/$n");
    is $res->{status}, 200, 'ticket page 200';
    is $res->dom->at('h1#title') ? $res->dom->at('h1#title')->text : '',
        'Served over TCP', 'from that Redis';
    like $tk->error_log(200), qr/redis at "localhost:$port" \(127\.0\.0\.1:$port\) is ready/,
        'the log names the name and the address it resolved to';
    is $c->submit("/t/$n", 'form#rename', title => 'Renamed over TCP')->{status}, 303,
        'a transaction (WATCH pool, same endpoint) works';
    is $tk->ticket_hash($n)->{title}, 'Renamed over TCP', 'and is stored';
};

# A replica of it, with its own nginx.
my $tk2 = TK->new(nginx => 0, init => 0, redis_timeout => '1s');
my $replica = $tk2->redis;
$replica->__std_cmd('REPLICAOF', '127.0.0.1', $port);
TK::wait_for('the replica to sync', 20, sub {
    ($replica->info('replication')->{master_link_status} // '') eq 'up'
        && ($replica->get('tk:schema') // '') ne '';
});

my $c = $tk->login_client('rudi', $pw);
my $c2 = TK::Client->new($tk2);
sub same_session { %{ $c2->jar } = %{ $c->jar } }

subtest 'a replica is refused: 503, and the log says why' => sub {
    $tk2->start_nginx;
    TK::wait_for('the session on the replica', 10,
        sub { $replica->dbsize == $tk->redis->dbsize });
    same_session();
    my $t0 = time;
    my $res = $c2->get('/');
    is $res->{status}, 503, 'overview: 503';
    cmp_ok time - $t0, '<', 2.5, 'at once';
    is $res->page, 'error', 'the error page';
    unlike $res->{content}, qr/replica|ROLE|slave/i, 'no internals for the user';
    is $c2->get("/t/$n")->{status}, 503, 'ticket page: 503';
    like $tk2->error_log(200), qr/refused: it is a replica, not the master .*ROLE "slave"/,
        'the log says it is a replica';
    unlike $tk2->error_log(200), qr/is ready/, 'never ready';
};

subtest 'the replica promoted: used again, same nginx' => sub {
    my $pid = $tk2->pid('nginx');
    $replica->__std_cmd('REPLICAOF', 'NO', 'ONE');
    my $t0 = time;
    TK::wait_for('a 200 from the promoted Redis', 15, sub { $c2->get('/')->{status} == 200 });
    diag sprintf 'served after %.1fs', time - $t0;
    is $tk2->pid('nginx'), $pid, 'nginx was not restarted';
    is $c2->get("/t/$n")->{status}, 200, 'ticket page 200';
    like $tk2->error_log(200), qr/is ready/, 'the log says it is ready';
};

done_testing;
