# Password guessing: after 10 failed logins an account answers 429, even
# to the right password; other accounts keep working.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;
my $rosa = $tk->add_user('rosa', rights => 'ALSO:full');
my $karl = $tk->add_user('karl', rights => 'ALSO:full');

subtest 'ten wrong passwords are each refused' => sub {
    for my $i (1 .. 10) {
        my $res = $tk->client->login('rosa', "guess-$i");
        isnt $res->{status}, 303, "attempt $i refused";
        ok !$res->session_cookie, "attempt $i: no session";
    }
};

subtest 'then the right password gets 429 and no session' => sub {
    my $res = $tk->client->login('rosa', $rosa);
    is $res->{status}, 429, '429 Too Many Requests';
    ok !$res->session_cookie, 'no session cookie';
    is scalar($tk->redis->keys(tk_key_session('*'))), 0, 'no session in Redis';
};

subtest 'the lock is temporary' => sub {
    my $ttl = $tk->redis->ttl(tk_key_rl_login_user('rosa'));
    cmp_ok $ttl, '>', 0, 'the counter tk:rl:login:u:rosa expires';
    cmp_ok $ttl, '<=', 24 * 3600, 'within a day';
};

subtest 'another account is not affected' => sub {
    my $res = $tk->client->login('karl', $karl);
    is $res->{status}, 303, 'karl logs in';
    ok scalar $res->session_cookie, 'with a session';
};

subtest 'when the counter expires, the right password works again' => sub {
    $tk->redis->del(tk_key_rl_login_user('rosa'));
    my $res = $tk->client->login('rosa', $rosa);
    is $res->{status}, 303, 'rosa logs in';
};

subtest '30 failures from one address lock every account from it' => sub {
    # 10 failures so far; unknown accounts count too
    my $hit;
    for my $i (1 .. 25) {
        my $res = $tk->client->login("ghost$i", 'nope');
        if ($res->{status} == 429) { $hit = $i; last }
    }
    ok $hit, 'a 429 came' or return;
    cmp_ok 10 + $hit, '>=', 30, "not before 30 failures (429 at failure @{[10 + $hit]})";
    cmp_ok 10 + $hit, '<=', 31, 'right after';
    my $res = $tk->client->login('karl', $karl);
    is $res->{status}, 429, 'karl too, right password or not';
    ok !$res->session_cookie, 'no session';
    my @ip = $tk->redis->keys(tk_key_rl_login_ip('*'));
    is scalar @ip, 1, 'one per-address counter';
    cmp_ok $tk->redis->ttl($ip[0]), '>', 0, 'which expires';
};

subtest 'a forwarded-for header does not make another address' => sub {
    # the limit counts the connection's address (nginx's realip module
    # sets it where a trusted proxy is configured), never a client header
    my $c = $tk->client;
    my $page = $c->get('/login');
    my $csrf = $page->dom->at('form#login input[name=csrf]')->attr('value');
    my $res = $c->post('/login', [ login => 'karl', password => $karl, csrf => $csrf ],
        headers => { 'x-forwarded-for' => '203.0.113.9', 'x-real-ip' => '203.0.113.9' });
    is $res->{status}, 429, 'still 429';
    ok !$res->session_cookie, 'no session';
    is scalar(my @k = $tk->redis->keys(tk_key_rl_login_ip('*'))), 1, 'still one per-address counter';
};

done_testing;
