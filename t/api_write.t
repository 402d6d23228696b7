# The API's writes: PATCH /api/v1/tickets/N (the ticket page's rules:
# rights, validation, rev/If-Match -> 409, nothing written when refused)
# and the admin JSON API (admins only, the admin pages' write paths).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use TK;

my $tk = TK->new;
$tk->standard_groups;
$tk->add_user('arno', rights => 'ALSO:full,Zivilrecht:read');
$tk->add_user('bea', rights => 'ALSO:full');
$tk->add_user('root', admin => 1, rights => 'ALSO:full');
my $t = $tk->add_ticket(title => 'PATCH me', group => 'ALSO');
my $ziv = $tk->add_ticket(title => 'Read only', group => 'Zivilrecht');
my $tok = $tk->add_token('arno');
my $admin = $tk->add_token('root');
my $c = $tk->client;

sub call {
    my ($method, $path, $body, $token, %h) = @_;
    return $c->request($method, $path, no_cookies => 1,
        defined $body ? (content => encode_json($body)) : (),
        headers => { 'content-type' => 'application/json', accept => 'application/json',
                     authorization => 'Bearer ' . ($token // $tok), %h });
}

subtest 'PATCH: change several fields at once' => sub {
    my $rev = call(GET => "/api/v1/tickets/$t")->json->{rev};
    my $res = call(PATCH => "/api/v1/tickets/$t",
        { title => 'Patched & renamed', state => 'open', priority => 3, owner => 'bea', rev => $rev });
    is $res->{status}, 200, 'PATCH answers 200' or diag $res->{content};
    is $res->json->{title}, 'Patched & renamed', 'answer is the ticket: title';
    is $res->json->{owner}, 'bea', 'owner';
    ok $res->json->{rev} > $rev, 'rev went up';
    my $h = $tk->ticket_hash($t);
    is $h->{title}, 'Patched & renamed', 'stored title';
    is $h->{state}, 2, 'stored state';
    is $h->{priority}, 3, 'stored priority';
    is $h->{owner}, 'bea', 'stored owner';
    $res = call(PATCH => "/api/v1/tickets/$t", { owner => undef });
    is $res->{status}, 200, 'owner null: 200';
    is $tk->ticket_hash($t)->{owner}, '', 'unassigned';
    my ($last) = $tk->redis->xrevrange(TK_KEY_FEED, '+', '-', 'COUNT', 1);
    my %e = @{ $last->[1] };
    is $e{ticket}, $t, 'change feed: an entry for the ticket';
    is $e{src}, 'api', '  src api';
    is $e{by}, 'arno', '  by the token\'s user';
    my $n = $tk->redis->xlen(TK_KEY_FEED);
    is call(PATCH => "/api/v1/tickets/$t", { owner => undef })->{status}, 200, 'no change: 200';
    is $tk->redis->xlen(TK_KEY_FEED), $n, '  and nothing written';
};

subtest 'PATCH: stale rev (field or If-Match) is 409, nothing written' => sub {
    my $rev = call(GET => "/api/v1/tickets/$t")->json->{rev};
    my $res = call(PATCH => "/api/v1/tickets/$t", { priority => 4, rev => $rev - 1 });
    is $res->{status}, 409, 'stale rev: 409';
    is $res->json->{field}, 'rev', 'field rev';
    $res = call(PATCH => "/api/v1/tickets/$t", { priority => 4 }, undef, 'if-match' => '"' . ($rev - 1) . '"');
    is $res->{status}, 409, 'stale If-Match: 409';
    isnt $tk->ticket_hash($t)->{priority}, 4, 'priority unchanged';
    $res = call(PATCH => "/api/v1/tickets/$t", { priority => 4 }, undef, 'if-match' => "\"$rev\"");
    is $res->{status}, 200, 'current If-Match: 200';
    is $tk->ticket_hash($t)->{priority}, 4, 'priority changed';
};

subtest 'PATCH: invalid values are 422 with the field, nothing written' => sub {
    my $before = $tk->ticket_hash($t);
    for my $case ([ { state => 'bogus' }, 'state' ], [ { priority => 9 }, 'priority' ],
                  [ { group => 'Nope' }, 'group' ], [ { owner => 'nobody' }, 'owner' ],
                  [ { title => '' }, 'title' ], [ { state => 'reminder' }, 'pending_until' ],
                  [ { group => 'Zivilrecht' }, 'group' ])
    {
        my $res = call(PATCH => "/api/v1/tickets/$t", $case->[0]);
        ok $res->{status} == 422 || $res->{status} == 400, encode_json($case->[0]) . ": 4xx"
            or diag "$res->{status} $res->{content}";
        is $res->json->{field}, $case->[1], "field $case->[1]";
    }
    my $res = call(PATCH => "/api/v1/tickets/$t", { colour => 'red' });
    is $res->{status}, 400, 'unknown member: 400';
    $res = $c->request(PATCH => "/api/v1/tickets/$t", content => '{"title":',
        headers => { 'content-type' => 'application/json', authorization => "Bearer $tok" });
    is $res->{status}, 400, 'broken JSON: 400';
    is_deeply $tk->ticket_hash($t), $before, 'ticket unchanged';
};

subtest 'PATCH: rights as on the page' => sub {
    my $res = call(PATCH => "/api/v1/tickets/$ziv", { priority => 4 });
    is $res->{status}, 403, 'read right only: 403';
    my $bea = $tk->add_token('bea');
    $res = call(PATCH => "/api/v1/tickets/$ziv", { priority => 4 }, $bea);
    is $res->{status}, 404, 'no right: 404';
    is $tk->ticket_hash($ziv)->{priority}, 2, 'unchanged';
    $res = call(PATCH => "/api/v1/tickets/99999", { priority => 4 });
    is $res->{status}, 404, 'no such ticket: 404';
    $res = call(PATCH => "/api/v1/tickets/$t", { priority => 1 }, 'f' x 64);
    is $res->{status}, 401, 'bad token: 401';
};

subtest 'admin API: others get 404' => sub {
    for my $p (qw(/api/v1/admin/users /api/v1/admin/groups /api/v1/admin/outbox
                  /api/v1/admin/mail /api/v1/admin/quarantine /api/v1/admin/users/arno))
    {
        is call(GET => $p)->{status}, 404, "agent: GET $p 404";
    }
    is call(POST => '/api/v1/admin/users', { login => 'evil', name => 'E', email => 'e@x.org',
        role => 'admin', password => 'passwordpassword' })->{status}, 404, 'agent: create 404';
    ok !$tk->redis->exists(tk_key_user('evil')), 'no account made';
};

subtest 'admin API: users' => sub {
    my $res = call(GET => '/api/v1/admin/users', undef, $admin);
    is $res->{status}, 200, 'list 200';
    my %u = map { $_->{login} => $_ } @{ $res->json->{users} };
    ok $u{arno} && $u{root}, 'accounts listed';
    ok !grep({ exists $_->{password} } values %u), 'no password hashes';
    $res = call(POST => '/api/v1/admin/users', { login => 'neu', name => 'Neu Person',
        email => 'neu@example.org', role => 'agent', password => 'a long password', 'r.ALSO' => 'read' }, $admin);
    is $res->{status}, 201, 'create 201' or diag $res->{content};
    is $tk->redis->hget(tk_key_user('neu'), 'rights'), 'ALSO:read', 'rights stored';
    $res = call(POST => '/api/v1/admin/users', { login => 'neu', name => 'X', email => 'x@example.org',
        role => 'agent', password => 'a long password' }, $admin);
    is $res->{status}, 422, 'duplicate: 422';
    like $res->json->{error}, qr/already|schon/, 'says why';
    $res = call(PATCH => '/api/v1/admin/users/neu', { name => 'Neu Umbenannt' }, $admin);
    is $res->{status}, 200, 'PATCH name 200' or diag $res->{content};
    my %h = $tk->redis->hgetall(tk_key_user('neu'));
    is $h{name}, 'Neu Umbenannt', 'name changed';
    is $h{email}, 'neu@example.org', 'email kept';
    is $h{rights}, 'ALSO:read', 'rights kept';
    $res = call(GET => '/api/v1/admin/users/neu', undef, $admin);
    is $res->json->{name}, 'Neu Umbenannt', 'GET one';
    is call(GET => '/api/v1/admin/users/ghost', undef, $admin)->{status}, 404, 'unknown: 404';
    my $ntok = $tk->add_token('neu');
    is call(GET => '/api/v1/me', undef, $ntok)->{status}, 200, 'their token works';
    is call(POST => '/api/v1/admin/users/neu/disable', {}, $admin)->{status}, 200, 'disable 200';
    is call(GET => '/api/v1/me', undef, $ntok)->{status}, 401, 'disabled: token refused';
    is call(POST => '/api/v1/admin/users/neu/enable', {}, $admin)->{status}, 200, 'enable 200';
    is call(GET => '/api/v1/me', undef, $ntok)->{status}, 200, 'enabled again';
    my $pw = 'the new password 1';
    is call(POST => '/api/v1/admin/users/neu/password', { password => $pw }, $admin)->{status}, 200,
        'password 200';
    is $tk->client->login('neu', $pw)->{status}, 303, 'new password signs in';
    my $web = $tk->login_client('neu', $pw);
    is $web->get('/')->{status}, 200, 'session works';
    is call(POST => '/api/v1/admin/users/neu/sessions', {}, $admin)->{status}, 200, 'end sessions 200';
    isnt $web->get('/')->{status}, 200, 'session ended';
};

subtest 'admin API: groups, outbox, mail, quarantine' => sub {
    my $res = call(POST => '/api/v1/admin/groups', { name => 'Neue-AG', email => 'neu-ag@example.org',
        all_agents => JSON::PP::false }, $admin);
    is $res->{status}, 201, 'create 201' or diag $res->{content};
    ok $tk->redis->sismember(TK_KEY_GROUPS, 'Neue-AG'), 'in tk:groups';
    $res = call(PATCH => '/api/v1/admin/groups/Neue-AG', { display_name => 'Neue AG' }, $admin);
    is $res->{status}, 200, 'PATCH 200' or diag $res->{content};
    my %g = $tk->redis->hgetall(tk_key_group('Neue-AG'));
    is $g{display_name}, 'Neue AG', 'display name';
    is $g{email}, 'neu-ag@example.org', 'email kept';
    $res = call(PATCH => '/api/v1/admin/groups/Neue-AG', { email => 'not an address' }, $admin);
    is $res->{status}, 422, 'bad email 422';
    $res = call(GET => '/api/v1/admin/groups', undef, $admin);
    ok((grep { $_->{name} eq 'Neue-AG' } @{ $res->json->{groups} }), 'listed');
    for my $p (qw(outbox mail quarantine)) {
        $res = call(GET => "/api/v1/admin/$p", undef, $admin);
        is $res->{status}, 200, "$p 200";
        ok ref $res->json->{$p} eq 'ARRAY', "$p: a list";
    }
};

done_testing;
