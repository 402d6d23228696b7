# Overviews on 125 tickets: every column sorts both ways, 50 rows a page
# with a pager and a total, and the sidebar counts are the real numbers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use TK;

my $tk = TK->new;
$tk->standard_groups;
my $pw = $tk->add_user('olga', name => 'Olga O', rights => 'ALSO:full');
$tk->add_user('anton', name => 'Anton A', rights => 'ALSO:full,Zivilrecht:full');
$tk->add_user('zora', name => 'Zora Z', rights => 'ALSO:full,Zivilrecht:full');

# 125 tickets; every 6th in Zivilrecht (invisible for olga): 105 visible.
# Titles, customers and owners are spread so that no column is in the
# order of creation.
my @words = qw(drucker fax akte frist klage mahnung vertrag miete kaution
    bescheid widerspruch termin vollmacht rechnung anfrage);
my @owners = ('', 'olga', 'anton', 'zora');
my $N = 125;
for my $i (1 .. $N) {
    my $c = ($i * 37) % 41;
    $tk->add_ticket(
        group    => $i % 6 == 0 ? 'Zivilrecht' : $i % 2 ? 'ALSO' : 'legal',
        title    => sprintf('%s %03d', $words[($i * 7) % @words], ($i * 53) % 101),
        owner    => $owners[ ($i * 5 + int($i / 4)) % 4 ],
        state    => 1 + ($i * 11) % 6,
        priority => 1 + ($i * 3 + int($i / 5)) % 4,
        customer => sprintf('Kundin %03d <kundin%03d@example.org>', $c, $c),
    );
}
my $c = $tk->login_client('olga', $pw);

# All were created within a second or two: change three old tickets a
# second later, so "updated" has an order worth checking.
sleep 1.1;
for my $num (1, 3, 5) {
    my $res = $c->submit("/t/$num", 'form#rename', title => "geaendert $num");
    is $res->{status}, 303, "ticket $num renamed";
}

my $all = $tk->all_tickets;
is scalar keys %$all, $N, "$N tickets in Redis";
my %visible = map { $_ => $all->{$_} } grep { $all->{$_}{group} ne 'Zivilrecht' } keys %$all;
my $V = keys %visible;

sub rows {
    my ($res) = @_;
    return map { $_->attr('data-number') } $res->dom->find('table#tickets tr[data-number]');
}

