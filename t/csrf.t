# Every state-changing POST needs the session's CSRF token; without it
# nothing changes in Redis.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;
my $pw = $tk->add_user('clara', name => 'Clara C', rights => 'ALSO:full');
my $other_pw = $tk->add_user('otto', rights => 'ALSO:full');
my $n = $tk->add_ticket(title => 'CSRF target', group => 'ALSO');
my $r = $tk->redis;

my $c = $tk->login_client('clara', $pw);
my $other = $tk->login_client('otto', $other_pw);
$other->get('/');
my $foreign_token = $other->csrf;

sub snapshot {
    return join "\n",
        $tk->json->encode({ $r->hgetall(tk_key_ticket($n)) }),
        $r->xlen(tk_key_history($n)),
        $tk->json->encode({ $r->hgetall(tk_key_user('clara')) }),
        $tk->json->encode({ $r->hgetall(TK_KEY_INDEX_COUNTS) });
}

sub refused {
    my ($res) = @_;
    return $res->{status} == 403 || $res->{status} == 400;
}

my $page = $c->get("/t/$n");
is $page->{status}, 200, 'ticket page opens';
my $token = $c->csrf;
ok $token && length $token >= 16, 'page has <meta name="csrf">';

my %posts = (
    "/t/$n/update" => [ state => 6, priority => 4, group => 'ALSO', owner => 'clara' ],
    "/t/$n/title"  => [ title => 'Hijacked' ],
    '/profile'     => [ name => 'Mallory', email => 'm@evil.test', lang => 'de' ],
    '/profile/password' => [ old => $pw, new => 'pwned-pwned-1', confirm => 'pwned-pwned-1' ],
);

for my $path (sort keys %posts) {
    subtest "POST $path without, with a wrong and with a foreign token changes nothing" => sub {
        my $before = snapshot();
        my $res = $c->post($path, $posts{$path});
        ok refused($res), 'no token: 400/403' or diag "status $res->{status}";
        $res = $c->post($path, [ csrf => 'x' x 64, @{ $posts{$path} } ]);
        ok refused($res), 'wrong token: 400/403' or diag "status $res->{status}";
        $res = $c->post($path, [ csrf => $foreign_token, @{ $posts{$path} } ]);
        ok refused($res), "another session's token: 400/403" or diag "status $res->{status}";
        is snapshot(), $before, 'Redis unchanged';
    };
}

subtest 'the password was not changed' => sub {
    is $tk->client->login('clara', $pw)->{status}, 303, 'old password still works';
};

subtest 'with the right token the same POST works (control)' => sub {
    my $before = snapshot();
    my $res = $c->post("/t/$n/title", [ csrf => $token, title => 'Renamed with token' ]);
    is $res->{status}, 303, 'status 303';
    is $r->hget(tk_key_ticket($n), 'title'), 'Renamed with token', 'title changed';
    isnt snapshot(), $before, 'Redis changed';
};

subtest 'a cross-site form (no cookie) cannot log in' => sub {
    my $x = $tk->client;
    my $res = $x->post('/login', [ login => 'clara', password => $pw, csrf => 'a' x 32 ]);
    isnt $res->{status}, 303, 'refused';
    ok !$res->session_cookie, 'no session';
};

done_testing;
