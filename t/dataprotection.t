# Data protection (SCHEMA.md "Data protection", docs/user-guide.md "Data
# protection"): "ticketctl customer export" puts every article of the
# person's tickets (and of tickets naming them) into a zip of JSON and
# .eml files; "ticketctl customer erase --mode anonymise|delete" leaves
# no trace of their name or address in any key name or value (strings,
# hashes, lists, sets, sorted sets, streams; gzip'd raw mail inflated)
# nor in the full-text index (FT.SEARCH and its term keys), keeps the
# overview counts right, and writes an audit entry without personal data.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8 decode_utf8);
use Compress::Zlib qw(memGunzip);
use File::Temp qw(tempdir);
use TK;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();
plan skip_all => 'unzip is missing' unless -x '/usr/bin/unzip';

my $tk = MB::setup();
$tk->start_nginx;
my $r = $tk->redis;
$tk->ctl('group', 'set', 'legal', '--email', 'legal@example.org');
$tk->ctl('group', 'set', 'legal', '--all-agents');
my $pw = $tk->add_user('anna', name => 'Anna Aktiv', rights => 'legal:full');
my $token = $tk->add_token('anna');
my $api = $tk->client;

sub deliver {
    my (%h) = @_;
    my $mail = MB::mail(%h);
    my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'legal@example.org');
    die "deliver: $err" if $rc;
    my ($n, undef, $a) = MB::stored($tk, MB::msgid_of($mail));
    return ($n, $a, $mail);
}

my $ATT = "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAnbei die Vorladung.\r\n"
    . "--b1\r\nContent-Type: application/pdf; name=\"vorladung-quastenflosser.pdf\"\r\n"
    . "Content-Disposition: attachment; filename=\"vorladung-quastenflosser.pdf\"\r\n"
    . "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKWnlwcmlhbgo=\r\n--b1--\r\n";

# person A: two tickets, a follow-up, an attachment, an agent's reply
# queued to them, a note; named in someone else's ticket (Cc)
my $A = 'Zyprian Quastenflosser <Zyprian.Q@quast.example>';
my ($a1, undef, $m1) = deliver(from => $A, subject => 'Vorladung Zyprian', body => "Hallo,\r\nich bin Zyprian Quastenflosser und habe eine Vorladung.\r\n");
my ($f1) = deliver(from => $A, subject => "Re: Vorladung Zyprian [Ticket#$a1]", in_reply_to => '<' . MB::msgid_of($m1) . '>',
    body => "Noch etwas: meine Nummer ist 0170 quastenflosser.\r\n");
my ($a2) = deliver(from => $A, subject => 'Anhang', 'MIME-Version' => '1.0',
    'Content-Type' => 'multipart/mixed; boundary="b1"', body => $ATT);
my ($other) = deliver(from => 'Berta Beispiel <berta@example.net>', cc => $A, subject => 'Demo am Samstag',
    body => "Wir waren zu dritt.\r\n");
is $f1, $a1, 'the follow-up threads';
my $res = $api->api('POST', "/api/v1/tickets/$a1/articles", $token, content => $tk->json->encode(
    { type => 'reply', to => 'zyprian.q@quast.example', subject => 'Vorladung', body => "Hallo Zyprian Quastenflosser,\ngeh nicht hin.\n" }));
is $res->{status}, 201, 'a reply queued to them' or diag $res->{content};
$res = $api->api('POST', "/api/v1/tickets/$a2/articles", $token, content => $tk->json->encode(
    { type => 'note', body => "Zyprian anrufen" }));
is $res->{status}, 201, 'a note';
# their PGP key as mailbridge's key role would have stored it
my $fpr = 'A' x 40;
$r->hset(TK_KEY_PGP_ADDR, 'zyprian.q@quast.example', $fpr);
$r->sadd(TK_KEY_PGP_KEYS, $fpr);
$r->hset("tk:pgp:key:$fpr", 'fpr', $fpr, 'uids', 'Zyprian Quastenflosser <zyprian.q@quast.example>', 'emails', 'zyprian.q@quast.example');

