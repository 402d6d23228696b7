# The ticket page: changing state, priority, owner and group writes one
# history entry per change and keeps the overview index right; renaming.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;
my $pw = $tk->add_user('tina', name => 'Tina T', rights => 'ALSO:full');
my $otto_pw = $tk->add_user('otto', name => 'Otto O', rights => 'ALSO:full');
my $n = $tk->add_ticket(title => 'Drucker brennt', group => 'ALSO',
    customer => 'Paula Printer <paula@example.org>', body => 'Raum 4, bitte schnell.');
my $other = $tk->add_ticket(title => 'Anderes Ticket', group => 'ALSO');
my $c = $tk->login_client('tina', $pw);
my $otto = $tk->login_client('otto', $otto_pw);

sub t { $tk->ticket_hash($n) }
sub hist { $tk->history($n) }

sub in_overview {
    my ($client, $name, $num) = @_;
    my $res = $client->get("/overview/$name");
    return scalar grep { $_->attr('data-number') == $num }
        $res->dom->find('table#tickets tr[data-number]');
}

sub counts_consistent {
    is_deeply $tk->index_counts, $tk->expected_counts,
        'tk:{ix}:counts matches the tickets';
}

subtest 'the ticket page shows title, article, forms, history' => sub {
    my $res = $c->get("/t/$n");
    is $res->{status}, 200, 'status 200';
    is $res->page, 'ticket', 'data-page="ticket"';
    my $d = $res->dom;
    is $d->at('h1#title') ? $d->at('h1#title')->text : '', 'Drucker brennt', 'h1#title';
    ok $d->at("form#rename[action\$=\"/t/$n/title\"] input[name=title]"), 'rename form';
    for my $sel (qw(group owner state priority)) {
        ok $d->at("form#ticket-update[action\$=\"/t/$n/update\"] select[name=$sel]"),
            "update form: select $sel";
    }
    my @art = $d->find('article.article');
    ok @art >= 1, 'at least one article';
    if (@art) {
        like $art[0]->attr('data-kind') // '', qr/^(in|out|note)$/, 'data-kind';
        like $art[0]->attr('id') // '', qr/^a-\d+$/, 'id a-ID';
        like $art[0]->at('.body') ? $art[0]->at('.body')->text : '', qr/Raum 4/, '.body';
    }
    ok scalar($d->find('ol#history li')) >= 1, 'history has the creation';
    is $c->get('/t/99999')->{status}, 404, 'unknown ticket: 404';
    is $c->get('/t/abc')->{status}, 404, 'not a number: 404';
};

subtest 'state change: hash, one history entry, overviews' => sub {
    my $h0 = @{ hist() };
    my $li0 = scalar $c->get("/t/$n")->dom->find('ol#history li');
    my $res = $c->submit("/t/$n", 'form#ticket-update', state => 2);
    is $res->{status}, 303, 'status 303';
    like $res->location // '', qr{/t/$n$}, 'back to the ticket';
    is t()->{state}, 2, 'state 2 in Redis';
    my $h = hist();
    is scalar @$h, $h0 + 1, 'one history entry';
    is $h->[-1]{field}, 'state', 'for the state';
    is $h->[-1]{by}, 'tina', 'by tina';
    is scalar($c->get("/t/$n")->dom->find('ol#history li')), $li0 + 1, 'one more <li> on the page';
    cmp_ok t()->{updated}, '>=', t()->{created}, 'updated is set';
    counts_consistent();
};

subtest 'priority change' => sub {
    my $h0 = @{ hist() };
    is $c->submit("/t/$n", 'form#ticket-update', priority => 4)->{status}, 303, 'status 303';
    is t()->{priority}, 4, 'priority 4';
    is scalar @{ hist() }, $h0 + 1, 'one history entry';
    is hist()->[-1]{field}, 'priority', 'for the priority';
    my $res = $c->get('/overview/all?sort=priority&dir=desc');
    my $first = $res->dom->at('table#tickets tr[data-number]');
    is $first ? $first->attr('data-number') : 0, $n, 'first when sorted by priority';
};

