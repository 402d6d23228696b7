# Tags (issue 13): the API round trip, normalisation and refusals, the
# tag sets tk:{ix}:tag:TAG (score = the ticket's updated, also after
# other changes) and the counts tk:{ix}:tags, history and feed entry
# "tags", the ticket page's forms (CSRF, 422 next to the field, no JS),
# badges in the overview, the tag filter of the search.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Encode qw(encode_utf8 decode_utf8);
use TK;

my $tk = TK->new;
$tk->standard_groups;
$tk->add_group('Bildung');
my $pw = $tk->add_user('tina', name => 'Tina Tag', rights => 'ALSO:full,Bildung:read');
$tk->add_user('api', rights => 'ALSO:full,Bildung:read');
my $token = $tk->add_token('api');
my $c = $tk->client;
my $r = $tk->redis;

my $t1 = $tk->add_ticket(title => 'Mietstreit Hinterhaus', group => 'ALSO',
    body => 'Der Vermieter kündigt wegen Eigenbedarf');
my $t2 = $tk->add_ticket(title => 'Noch ein Vermieter', group => 'ALSO',
    body => 'Der Vermieter will die Kaution behalten');
my $ro = $tk->add_ticket(title => 'Nur lesen', group => 'Bildung');
my $zr = $tk->add_ticket(title => 'Fremd', group => 'Zivilrecht');

sub api {
    my ($method, $path, $body) = @_;
    return $c->api($method, $path, $token,
        defined $body ? (content => JSON::PP->new->encode($body)) : ());
}