# person B: one ticket, deleted later
my $B = 'Xaverine Wombatzki <x.wombatzki@beuteltier.example>';
my ($b1) = deliver(from => $B, subject => 'Bußgeld Wombatzki', body => "Ich bin Xaverine Wombatzki.\r\n");
$api->api('POST', "/api/v1/tickets/$b1/articles", $token, content => $tk->json->encode(
    { type => 'reply', to => 'x.wombatzki@beuteltier.example', subject => 'Bußgeld', body => "Hallo Xaverine Wombatzki\n" }));

# person C: through the web (API and /admin/customers)
my $C = 'Quirin Quokkamann <quirin@quokka.example>';
my ($c1) = deliver(from => $C, subject => 'Anfrage Quokkamann', body => "Ich bin Quirin Quokkamann.\r\n");
my $admin_pw = $tk->add_user('ada', name => 'Ada Admin', admin => 1, rights => 'legal:full');
my $admin_token = $tk->add_token('ada');

# every key name and value that still holds one of the words
sub traces {
    my (@words) = @_;
    my $re = join '|', map { quotemeta } @words;
    my @found;
    my $check = sub { my ($k, $v) = @_; $v = memGunzip($v) // $v if defined $v && $v =~ /^\x1f\x8b/;
        push @found, $k if defined $v && $v =~ /$re/i };
    my $cursor = 0;
    do {
        my ($next, $keys) = $r->scan($cursor, 'COUNT', 1000);
        $cursor = $next;
        for my $k (@$keys) {
            push @found, "name:$k" if $k =~ /$re/i;
            my $t = $r->type($k);
            if ($t eq 'string') { $check->($k, $r->get($k)) }
            elsif ($t eq 'hash') { $check->($k, $_) for $r->hgetall($k) }
            elsif ($t eq 'list') { $check->($k, $_) for $r->lrange($k, 0, -1) }
            elsif ($t eq 'set') { $check->($k, $_) for $r->smembers($k) }
            elsif ($t eq 'zset') { $check->($k, $_) for $r->zrange($k, 0, -1) }
            elsif ($t eq 'stream') { $check->($k, $_) for map { @{ $_->[1] } } $r->xrange($k, '-', '+') }
        }
    } while ($cursor);
    for my $w (@words) {
        my ($hits) = $r->__std_cmd('FT.SEARCH', TK_KEY_FT_ARTICLES, $w =~ s/\W+/ /gr, 'NOCONTENT');
        push @found, "FT.SEARCH $w" if $hits;
    }
    my %u; return [ grep { !$u{$_}++ } @found ];
}

my @A = ('zyprian', 'quastenflosser', 'quast.example');
my @B = ('xaverine', 'wombatzki', 'beuteltier');
ok @{ traces(@A) } > 5, 'before: A is all over the place (the check can see)';
ok @{ traces(@B) } > 3, 'before: B too';

