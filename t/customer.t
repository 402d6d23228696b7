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

subtest 'suggested when the readable ticket is older than the newest 20' => sub {
    # Olga's one ALSO ticket is older than 24 in Zivilrecht (which cora
    # may not read): she is there for cora all the same, not for bert
    my $old = $tk->add_ticket(title => 'Olga in ALSO', group => 'ALSO', customer => 'Olga Alt <olga.alt@example.org>');
    # the others a second later: created (the set's score) counts seconds
    my $created = $tk->ticket_hash($old)->{created};
    select undef, undef, undef, 0.1 while time <= $created;
    $tk->add_ticket(title => "Olga geheim $_", group => 'Zivilrecht', customer => 'Olga Alt <olga.alt@example.org>')
        for 1 .. 24;
    my $olga = $tk->ticket_hash($old)->{customer};
    my $set = sprintf(TK_FMT_CUST_TICKETS, $olga);
    is $r->zcard($set), 25, '25 tickets';
    ok !(grep { $_ == $old } $r->zrevrange($set, 0, 19)), '  the ALSO one not among the newest 20';
    my $emails = sub { [ map { $_->{email} } @{ $_[0]->get($_[1])->json->{addresses} } ] };
    is_deeply $emails->($web, '/new/complete?q=olga.alt'), [ 'olga.alt@example.org' ], '/new/complete: suggested';
    is_deeply $emails->($web, "/t/$a/complete?q=olga.alt"), [ 'olga.alt@example.org' ], '/t/N/complete: suggested';
    is $web->get("/customers/$olga")->{status}, 200, 'as her page is there';
    my $pwb = $tk->add_user('bert', name => 'Bert B', rights => 'Bildung:full');
    my $bert = $tk->login_client('bert', $pwb);
    is_deeply $emails->($bert, '/new/complete?q=olga.alt'), [], 'control: not for bert (Bildung only)';
    is $bert->get("/customers/$olga")->{status}, 404, '  whose page of her is a 404';
    # the organisation's others on Kim's page name her too
    $web->get("/customers/$olga");
    is $web->post_csrf("/customers/$olga", [ name => 'Olga Alt', email => 'olga.alt@example.org',
        organisation => 'Mieterverein Nord' ])->{status}, 303, 'Olga joins Kim\'s organisation';
    my @m = map { $_->text } $web->get("/customers/$kim")->dom->find('#org-members a');
    is_deeply \@m, [ 'Olga Alt' ], 'Kim\'s page lists Olga';
};

done_testing;