subtest 'owner change: from unassigned to otto' => sub {
    ok in_overview($c, 'unassigned', $n), 'unassigned before';
    ok !in_overview($otto, 'my', $n), "not in otto's tickets before";
    my $h0 = @{ hist() };
    is $c->submit("/t/$n", 'form#ticket-update', owner => 'otto')->{status}, 303, 'status 303';
    is t()->{owner}, 'otto', 'owner otto';
    is scalar @{ hist() }, $h0 + 1, 'one history entry';
    is hist()->[-1]{field}, 'owner', 'for the owner';
    ok !in_overview($c, 'unassigned', $n), 'no longer unassigned';
    ok in_overview($otto, 'my', $n), "in otto's tickets";
    counts_consistent();
};

subtest 'group change: moves between group overviews' => sub {
    ok in_overview($c, 'group-ALSO', $n), 'in group-ALSO before';
    is $c->submit("/t/$n", 'form#ticket-update', group => 'legal')->{status}, 303, 'status 303';
    is t()->{group}, 'legal', 'group legal';
    is hist()->[-1]{field}, 'group', 'history: group';
    ok !in_overview($c, 'group-ALSO', $n), 'gone from group-ALSO';
    ok in_overview($c, 'group-legal', $n), 'in group-legal';
    counts_consistent();
};

subtest 'several changes at once: one entry each; no change: none' => sub {
    my $h0 = @{ hist() };
    is $c->submit("/t/$n", 'form#ticket-update', state => 3, priority => 1)->{status}, 303, 'status 303';
    my $h = hist();
    is scalar @$h, $h0 + 2, 'two entries';
    is_deeply [ sort map { $_->{field} } @$h[-2, -1] ], [qw(priority state)], 'state and priority';
    is $c->submit("/t/$n", 'form#ticket-update')->{status}, 303, 'unchanged submit: 303';
    is scalar @{ hist() }, $h0 + 2, 'no entry for no change';
    counts_consistent();
};

subtest 'closing removes the ticket from the open overviews' => sub {
    ok in_overview($c, 'open', $n), 'open before';
    is $c->submit("/t/$n", 'form#ticket-update', state => 6)->{status}, 303, 'closed';
    ok !in_overview($c, 'open', $n), 'not in open';
    ok in_overview($c, 'all', $n), 'still in all';
    counts_consistent();
};

subtest 'invalid values are refused and change nothing' => sub {
    my $before = $tk->json->encode(t());
    for my $bad ([ state => 9 ], [ priority => 0 ], [ group => 'NoSuchGroup' ], [ owner => 'ghost' ]) {
        my $res = $c->submit("/t/$n", 'form#ticket-update', @$bad);
        is $res->{status}, 400, "$bad->[0]=$bad->[1]: 400";
    }
    is $tk->json->encode(t()), $before, 'ticket unchanged';
};

subtest 'rename: title, history, escaping, sort order' => sub {
    my $h0 = @{ hist() };
    my $res = $c->submit("/t/$n", 'form#rename', title => 'Aaa <b>Toner</b> & Co');
    is $res->{status}, 303, 'status 303';
    is t()->{title}, 'Aaa <b>Toner</b> & Co', 'title in Redis';
    is scalar @{ hist() }, $h0 + 1, 'one history entry';
    is hist()->[-1]{field}, 'title', 'for the title';
    my $page = $c->get("/t/$n");
    is $page->dom->at('h1#title')->text, 'Aaa <b>Toner</b> & Co', 'h1 shows it';
    like $page->{content}, qr/&lt;b&gt;Toner&lt;\/b&gt; &amp; Co/, 'escaped in the HTML';
    unlike $page->{content}, qr/<b>Toner<\/b>/, 'never raw';
    my $ov = $c->get('/overview/all?sort=title&dir=asc');
    my $first = $ov->dom->at('table#tickets tr[data-number]');
    is $first ? $first->attr('data-number') : 0, $n, 'first by title now';
    $res = $c->submit("/t/$n", 'form#rename', title => '');
    is $res->{status}, 400, 'empty title: 400';
    $res = $c->submit("/t/$n", 'form#rename', title => 'x' x 5000);
    is $res->{status}, 400, 'over-long title: 400';
    is t()->{title}, 'Aaa <b>Toner</b> & Co', 'title unchanged';
};

subtest 'the other ticket was not touched' => sub {
    my $o = $tk->ticket_hash($other);
    is $o->{title}, 'Anderes Ticket', 'title';
    is $o->{state}, 1, 'state new';
    is scalar @{ $tk->history($other) }, 1, 'only the creation in its history';
};

done_testing;
