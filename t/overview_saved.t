# Overviews agents filter and save: ad hoc filters (owner, state,
# priority, group, escalated / reminder due, tag), "save as new
# overview", save changes, delete; shared overviews (admins) and who sees
# them; the shipped defaults (my escalated, in progress, reminders due,
# "[G] unassigned (+ shared groups)", escalated in G); rights: neither an
# overview nor its count shows a ticket of a group the user cannot read.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;                 # ALSO, legal (all agents), Zivilrecht
my $pw = $tk->add_user('olga', name => 'Olga O', rights => 'ALSO:full');
my $apw = $tk->add_user('anton', name => 'Anton A', rights => 'ALSO:full,Zivilrecht:full');
my $adm = $tk->add_user('ada', name => 'Ada Admin', admin => 1, rights => 'ALSO:full,Zivilrecht:full');

# 90 tickets over three groups, owners, states, priorities
my @owners = ('', 'olga', 'anton');
my @groups = ('ALSO', 'legal', 'Zivilrecht');
for my $i (1 .. 90) {
    $tk->add_ticket(
        group    => $groups[$i % 3],
        title    => sprintf('Akte %03d', $i),
        owner    => $owners[ int($i / 3) % 3 ],
        state    => 1 + ($i * 7) % 6,
        priority => 1 + ($i * 5) % 4,
    );
}
my $all = $tk->all_tickets;
my %see = map { $_ => $all->{$_} } grep { $all->{$_}{group} ne 'Zivilrecht' } keys %$all;
my $c = $tk->login_client('olga', $pw);
my $r = $tk->redis;

