# The customer page (issue 13): only tickets the viewer may read, a
# customer none of whose tickets the viewer may read is a 404, PGP key
# status from tk:pgp:addr, the edit form (CSRF, 422 next to the form,
# address index and organisation sets kept), customers of one
# organisation grouped, links from the ticket page and overview rows.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;
$tk->add_group('Bildung');
my $pw = $tk->add_user('cora', name => 'Cora C', rights => 'ALSO:full,Bildung:read');
my $pwr = $tk->add_user('rita', name => 'Rita R', rights => 'Bildung:read');
my $r = $tk->redis;

my $a = $tk->add_ticket(title => 'Kim in ALSO', group => 'ALSO', customer => 'Kim Kunde <kim@example.org>');
my $b = $tk->add_ticket(title => 'Kim geheim', group => 'Zivilrecht', customer => 'Kim Kunde <kim@example.org>');
my $c = $tk->add_ticket(title => 'Kim Bildung', group => 'Bildung', customer => 'Kim Kunde <kim@example.org>');
my $l = $tk->add_ticket(title => 'Lou fremd', group => 'Zivilrecht', customer => 'Lou <lou@example.org>');
my $x = $tk->add_ticket(title => 'Max in ALSO', group => 'ALSO', customer => 'Max <max@example.org>');
my $kim = $tk->ticket_hash($a)->{customer};
my $lou = $tk->ticket_hash($l)->{customer};
my $max = $tk->ticket_hash($x)->{customer};
ok $kim && $lou && $max && $kim != $lou, 'customers';
is $tk->ticket_hash($b)->{customer}, $kim, 'same customer on every ticket';
$r->hset(TK_KEY_PGP_ADDR, 'kim@example.org', 'AAAABBBBCCCCDDDDEEEEFFFF0000111122223333 0');

my $web = $tk->login_client('cora', $pw);

subtest 'only the tickets the viewer may read' => sub {
    my $res = $web->get("/customers/$kim");
    is $res->{status}, 200, 'page';
    my @n = sort map { $_->attr('data-number') } $res->dom->find('#customer-tickets tr[data-number]');
    is_deeply \@n, [ sort $a, $c ], 'ALSO and Bildung, not Zivilrecht';
    unlike $res->{content}, qr/Kim geheim/, 'the other title is not on the page';
    is $res->dom->at('#c-pgp')->attr('data-pgp'), 'key', 'PGP key status';
    like $res->dom->at('#c-pgp')->text, qr/AAAABBBB/, 'fingerprint';
    is $web->get("/customers/$lou")->{status}, 404, 'none of the tickets readable: 404';
    is $web->get('/customers/99999')->{status}, 404, 'no such customer: 404';
    my $res2 = $web->get("/customers/$max");
    is $res2->dom->at('#c-pgp')->attr('data-pgp'), 'none', 'no key';
    $res = $web->get('/customers?email=KIM@example.org');
    is $res->{status}, 303, 'by address';
    like $res->location, qr{/customers/$kim$}, 'to the page';
};

subtest 'links from the ticket page and the overview' => sub {
    my $page = $web->get("/t/$a");
    my $link = $page->dom->at('a.customer-link');
    ok $link && $link->attr('href') =~ m{/customers/$kim$}, 'ticket page links the customer';
    my $ov = $web->get('/?view=all');
    $ov = $web->get('/') unless $ov->dom->at("tr[data-number=$a]");
    my $row = $ov->dom->at("tr[data-number=$a]");
    ok $row && $row->at('a.customer-link') && $row->at('a.customer-link')->attr('href') =~ m{/customers/$kim$},
        'overview row links the customer';
};

subtest 'edit: CSRF, 422, indexes' => sub {
    my $before = { $r->hgetall(tk_key_customer($kim)) };
    my $res = $web->post("/customers/$kim", [ name => 'X', email => 'kim@example.org' ]);
    is $res->{status}, 403, 'no CSRF: 403';
    $web->get("/customers/$kim");
    $res = $web->post_csrf("/customers/$kim", [ name => 'Kim', email => 'not an address' ]);
    is $res->{status}, 422, 'bad address: 422';
    ok $res->dom->at('#c-error'), 'message at the form';
    is $res->dom->at('#c-email')->attr('value'), 'not an address', 'as posted';
    $res = $web->post_csrf("/customers/$kim", [ name => 'Kim', email => 'lou@example.org' ]);
    is $res->{status}, 422, 'someone else\'s address: 422';
    is_deeply { $r->hgetall(tk_key_customer($kim)) }, $before, 'nothing written';

    $res = $web->post_csrf("/customers/$kim", [ name => 'Kim Kundin', email => 'kim.k@example.org',
        organisation => 'Mieterverein Nord', notes => "ruft lieber an\nab 10 Uhr" ]);
    is $res->{status}, 303, 'saved';
    my %h = $r->hgetall(tk_key_customer($kim));
    is $h{name}, 'Kim Kundin', 'name';
    is $h{email}, 'kim.k@example.org', 'email';
    is $h{organisation}, 'Mieterverein Nord', 'organisation';
    is $h{notes}, "ruft lieber an\nab 10 Uhr", 'notes with a line break';
    is $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'kim.k@example.org'), $kim, 'new address indexed';
    is $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'kim@example.org'), undef, 'old address gone';
    ok $r->sismember(sprintf(TK_FMT_ORG, 'Mieterverein Nord'), $kim), 'in the organisation set';
    is $r->zscore(TK_KEY_ORGS, 'Mieterverein Nord'), 1, 'organisation count';
};

subtest 'organisation: customers grouped' => sub {
    $web->get("/customers/$max");
    my $res = $web->post_csrf("/customers/$max", [ name => 'Max', email => 'max@example.org',
        organisation => 'Mieterverein Nord' ]);
    is $res->{status}, 303, 'Max joins';
    is $r->zscore(TK_KEY_ORGS, 'Mieterverein Nord'), 2, 'two';
    my $page = $web->get("/customers/$kim");
    my @m = map { $_->text } $page->dom->find('#org-members a');
    is_deeply \@m, [ 'Max' ], 'Kim\'s page lists Max';
    $web->get("/customers/$max");
    $web->post_csrf("/customers/$max", [ name => 'Max', email => 'max@example.org', organisation => '' ]);
    is $r->zscore(TK_KEY_ORGS, 'Mieterverein Nord'), 1, 'left again';
    ok !$r->sismember(sprintf(TK_FMT_ORG, 'Mieterverein Nord'), $max), 'not in the set';
};

subtest 'read right: page without the form, POST refused' => sub {
    my $rw = $tk->login_client('rita', $pwr);
    my $res = $rw->get("/customers/$kim");
    is $res->{status}, 200, 'visible (a Bildung ticket)';
    my @n = map { $_->attr('data-number') } $res->dom->find('#customer-tickets tr[data-number]');
    is_deeply \@n, [ $c ], 'only that ticket';
    ok !$res->dom->at('form#customer-edit'), 'no edit form';
    $res = $rw->post_csrf("/customers/$kim", [ name => 'Hack', email => 'kim.k@example.org' ]);
    is $res->{status}, 403, 'POST: 403';
    is $r->hget(tk_key_customer($kim), 'name'), 'Kim Kundin', 'unchanged';
    is $rw->get("/customers/$max")->{status}, 404, 'no readable ticket: 404';
};

done_testing;
