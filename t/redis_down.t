# Redis goes away: pages are a 503 within ticket_redis_timeout (1 s here),
# and when Redis is back the same nginx serves again, without a restart.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use TK;

my $tk = TK->new(redis_timeout => '1s');
$tk->standard_groups;
my $pw = $tk->add_user('rudi', rights => 'ALSO:full');
my $n = $tk->add_ticket(title => 'Still here after the outage', group => 'ALSO');
my $c = $tk->login_client('rudi', $pw);
my $token = $tk->add_token('rudi');
my $nginx_pid = $tk->pid('nginx');

is $c->get('/')->{status}, 200, 'overview before';

subtest 'Redis stopped: 503 page within the timeout' => sub {
    $tk->stop_redis;
    for my $path ('/', "/t/$n", '/overview/all') {
        my $t0 = time;
        my $res = $c->get($path);
        my $dt = time - $t0;
        is $res->{status}, 503, "$path: 503";
        cmp_ok $dt, '<', 2.5, sprintf('%s: answered in %.2fs', $path, $dt);
        is $res->page, 'error', 'error page';
        my $h1 = $res->dom->at('h1');
        like $h1 ? $h1->text : '', qr/503/, 'h1 says 503';
        like $res->{content}, qr/unavailable|not available|nicht erreichbar|nicht verfügbar/i,
            'says what is wrong in words';
        unlike $res->{content}, qr/hiredis|ECONNREFUSED|redis\.sock/i, 'no internals';
    }
    my $api = $c->api(GET => '/api/v1/tickets', $token);
    is $api->{status}, 503, 'API: 503';
    like $api->header('content-type') // '', qr{json}, 'as JSON';
};

subtest 'a stalled Redis (DEBUG SLEEP) also gives 503 within the timeout' => sub {
    $tk->start_redis;
    TK::wait_for('nginx to reconnect', 10, sub { $c->get('/')->{status} == 200 });
    my $pid = fork // die;
    if ($pid == 0) {
        my $r = Redis->new(sock => $tk->redis_sock);
        eval { $r->__std_cmd('DEBUG', 'SLEEP', 3) };
        POSIX::_exit(0);
    }
    sleep 0.3;
    my $t0 = time;
    my $res = $c->get('/');
    my $dt = time - $t0;
    is $res->{status}, 503, '503 while Redis sleeps';
    cmp_ok $dt, '<', 2.5, sprintf('in %.2fs', $dt);
    waitpid $pid, 0;
};

subtest 'Redis back: 200 again, same nginx, same session' => sub {
    my $t0 = time;
    TK::wait_for('a 200 after Redis is back', 15, sub { $c->get('/')->{status} == 200 });
    diag sprintf 'served again after %.1fs', time - $t0;
    is $tk->pid('nginx'), $nginx_pid, 'nginx was not restarted';
    ok $tk->alive('nginx'), 'nginx master alive';
    my $res = $c->get("/t/$n");
    is $res->{status}, 200, 'ticket page 200';
    is $res->dom->at('h1#title') ? $res->dom->at('h1#title')->text : '',
        'Still here after the outage', 'data survived (AOF)';
    is $c->api(GET => '/api/v1/me', $token)->{status}, 200, 'API 200';
};

subtest 'a second outage and recovery' => sub {
    $tk->stop_redis;
    is $c->get('/')->{status}, 503, 'status 503';
    $tk->start_redis;
    TK::wait_for('a 200 after the second restart', 15, sub { $c->get('/')->{status} == 200 });
    pass 'served again';
    my $res = $c->submit("/t/$n", 'form#rename', title => 'Renamed after two outages');
    is $res->{status}, 303, 'a write works';
    is $tk->ticket_hash($n)->{title}, 'Renamed after two outages', 'and is stored';
};

subtest 'Redis refuses writes (maxmemory, noeviction): 503 with words, nothing changed' => sub {
    my $r = $tk->redis;
    my $used = $r->info('memory')->{used_memory};
    $r->__std_cmd('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    $r->__std_cmd('CONFIG', 'SET', 'maxmemory', $used - 100_000);
    my $arts = $r->llen(tk_key_ticket_arts($n));
    my $api = $c->api('POST', "/api/v1/tickets/$n/articles", $token,
        content => '{"type":"note","body":"bei vollem Speicher"}');
    is $api->{status}, 503, 'API write: 503, not 500';
    like $api->json ? $api->json->{error} : '', qr/Nichts wurde gespeichert|Nothing was saved/,
        'the JSON error says nothing was saved';
    my $res = $c->submit("/t/$n", 'form#rename', title => 'Not while full');
    is $res->{status}, 503, 'form write: 503' or diag substr($res->{content} // '', 0, 600);
    like $res->{content}, qr/Nichts wurde gespeichert|Nothing was saved/, 'the page says so';
    is $c->get("/t/$n")->{status}, 200, 'reading still works';
    $r->__std_cmd('CONFIG', 'SET', 'maxmemory', 0);
    is $r->llen(tk_key_ticket_arts($n)), $arts, 'no article written';
    is $tk->ticket_hash($n)->{title}, 'Renamed after two outages', 'title unchanged';
};

done_testing;