subtest 'export: every article of theirs, as JSON and .eml, attachments' => sub {
    my $dir = tempdir(CLEANUP => 1);
    my $out = $tk->ctl('customer', 'export', 'ZYPRIAN.Q@quast.example', '-o', "$dir/a.zip");
    like $out, qr/exported/, 'exported';
    my @names = split /\n/, `unzip -Z1 $dir/a.zip`;
    is $? >> 8, 0, 'unzip reads it';
    ok((grep { $_ eq 'customer.json' } @names), 'customer.json');
    my $cj = `unzip -p $dir/a.zip customer.json`;
    my $cust = eval { $tk->json->decode($cj) } or diag "customer.json: $cj";
    is $cust->{customer}{email}, 'zyprian.q@quast.example', 'the customer';
    is_deeply [ sort { $a <=> $b } @{ $cust->{tickets} } ], [ sort { $a <=> $b } $a1, $a2 ], 'their tickets';
    is_deeply $cust->{mentioned_in}, [ $other ], 'the ticket naming them';
    is $cust->{pgp_keys}{'zyprian.q@quast.example'}, $fpr, 'their key';
    for my $n ($a1, $a2, $other) {
        ok((grep { $_ eq "ticket-$n/ticket.json" } @names), "ticket-$n/ticket.json");
        for my $id ($r->lrange(tk_key_ticket_arts($n), 0, -1)) {
            ok((grep { $_ eq "ticket-$n/article-$id.json" } @names), "article $n:$id as JSON");
            ok((grep { $_ eq "ticket-$n/article-$id.eml" } @names), "article $n:$id as .eml");
        }
    }
    my ($first) = $r->lrange(tk_key_ticket_arts($a1), 0, 0);
    my $eml = `unzip -p $dir/a.zip ticket-$a1/article-$first.eml`;
    is $eml, $m1, 'the .eml is the mail as received, byte for byte';
    my ($att) = grep { /att-1-vorladung-quastenflosser\.pdf$/ } @names;
    ok $att, 'the attachment';
    is `unzip -p $dir/a.zip '$att'`, "%PDF-1.4\nZyprian\n", 'its bytes';
    my $tj = `unzip -p $dir/a.zip ticket-$a1/ticket.json`;
    my $t = eval { $tk->json->decode($tj) } or diag "ticket.json: [$tj] $@";
    ok @{ $t->{history} } >= 1, 'history included';
    my ($entry) = map { +{ @{ $_->[1] } } } $r->xrevrange(TK_KEY_AUDIT, '+', '-', 'COUNT', 1);
    is $entry->{action}, 'export', 'audit entry';
};

subtest 'erase without --yes changes nothing' => sub {
    my $keys = $r->dbsize;
    my ($rc, $out) = $tk->ctl_run('customer', 'erase', 'zyprian.q@quast.example', '--mode', 'anonymise');
    isnt $rc, 0, 'refused';
    like $out, qr/add --yes/, 'says how';
    is $r->dbsize, $keys, 'nothing written';
};

