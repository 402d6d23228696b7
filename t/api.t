# JSON API with bearer tokens: 401 without a valid token, list with
# filters, paging and sort, one ticket, 404 outside the user's groups.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;
$tk->add_user('arno', name => 'Arno API', rights => 'ALSO:full');
$tk->add_user('bea', rights => 'ALSO:full');
my @num;
for my $i (1 .. 75) {
    push @num, $tk->add_ticket(
        title    => sprintf('API ticket %02d', $i),
        group    => $i % 5 == 0 ? 'Zivilrecht' : $i % 2 ? 'ALSO' : 'legal',
        state    => $i % 3 == 0 ? 2 : 1,
        owner    => $i % 4 == 0 ? 'arno' : '',
        priority => 1 + $i % 4,
        customer => "Kunde $i <k$i\@example.org>",
    );
}
my $all = $tk->all_tickets;
my @visible = sort { $a <=> $b } grep { $all->{$_}{group} ne 'Zivilrecht' } keys %$all;
my ($ziv) = grep { $all->{$_}{group} eq 'Zivilrecht' } sort { $a <=> $b } keys %$all;
my $token = $tk->add_token('arno');
my $c = $tk->client;

sub api { $c->api(GET => $_[0], $_[1] // $token) }

sub numbers { map { $_->{number} } @{ $_[0]->json->{tickets} // [] } }

subtest 'no token, bad token: 401 JSON' => sub {
    for my $case ([ 'no header', undef ], [ 'bad token', 'f' x 64 ], [ 'empty', '' ]) {
        my $res = $c->api(GET => '/api/v1/tickets', $case->[1]);
        is $res->{status}, 401, "$case->[0]: 401";
        like $res->header('content-type') // '', qr{application/json}, 'JSON';
        ok ref $res->json eq 'HASH' && $res->json->{error}, 'with an error field';
    }
    my $res = $c->request(GET => '/api/v1/tickets', headers => { authorization => "Basic $token" });
    is $res->{status}, 401, 'not a Bearer: 401';
};

subtest 'a session cookie is not an API credential' => sub {
    my $pw = $tk->add_user('carla', rights => 'ALSO:full');
    my $web = $tk->login_client('carla', $pw);
    my $res = $web->get('/api/v1/tickets');
    ok $res->{status} == 401 || $res->{status} == 403, '401/403 with only a cookie';
};

subtest '/api/v1/me' => sub {
    my $res = api('/api/v1/me');
    is $res->{status}, 200, 'status 200';
    is $res->json->{login}, 'arno', 'login';
    is $res->json->{name}, 'Arno API', 'name';
    ok !exists $res->json->{password}, 'no password hash';
};

subtest 'list: visible tickets only, paging, total' => sub {
    my $res = api('/api/v1/tickets?sort=number&dir=asc');
    is $res->{status}, 200, 'status 200';
    my $j = $res->json;
    is $j->{total}, scalar @visible, 'total = visible tickets';
    my @p1 = numbers($res);
    is scalar @p1, 50, '50 per page';
    is_deeply \@p1, [ @visible[0 .. 49] ], 'page 1 in order';
    my @p2 = numbers(api('/api/v1/tickets?sort=number&dir=asc&page=2'));
    is_deeply \@p2, [ @visible[50 .. $#visible] ], 'page 2: the rest';
    ok !(grep { $_ == $ziv } @p1, @p2), 'no Zivilrecht ticket';
};

subtest 'list: sort' => sub {
    my @d = numbers(api('/api/v1/tickets?sort=number&dir=desc'));
    is_deeply \@d, [ (reverse @visible)[0 .. 49] ], 'number desc';
    my @t = numbers(api('/api/v1/tickets?sort=title&dir=desc'));
    my @want = sort { lc $all->{$b}{title} cmp lc $all->{$a}{title} || $b <=> $a } @visible;
    is_deeply \@t, [ @want[0 .. 49] ], 'title desc';
};

subtest 'list: filters' => sub {
    my @g = numbers(api('/api/v1/tickets?overview=group-legal'));
    is_deeply [ sort { $a <=> $b } @g ],
        [ grep { $all->{$_}{group} eq 'legal' } @visible ], 'overview=group-legal';
    my @mine = numbers(api('/api/v1/tickets?overview=my'));
    is_deeply [ sort { $a <=> $b } @mine ],
        [ grep { $all->{$_}{owner} eq 'arno' && $all->{$_}{state} <= 5 } @visible ], 'overview=my';
    my @un = numbers(api('/api/v1/tickets?overview=unassigned'));
    is_deeply [ sort { $a <=> $b } @un ],
        [ grep { $all->{$_}{owner} eq '' && $all->{$_}{state} <= 5 } @visible ], 'overview=unassigned';
    is api('/api/v1/tickets?overview=group-Zivilrecht')->{status}, 404, 'foreign group: 404';
    is api('/api/v1/tickets?overview=bogus')->{status}, 404, 'unknown overview: 404';
};

subtest 'one ticket: JSON shape' => sub {
    my $n = $visible[0];
    my $res = api("/api/v1/tickets/$n");
    is $res->{status}, 200, 'status 200';
    my $t = $res->json;
    is $t->{number}, $n, 'number';
    is $t->{title}, $all->{$n}{title}, 'title';
    is $t->{group}, $all->{$n}{group}, 'group';
    ok exists $t->{$_}, "has $_" for qw(owner state priority created updated customer);
    like $t->{state}, qr/^(new|open|waiting|reminder|deferred|closed|[1-6])$/, 'state';
    like $t->{created}, qr/^\d{4}-\d\d-\d\dT|^\d+$/, 'created time';
    ok ref $t->{articles} eq 'ARRAY', 'articles list';
    # the history stream as JSON objects, null where an entry has no value
    $tk->ctl("ticket", "update", $n, "--owner", "bea", "--title", "Neu \"zitiert\" \xc3\xa4");
    $t = api("/api/v1/tickets/$n")->json;
    my @h = @{ $t->{history} // [] };
    is scalar @h, 3, 'history: creation and two changes';
    is_deeply [ @{ $h[0] }{qw(by field from to)} ], [ 'system', 'created', undef, undef ],
        'the creation: from/to null';
    like $h[0]{time}, qr/^\d{10}$/, 'time in Unix seconds';
    my ($own) = grep { $_->{field} eq 'owner' } @h;
    is_deeply [ @$own{qw(by from to)} ], [ 'ticketctl', '', 'bea' ], 'owner: "" to bea';
    my ($ttl) = grep { $_->{field} eq 'title' } @h;
    is $ttl->{to}, "Neu \"zitiert\" \x{e4}", 'a title with quotes and an umlaut, as JSON';
    is api('/api/v1/tickets/999999')->{status}, 404, 'unknown: 404';
};

subtest 'outside the groups: 404, the same as unknown' => sub {
    my $res = api("/api/v1/tickets/$ziv");
    is $res->{status}, 404, 'status 404';
    unlike $res->{content}, qr/\Q$all->{$ziv}{title}\E/, 'no title leaks';
    is $res->{content}, api('/api/v1/tickets/999999')->{content}, 'same body as unknown';
};

subtest 'a revoked user: token no longer works' => sub {
    my $t2 = $tk->add_token('bea');
    is api('/api/v1/me', $t2)->{status}, 200, 'works';
    $tk->disable_user('bea');
    is api('/api/v1/me', $t2)->{status}, 401, '401 after the user is disabled';
};

done_testing;