sub rows { map { $_->attr('data-number') } $_[0]->dom->find('table#tickets tr[data-number]') }
sub total { my $t = $_[0]->dom->at('#total'); $t ? $t->text : undef }
sub count_of {
    my ($res, $name) = @_;
    my $e = $res->dom->at(qq{nav#overviews a[data-overview="$name"] span.count});
    return $e ? $e->text : undef;
}
sub want { my ($f) = @_; [ sort { $a <=> $b } grep { $f->($see{$_}) } keys %see ] }
sub got { my ($res) = @_; [ sort { $a <=> $b } rows($res) ] }

subtest 'ad hoc filters narrow any overview' => sub {
    my $res = $c->get('/overview/all?owner=me&state=2');
    is $res->{status}, 200, 'status';
    is_deeply got($res), want(sub { $_[0]{owner} eq 'olga' && $_[0]{state} == 2 }),
        'owner=me&state=2: exactly mine in progress';
    ok $res->dom->at('form.filters select[name=owner] option[value=me][selected]'), 'owner filter shown';
    $res = $c->get('/overview/open?owner=nobody&priority=4');
    is_deeply got($res), want(sub { $_[0]{owner} eq '' && $_[0]{state} <= 5 && $_[0]{priority} == 4 }),
        'open, nobody, urgent';
    is total($res), scalar @{ want(sub { $_[0]{owner} eq '' && $_[0]{state} <= 5 && $_[0]{priority} == 4 }) },
        'total counts them';
    # a filter that contradicts the overview leaves nothing
    $res = $c->get('/overview/my?owner=anton');
    is scalar(rows($res)), 0, '"my" filtered to anton: none';
    # sorting keeps the filters in the header links
    $res = $c->get('/overview/all?owner=me&sort=title&dir=asc');
    my @t = map { $see{$_}{title} } rows($res);
    is_deeply \@t, [ sort @t ], 'sorted by title';
    my $link = $res->dom->at('table#tickets th a[data-sort=number]')->attr('href');
    like $link, qr/owner=me/, 'sort links keep owner=me';
};

my $saved_id;
subtest 'save as new overview, then it is in the sidebar with its count' => sub {
    my $res = $c->submit('/overview/all?owner=me&group=ALSO&priority=3', 'form#overview-save',
        name => 'Meine hohen ALSO');
    is $res->{status}, 303, 'saved: 303' or diag $res->{content};
    ($saved_id) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    ok $saved_id, "redirected to /overview/$saved_id" or return;
    my $defs = { $r->hgetall(tk_key_user_overviews('olga')) };
    like $defs->{$saved_id}, qr/^name=Meine(%20|\+)hohen(%20|\+)ALSO&/, 'stored in tk:{u:olga}:overviews';
    like $defs->{$saved_id}, qr/groups=ALSO/, 'with the group';
    like $defs->{$saved_id}, qr/owner=me/, 'the owner';
    like $defs->{$saved_id}, qr/priority=3/, 'the priority';
    my $page = $c->get("/overview/$saved_id");
    is $page->{status}, 200, 'the saved overview opens';
    my $w = want(sub { $_[0]{owner} eq 'olga' && $_[0]{group} eq 'ALSO' && $_[0]{priority} == 3 });
    is_deeply got($page), $w, 'its tickets: mine, ALSO, high';
    is count_of($page, $saved_id), scalar @$w, 'sidebar count of the saved overview';
    my $cur = $page->dom->at(qq{nav#overviews a[data-overview="$saved_id"]});
    ok $cur && $cur->has_class('current'), 'marked current';
    like $page->dom->at('h1.overview-title')->text, qr/Meine hohen ALSO/, 'its name as the heading';
    # the others do not see it
    my $a = $tk->login_client('anton', $apw);
    is $a->get("/overview/$saved_id")->{status}, 404, 'not for anton';
    ok !$a->get('/')->dom->at(qq{nav#overviews a[data-overview="$saved_id"]}), 'not in his sidebar';
};

subtest 'save changes, bad name, delete' => sub {
    my $res = $c->submit("/overview/$saved_id?state=1", 'form#overview-save',
        name => 'Nur neue', id => $saved_id);
    is $res->{status}, 303, 'changes saved';
    my $page = $c->get("/overview/$saved_id");
    is_deeply got($page), want(sub { $_[0]{owner} eq 'olga' && $_[0]{group} eq 'ALSO'
        && $_[0]{priority} == 3 && $_[0]{state} == 1 }), 'now only the new ones';
    like $page->dom->at('h1.overview-title')->text, qr/Nur neue/, 'renamed';
    $res = $c->submit('/overview/all', 'form#overview-save', name => '   ');
    is $res->{status}, 422, 'empty name: 422';
    my $n = () = $r->hkeys(tk_key_user_overviews('olga'));
    is $n, 1, 'nothing stored';
    $res = $c->post("/overview/$saved_id/delete", [ csrf => 'wrong' ]);
    is $res->{status}, 403, 'delete without the token: 403';
    $res = $c->submit("/overview/$saved_id", 'form#overview-delete');
    is $res->{status}, 303, 'deleted';
    is $c->get("/overview/$saved_id")->{status}, 404, 'gone';
};

subtest 'rights: a saved group out of reach shows nothing of it' => sub {
    # written behind the form's back: Zivilrecht, which olga cannot read
    $r->hset(tk_key_user_overviews('olga'), 900, 'name=Ziv&groups=Zivilrecht,ALSO&states=123456&owner=anyone');
    $r->incr(TK_KEY_INDEX_GEN);
    my $page = $c->get('/overview/900');
    is $page->{status}, 200, 'opens';
    ok !(grep { $all->{$_}{group} eq 'Zivilrecht' } rows($page)), 'no Zivilrecht ticket';
    my $also = scalar @{ want(sub { $_[0]{group} eq 'ALSO' }) };
    is total($page), $also, 'total: ALSO only';
    is count_of($page, 900), $also, 'sidebar count: ALSO only';
    $r->hset(tk_key_user_overviews('olga'), 901, 'name=Z&groups=Zivilrecht&owner=anyone');
    $r->incr(TK_KEY_INDEX_GEN);
    $page = $c->get('/overview/901');
    is scalar(rows($page)), 0, 'only Zivilrecht: empty';
    is count_of($page, 901), 0, 'count 0';
    # ad hoc group filter on a group out of reach is ignored, never obeyed
    $page = $c->get('/overview/all?group=Zivilrecht');
    ok !(grep { $all->{$_}{group} eq 'Zivilrecht' } rows($page)), '?group=Zivilrecht shows none of it';
    $r->hdel(tk_key_user_overviews('olga'), 900, 901);
    $r->incr(TK_KEY_INDEX_GEN);
};

subtest 'shared overviews: admins save them, visibility by group and role' => sub {
    my $ad = $tk->login_client('ada', $adm);
    my $res = $ad->submit('/overview/all?only=&owner=nobody', 'form#overview-save',
        name => 'Unzugewiesen (alle)', shared => 1);
    is $res->{status}, 303, 'admin saved a shared overview';
    my ($id) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    ok defined $r->hget(TK_KEY_OVERVIEWS, $id), 'in tk:overviews';
    my $page = $c->get("/overview/$id");
    is $page->{status}, 200, 'olga sees it';
    is_deeply got($page), want(sub { $_[0]{owner} eq '' }), 'with her groups only';
    $res = $ad->submit('/overview/all', 'form#overview-save', name => 'Nur Ziv', shared => 1,
        vgroups => 'Zivilrecht');
    my ($zid) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    is $c->get("/overview/$zid")->{status}, 404, 'visible to Zivilrecht only: not for olga';
    my $a = $tk->login_client('anton', $apw);
    is $a->get("/overview/$zid")->{status}, 200, 'anton sees it';
    $res = $c->submit('/overview/all', 'form#overview-save', name => 'x', shared => 1);
    is $res->{status}, 403, 'an agent cannot share';
    is $c->post("/overview/$id/delete", [ csrf => $c->csrf ])->{status}, 404,
        'nor delete a shared one';
    # /admin/overviews lists them all and deletes
    my $idx = $ad->get('/admin');
    ok $idx->dom->at('ul#admin-sections a[data-section=overviews]'), 'admin index links it';
    my $ao = $ad->get('/admin/overviews');
    is $ao->{status}, 200, '/admin/overviews';
    ok $ao->dom->at(qq{table#shared-overviews tr[data-id="$id"]}), 'lists the shared one';
    ok $ao->dom->at(qq{table#shared-overviews tr[data-id="$zid"]}), 'and the Zivilrecht one';
    is $c->get('/admin/overviews')->{status}, 404, 'not for agents';
    $res = $ad->post('/admin/overviews', [ csrf => $ad->csrf, id => $zid ]);
    is $res->{status}, 303, 'deleted from the admin page';
    ok !defined $r->hget(TK_KEY_OVERVIEWS, $zid), 'gone from tk:overviews';
};

subtest 'defaults: escalated, in progress, reminders, [G] unassigned (+ legal), escalated in G' => sub {
    my $home = $c->get('/');
    for my $name (qw(my unassigned waiting open all auto escalated in-progress reminders
                     group-ALSO unassigned-ALSO escalated-ALSO group-legal)) {
        ok $home->dom->at(qq{nav#overviews a[data-overview="$name"]}), "sidebar has $name";
    }
    my $in = want(sub { $_[0]{owner} eq 'olga' && $_[0]{state} == 2 });
    is count_of($home, 'in-progress'), scalar @$in, 'in progress: count';
    is_deeply got($c->get('/overview/in-progress')), $in, 'in progress: rows';
    my $un = want(sub { $_[0]{owner} eq '' && $_[0]{state} <= 5 });
    is count_of($home, 'unassigned-ALSO'), scalar @$un, '[ALSO] unassigned counts ALSO and legal';
    is_deeply got($c->get('/overview/unassigned-ALSO')), $un, '... and lists them';
    like $home->dom->at('nav#overviews a[data-overview="unassigned-ALSO"] .label')->text,
        qr/\[ALSO\]/, 'label names the group';
    # escalated: the timers role keeps these sets; written here through the
    # schema's names, one of them a Zivilrecht ticket olga cannot read
    my ($mine) = grep { $all->{$_}{owner} eq 'olga' && $all->{$_}{group} eq 'ALSO' && $all->{$_}{state} <= 5 } sort { $a <=> $b } keys %$all;
    my ($ziv) = grep { $all->{$_}{group} eq 'Zivilrecht' && $all->{$_}{state} <= 5 } sort { $a <=> $b } keys %$all;
    $r->zadd(tk_key_esc_owner('olga'), 1000, $mine);
    $r->zadd(tk_key_esc_owner('olga'), 1001, $ziv);
    $r->zadd(tk_key_esc_group('ALSO'), 1000, $mine);
    $r->zadd(tk_key_esc_group('Zivilrecht'), 1001, $ziv);
    $r->incr(TK_KEY_INDEX_GEN);
    my $esc = $c->get('/overview/escalated');
    is_deeply [ rows($esc) ], [ $mine ], 'my escalated: the ALSO one, not the Zivilrecht one';
    is total($esc), 1, 'total 1';
    my $g = $c->get('/overview/escalated-ALSO');
    is_deeply [ rows($g) ], [ $mine ], 'escalated in ALSO';
    is total($g), 1, 'its total (the sidebar shows no count: one ZCARD per group)';
    # the sidebar count of "my escalated" is the ZCARD of the owner's set
    # (SCHEMA.md): it still counts the Zivilrecht ticket olga owns but may
    # no longer read -- a known limit, the list above never shows it
    is count_of($g, 'escalated'), 2, 'my escalated: the ZCARD of my set';
    is $c->get('/overview/escalated-Zivilrecht')->{status}, 404, 'escalated in Zivilrecht: 404 for olga';
    is_deeply [ rows($c->get('/overview/all?only=escalated')) ], [ $mine ], 'ad hoc: only escalated';
    $r->zadd(tk_key_remdue_owner('olga'), 1000, $mine);
    $r->incr(TK_KEY_INDEX_GEN);
    is_deeply [ rows($c->get('/overview/reminders')) ], [ $mine ], 'my reminders due';
};

subtest 'tags (the tags helper writes tk:{ix}:tag:TAG; read only here)' => sub {
    my @ids = (grep { $all->{$_}{group} ne 'Zivilrecht' } sort { $a <=> $b } keys %$all)[0 .. 4];
    my ($ziv) = grep { $all->{$_}{group} eq 'Zivilrecht' } sort { $a <=> $b } keys %$all;
    $r->zadd(tk_key_tag('frist'), $all->{$_}{updated}, $_) for @ids, $ziv;
    $r->incr(TK_KEY_INDEX_GEN);
    my $res = $c->get('/overview/all?tag=Frist');
    is_deeply got($res), [ sort { $a <=> $b } @ids ], 'tag=Frist (lower-cased): the five, not Zivilrecht';
    $res = $c->get("/overview/all?tag=frist&state=$all->{$ids[0]}{state}");
    ok !(grep { $all->{$_}{state} != $all->{$ids[0]}{state} } rows($res)), 'tag and state';
    $res = $c->submit('/overview/all?tag=frist', 'form#overview-save', name => 'Fristen');
    is $res->{status}, 303, 'saved with the tag';
    my ($id) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    is_deeply got($c->get("/overview/$id")), [ sort { $a <=> $b } @ids ], 'the saved tag overview';
};

subtest 'page cache: a saved overview changes with the generation' => sub {
    my $res = $c->submit('/overview/all?owner=me', 'form#overview-save', name => 'Cache');
    my ($id) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    my $before = total($c->get("/overview/$id"));
    my ($t) = grep { $all->{$_}{owner} eq '' && $all->{$_}{group} eq 'ALSO' } sort { $a <=> $b } keys %$all;
    $tk->ctl('ticket', 'update', $t, '--owner', 'olga');
    is total($c->get("/overview/$id")), $before + 1, 'one more after an assignment';
};

subtest 'API: GET /api/v1/overviews and /api/v1/overviews/NAME/tickets' => sub {
    # the cache subtest assigned a ticket: read them again
    $all = $tk->all_tickets;
    %see = map { $_ => $all->{$_} } grep { $all->{$_}{group} ne 'Zivilrecht' } keys %$all;
    my $token = $tk->add_token('olga');
    my $res = $c->submit('/overview/all?owner=me&priority=2', 'form#overview-save', name => 'API normal');
    my ($id) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    my $list = $c->api(GET => '/api/v1/overviews', $token);
    is $list->{status}, 200, 'list: 200';
    my %by = map { $_->{name} => $_ } @{ $list->json->{overviews} // [] };
    ok $by{my} && $by{all} && $by{escalated} && $by{'group-ALSO'}, 'named overviews';
    ok !$by{'group-Zivilrecht'}, 'no Zivilrecht';
    ok $by{$id} && $by{$id}{saved} && $by{$id}{personal}, 'the saved one, personal';
    is $by{$id}{label}, 'API normal', 'its label';
    my $w = want(sub { $_[0]{owner} eq 'olga' && $_[0]{priority} == 2 });
    is $by{$id}{count}, scalar @$w, 'its count';
    is $by{all}{count}, scalar keys %see, 'all: the visible tickets';
    my $t = $c->api(GET => "/api/v1/overviews/$id/tickets?sort=number&dir=asc", $token);
    is $t->{status}, 200, 'tickets: 200';
    # (with a priority the index orders by priority, then updated: the
    # page falls back to "updated" for number, see views.h)
    is_deeply [ sort { $a <=> $b } map { $_->{number} } @{ $t->json->{tickets} } ], $w, 'its tickets';
    is $t->json->{total}, scalar @$w, 'total';
    is $t->json->{overview}{name}, $id, 'names the overview';
    $t = $c->api(GET => '/api/v1/overviews/all/tickets?owner=nobody&state=1&page=1', $token);
    is_deeply [ sort { $a <=> $b } map { $_->{number} } @{ $t->json->{tickets} } ],
        want(sub { $_[0]{owner} eq '' && $_[0]{state} == 1 }), 'ad hoc filters in the API';
    ok !(grep { $all->{ $_->{number} }{group} eq 'Zivilrecht' }
        @{ $c->api(GET => '/api/v1/overviews/all/tickets', $token)->json->{tickets} }), 'no Zivilrecht';
    is $c->api(GET => '/api/v1/overviews/escalated-Zivilrecht/tickets', $token)->{status}, 404,
        'a group out of reach: 404';
    my $ant = $tk->add_token('anton');
    is $c->api(GET => "/api/v1/overviews/$id/tickets", $ant)->{status}, 404, "someone else's: 404";
};

subtest 'priority counts (tk:{ix}:counts:pri) follow a change of priority' => sub {
    $all = $tk->all_tickets;
    %see = map { $_ => $all->{$_} } grep { $all->{$_}{group} ne 'Zivilrecht' } keys %$all;
    my $res = $c->submit('/overview/all?owner=me&priority=1', 'form#overview-save', name => 'Niedrig');
    my ($id) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    my $n = scalar @{ want(sub { $_[0]{owner} eq 'olga' && $_[0]{priority} == 1 }) };
    is count_of($c->get('/'), $id), $n, "sidebar: $n";
    my ($t) = grep { $see{$_}{owner} eq 'olga' && $see{$_}{priority} != 1 } sort { $a <=> $b } keys %see;
    $tk->ctl('ticket', 'update', $t, '--priority', 'low');
    is count_of($c->get('/'), $id), $n + 1, 'one more after a priority change';
    # every "*" count equals the sum of its priorities
    my %c = $r->hgetall(TK_KEY_INDEX_COUNTS);
    my %p = $r->hgetall(TK_KEY_INDEX_COUNTS_PRI);
    my %sum;
    for my $f (keys %p) { my ($k) = $f =~ /^(.*):\d$/; $sum{$k} += $p{$f} }
    my @bad = grep { ($c{$_} // 0) != ($sum{$_} // 0) } keys %{ { %c, %sum } };
    is_deeply \@bad, [], 'tk:{ix}:counts = sum over tk:{ix}:counts:pri, field by field';
};

subtest 'chosen columns: in the URL, saved with the overview' => sub {
    my $res = $c->get('/overview/all?columns=number,updated');
    my @th = map { $_->attr('data-sort') } $res->dom->find('table#tickets th a[data-sort]');
    is_deeply \@th, [qw(number title updated)], 'header: number, title (always), updated';
    my $row = $res->dom->at('table#tickets tr[data-number]');
    ok $row->at('td.updated') && !$row->at('td.owner') && !$row->at('td.group'), 'cells follow';
    my $sel = sub { my ($res) = @_; my ($o) = grep { defined $_->attr('selected') }
        $res->dom->find('form.filters select[name=columns] option'); $o ? $o->attr('value') : undef };
    is $sel->($res), 'number,title,updated', 'the list is kept in the select';
    $res = $c->submit('/overview/all?columns=number,title,owner,updated', 'form#overview-save', name => 'Kompakt');
    my ($id) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    like $r->hget(tk_key_user_overviews('olga'), $id), qr/columns=number,title,owner,updated/, 'stored';
    my $page = $c->get("/overview/$id");
    is_deeply [ map { $_->attr('data-sort') } $page->dom->find('table#tickets th a[data-sort]') ],
        [qw(number title owner updated)], 'the saved overview shows its columns';
    is $sel->($page), 'number,title,owner,updated', '"compact" selected';
};

subtest 'updated from / to (score ranges of the updated and priority sets)' => sub {
    $all = $tk->all_tickets;
    %see = map { $_ => $all->{$_} } grep { $all->{$_}{group} ne 'Zivilrecht' } keys %$all;
    my @lt = localtime;
    my $today = sprintf '%04d-%02d-%02d', $lt[5] + 1900, $lt[4] + 1, $lt[3];
    my @yt = localtime(time - 86400 * 2);
    my $before = sprintf '%04d-%02d-%02d', $yt[5] + 1900, $yt[4] + 1, $yt[3];
    my @tt = localtime(time + 86400 * 2);
    my $after = sprintf '%04d-%02d-%02d', $tt[5] + 1900, $tt[4] + 1, $tt[3];
    my $n = scalar keys %see;
    is total($c->get("/overview/all?from=$today")), $n, "from today: all $n";
    is total($c->get("/overview/all?to=$before")), 0, 'until two days ago: none';
    is total($c->get("/overview/all?from=$after")), 0, 'from the day after tomorrow: none';
    is total($c->get("/overview/all?from=$before&to=$today")), $n, 'a range around today: all';
    my $w = want(sub { $_[0]{priority} == 4 });
    is total($c->get("/overview/all?from=$today&priority=4")), scalar @$w, 'with a priority';
    my $res = $c->get("/overview/all?from=$after&only=escalated");
    is scalar(rows($res)), 0, 'a set overview with the range';
    $res = $c->submit("/overview/all?from=$after", 'form#overview-save', name => 'Zukunft');
    my ($id) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    like $r->hget(tk_key_user_overviews('olga'), $id), qr/updated_from=\d+/, 'stored as Unix seconds';
    my $page = $c->get("/overview/$id");
    is total($page), 0, 'the saved range';
    is count_of($page, $id), 0, 'its sidebar count (ZCOUNT)';
    ok $c->get("/overview/all?from=$today")->dom->at(qq{input[name=from][value="$today"]}), 'the date stays in the form';
};

subtest 'owner picker: the agents of the group the ticket moves to, in one save' => sub {
    my $zpw = $tk->add_user('zeno', name => 'Zeno Z', rights => 'Zivilrecht:full');
    my $a = $tk->login_client('anton', $apw);
    my $t = $tk->add_ticket(group => 'ALSO', title => 'Umzug');
    my $page = $a->get("/t/$t");
    my $z = $page->dom->at('form#ticket-update select[name=owner] option[value=zeno]');
    ok $z, 'zeno (Zivilrecht only) is offered on an ALSO ticket' or return;
    like $z->attr('data-groups'), qr/(^| )Zivilrecht /, 'his groups: Zivilrecht';
    unlike $z->attr('data-groups'), qr/(^| )ALSO /, 'not ALSO';
    ok $z->has_class('other-group'), 'marked as of another group';
    my $o = $page->dom->at('form#ticket-update select[name=owner] option[value=olga]');
    like $o->attr('data-groups'), qr/(^| )ALSO /, 'olga: ALSO';
    # one save: moved to Zivilrecht and assigned to zeno
    my $res = $a->submit("/t/$t", 'form#ticket-update', group => 'Zivilrecht', owner => 'zeno');
    is $res->{status}, 303, 'moved and assigned in one save';
    my $h = $tk->ticket_hash($t);
    is $h->{group}, 'Zivilrecht', 'group';
    is $h->{owner}, 'zeno', 'owner';
    # the server checks the owner against the new group
    $res = $a->submit("/t/$t", 'form#ticket-update', group => 'ALSO', owner => 'zeno');
    is $res->{status}, 422, 'zeno cannot own an ALSO ticket: 422';
    ok $res->dom->at('#f-owner-error'), 'the message next to the owner';
    is $tk->ticket_hash($t)->{group}, 'Zivilrecht', 'nothing changed';
};

# nginx keeps each user's sidebar entries (ngx_http_ticket_sidebar.c)
# under a key of everything they depend on; the counts are read on every
# page.  Each change below shows on the next page.
subtest 'the sidebar follows its user: saved overviews, rights, language, counts' => sub {
    my $entry = sub {
        my ($res, $name) = @_;
        my $e = $res->dom->at(qq{nav#overviews a[data-overview="$name"]});
        return $e ? $e->text : undef;
    };
    my $fresh = sub { $r->incr(TK_KEY_INDEX_GEN); $c->get('/overview/all') };
    my $page = $fresh->();
    $page = $fresh->();                                 # kept now
    ok !defined $entry->($page, 950), 'no overview 950 yet';
    $r->hset(tk_key_user_overviews('olga'), 950, 'name=Erste&states=12345&owner=anyone');
    like $entry->($fresh->(), 950) // '', qr/Erste/, 'a new saved overview: in the sidebar';
    $r->hset(tk_key_user_overviews('olga'), 950, 'name=Zweite&states=12345&owner=anyone');
    $page = $fresh->();
    like $entry->($page, 950) // '', qr/Zweite/, 'renamed: the new name';
    unlike $entry->($page, 950) // '', qr/Erste/, 'not the old one';
    $r->hset(tk_key_user_overviews('olga'), 950, 'name=Zweite&states=12345&owner=anyone&groups=legal');
    my $now = $tk->all_tickets;             # as the subtests before left them
    my $legal = grep { $_->{group} eq 'legal' && $_->{state} <= 5 } values %$now;
    is count_of($fresh->(), 950), $legal, 'its conditions changed: its count with them';
    $r->hdel(tk_key_user_overviews('olga'), 950);
    ok !defined $entry->($fresh->(), 950), 'deleted: gone';

    ok !defined $entry->($page, 'group-Zivilrecht'), 'no Zivilrecht entry';
    $tk->ctl('user', 'set', 'olga', '--groups', 'ALSO:full,Zivilrecht:read');
    $page = $fresh->();
    ok defined $entry->($page, 'group-Zivilrecht'), 'Zivilrecht granted: its entries';
    my $ziv = grep { $_->{group} eq 'Zivilrecht' } values %$now;
    is count_of($page, 'group-Zivilrecht'), $ziv, 'with its count';
    $tk->ctl('user', 'set', 'olga', '--groups', 'ALSO:full');
    ok !defined $entry->($fresh->(), 'group-Zivilrecht'), 'taken away: gone';

    like $entry->($fresh->(), 'all') // '', qr/Alle Tickets/, 'German';
    $tk->ctl('user', 'set', 'olga', '--lang', 'en');
    like $entry->($fresh->(), 'all') // '', qr/All tickets/i, 'English after the switch';
    $tk->ctl('user', 'set', 'olga', '--lang', 'de');
    like $entry->($fresh->(), 'all') // '', qr/Alle Tickets/, 'German again';

    my $before = count_of($fresh->(), 'group-ALSO');
    my $n = $tk->add_ticket(group => 'ALSO', title => 'Akte neu');
    is count_of($fresh->(), 'group-ALSO'), $before + 1, 'a new ticket: the count of its group';
};

done_testing;
