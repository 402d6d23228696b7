# Rights per group: a user sees the groups of their "rights" plus the
# all-agents groups; other tickets do not exist for them (404, page and
# API); a "read" right shows but does not change.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;              # ALSO, legal (all agents), Zivilrecht
my $anna = $tk->add_user('anna', rights => 'ALSO:full');
my $rita = $tk->add_user('rita', rights => 'ALSO:read');
my $also  = $tk->add_ticket(title => 'Also ticket', group => 'ALSO');
my $legal = $tk->add_ticket(title => 'Legal ticket', group => 'legal');
my $ziv   = $tk->add_ticket(title => 'Zivilrecht ticket', group => 'Zivilrecht');
my $r = $tk->redis;

sub state_of {
    my ($n) = @_;
    return join "\n", $tk->json->encode({ $r->hgetall(tk_key_ticket($n)) }),
        $r->xlen(tk_key_history($n));
}

sub rows {
    my ($res) = @_;
    return sort { $a <=> $b }
        map { $_->attr('data-number') } $res->dom->find('table#tickets tr[data-number]');
}

my $c = $tk->login_client('anna', $anna);
my $token = $tk->add_token('anna');

subtest 'ALSO user sees ALSO and legal tickets, not Zivilrecht' => sub {
    my $res = $c->get('/overview/all');
    is $res->{status}, 200, 'status 200';
    is_deeply [ rows($res) ], [ sort { $a <=> $b } $also, $legal ], 'rows: ALSO + legal';
    my @nav = map { $_->attr('data-overview') } $res->dom->find('nav#overviews a[data-overview]');
    ok((grep { $_ eq 'group-ALSO' } @nav), 'group-ALSO in the sidebar');
    ok((grep { $_ eq 'group-legal' } @nav), 'group-legal in the sidebar');
    ok(!(grep { $_ eq 'group-Zivilrecht' } @nav), 'no group-Zivilrecht');
    unlike $res->{content}, qr/Zivilrecht ticket/, 'the title never appears';
};

subtest 'ticket pages: own groups 200, Zivilrecht 404' => sub {
    is $c->get("/t/$also")->{status}, 200, 'ALSO ticket';
    is $c->get("/t/$legal")->{status}, 200, 'legal ticket (all agents)';
    my $res = $c->get("/t/$ziv");
    is $res->{status}, 404, 'Zivilrecht ticket: 404';
    unlike $res->{content}, qr/Zivilrecht ticket/, 'title not shown';
    is $c->get('/overview/group-Zivilrecht')->{status}, 404, 'group overview: 404';
    is $res->{content}, $c->get('/t/999999')->{content},
        'byte-for-byte the page of a ticket that does not exist';
};

subtest 'API: Zivilrecht ticket is 404 and not listed' => sub {
    my $res = $c->api(GET => "/api/v1/tickets/$ziv", $token);
    is $res->{status}, 404, 'GET /api/v1/tickets/N: 404';
    unlike $res->{content}, qr/Zivilrecht ticket/, 'no title in the error';
    $res = $c->api(GET => "/api/v1/tickets/$also", $token);
    is $res->{status}, 200, 'own ticket: 200';
    $res = $c->api(GET => '/api/v1/tickets?overview=all', $token);
    is $res->{status}, 200, 'list: 200';
    unlike $res->{content}, qr/Zivilrecht/, 'list without Zivilrecht';
};

subtest 'changing a Zivilrecht ticket: 404 and nothing changes' => sub {
    $c->get("/t/$also");
    my $before = state_of($ziv);
    my $res = $c->post_csrf("/t/$ziv/update",
        [ group => 'ALSO', owner => 'anna', state => 2, priority => 4 ]);
    is $res->{status}, 404, 'update: 404';
    $res = $c->post_csrf("/t/$ziv/title", [ title => 'mine now' ]);
    is $res->{status}, 404, 'rename: 404';
    is state_of($ziv), $before, 'ticket unchanged in Redis';
};

subtest 'moving an own ticket into a foreign group is refused' => sub {
    $c->get("/t/$also");
    my $before = state_of($also);
    my $res = $c->post_csrf("/t/$also/update",
        [ group => 'Zivilrecht', owner => '', state => 1, priority => 2 ]);
    is $res->{status}, 422, '422: the form again (a group you may not use)';
    ok $res->dom->at('#f-group-error'), 'with the message at the group';
    is state_of($also), $before, 'ticket unchanged';
};

subtest 'read right: sees the ticket, cannot change it' => sub {
    my $rc = $tk->login_client('rita', $rita);
    my $page = $rc->get("/t/$also");
    is $page->{status}, 200, 'ticket page 200';
    is $page->dom->at('h1#title') ? $page->dom->at('h1#title')->text : '', 'Also ticket', 'title shown';
    my $before = state_of($also);
    my $res = $rc->post_csrf("/t/$also/update",
        [ group => 'ALSO', owner => 'rita', state => 2, priority => 4 ]);
    is $res->{status}, 403, 'update: 403';
    $res = $rc->post_csrf("/t/$also/update", [ state => 9 ]);
    is $res->{status}, 403, 'update with a bad value: 403 too (no form for a reader)';
    $res = $rc->post_csrf("/t/$also/title", [ title => 'read-only rename' ]);
    is $res->{status}, 403, 'rename: 403';
    is state_of($also), $before, 'ticket unchanged';
    # the all-agents group is writable for every agent (control)
    $rc->get("/t/$legal");
    $res = $rc->post_csrf("/t/$legal/title", [ title => 'Legal renamed by rita' ]);
    is $res->{status}, 303, 'rename in an all-agents group: 303';
    is $r->hget(tk_key_ticket($legal), 'title'), 'Legal renamed by rita', 'changed';
};

subtest 'rights are checked on every request, not cached' => sub {
    my $pw = $tk->add_user('zeno', rights => 'Zivilrecht:full');
    my $zc = $tk->login_client('zeno', $pw);
    is $zc->get("/t/$ziv")->{status}, 200, 'zeno sees the Zivilrecht ticket';
    $tk->ctl('user', 'set', 'zeno', '--groups', 'ALSO:full');
    is $zc->get("/t/$ziv")->{status}, 404, 'after the right is taken away: 404';
};

done_testing;