# JSON comes back as characters; Redis and the DOM give bytes
sub u { [ map { encode_utf8($_) } @{ $_[0] // [] } ] }

sub tagset { [ $r->zrange(TK_PFX_TAG . $_[0], 0, -1) ] }

subtest 'API: add, normalise, list, remove' => sub {
    my $res = api(POST => "/api/v1/tickets/$t1/tags", { tags => [ '  Mietrecht ', 'KÜNDIGUNG', 'mietrecht' ] });
    is $res->{status}, 200, 'POST 200' or diag $res->{content};
    is_deeply u($res->json->{tags}), [ 'kündigung', 'mietrecht' ], 'lower-cased (also Ü), trimmed, unique, sorted';
    is $tk->ticket_hash($t1)->{tags}, 'kündigung,mietrecht', 'stored list';

    $res = api(GET => "/api/v1/tickets/$t1/tags");
    is $res->json->{ticket}, $t1, 'GET: ticket';
    is_deeply u($res->json->{tags}), [ 'kündigung', 'mietrecht' ], 'GET: tags';

    my $tj = api(GET => "/api/v1/tickets/$t1")->json;
    is_deeply u($tj->{ticket}{tags} // $tj->{tags}), [ 'kündigung', 'mietrecht' ], 'the ticket JSON has the tags';

    my $upd = $tk->ticket_hash($t1)->{updated};
    is $r->zscore(TK_PFX_TAG . 'mietrecht', $t1), $upd, 'tag set score = updated';
    is $r->zscore(TK_KEY_TAGS, 'mietrecht'), 1, 'count 1';

    $res = api(POST => "/api/v1/tickets/$t2/tags", { tags => 'mietrecht, kaution' });
    is_deeply $res->json->{tags}, [ 'kaution', 'mietrecht' ], 'a comma string works too';
    is $r->zscore(TK_KEY_TAGS, 'mietrecht'), 2, 'count 2';

    $res = api(DELETE => "/api/v1/tickets/$t2/tags?tag=Kaution");
    is $res->{status}, 200, 'DELETE ?tag=';
    is_deeply $res->json->{tags}, [ 'mietrecht' ], 'removed';
    is $r->zscore(TK_KEY_TAGS, 'kaution'), undef, 'a count at 0 is gone';
    is_deeply tagset('kaution'), [], 'tag set empty';

    $res = api(DELETE => "/api/v1/tickets/$t1/tags", { tags => [ 'kündigung' ] });
    is_deeply $res->json->{tags}, [ "mietrecht" ], "DELETE with a body" or diag "$res->{status} $res->{content}";
};

subtest 'API: refusals change nothing' => sub {
    my $before = $tk->ticket_hash($t1);
    for my $case ([ 'comma inside an array element', { tags => [ 'a,b' ] } ],
                  [ 'brace', { tags => [ 'x{y}' ] } ],
                  [ 'too long', { tags => [ 'x' x 41 ] } ],
                  [ 'not an array', { tags => 5 } ],
                  [ 'other member', { tags => ['ok'], x => 1 } ],
                  [ 'empty', { tags => [] } ]) {
        my $res = api(POST => "/api/v1/tickets/$t1/tags", $case->[1]);
        is $res->{status}, 422, "$case->[0]: 422";
        ok $res->json && $res->json->{error}, 'JSON error';
    }
    my $res = $c->api(POST => "/api/v1/tickets/$t1/tags", $token,
        content => "{\"tags\":[\"\xff\xfe\"]}");
    is $res->{status}, 422, 'invalid UTF-8: 422';
    $res = api(POST => "/api/v1/tickets/$t1/tags", { tags => [ map { "t$_" } 1 .. 20 ] });
    is $res->{status}, 422, 'more than 20 on the ticket: 422';
    is_deeply $tk->ticket_hash($t1), $before, 'ticket unchanged';

    is api(POST => "/api/v1/tickets/$ro/tags", { tags => ['x'] })->{status}, 403, 'read right: 403';
    is api(GET => "/api/v1/tickets/$ro/tags")->{status}, 200, 'read right may GET';
    is api(GET => "/api/v1/tickets/$zr/tags")->{status}, 404, 'no right: 404';
    is api(POST => "/api/v1/tickets/$zr/tags", { tags => ['x'] })->{status}, 404, 'no right, POST: 404';
    is $tk->ticket_hash($zr)->{tags}, '', 'foreign ticket untouched';
};

subtest 'history and feed entry of type tags' => sub {
    my ($last) = reverse @{ $tk->history($t2) };
    is $last->{field}, 'tags', 'history field tags';
    is $last->{from}, 'kaution,mietrecht', 'from';
    is $last->{to}, 'mietrecht', 'to';
    is $last->{by}, 'api', 'by';
    my @feed = $r->xrevrange(TK_KEY_FEED, '+', '-', 'COUNT', 20);
    my ($e) = map { +{ @{ $_->[1] } } } grep { my %f = @{ $_->[1] }; $f{ticket} == $t2 } @feed;
    is $e->{event}, 'tags', 'event tags';
    is $e->{changed}, 'tags', 'changed tags';
    is $e->{tags}, 'mietrecht', 'new value';
    is $e->{'tags.from'}, 'kaution,mietrecht', 'old value';
};

subtest 'web: form adds and removes, 422 next to the field, CSRF' => sub {
    my $web = $tk->login_client('tina', $pw);
    my $page = $web->get("/t/$t1");
    ok $page->dom->at('form#tag-add'), 'add form';
    ok $page->dom->at('datalist#tag-names'), 'autocomplete list (no JS needed)';
    my @opts = map { $_->attr('value') } $page->dom->find('datalist#tag-names option');
    ok !(grep { $_ eq 'mietrecht' } @opts), 'own tags not offered again';

    my $res = $web->post("/t/$t1/tags", [ add => 'ohne csrf' ]);
    is $res->{status}, 403, 'no CSRF: 403';
    is $tk->ticket_hash($t1)->{tags}, 'mietrecht', 'nothing written';

    $web->get("/t/$t1");
    $res = $web->post_csrf("/t/$t1/tags", [ add => decode_utf8('Räumung, eilt') ]);
    is $res->{status}, 303, '303 back';
    like $res->location, qr{/t/$t1#tags$}, 'to the tags';
    is $tk->ticket_hash($t1)->{tags}, 'eilt,mietrecht,räumung', 'two added';

    $page = $web->get("/t/$t1");
    my @tags = map { $_->text } $page->dom->find('ul#tag-list a.tag');
    is_deeply \@tags, [ 'eilt', 'mietrecht', 'räumung' ], 'shown on the page';
    like $page->dom->at('ul#tag-list a.tag')->attr('href'), qr{search\?tag=eilt$}, 'tag links to the search';

    $res = $web->post_csrf("/t/$t1/tags", [ add => decode_utf8('böse"quote') ]);
    is $res->{status}, 422, 'bad tag: 422';
    ok $res->dom->at('#f-tags-error'), 'message next to the field';
    is $res->dom->at('input#f-tags')->attr('value'), 'böse"quote', 'input as typed';
    ok !$res->dom->at('#f-form-error'), 'not on the update form';

    $web->get("/t/$t1");
    $res = $web->post_csrf("/t/$t1/tags", [ remove => 'eilt' ]);
    is $res->{status}, 303, 'remove: 303';
    is $tk->ticket_hash($t1)->{tags}, 'mietrecht,räumung', 'removed';

    $page = $web->get("/t/$ro");
    ok !$page->dom->at('form#tag-add'), 'read right: no add form';
    ok !$page->dom->at('form.tag-remove'), 'no remove buttons';
};

subtest 'tag set scores follow updated on other changes' => sub {
    my $web = $tk->login_client('tina', $pw);
    $web->get("/t/$t1");
    sleep 1;
    my $res = $web->post_csrf("/t/$t1/update", [ state => 2 ]);
    is $res->{status}, 303, 'state changed';
    my $upd = $tk->ticket_hash($t1)->{updated};
    is $r->zscore(TK_PFX_TAG . 'mietrecht', $t1), $upd, 'mietrecht score moved with updated';
    is $r->zscore(TK_PFX_TAG . 'räumung', $t1), $upd, 'räumung too';
};

subtest 'overview badges' => sub {
    my $web = $tk->login_client('tina', $pw);
    my $res = $web->get('/?view=all');
    $res = $web->get('/') unless $res->dom->at("tr[data-number=$t1]");
    my $row = $res->dom->at("tr[data-number=$t1]");
    ok $row, 'row of the ticket' or return;
    my @b = map { $_->text } $row->find('span.tag');
    is_deeply \@b, [ 'mietrecht', 'räumung' ], 'badges in the row';
    my $row2 = $res->dom->at("tr[data-number=$t2]");
    is_deeply [ map { $_->text } $row2->find('span.tag') ], [ 'mietrecht' ], 'other row';
};

subtest 'search: tag filter, with words and alone' => sub {
    my $res = api(GET => '/api/v1/search?q=vermieter');
    my @all = sort map { $_->{number} } @{ $res->json->{tickets} // [] };
    is_deeply \@all, [ sort $t1, $t2 ], 'both found by the word';
    api(DELETE => "/api/v1/tickets/$t2/tags?tag=mietrecht");
    $res = api(GET => '/api/v1/search?q=vermieter&tag=mietrecht');
    is_deeply [ map { $_->{number} } @{ $res->json->{tickets} // [] } ], [ $t1 + 0 ], 'tag filter keeps the tagged one';
    $res = api(GET => '/api/v1/search?tag=R%C3%A4umung');
    is $res->{status}, 200, 'tag alone, typed in capitals';
    is_deeply [ map { $_->{number} } @{ $res->json->{tickets} // [] } ], [ $t1 + 0 ], 'tag alone lists its tickets';
    my $web = $tk->login_client('tina', $pw);
    my $page = $web->get('/search?tag=mietrecht');
    is $page->{status}, 200, 'search page with a tag';
    ok $page->dom->at("a[href\$='t/$t1']"), 'lists the ticket';
    is $page->dom->at('input#search-tag')->attr('value'), 'mietrecht', 'the tag stays in the form';
};

subtest 'ticketctl reindex rebuilds the tag sets and counts' => sub {
    my $snap = sub {
        my %s = (counts => { $r->zrange(TK_KEY_TAGS, 0, -1, 'WITHSCORES') });
        $s{$_} = { $r->zrange($_, 0, -1, 'WITHSCORES') } for $r->keys(TK_PATTERN_TAG_SETS);
        \%s;
    };
    my $before = $snap->();
    ok keys %$before > 1, 'there are tag sets';
    $r->del((keys %$before)[0] eq 'counts' ? (keys %$before)[1] : (keys %$before)[0]);
    $r->zadd(TK_KEY_TAGS, 7, 'stale');
    $r->zadd(TK_PFX_TAG . 'stale', 1, $t1);
    $tk->ctl('reindex');
    is_deeply $snap->(), $before, 'the same as before the damage';
};

done_testing;