# lexical index text: lower-case ASCII, at most 48 bytes
sub fold { my $s = lc($_[0] // ''); return substr($s, 0, 48) }

# column -> [sort key of a ticket, whether the key is unique with the
# number as tie-break (exact order), lexical]
my %key = (
    number   => [ sub { $_[0]{number} }, 1, 0 ],
    created  => [ sub { $_[0]{number} }, 1, 0 ],
    title    => [ sub { fold($_[0]{title}) }, 1, 1 ],
    customer => [ sub { fold($_[0]{customer_name} || $_[0]{customer_email}) }, 1, 1 ],
    owner    => [ sub { fold($_[0]{owner}) }, 1, 1 ],
    updated  => [ sub { $_[0]{updated} }, 0, 0 ],
    priority => [ sub { $_[0]{priority} }, 0, 0 ],
    state    => [ sub { $_[0]{state} }, 0, 0 ],
    group    => [ sub { fold($_[0]{group}) }, 0, 1 ],
);

sub cmp_key {
    my ($col, $x, $y) = @_;
    my ($f, undef, $lex) = @{ $key{$col} };
    my ($a, $b) = ($f->($x), $f->($y));
    return $lex ? $a cmp $b : $a <=> $b;
}

for my $col (sort keys %key) {
    for my $dir (qw(asc desc)) {
        subtest "sort by $col $dir" => sub {
            my $res = $c->get("/overview/all?sort=$col&dir=$dir");
            is $res->{status}, 200, 'status 200' or return;
            my @got = rows($res);
            is scalar @got, 50, '50 rows';
            my $sign = $dir eq 'asc' ? 1 : -1;
            my @want = sort {
                $sign * (cmp_key($col, $visible{$a}, $visible{$b}) || $a <=> $b)
            } keys %visible;
            my ($f, $exact) = @{ $key{$col} };
            if ($exact) {
                is_deeply \@got, [ @want[0 .. 49] ], 'exact order (ties by number)';
            } else {
                my @keys = map { $f->($visible{$_} // {}) } @got;
                is_deeply \@keys, [ map { $f->($visible{$_}) } @want[0 .. 49] ],
                    "the first 50 by $col, in order";
            }
            ok !(grep { !$visible{$_} } @got), 'only visible tickets';
            if ($col eq 'updated') {
                my @top = $dir eq 'desc' ? @got[0 .. 2] : ();
                is_deeply [ sort { $a <=> $b } @top ], [ 1, 3, 5 ], 'the changed tickets first'
                    if $dir eq 'desc';
            }
            my $th = $res->dom->at("table#tickets th a[data-sort=$col]");
            ok $th, "header link th a[data-sort=$col]";
        };
    }
}

subtest 'cells show the ticket' => sub {
    my $res = $c->get('/overview/all?sort=number&dir=asc');
    my $row = $res->dom->at('table#tickets tr[data-number]') or return fail 'no rows';
    my $t = $visible{ $row->attr('data-number') };
    for my $cell (qw(number title customer group owner state priority created updated)) {
        ok $row->at("td.$cell"), "td.$cell";
    }
    like $row->at('td.number')->text, qr/\b$t->{number}\b/, 'number';
    is $row->at('td.title')->text, $t->{title}, 'title';
    like $row->at('td.customer')->text, qr/\Q$t->{customer_name}\E/, 'customer name';
    is $row->at('td.group')->text, $t->{group}, 'group';
};

subtest 'paging: 50 rows, next, prev, total' => sub {
    my $p1 = $c->get('/overview/all?sort=number&dir=asc');
    my @r1 = rows($p1);
    is scalar @r1, 50, 'page 1: 50 rows';
    like $p1->dom->at('#total') ? $p1->dom->at('#total')->text : '', qr/\b$V\b/, "#total says $V";
    ok !$p1->dom->at('nav.pager a[rel=prev]'), 'page 1 has no prev';
    my $next = $p1->dom->at('nav.pager a[rel=next]');
    ok $next, 'page 1 has next' or return;
    my $p2 = $c->get(href($next, '/overview/all'));
    my @r2 = rows($p2);
    is scalar @r2, 50, 'page 2: 50 rows';
    ok $p2->dom->at('nav.pager a[rel=prev]'), 'page 2 has prev';
    my $p3 = $c->get(href($p2->dom->at('nav.pager a[rel=next]'), '/overview/all'));
    my @r3 = rows($p3);
    is scalar @r3, $V - 100, 'page 3: the rest';
    ok !$p3->dom->at('nav.pager a[rel=next]'), 'last page has no next';
    my @want = sort { $a <=> $b } keys %visible;
    is_deeply [ @r1, @r2, @r3 ], \@want, 'the pages together: every ticket once, in order';
    my $again = $c->get('/overview/all?sort=number&dir=asc&page=2');
    is_deeply [ rows($again) ], \@r2, '?page=2 is page 2';
    my $desc2 = $c->get('/overview/all?sort=number&dir=desc&page=2');
    is_deeply [ rows($desc2) ], [ (reverse @want)[50 .. 99] ], 'page 2 descending';
};

sub href {
    my ($a, $base) = @_;
    my $h = $a->attr('href') // '';
    $h =~ s{^https?://[^/]+}{};
    $h = "$base$h" if $h =~ /^\?/;
    return $h;
}

subtest 'sidebar counts are the real numbers' => sub {
    my $open = sub { $_[0]{state} >= 1 && $_[0]{state} <= 5 };
    my @v = values %visible;
    my %want = (
        my         => scalar(grep { $_->{owner} eq 'olga' && $open->($_) } @v),
        unassigned => scalar(grep { $_->{owner} eq '' && $open->($_) } @v),
        open       => scalar(grep { $open->($_) } @v),
        waiting    => scalar(grep { $_->{owner} eq 'olga' && $_->{state} >= 3 && $_->{state} <= 5 } @v),
        all        => $V,
        'group-ALSO'  => scalar(grep { $_->{group} eq 'ALSO' } @v),
        'group-legal' => scalar(grep { $_->{group} eq 'legal' } @v),
    );
    my $res = $c->get('/');
    for my $name (sort keys %want) {
        my $count = $res->dom->at("nav#overviews a[data-overview=$name] span.count");
        is $count ? $count->text : undef, $want{$name}, "$name: $want{$name}";
    }
    ok !$res->dom->at('nav#overviews a[data-overview=group-Zivilrecht]'), 'no Zivilrecht';
    # each overview lists as many tickets as its count says
    for my $name (sort keys %want) {
        my $page = $c->get("/overview/$name");
        my $total = $page->dom->at('#total');
        like $total ? $total->text : '', qr/\b$want{$name}\b/, "/overview/$name total";
        my $n = () = rows($page);
        is $n, $want{$name} > 50 ? 50 : $want{$name}, "/overview/$name rows";
        my $cur = $page->dom->at("nav#overviews a[data-overview=$name]");
        ok $cur && $cur->has_class('current'), "$name is marked current";
    }
};

subtest 'an owner filter over closed tickets counts them too' => sub {
    # the sidebar's counts have closed tickets for "any owner" only: an
    # owner condition on "all" must count its closed partitions itself
    my @v = values %visible;
    my %want = (
        nobody => scalar(grep { $_->{owner} eq '' } @v),
        me     => scalar(grep { $_->{owner} eq 'olga' } @v),
        anton  => scalar(grep { $_->{owner} eq 'anton' } @v),
    );
    ok scalar(grep { $_->{owner} eq '' && $_->{state} == 6 } @v), 'there are closed unassigned tickets';
    for my $who (sort keys %want) {
        my $page = $c->get("/overview/all?owner=$who");
        my $total = $page->dom->at('#total');
        like $total ? $total->text : '', qr/\b$want{$who}\b/, "all, owner=$who: $want{$who} in all states";
        my @n = rows($page);
        is scalar(@n), $want{$who} > 50 ? 50 : $want{$who}, "all, owner=$who: its rows";
    }
    # saved: "all of mine" with its sidebar count
    my $res = $c->get('/overview/all?owner=me');
    my $form = $res->dom->at('form#overview-save') or return fail('no save form');
    is $c->submit('/overview/all?owner=me', 'form#overview-save', name => 'Alle meine')->{status}, 303,
        'saved as a new overview';
    my @side = $c->get('/')->dom->find('nav#overviews a');
    my ($a) = grep { ($_->at('span.label') // $_)->text =~ /Alle meine/ } @side;
    ok $a, 'the saved overview is in the sidebar' or return;
    my $cnt = $a->at('span.count');
    is $cnt ? $cnt->text : undef, $want{me}, "its count includes the closed ones ($want{me})";
};

subtest 'a date range starts at midnight and ends with its last day' => sub {
    # ticket 2 last changed at 01:00 Berlin time on 2026-06-10 (23:00 UTC
    # the day before; the created range parses its dates the same way)
    my $r = $tk->redis;
    $r->hset(tk_key_ticket(2), 'updated', 1781046000);
    $tk->ctl('reindex');
    my $has = sub { scalar grep { $_ == 2 } rows($c->get($_[0])) };
    ok $has->('/overview/all?from=2026-06-10&to=2026-06-10'), 'updated from/to the 10th: in (01:00 counts)';
    ok !$has->('/overview/all?from=2026-06-11'), 'from the 11th: out';
    ok $has->('/overview/all?to=2026-06-10'), 'to the 10th: in';
    ok !$has->('/overview/all?to=2026-06-09'), 'to the 9th: out';
    $tk->ctl('ticket', 'update', 2, '--priority', 'normal');     # a fresh updated time again
};

# The partitions are read without WITHSCORES (Redis 7.0 prints every
# score with %.17g): the merge orders their members by the rows of
# tk:{ix}:rows.  A ticket without a row has no order to give: the page is
# read again with scores, and comes out the same.
subtest 'the merge orders by the rows; a ticket without one: by scores' => sub {
    my $r = $tk->redis;
    my $ranges = sub {
        my ($url) = @_;
        $r->config('set', 'slowlog-log-slower-than', 0);
        $r->slowlog('reset');
        $r->incr(TK_KEY_INDEX_GEN);                 # a page-cache miss
        my @got = rows($c->get($url));
        my @cmds = map { join ' ', @{ $_->[3] } } @{ $r->slowlog('get', 1000) };
        $r->config('set', 'slowlog-log-slower-than', 10000);
        return (\@got, [ grep { /^Z(REV)?RANGE/i } @cmds ]);
    };
    for my $url ('/overview/all?sort=updated&dir=desc',
                 '/overview/all?sort=priority&dir=asc&page=2',
                 '/overview/all?priority=3')
    {
        my ($page, $reads) = $ranges->($url);
        ok @$page >= 10, "$url: rows";
        ok @$reads >= 2, "$url: more than one partition read";
        ok !(grep { /WITHSCORES/i } @$reads), "$url: no WITHSCORES";
        my $n = $page->[2];
        my $row = $r->hget(TK_KEY_INDEX_ROWS, $n);
        $r->hdel(TK_KEY_INDEX_ROWS, $n);
        my ($again, $reads2) = $ranges->($url);
        $r->hset(TK_KEY_INDEX_ROWS, $n, $row);
        is_deeply $again, $page, "$url: ticket $n without its row: the same page";
        ok((grep { /WITHSCORES/i } @$reads2), "$url: read with scores then");
    }
};

# A partition whose first round is all on the page may hold more that
# is: it is read on in a second round, but only as far as the page
# reaches -- the entries that rank no lower than the trial merge's last
# (ZREVRANGEBYSCORE from its score), not up to the page's end.
subtest 'a partition that fills the page is read on, only as far as it reaches' => sub {
    my $r = $tk->redis;
    my @legal = sort { $a <=> $b } grep { $visible{$_}{group} eq 'legal' } keys %visible;
    my $base = 1900000000;
    my %old = map { $_ => $r->hget(tk_key_ticket($_), 'updated') } @legal;
    # all but two of legal newer than every ALSO ticket, one second apart
    my @new = @legal[2 .. $#legal];
    $r->hset(tk_key_ticket($new[$_]), 'updated', $base + $_) for 0 .. $#new;
    $r->hset(tk_key_ticket($legal[$_]), 'updated', 1000 + $_) for 0 .. 1;
    $tk->ctl('reindex');
    $r->config('set', 'slowlog-log-slower-than', 0);
    $r->slowlog('reset');
    my @got = rows($c->get('/overview/all?sort=updated&dir=desc'));
    my @cmds = map { join ' ', @{ $_->[3] } } @{ $r->slowlog('get', 1000) };
    $r->config('set', 'slowlog-log-slower-than', 10000);
    is_deeply [ @got[0 .. $#new] ], [ reverse @new ], 'the newest (all of legal) first, in order';
    is scalar(@got), 50, 'a full page';
    ok !(grep { $visible{$_}{group} ne 'ALSO' } @got[@new .. 49]), 'then ALSO';
    my @round2 = grep { /^ZREVRANGEBYSCORE \S+:g:legal:/ } @cmds;
    is scalar(@round2), 1, 'legal read on in a second round';
    like $round2[0] // '', qr/^ZREVRANGEBYSCORE \S+ \(\d+ (\d+) LIMIT (\d+) (\d+)$/, 'from the score of the page\'s last entry';
    my ($lo) = ($round2[0] // '') =~ / (\d+) LIMIT/;
    ok defined $lo && $lo > 1000 + 1, 'legal\'s two old tickets are below that score (not read)';
    $r->hset(tk_key_ticket($_), 'updated', $old{$_}) for @legal;
    $tk->ctl('reindex');
};

# The rows the merge read stay packed until a row is rendered (a row in
# the row cache never is): a packed row damaged behind the index's back
# shows as its number alone, the rest of the page as it is.
subtest 'a damaged row in tk:{ix}:rows: its number, the page still there' => sub {
    my $r = $tk->redis;
    $r->incr(TK_KEY_INDEX_GEN);
    my @page = rows($c->get('/overview/all?sort=updated&dir=desc'));
    my $n = $page[3];
    my $row = $r->hget(TK_KEY_INDEX_ROWS, $n);
    my @f = split /\x1f/, $row, -1;
    ok @f >= 12, "ticket $n: a packed row of its fields";
    # title and customer name run together: one field short
    $r->hset(TK_KEY_INDEX_ROWS, $n, join "\x1f", $f[0], "$f[1]$f[2]", @f[3 .. $#f]);
    $r->incr(TK_KEY_INDEX_GEN);
    my $res = $c->get('/overview/all?sort=updated&dir=desc');
    is $res->{status}, 200, 'the page answers';
    is_deeply [ rows($res) ], \@page, 'the same tickets in the same order';
    my $tr = $res->dom->at(qq{table#tickets tr[data-number="$n"]});
    ok $tr && $tr->at('a'), "ticket $n: a row with a link";
    unlike $tr ? $tr->text : '', qr/\Q$f[1]\E/, 'none of the damaged fields';
    like $tk->error_log(50), qr/the row of ticket $n in \S+ does not unpack/, 'logged';
    $r->hset(TK_KEY_INDEX_ROWS, $n, $row);
    $r->incr(TK_KEY_INDEX_GEN);
    like $c->get('/overview/all?sort=updated&dir=desc')->dom->at(qq{table#tickets tr[data-number="$n"]})->text,
        qr/\Q$f[1]\E/, 'written again: its title';
};

subtest 'unknown overview, bad sort, bad page' => sub {
    is $c->get('/overview/nonsense')->{status}, 404, 'unknown overview: 404';
    my $res = $c->get('/overview/all?sort=bogus&dir=sideways');
    ok $res->{status} == 200 || $res->{status} == 400, 'bad sort: default or 400';
    $res = $c->get('/overview/all?page=999');
    ok $res->{status} == 200 || $res->{status} == 404, 'page past the end: empty or 404';
    is scalar(() = rows($res)), 0, 'no rows' if $res->{status} == 200;
};

done_testing;
