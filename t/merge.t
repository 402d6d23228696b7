# Merge and split (issue 13): a stale rev refuses and nothing is
# written; a merge moves every article (hash, attachments, raw mail,
# Message-ID index, full-text document) into the target, closes the
# merged ticket with merged_into, writes both histories; follow-ups to
# the merged ticket (In-Reply-To of its mail, its subject tag) land in
# the target through mailbridge deliver; split moves one article into a
# new ticket of the same group; rights; the ticket page's forms.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = TK->new;
$tk->standard_groups;
$tk->add_group('Bildung');
MB::write_conf($tk);
my $pw = $tk->add_user('mia', name => 'Mia Merge', rights => 'ALSO:full,Bildung:read');
$tk->add_user('api', rights => 'ALSO:full,Bildung:read');
my $token = $tk->add_token('api');
my $c = $tk->client;
my $r = $tk->redis;

sub api {
    my ($method, $path, $body) = @_;
    return $c->api($method, $path, $token,
        defined $body ? (content => encode_json($body)) : ());
}

sub deliver {
    my ($mail) = @_;
    my ($rc, undef, $err) = MB::deliver($tk, $mail);
    is $rc, 0, 'delivered' or diag $err;
    return MB::stored($tk, MB::msgid_of($mail));
}

sub counts_ok { is_deeply $tk->index_counts, $tk->expected_counts, $_[0] // 'index counts consistent' }

# every key of a ticket with its value (what "nothing written" compares)
sub snapshot {
    my ($n) = @_;
    my %s;
    for my $k (sort $r->keys(TK_PFX_TICKET . "$n}*")) {
        my $t = $r->type($k);
        $s{$k} = $t eq 'hash' ? { $r->hgetall($k) } : $t eq 'list' ? [ $r->lrange($k, 0, -1) ]
               : $t eq 'set' ? [ sort $r->smembers($k) ] : $t eq 'stream' ? $r->xlen($k)
               : $t eq 'string' ? length($r->get($k)) : $t;
    }
    return \%s;
}

sub ft_ids {
    my ($n) = @_;
    my ($total, @ids) = $r->__std_cmd('FT.SEARCH', TK_KEY_FT_ARTICLES, "\@ticket:[$n $n]", 'NOCONTENT', 'LIMIT', 0, 100);
    return [ sort @ids ];
}

my $att = join "\r\n",
    'From: Anna Aktiv <anna@example.net>', 'To: legal@example.org',
    'Subject: Fotos vom Einsatz', 'Message-ID: <att-1@example.net>',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'Anbei die Fotos.',
    '--b1', 'Content-Type: image/png; name="foto.png"',
    'Content-Disposition: attachment; filename="foto.png"',
    'Content-Transfer-Encoding: base64', '', 'iVBORw0KGgo=', '--b1--', '';

my $a1 = MB::mail(subject => 'Polizeikontrolle am Bahnhof', message_id => '<dup-1@example.net>');
my ($n, undef, $art1) = deliver($a1);
my (undef, undef, $art2) = deliver($att =~ s/Subject: Fotos vom Einsatz/Subject: Re: Polizeikontrolle am Bahnhof\r\nIn-Reply-To: <dup-1\@example.net>/r);
my ($m, undef, $art3) = deliver(MB::mail(subject => 'Kontrolle Bahnhof (nochmal)', message_id => '<orig-1@example.net>'));
isnt $n, $m, 'two tickets';
is scalar @{ MB::article_ids($tk, $n) }, 2, 'the duplicate has two articles';
ok $r->exists(tk_key_attachment($n, $art2, 1)), 'with an attachment';
ok $r->exists(tk_key_raw($n, $art2)), 'and raw mail';
api(POST => "/api/v1/tickets/$n/tags", { tags => ['bahnhof'] });

subtest 'a stale rev refuses, nothing written' => sub {
    my ($sn, $sm) = (snapshot($n), snapshot($m));
    my $rev = $tk->ticket_hash($n)->{rev};
    my $res = api(POST => "/api/v1/tickets/$n/merge", { into => $m + 0, rev => $rev - 1 });
    is $res->{status}, 409, 'stale rev: 409';
    is_deeply snapshot($n), $sn, 'merged ticket untouched';
    is_deeply snapshot($m), $sm, 'target untouched';
    is api(POST => "/api/v1/tickets/$n/merge", { into => $n + 0 })->{status}, 422, 'into itself: 422';
    is api(POST => "/api/v1/tickets/$n/merge", { into => 99999 })->{status}, 422, 'no such target: 422';
    my $z = $tk->add_ticket(title => 'Fremd', group => 'Zivilrecht');
    my $b = $tk->add_ticket(title => 'Lesen', group => 'Bildung');
    is api(POST => "/api/v1/tickets/$n/merge", { into => $z + 0 })->{status}, 422, 'target without right: 422';
    is api(POST => "/api/v1/tickets/$n/merge", { into => $b + 0 })->{status}, 422, 'target with read right only: 422';
    is api(POST => "/api/v1/tickets/$z/merge", { into => $m + 0 })->{status}, 404, 'source without right: 404';
    is api(POST => "/api/v1/tickets/$b/merge", { into => $m + 0 })->{status}, 403, 'source with read right: 403';
    is_deeply snapshot($n), $sn, 'still untouched';
    is_deeply snapshot($m), $sm, 'target still untouched';
};

subtest 'merge moves everything, closes the duplicate, both histories' => sub {
    my $rev = $tk->ticket_hash($n)->{rev};
    my $res = api(POST => "/api/v1/tickets/$n/merge", { into => $m + 0, rev => $rev + 0 });
    is $res->{status}, 200, 'merged' or diag $res->{content};
    is $res->json->{merged_into}, $m, 'JSON says where';
    my $src = $tk->ticket_hash($n);
    is $src->{state}, 6, 'duplicate closed';
    is $src->{merged_into}, $m, 'merged_into';
    is $src->{articles}, 0, 'no articles left';
    is api(GET => "/api/v1/tickets/$n")->json->{merged_into}, $m, 'the ticket JSON says merged_into';
    is_deeply MB::article_ids($tk, $n), [], 'its list is empty';
    is_deeply MB::article_ids($tk, $m), [ sort { $a <=> $b } $art1, $art2, $art3 ], 'target has all, in id order';
    is $tk->ticket_hash($m)->{articles}, 3, 'target counter';
    for my $a ($art1, $art2) {
        ok !$r->exists(tk_key_article($n, $a)), "article $a gone from the duplicate";
        is $r->hget(tk_key_article($m, $a), TK_F_TICKET), $m, "article $a in the target";
    }
    ok $r->exists(tk_key_attachment($m, $art2, 1)), 'attachment moved';
    ok !$r->exists(tk_key_attachment($n, $art2, 1)), 'not left behind';
    ok $r->exists(tk_key_raw($m, $art2)), 'raw mail moved';
    is MB::where($tk, 'dup-1@example.net'), "$m:$art1", 'Message-ID index points at the target';
    is_deeply ft_ids($n), [], 'no full-text document under the old number';
    is_deeply ft_ids($m), [ sort map { tk_key_article($m, $_) } $art1, $art2, $art3 ], 'all three under the target';
    is $tk->ticket_hash($m)->{tags}, 'bahnhof', 'tags united into the target';
    my ($h) = grep { $_->{field} eq 'merged_into' } @{ $tk->history($n) };
    ok $h && $h->{to} == $m && $h->{by} eq 'api', 'history of the duplicate';
    ($h) = grep { $_->{field} eq 'merged' } @{ $tk->history($m) };
    ok $h && $h->{from} == $n, 'history of the target';
    counts_ok();
    is api(POST => "/api/v1/tickets/$n/merge", { into => $m + 0 })->{status}, 422, 'merging again: 422';
};

subtest 'follow-ups to the merged ticket land in the target' => sub {
    my ($t) = deliver(MB::mail(subject => 'Re: Polizeikontrolle am Bahnhof', in_reply_to => '<dup-1@example.net>'));
    is $t, $m, 'reply to its mail (In-Reply-To)';
    my $seq = MB::ticket_count($tk);
    ($t) = deliver(MB::mail(subject => "Re: [Ticket#$n] noch was", in_reply_to => undef));
    is $t, $m, 'its subject tag, from a participant';
    is MB::ticket_count($tk), $seq, 'no new ticket';
    is $tk->ticket_hash($n)->{articles}, 0, 'nothing in the duplicate';
    counts_ok();
};

subtest 'web: merge form, merged note' => sub {
    my $x = $tk->add_ticket(title => 'Doppelt', group => 'ALSO', body => 'eins');
    my $y = $tk->add_ticket(title => 'Original', group => 'ALSO', body => 'zwei');
    my $web = $tk->login_client('mia', $pw);
    my $page = $web->get("/t/$x");
    ok $page->dom->at('form#ticket-merge input#f-into'), 'merge form';
    my $res = $web->post("/t/$x/merge", [ into => $y ]);
    is $res->{status}, 403, 'no CSRF: 403';
    $res = $web->post_csrf("/t/$x/merge", [ into => 'abc' ]);
    is $res->{status}, 422, 'not a number: 422';
    ok $res->dom->at('#f-into-error'), 'message next to the field';
    $web->get("/t/$x");
    $res = $web->post_csrf("/t/$x/merge", [ into => $y, rev => $tk->ticket_hash($x)->{rev} ]);
    is $res->{status}, 303, 'merged: 303';
    like $res->location, qr{/t/$y$}, 'to the target';
    $page = $web->get("/t/$x");
    my $note = $page->dom->at('#merged-into a');
    ok $note && $note->attr('href') =~ m{/t/$y$}, 'the merged ticket links to the target';
    ok !$page->dom->at('form#ticket-merge'), 'no merge form on a merged ticket';
    like $page->dom->at('ol#history')->text, qr/#$y/, 'its history names the target';
    like $web->get("/t/$y")->dom->at('ol#history')->text, qr/#$x/, 'the target\'s names the duplicate';
};

subtest 'split: stale rev refuses; article into a new ticket' => sub {
    my $web = $tk->login_client('mia', $pw);
    my $page = $web->get("/t/$m");
    my $link = $page->dom->at("article#a-$art3 a.split");
    ok $link, 'split link on the article';
    $page = $web->get("/t/$m/a/$art3/split");
    is $page->{status}, 200, 'confirmation page';
    ok $page->dom->at('form#split'), 'with a form';
    my $sm = snapshot($m);
    my $seq = MB::ticket_count($tk);
    my $res = $web->post_csrf("/t/$m/a/$art3/split", [ rev => $tk->ticket_hash($m)->{rev} - 1 ]);
    is $res->{status}, 409, 'stale rev: 409';
    is_deeply snapshot($m), $sm, 'nothing written';

    $page = $web->get("/t/$m/a/$art3/split");
    $res = $web->post_csrf("/t/$m/a/$art3/split", [ rev => $tk->ticket_hash($m)->{rev} ]);
    is $res->{status}, 303, 'split';
    my ($x) = $res->location =~ m{/t/(\d+)$};
    ok $x && $x > $seq, 'to the new ticket';
    my $t = $tk->ticket_hash($x);
    is $t->{group}, 'legal', 'same group';
    is $t->{customer_email}, 'anna@example.net', 'its customer';
    is_deeply MB::article_ids($tk, $x), [ $art3 ], 'the article';
    ok !(grep { $_ == $art3 } @{ MB::article_ids($tk, $m) }), 'gone from the old one';
    is $tk->ticket_hash($m)->{articles}, scalar @{ MB::article_ids($tk, $m) }, 'old counter right';
    is MB::where($tk, 'orig-1@example.net'), "$x:$art3", 'Message-ID index follows';
    is_deeply ft_ids($x), [ tk_key_article($x, $art3) ], 'full text under the new number';
    ok((grep { $_->{field} eq 'split' && $_->{to} == $x } @{ $tk->history($m) }), 'history of the old');
    ok((grep { $_->{field} eq 'split_from' && $_->{from} == $m } @{ $tk->history($x) }), 'history of the new');
    counts_ok();

    $res = api(POST => "/api/v1/tickets/$x/articles/$art3/split");
    is $res->{status}, 422, 'the only article cannot be split off';
    my @ids = @{ MB::article_ids($tk, $m) };
    $res = api(POST => "/api/v1/tickets/$m/articles/$ids[-1]/split");
    is $res->{status}, 201, 'API split: 201' or diag $res->{content};
    ok $res->json->{new_ticket} > $x, 'new number';
    is api(POST => "/api/v1/tickets/$m/articles/999999/split")->{status}, 404, 'article not in the ticket: 404';
    counts_ok();
};

done_testing;