subtest 'anonymise: the tickets stay, nothing of the person does' => sub {
    my $ob = $r->xlen(TK_KEY_OUTBOX);
    my $out = $tk->ctl('customer', 'erase', 'zyprian.q@quast.example', '--mode', 'anonymise', '--yes');
    like $out, qr/anonymised zyprian\.q\@quast\.example: 2 tickets, 1 mentions/, 'said what it did';
    like $out, qr/full-text index .* rebuilt/, 'full text rebuilt';
    is_deeply traces(@A), [], 'no key name or value, no full-text hit holds their name or address';
    is $r->xlen(TK_KEY_OUTBOX), $ob - 1, 'the reply queued to them left the outbox';
    my ($out_art) = grep { ($r->hget(tk_key_article($a1, $_), 'kind') // '') eq 'out' } $r->lrange(tk_key_ticket_arts($a1), 0, -1);
    is $r->hget(tk_key_article($a1, $out_art), 'delivery'), 'failed', 'and is marked not sent';
    my $t = $tk->ticket_hash($a1);
    is $t->{group}, 'legal', 'ticket kept: group';
    is $t->{customer_name}, TK_ANON_NAME, 'customer name anonymised';
    is $r->llen(tk_key_ticket_arts($a1)), 3, 'articles kept (without content)';
    is_deeply $tk->index_counts, $tk->expected_counts, 'overview counts right';
    my %o = $r->hgetall(tk_key_article($other, ($r->lrange(tk_key_ticket_arts($other), 0, 0))[0]));
    like $o{body}, qr/Wir waren zu dritt/, "someone else's ticket keeps its text";
    like $o{from}, qr/berta\@example\.net/, "someone else's mail keeps its sender";
    is $o{cc}, 'anonymised-' . $t->{customer} . '@invalid', 'their address in Cc replaced';
    my @hits = $r->__std_cmd('FT.SEARCH', TK_KEY_FT_ARTICLES, 'dritt*', 'NOCONTENT');
    is $hits[0], 1, 'the other ticket is still found';
    my $c = $tk->login_client('anna', $pw);
    is $c->get("/t/$a1")->{status}, 200, 'ticket page still there';
    unlike $c->get("/t/$a1")->{content}, qr/zyprian|quastenflosser/i, 'and shows nothing of them';
    my ($entry) = map { +{ @{ $_->[1] } } } $r->xrevrange(TK_KEY_AUDIT, '+', '-', 'COUNT', 1);
    is_deeply [ @$entry{qw(action mode tickets)} ], [ 'erase', 'anonymise', 3 ], 'audit entry';
    ok !$r->sismember(TK_KEY_PGP_KEYS, $fpr), 'key metadata gone';
    ok scalar(grep { { @{ $_->[1] } }->{op} eq 'delete' } $r->xrange(TK_KEY_PGP_REQUESTS, '-', '+')), 'keyring delete requested';
};

subtest 'delete: their ticket and every key of it are gone' => sub {
    ok @{ traces(@B) }, 'B still there';
    my $ob = $r->xlen(TK_KEY_OUTBOX);
    my $out = $tk->ctl('customer', 'erase', 'x.wombatzki@beuteltier.example', '--mode', 'delete', '--yes', '--verify');
    like $out, qr/verified \d+ keys: 0 still name them/, '--verify found nothing left';
    like $out, qr/deleted x\.wombatzki\@beuteltier\.example: 1 tickets/, 'said what it did';
    is_deeply traces(@B), [], 'no trace of B';
    ok !$r->exists(tk_key_ticket($b1)), 'ticket hash gone';
    is scalar(my @k = $r->keys("tk:{t:$b1}*")), 0, 'no key of the ticket left';
    is $r->xlen(TK_KEY_OUTBOX), $ob - 1, 'the queued reply left the outbox';
    is_deeply $tk->index_counts, $tk->expected_counts, 'overview counts right';
    my $c = $tk->login_client('anna', $pw);
    is $c->get("/t/$b1")->{status}, 404, 'ticket page: 404';
    is $tk->ticket_hash($a1)->{group}, 'legal', "A's anonymised tickets untouched";
};

subtest '--verify names what another feature keeps' => sub {
    my ($d1) = deliver(from => 'Dora Dachsbau <dora@dachs.example>', subject => 'Hallo');
    $r->hset('tk:{c:99}:notes', 'text', 'ruft an: dora@dachs.example');     # a key erasure does not know
    my ($rc, $out) = $tk->ctl_run('customer', 'erase', 'dora@dachs.example', '--mode', 'delete', '--yes', '--verify');
    isnt $rc, 0, 'not a success';
    like $out, qr/^left: hash tk:\{c:99\}:notes$/m, 'the key named';
    like $out, qr/1 still name them/, 'counted';
    $r->del('tk:{c:99}:notes');
};

subtest 'a one-word name is no needle: the agent anna keeps her feed entries' => sub {
    deliver(from => 'Anna <anna.one@single.example>', subject => 'Kurz');
    my $by_anna = sub { scalar grep { ({ @{ $_->[1] } }->{by} // '') eq 'anna' } $r->xrange(TK_KEY_FEED, '-', '+') };
    my $before = $by_anna->();
    ok $before > 0, "anna's entries are there";
    my $out = $tk->ctl('customer', 'erase', 'anna.one@single.example', '--mode', 'delete', '--yes', '--verify');
    like $out, qr/0 still name them/, 'the customer is gone';
    is $by_anna->(), $before, "the agent anna's feed entries stay";
};

subtest 'the web asks, ticketctl customer work does: API and admin page' => sub {
    my $res = $api->api('GET', '/api/v1/customers/quirin@quokka.example/export', $token);
    is $res->{status}, 404, 'an agent: 404, like the rest of the admin API';
    $res = $api->api('POST', '/api/v1/customers/quirin@quokka.example/erase', $token, content => '{"mode":"delete"}');
    is $res->{status}, 404, 'an agent cannot erase (404)';
    is $r->exists(TK_KEY_DP_REQUESTS) ? $r->xlen(TK_KEY_DP_REQUESTS) : 0, 0, 'no request written';

    $res = $api->api('GET', '/api/v1/customers/quirin@quokka.example/export', $admin_token);
    is $res->{status}, 202, 'export asked: 202';
    my $id = $res->json->{request};
    like $id, qr/^\d+-\d+$/, 'request id';
    $res = $api->api('GET', "/api/v1/customers/requests/$id", $admin_token);
    is $res->{status}, 202, 'still queued: 202';
    $tk->ctl('customer', 'work', '--once');
    $res = $api->api('GET', "/api/v1/customers/requests/$id", $admin_token);
    is $res->{status}, 200, 'done: 200';
    like $res->{headers}{'content-type'}, qr{^application/zip}, 'the zip';
    my $dir = tempdir(CLEANUP => 1);
    TK::write_file("$dir/c.zip", $res->{content});
    my @names = split /\n/, `unzip -Z1 $dir/c.zip`;
    my ($first) = $r->lrange(tk_key_ticket_arts($c1), 0, 0);
    ok((grep { $_ eq "ticket-$c1/article-$first.eml" } @names), 'every article in it');
    is $r->xlen(TK_KEY_DP_REQUESTS), 0, 'the request (it names the person) is gone';

    $res = $api->api('POST', '/api/v1/customers/quirin@quokka.example/erase', $admin_token, content => '{"mode":"kaputt"}');
    is $res->{status}, 422, 'bad mode: 422';
    is $r->xlen(TK_KEY_DP_REQUESTS), 0, 'nothing asked';

    # the admin page: the confirmation must match
    my $c = $tk->login_client('ada', $admin_pw);
    $res = $c->get('/admin');
    ok $res->dom->at('ul#admin-sections a[data-section="customers"]'), 'admin index links it';
    $res = $c->get('/admin/customers');
    is $res->{status}, 200, 'page';
    ok $res->dom->at('form#dp-erase input[name=confirm]'), 'erasure asks to confirm';
    $res = $c->post_csrf('/admin/customers/erase', { address => 'quirin@quokka.example', mode => 'delete', confirm => 'quirin@quokka.exampel' });
    is $res->{status}, 422, 'a confirmation that does not match: 422';
    ok $res->dom->at('#error-confirm'), 'said so';
    is $r->xlen(TK_KEY_DP_REQUESTS), 0, 'nothing asked';
    is $c->post('/admin/customers/erase', [ address => 'quirin@quokka.example', mode => 'delete', confirm => 'quirin@quokka.example' ])->{status},
        403, 'without CSRF: refused';
    is $r->xlen(TK_KEY_DP_REQUESTS), 0, 'nothing asked';
    $c->get('/admin/customers');
    $res = $c->post_csrf('/admin/customers/erase', { address => 'Quirin@quokka.example', mode => 'delete', confirm => 'quirin@quokka.example' });
    is $res->{status}, 303, 'confirmed: 303';
    my ($loc) = ($res->{headers}{location} =~ /request=([\d-]+)/);
    ok $loc, 'to the request';
    $res = $c->get("/admin/customers?request=$loc");
    is $res->dom->at('#dp-request')->attr('data-status'), 'queued', 'queued';
    $tk->ctl('customer', 'work', '--once');
    $res = $c->get("/admin/customers?request=$loc");
    is $res->dom->at('#dp-request')->attr('data-status'), 'done', 'done';
    is_deeply traces('quirin', 'quokka'), [], 'no trace of C';
    my ($entry) = map { +{ @{ $_->[1] } } } $r->xrevrange(TK_KEY_AUDIT, '+', '-', 'COUNT', 1);
    is_deeply [ @$entry{qw(action mode by)} ], [ 'erase', 'delete', 'ada' ], 'audit entry names the admin who asked';
    is $api->api('GET', "/api/v1/customers/requests/$id", $admin_token)->{status}, 404, 'the earlier export is gone too';
};

done_testing;
