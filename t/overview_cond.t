# Overview conditions "customer" and "created from / to" (issue 12):
# ad hoc (the filter bar's customer -- by id or address -- and created
# range) and saved ("customer=ID&created_from=S&created_to=S"), combined
# with state, owner, priority, tag and the updated range, sorted and
# paged, in the JSON API, in links and in the page cache's key; rights:
# a customer with tickets in a group the user cannot read shows only
# the others, and bad input is left out as the updated range's is.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX qw(strftime);
use TK;

my $tk = TK->new;
$tk->standard_groups;                 # ALSO, legal (all agents), Zivilrecht
my $pw = $tk->add_user('olga', name => 'Olga O', rights => 'ALSO:full');
my $apw = $tk->add_user('anton', name => 'Anton A', rights => 'ALSO:full,Zivilrecht:full');

# 160 tickets, one a day (created at noon UTC, in number order as ticket
# numbers are given out); every fourth of customer Kara, in all groups
my @groups = ('ALSO', 'legal', 'Zivilrecht');
my @owners = ('', 'olga', 'anton');
my $N = 160;
my $day0 = int(time / 86400) * 86400 - ($N + 5) * 86400 + 43200;
for my $i (1 .. $N) {
    $tk->add_ticket(
        group    => $groups[$i % 3],
        title    => sprintf('Akte %03d', ($i * 37) % 1000),
        owner    => $owners[ int($i / 3) % 3 ],
        state    => 1 + ($i * 7) % 6,
        priority => 1 + ($i * 5) % 4,
        customer => $i % 4 == 0 ? 'Kara Kundin <Kara@Example.org>'
                                : "Other $i <other$i\@example.org>",
    );
}
my $r = $tk->redis;
# created one day after another; a few Kara tickets tagged "frist"
for my $n (1 .. $N) {
    $r->hset(tk_key_ticket($n), 'created', $day0 + $n * 86400);
    $r->hset(tk_key_ticket($n), 'tags', 'frist') if $n % 8 == 0;
}
$tk->ctl('reindex');
$r->incr(TK_KEY_INDEX_GEN);

my $all = $tk->all_tickets;
my %see = map { $_ => $all->{$_} } grep { $all->{$_}{group} ne 'Zivilrecht' } keys %$all;
my $kara = $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'kara@example.org');
ok $kara, "Kara is customer $kara";
my $c = $tk->login_client('olga', $pw);

