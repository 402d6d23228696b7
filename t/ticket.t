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
        is $res->{status}, 422, "$bad->[0]=$bad->[1]: 422, the form again";
        ok $res->dom->at('form#ticket-update .field-error'), 'with a message in the form';
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
    like $res->dom->at('.flash.error')->text, qr/Titel muss 1 bis 200 Zeichen/, 'says what is wrong';
    unlike $res->{content}, qr/abgelaufen|neu laden/, 'and nothing about an expired form';
    $res = $c->submit("/t/$n", 'form#rename', title => 'x' x 5000);
    is $res->{status}, 400, 'over-long title: 400';
    is t()->{title}, 'Aaa <b>Toner</b> & Co', 'title unchanged';
};

subtest 'a move the owner may not follow: the form again, one message at the owner' => sub {
    # sanne may work in legal (all agents) only; tina moves sanne's
    # ticket to ALSO without changing the owner
    $tk->add_user('sanne', name => 'Sanne Weber');
    my $m = $tk->add_ticket(title => 'Umzug nach ALSO', group => 'legal', owner => 'sanne');
    my $before = $tk->json->encode($tk->ticket_hash($m));
    my $h0 = @{ $tk->history($m) };
    my $res = $c->submit("/t/$m", 'form#ticket-update', group => 'ALSO', priority => 3);
    is $res->{status}, 422, 'status 422: the ticket page again';
    is $res->page, 'ticket', 'data-page="ticket", not the error page';
    my $d = $res->dom;
    my @msg = $d->find('form#ticket-update .field-error');
    is scalar @msg, 1, 'one message in the form';
    is $msg[0] ? $msg[0]->attr('id') : '', 'f-owner-error', 'next to the owner field';
    is $msg[0] ? $msg[0]->text : '',
        'Sanne Weber hat keinen Zugriff auf ALSO: „Zuständig“ leeren oder jemand anderen wählen.',
        'names the person (display name), the group and what to do';
    is $d->at('select[name=owner]')->attr('aria-describedby'), 'f-owner-error', 'select points to it';
    ok !$d->at('.flash.error'), 'no error banner';
    unlike $res->{content}, qr/abgelaufen|neu laden/, 'nothing about an expired form';
    my $sel = sub { my $o = $d->at("select[name=$_[0]] option[selected]"); $o ? $o->attr('value') : '' };
    is $sel->('group'), 'ALSO', 'group as submitted';
    is $sel->('owner'), 'sanne', 'owner as submitted';
    is $sel->('priority'), 3, 'priority as submitted';
    is $d->at('input[name=was_group]')->attr('value'), 'legal', 'was_group: the stored group';
    is $tk->json->encode($tk->ticket_hash($m)), $before, 'ticket unchanged';
    is scalar @{ $tk->history($m) }, $h0, 'no history entry';

    # clearing the owner in the form shown and sending it again works
    my ($action, $pairs) = $c->form_values($res, 'form#ticket-update', owner => '');
    is $c->post($action, $pairs)->{status}, 303, 'sent again without owner: 303';
    my $t = $tk->ticket_hash($m);
    is_deeply [ @$t{qw(group owner priority)} ], [ 'ALSO', '', 3 ], 'moved, unassigned, priority 3';
    counts_consistent();
};

subtest 'other refused values: the form again, message at the field' => sub {
    my $before = $tk->json->encode(t());
    my $res = $c->submit("/t/$n", 'form#ticket-update', owner => 'ghost');
    is $res->{status}, 422, 'unknown owner: 422';
    is $res->dom->at('.field-error') ? $res->dom->at('.field-error')->attr('id') : '', 'f-owner-error',
        'at the owner';
    $res = $c->submit("/t/$n", 'form#ticket-update', group => 'NoSuchGroup');
    is $res->dom->at('.field-error') ? $res->dom->at('.field-error')->attr('id') : '', 'f-group-error',
        'unknown group: at the group';
    $res = $c->submit("/t/$n", 'form#ticket-update', state => 4, pending_until => 'morgen');
    is $res->dom->at('.field-error') ? $res->dom->at('.field-error')->attr('id') : '', 'f-pending-error',
        'bad reminder date: at the date';
    is $res->dom->at('form#ticket-update input[name=pending_until]')->attr('value'), 'morgen', 'the date as typed';
    is $tk->json->encode(t()), $before, 'ticket unchanged';
};

subtest 'history names people by display name, the login in a tooltip' => sub {
    my $m = $tk->add_ticket(title => 'Namen im Verlauf', group => 'ALSO');
    is $c->submit("/t/$m", 'form#ticket-update', owner => 'otto')->{status}, 303, 'assigned to otto';
    my $li = ($c->get("/t/$m")->dom->find('ol#history li'))[-1];
    is $li->at('.what')->text, 'Tina T hat das Ticket Otto O zugewiesen', 'display names in the sentence';
    is_deeply [ map { $_->attr('title') } $li->find('.what .user') ], [qw(tina otto)], 'logins as tooltips';
    unlike $li->at('.what')->text, qr/\btina\b|\botto\b/, 'no login in the text';

    # a read-only reader (no owner list on the page) sees the names too
    my $rpw = $tk->add_user('rita', name => 'Rita Lesend', rights => 'ALSO:read');
    my $rita = $tk->login_client('rita', $rpw);
    $li = ($rita->get("/t/$m")->dom->find('ol#history li'))[-1];
    is $li->at('.what')->text, 'Tina T hat das Ticket Otto O zugewiesen', 'read right: names as well';

    # renaming oneself shows at once (the cached user list is versioned)
    is $otto->submit('/profile', 'form#profile', name => 'Otto Neuname')->{status}, 303, 'otto renames himself';
    $li = ($c->get("/t/$m")->dom->find('ol#history li'))[-1];
    is $li->at('.what')->text, 'Tina T hat das Ticket Otto Neuname zugewiesen', 'the new name (full right)';
    $li = ($rita->get("/t/$m")->dom->find('ol#history li'))[-1];
    is $li->at('.what')->text, 'Tina T hat das Ticket Otto Neuname zugewiesen', 'the new name (read right)';
    like(($c->get("/t/$m")->dom->find('ol#history li'))[0]->at('.what')->text,
        qr/^system hat das Ticket angelegt$/, 'no user: as it is');
};

subtest 'a ticket\'s history stream stays small (redis.conf stream-node-max-bytes)' => sub {
    is $tk->redis->type("tk:{t:$other}:history"), 'stream', 'a stream';
    my $bytes = $tk->redis->memory('usage', "tk:{t:$other}:history");
    cmp_ok $bytes, '<', 1024, "$bytes bytes for its one entry (Redis' default preallocates 4 KB)";
};

subtest 'the other ticket was not touched' => sub {
    my $o = $tk->ticket_hash($other);
    is $o->{title}, 'Anderes Ticket', 'title';
    is $o->{state}, 1, 'state new';
    is scalar @{ $tk->history($other) }, 1, 'only the creation in its history';
};

done_testing;