sub rows { map { $_->attr('data-number') } $_[0]->dom->find('table#tickets tr[data-number]') }
sub total { my $t = $_[0]->dom->at('#total'); $t ? $t->text : undef }
sub want { my ($f) = @_; [ sort { $a <=> $b } grep { $f->($see{$_}) } keys %see ] }
sub got { my ($res) = @_; [ sort { $a <=> $b } rows($res) ] }
sub day { strftime('%Y-%m-%d', gmtime($day0 + $_[0] * 86400)) }   # ticket n's day
sub count_of {
    my ($res, $name) = @_;
    my $e = $res->dom->at(qq{nav#overviews a[data-overview="$name"] span.count});
    return $e ? $e->text : undef;
}
sub saved_id { my ($res) = @_; (($res->{headers}{location} // '') =~ m{overview/(\d+)$})[0] }

my $karas = want(sub { $_[0]{customer} == $kara });

subtest 'customer: by id and by address, only groups the user reads' => sub {
    ok @$karas > 20, scalar(@$karas) . ' of her tickets visible';
    ok((grep { $all->{$_}{customer} == $kara && $all->{$_}{group} eq 'Zivilrecht' } keys %$all),
        'she has Zivilrecht tickets too');
    my $res = $c->get("/overview/all?customer=$kara");
    is $res->{status}, 200, 'status';
    is_deeply got($res), $karas, 'customer=ID: hers, none of Zivilrecht';
    is total($res), scalar @$karas, 'total';
    is_deeply got($c->get('/overview/all?customer=KARA%40example.org')), $karas,
        'by address, any case';
    ok $res->dom->at(qq{form.filters input[name=customer][value="$kara"]}), 'kept in the form';
    ok $res->dom->at('form.filters a.reset'), '"clear filters"';
    like $res->dom->at('table#tickets th a[data-sort=title]')->attr('href'), qr/customer=$kara/,
        'sort links keep it';
    my $ant = $tk->login_client('anton', $apw);
    my @az = grep { $all->{$_}{customer} == $kara } keys %$all;
    is_deeply [ sort { $a <=> $b } rows($ant->get("/overview/all?customer=$kara")) ],
        [ sort { $a <=> $b } @az ], 'anton (ALSO, Zivilrecht, legal): all of hers';
};

subtest 'customer with other conditions, sorted' => sub {
    my $res = $c->get("/overview/all?customer=$kara&owner=me");
    is_deeply got($res), want(sub { $_[0]{customer} == $kara && $_[0]{owner} eq 'olga' }), 'and owner=me';
    $res = $c->get("/overview/open?customer=$kara&state=1");
    is_deeply got($res), want(sub { $_[0]{customer} == $kara && $_[0]{state} == 1 }), 'open, state new';
    $res = $c->get("/overview/all?customer=$kara&priority=2");
    is_deeply got($res), want(sub { $_[0]{customer} == $kara && $_[0]{priority} == 2 }), 'a priority';
    $res = $c->get("/overview/all?customer=$kara&tag=frist");
    is_deeply got($res), want(sub { $_[0]{customer} == $kara && ($_[0]{tags} // '') eq 'frist' }), 'a tag';
    $res = $c->get("/overview/group-ALSO?customer=$kara");
    is_deeply got($res), want(sub { $_[0]{customer} == $kara && $_[0]{group} eq 'ALSO' }), 'a group overview';
    $res = $c->get("/overview/all?customer=$kara&sort=title&dir=asc");
    my @t = map { $see{$_}{title} } rows($res);
    is_deeply \@t, [ sort @t ], 'sorted by title';
    $res = $c->get("/overview/all?customer=$kara&sort=number&dir=desc");
    is_deeply [ rows($res) ], [ reverse @$karas ], 'by number, newest first';
};

subtest 'customer: unknown or bad' => sub {
    my $res = $c->get('/overview/all?customer=999999');
    is $res->{status}, 200, 'an unknown id: 200';
    is scalar(rows($res)), 0, '... nothing';
    ok $res->dom->at('form.filters input[name=customer][value="999999"]'), '... the filter stays';
    $res = $c->get('/overview/all?customer=nobody%40example.org');
    is scalar(rows($res)), 0, 'an unknown address: nothing';
    is total($c->get('/overview/all?customer=xyz')), scalar keys %see, 'neither: left out, as a bad date is';
};

subtest 'created from / to: the crt partitions by number range' => sub {
    my $w = want(sub { $_[0]{created} >= $day0 + 20 * 86400 && $_[0]{created} <= $day0 + 150 * 86400 });
    ok @$w > 50, scalar(@$w) . ' visible in the range: more than a page';
    my $q = 'created_from=' . day(20) . '&created_to=' . day(150);
    my $p1 = $c->get("/overview/all?$q&sort=number&dir=asc");
    is total($p1), scalar @$w, 'total (ZCOUNT of the number range)';
    is_deeply [ rows($p1) ], [ @$w[0 .. 49] ], 'page 1 by number';
    my $next = $p1->dom->at('nav.pager a[rel=next]') // $p1->dom->at('nav.pager a[href*="page=2"]');
    ok $next, 'a link to page 2' and like $next->attr('href'), qr/created_from=.*created_to=/, 'keeping the range';
    my $p2 = $c->get("/overview/all?$q&sort=number&dir=asc&page=2");
    is_deeply [ rows($p2) ], [ @$w[50 .. $#$w] ], 'page 2';
    is_deeply [ rows($c->get("/overview/all?$q&sort=created")) ], [ (reverse @$w)[0 .. 49] ],
        'by created, newest first';
    is_deeply got($c->get("/overview/all?$q&sort=title&page=1")), [ sort { $a <=> $b } (reverse @$w)[0 .. 49] ],
        'another column falls back to created';
    is_deeply got($c->get('/overview/all?created_from=' . day(140))),
        want(sub { $_[0]{created} >= $day0 + 140 * 86400 }), 'from only';
    is_deeply got($c->get('/overview/all?created_to=' . day(12))),
        want(sub { $_[0]{created} <= $day0 + 12 * 86400 }), 'until only';
    is total($c->get('/overview/all?created_from=' . day($N + 3))), 0, 'from after the last: none';
    is total($c->get('/overview/all?created_to=' . day(-3))), 0, 'until before the first: none';
    is total($c->get('/overview/all?created_from=' . day(30) . '&created_to=' . day(20))), 0, 'a reversed range';
    my $s = want(sub { $_[0]{created} >= $day0 + 20 * 86400 && $_[0]{created} <= $day0 + 150 * 86400 && $_[0]{state} == 6 });
    is_deeply got($c->get("/overview/all?$q&state=6&sort=number")), [ sort { $a <=> $b } @$s[0 .. ($#$s > 49 ? 49 : $#$s)] ],
        'and a state';
    is_deeply got($c->get("/overview/open?$q&owner=nobody")),
        want(sub { $_[0]{created} >= $day0 + 20 * 86400 && $_[0]{created} <= $day0 + 150 * 86400
                   && $_[0]{state} <= 5 && $_[0]{owner} eq '' }), 'open, nobody';
    my $res = $c->get("/overview/all?$q&sort=state");
    is total($res), scalar @$w, 'sorted by state: the same total';
    my @st = map { $see{$_}{state} } rows($res);
    is_deeply \@st, [ sort { $a <=> $b } @st ], '... in state order';
};

subtest 'created range with a priority, an updated range, a customer' => sub {
    my $in = sub { $_[0]{created} >= $day0 + 20 * 86400 && $_[0]{created} <= $day0 + 150 * 86400 };
    my $q = 'created_from=' . day(20) . '&created_to=' . day(150);
    is_deeply got($c->get("/overview/all?$q&priority=3")),
        want(sub { $in->($_[0]) && $_[0]{priority} == 3 }), 'and a priority (crt ranges read as sets)';
    my $today = strftime('%Y-%m-%d', gmtime(time - 86400));
    is_deeply got($c->get("/overview/all?$q&from=$today&sort=number")), [ sort { $a <=> $b } @{ want($in) }[ -50 .. -1 ] ],
        'and an updated range';
    is_deeply got($c->get("/overview/all?$q&customer=$kara")),
        want(sub { $in->($_[0]) && $_[0]{customer} == $kara }), 'and a customer (her set by created)';
    is_deeply got($c->get("/overview/all?$q&tag=frist")),
        want(sub { $in->($_[0]) && ($_[0]{tags} // '') eq 'frist' }), 'and a tag';
};

subtest 'created range: bad input is left out' => sub {
    my $n = scalar keys %see;
    my $res = $c->get('/overview/all?created_from=kaputt&created_to=2026-13-45');
    is $res->{status}, 200, 'status';
    is total($res), $n, 'not a date: no range';
    ok !$res->dom->at('form.filters a.reset'), 'not filtered';
};

my ($sid);
subtest 'saved: customer and created range in the definition' => sub {
    my $q = "customer=Kara%40Example.org&created_from=" . day(40) . '&created_to=' . day(120);
    my $res = $c->submit("/overview/all?$q", 'form#overview-save', name => 'Kara 40-120');
    is $res->{status}, 303, 'saved' or diag $res->{content};
    $sid = saved_id($res) or return;
    my $def = $r->hget(tk_key_user_overviews('olga'), $sid);
    like $def, qr/(^|&)customer=$kara(&|$)/, 'the customer by id';
    like $def, qr/created_from=\d+/, 'created_from in Unix seconds';
    like $def, qr/created_to=\d+/, 'created_to';
    my $w = want(sub { $_[0]{customer} == $kara && $_[0]{created} >= $day0 + 40 * 86400
                       && $_[0]{created} <= $day0 + 120 * 86400 });
    my $page = $c->get("/overview/$sid");
    is_deeply got($page), $w, 'the saved overview lists them';
    ok !$page->dom->at('form.filters a.reset'), 'no ad hoc filter';
    ok $page->dom->at(qq{nav#overviews a[data-overview="$sid"]}), 'in the sidebar';
    is count_of($page, $sid), undef, 'its count: not known in the sidebar (a customer set)';
    is_deeply got($c->get("/overview/$sid?state=6")), [ grep { $see{$_}{state} == 6 } @$w ], 'filtered further';
    is scalar(rows($c->get("/overview/$sid?customer=1"))), ($kara == 1 ? scalar @$w : 0),
        'another customer on top: nothing';
    # a created range alone
    $res = $c->submit('/overview/all?created_from=' . day(100), 'form#overview-save', name => 'Neu');
    my $id2 = saved_id($res);
    is_deeply got($c->get("/overview/$id2?sort=number&dir=asc")),
        want(sub { $_[0]{created} >= $day0 + 100 * 86400 }), 'a saved created range';
    my $ant = $tk->login_client('anton', $apw);
    is $ant->get("/overview/$sid")->{status}, 404, "someone else's personal overview: 404";
};

subtest 'page cache: every condition in the key' => sub {
    my $a1 = got($c->get("/overview/all?customer=$kara"));
    my ($other) = map { $all->{$_}{customer} } grep { $all->{$_}{customer} != $kara && $all->{$_}{group} eq 'ALSO' } sort { $a <=> $b } keys %$all;
    my $b1 = got($c->get("/overview/all?customer=$other"));
    ok @$b1 >= 1 && "@$a1" ne "@$b1", 'another customer: another page';
    is_deeply got($c->get("/overview/all?customer=$kara")), $a1, 'the first again';
    my $x = total($c->get('/overview/all?created_from=' . day(100)));
    my $y = total($c->get('/overview/all?created_from=' . day(110)));
    isnt $x, $y, 'another created_from: another page';
    isnt total($c->get('/overview/all?created_from=' . day(100) . '&created_to=' . day(105))), $x,
        'created_to too';
    # a new ticket of Kara's shows (the generation)
    my $n = $tk->add_ticket(group => 'ALSO', title => 'Neu von Kara', customer => 'Kara <kara@example.org>');
    ok((grep { $_ == $n } rows($c->get("/overview/all?customer=$kara&sort=number"))), 'a new ticket of hers');
};

subtest 'API: /api/v1/overviews/NAME/tickets with customer and created range' => sub {
    $all = $tk->all_tickets;
    %see = map { $_ => $all->{$_} } grep { $all->{$_}{group} ne 'Zivilrecht' } keys %$all;
    my $token = $tk->add_token('olga');
    my $t = $c->api(GET => "/api/v1/overviews/all/tickets?customer=$kara", $token);
    is $t->{status}, 200, 'status 200';
    is_deeply [ sort { $a <=> $b } map { $_->{number} } @{ $t->json->{tickets} } ],
        want(sub { $_[0]{customer} == $kara }), 'customer: hers, no Zivilrecht';
    $t = $c->api(GET => '/api/v1/overviews/all/tickets?sort=number&dir=asc&created_from=' . day(20)
                 . '&created_to=' . day(150), $token);
    my $w = want(sub { $_[0]{created} >= $day0 + 20 * 86400 && $_[0]{created} <= $day0 + 150 * 86400 });
    is $t->json->{total}, scalar @$w, 'created range: total';
    is_deeply [ map { $_->{number} } @{ $t->json->{tickets} } ], [ @$w[0 .. 49] ], 'its first page';
    $t = $c->api(GET => "/api/v1/overviews/$sid/tickets", $token);
    is $t->{status}, 200, 'the saved one';
    ok $t->json->{total} > 0 && !(grep { $all->{ $_->{number} }{group} eq 'Zivilrecht' } @{ $t->json->{tickets} }),
        'its tickets, none of Zivilrecht';
    my $list = $c->api(GET => '/api/v1/overviews', $token);
    my ($item) = grep { $_->{name} eq $sid } @{ $list->json->{overviews} };
    ok $item && !defined $item->{count}, 'its count in the list: null (not known)';
    $t = $c->api(GET => '/api/v1/overviews/all/tickets?customer=999999', $token);
    is_deeply [ $t->{status}, $t->json->{total} ], [ 200, 0 ], 'an unknown customer: none';
};

done_testing;
