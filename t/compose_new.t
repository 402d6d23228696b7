#!/usr/bin/perl
# compose_new.t -- the new outbound ticket ("send email", GET/POST /new,
# POST /api/v1/tickets): one MULTI writes the customer (found by address
# or created), the ticket with index and history, the first outbound
# article and its outbox entry; the mail that leaves through mailbridge's
# outbox role (a real SMTP server, t/lib/SMTPTest.pm) has From of the
# group, [Ticket#N], Cc in its headers, Bcc delivered but not in them;
# the customer's answer threads back into the new ticket.  Without the
# group's full right, without CSRF, with CR/LF, without a recipient, with
# an unknown group: refused, and nothing is written.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8 decode_utf8 decode);
use TK;
use SMTPTest;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $tk = TK->new(location => 'ticket_upload_max_size 256k;');
$tk->add_group('ALSO', email => 'also@example.org');
$tk->add_group('legal', email => 'legal@example.org');
$tk->add_group('Zivilrecht', email => 'zivil@example.org');
my $r = $tk->redis;
$r->hset(tk_key_group('ALSO'), 'display_name', encode_utf8('ALSO – Rechtshilfe'));
$r->hset(tk_key_group('ALSO'), 'signature', encode_utf8("Solidarische Grüße\nALSO-Team"));
my $smtp = SMTPTest->start($tk);
MB::write_conf($tk, extra => 'smtp.url = ' . $smtp->url . "\noutbox.retry_min = 1\noutbox.claim_idle = 1\n");

my $pw = $tk->add_user('anna', name => 'Anna A', rights => 'ALSO:full,Zivilrecht:read');
my $rita_pw = $tk->add_user('rita', name => 'Rita R', rights => 'Zivilrecht:read');
my $c = $tk->login_client('anna', $pw);
my $rita = $tk->login_client('rita', $rita_pw);

# an existing customer, known by a mail she wrote to ALSO (anna's group:
# a customer is suggested only to who may read one of her tickets)
my ($rc0, undef, $err0) = MB::deliver($tk, MB::mail(from => 'Berta Bestand <berta@example.net>',
    to => 'also@example.org', subject => 'Alt'), '--recipient', 'also@example.org');
die "deliver: $err0" if $rc0;
my $berta = $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'berta@example.net');
ok $berta, 'Berta is a customer';

sub outbox { [ $r->xrange(TK_KEY_OUTBOX, '-', '+') ] }
sub art    { MB::article($tk, @_) }
sub dtext  { my $e = $_[0]; $e ? decode_utf8($e->text) : '' }
sub state_of_db {
    # not the outbox's length: once the outbox role runs, it drains it
    return { tickets => $r->get(TK_KEY_SEQ_TICKET) // 0, articles => $r->get(TK_KEY_SEQ_ARTICLE) // 0,
             customers => $r->hlen(TK_KEY_CUSTOMER_BY_EMAIL),
             all => scalar keys %{ $tk->all_tickets } };
}
sub unchanged {
    my ($before, $what) = @_;
    is_deeply state_of_db(), $before, "$what: nothing written";
}

sub new_form {
    my ($client, %set) = @_;
    my $page = $client->get('/new');
    die "GET /new: $page->{status}" unless $page->{status} == 200;
    return $client->form_values($page, 'form#compose', %set);
}
sub send_new {
    my ($client, %set) = @_;
    my ($action, $pairs) = new_form($client, %set);
    return $client->post($action, $pairs);
}

subtest 'the page: a link in the head, the form, only groups with full right' => sub {
    my $o = $c->get('/');
    ok $o->dom->at('a#nav-new[href$="/new"]'), 'agents have "E-Mail senden" in the head';
    my $res = $c->get('/new');
    is $res->{status}, 200, '200';
    is $res->page, 'new', 'data-page';
    my $d = $res->dom;
    ok $d->at('a#nav-new[aria-current=page]'), 'the link is current';
    ok $d->at('form#compose[action$="/new"][method=post][enctype="multipart/form-data"]'), 'the form posts to /new';
    ok $d->at('form#compose input[name=csrf]'), 'CSRF token';
    my @g = map { $_->attr('value') } $d->find('form#compose select[name=group] option');
    is_deeply \@g, [ 'ALSO' ], 'only ALSO (full); not Zivilrecht (read), not legal (none)';
    ok $d->at('form#compose input[name=to][data-complete$="/new/complete"]'), 'To with address suggestions';
    ok $d->at('form#compose input[name=customer_name]'), 'the customer\'s name (quick create)';
    ok $d->at("form#compose input[name=$_]"), $_ for qw(cc bcc subject pending_until);
    ok $d->at('form#compose input[type=file][name=attachment]'), 'attachments';
    is $d->at('form#compose select[name=state] option[selected]')->attr('value'), '3', 'state: waiting for reply';
    ok $d->at('#security-line[data-crypt=""]'), 'security line';
    is dtext($d->at('form#compose button.send')), 'E-Mail senden', 'the button';

    ok !$rita->get('/')->dom->at('a#nav-new'), 'a reader has no link';
    is $rita->get('/new')->{status}, 403, 'and may not open it';
    is $rita->post_csrf('/new', [ group => 'Zivilrecht', to => 'x@example.net', subject => 's', body => 'b' ])->{status},
        403, 'nor post it';
    is $c->get('/new/complete?q=be')->json->{addresses}[0]{email}, 'berta@example.net',
        'the composer\'s address suggestions';
    is $rita->get('/new/complete?q=be')->{status}, 404, 'not for a reader';
    my $sec = $c->get('/new/security?group=ALSO&to=berta%40example.net')->json;
    is $sec->{kind}, 'plain', 'security JSON for a new ticket';
    is $c->get('/new/security?group=Zivilrecht&to=berta%40example.net')->{status}, 404, 'not for a group one may only read';
};

my ($n1, $a1);
subtest 'POST /new: customer created, ticket, article, outbox entry' => sub {
    my $before = state_of_db();
    my $mon = "$tk->{dir}/monitor.log";
    # line-buffered, or redis-cli keeps what it saw when it is stopped
    $tk->spawn('monitor', 'stdbuf', '-oL', 'redis-cli', '-s', $tk->redis_sock, 'monitor');
    TK::wait_for('MONITOR', 10, sub { -s $mon && TK::read_file($mon) =~ /^OK/m });
    my ($action, $pairs) = new_form($c, group => 'ALSO', to => 'kim.neu@example.net',
        customer_name => 'Kim Neu', cc => 'Bernd Beistand <bernd@example.net>', bcc => 'akte@example.org',
        subject => 'Eure Anfrage', body => "Hallo Kim,\r\nwir melden uns.\r\n");
    my $res = $c->request('POST', $action, content => TK::multipart('BNDRY', @$pairs,
            attachment => { filename => 'Vollmacht.pdf', type => 'application/pdf', data => "%PDF-1.4\0x" }),
        headers => { 'content-type' => 'multipart/form-data; boundary=BNDRY' });
    is $res->{status}, 303, '303' or diag $res->{content};
    ($n1, $a1) = ($res->location // '') =~ m{/t/(\d+)#a-(\d+)$};
    ok $n1, 'to the new ticket\'s article';
    TK::wait_for('the MULTI in the monitor', 10, sub { TK::read_file($mon) =~ /"XADD" "tk:\{ix\}:outbox"(?:.*\n)*?.*"EXEC"/ });
    $tk->stop_proc('monitor');
    my ($block, $in) = ('', 0);
    for (split /\n/, TK::read_file($mon)) {
        if (/"MULTI"/) { $in = 1; $block = ''; next }
        if (/"EXEC"/ && $in) { $in = 0; last if $block =~ /XADD/; next }
        $block .= "$_\n" if $in;
    }
    like $block, qr/"HSET" "tk:\{c:\d+\}" "id"/, 'one MULTI: the new customer';
    like $block, qr/"HSET" "tk:customer-by-email" "kim\.neu\@example\.net"/, '... her address in the index';
    like $block, qr/"HSET" "tk:\{t:$n1\}" "number"/, '... the ticket';
    like $block, qr/"XADD" "tk:\{t:$n1\}:history"/, '... its history';
    like $block, qr/"HSET" "tk:\{t:$n1\}:a:$a1" "id"/, '... the article';
    like $block, qr/"XADD" "tk:\{ix\}:outbox"/, '... the outbox entry';
    like $block, qr/"XADD" "tk:\{ix\}:feed"/, '... the feed entry';
    like TK::read_file($mon), qr/"WATCH" "tk:customer-by-email"/, 'under WATCH of the address index';
    my $t = $tk->ticket_hash($n1);
    is $t->{group}, 'ALSO', 'group';
    is decode_utf8($t->{title}), 'Eure Anfrage', 'title: the subject';
    is $t->{owner}, 'anna', 'owner: who wrote';
    is $t->{state}, 3, 'state: waiting for reply';
    is $t->{customer_email}, 'kim.neu@example.net', 'customer address';
    is $t->{customer_name}, 'Kim Neu', 'customer name: as given';
    ok $t->{first_response}, 'first response: now';
    is $t->{articles}, 1, 'one article';
    my $cid = $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'kim.neu@example.net');
    is $t->{customer}, $cid, 'the new customer';
    my %cu = $r->hgetall(tk_key_customer($cid));
    is_deeply \%cu, { id => $cid, name => 'Kim Neu', email => 'kim.neu@example.net' }, 'customer hash';
    is_deeply MB::article_ids($tk, $n1), [ $a1 ], 'the article in the list';
    my $a = art($n1, $a1);
    is $a->{kind}, 'out', 'outbound';
    is decode_utf8($a->{from}), 'ALSO – Rechtshilfe <also@example.org>', 'From: the group\'s display name';
    is $a->{to}, 'Kim Neu <kim.neu@example.net>', 'To with the customer\'s name';
    is $a->{cc}, 'Bernd Beistand <bernd@example.net>', 'Cc';
    is $a->{bcc}, 'akte@example.org', 'Bcc';
    is $a->{subject}, "[Ticket#$n1] Eure Anfrage", 'subject with the tag';
    like $a->{message_id}, qr/^tk\.$n1\.$a1\.[0-9a-f]{24}\@example\.org$/, 'Message-ID';
    is MB::where($tk, $a->{message_id}), "$n1:$a1", 'Message-ID indexed for threading';
    like decode_utf8($a->{body}), qr/^Hallo Kim,\nwir melden uns\.\n\n-- \nSolidarische Grüße\nALSO-Team\n$/, 'body with signature';
    is $a->{attachments}, 1, 'one attachment';
    is MB::attachment($tk, $n1, $a1, 1)->{data}, "%PDF-1.4\0x", 'its bytes';
    is $a->{delivery}, 'queued', 'queued';
    is $a->{author}, 'anna', 'author';
    my @ob = @{ outbox() };
    is scalar @ob, 1, 'one outbox entry (the first mail queued)';
    is_deeply { @{ $ob[-1][1] } }, { ticket => $n1, article => $a1, kind => 'article' }, 'for the article';
    my @h = @{ $tk->history($n1) };
    is $h[0]{field}, 'created', 'history: created';
    is $h[0]{by}, 'anna', 'by anna';
    my @feed = $r->xrange(TK_KEY_FEED, '-', '+');
    my ($fe) = grep { my %f = @{ $_->[1] }; ($f{ticket} // '') eq $n1 } @feed;
    ok $fe, 'a change feed entry for the new ticket';
    is_deeply $tk->index_counts, $tk->expected_counts, 'index counts';
    ok $c->get('/')->dom->at(qq{a[href\$="/t/$n1"]}), 'in the overview (index)';
    my $page = $c->get("/t/$n1");
    is $page->{status}, 200, 'the ticket page';
};

subtest 'an existing customer is found by address (any case) and keeps her name' => sub {
    my $customers = $r->hlen(TK_KEY_CUSTOMER_BY_EMAIL);
    my $res = send_new($c, group => 'ALSO', to => 'Berta@Example.NET', customer_name => 'Anders',
        subject => 'Nachfrage', body => 'Hallo Berta', state => '4', pending_until => '2030-01-02T10:00');
    is $res->{status}, 303, '303' or diag $res->{content};
    my ($n) = ($res->location // '') =~ m{/t/(\d+)#};
    my $t = $tk->ticket_hash($n);
    is $t->{customer}, $berta, 'the same customer';
    is $t->{customer_name}, 'Berta Bestand', 'her stored name';
    is $r->hlen(TK_KEY_CUSTOMER_BY_EMAIL), $customers, 'no customer created';
    is $t->{state}, 4, 'waiting with reminder';
    ok $t->{pending_until} > time, 'the reminder';
};

subtest 'refused forms: 422 with the form as sent, nothing written' => sub {
    my $before = state_of_db();
    my %good = (group => 'ALSO', to => 'neu@example.net', subject => 'Betreff', body => 'Text');
    my @cases = (
        [ 'CR/LF in the subject', { subject => "Betreff\r\nBcc: evil\@example.com" }, '#c-subject-error' ],
        [ 'CR/LF in the name', { customer_name => "Kim\r\nBcc: evil\@example.com" }, '#c-name-error' ],
        [ 'no recipient', { to => '' }, '#c-to-error' ],
        [ 'a bad address', { to => 'kein-at' }, '#c-to-error' ],
        [ 'an unknown group', { group => 'Gibtsnicht' }, '#c-group-error' ],
        [ 'a group without any right', { group => 'legal' }, '#c-group-error' ],
        [ 'a group one may only read', { group => 'Zivilrecht' }, '#c-group-error' ],
        [ 'no text', { body => ' ' }, '#c-body-error' ],
        [ 'reminder without a date', { state => '4', pending_until => '' }, '#c-state-error' ],
    );
    for my $case (@cases) {
        my ($what, $set, $sel) = @$case;
        my %f = (%good, %$set);
        my $res = $c->post_csrf('/new', [ %f ]);
        is $res->{status}, 422, "$what: 422";
        my $d = $res->dom;
        ok $d->at($sel), "$what: the message next to the field";
        is $d->at('form#compose input[name=to]')->attr('value') // '', $f{to}, "$what: To as sent";
        is $d->at('form#compose select[name=group] option[selected]') ? 1 : 0, $f{group} eq 'ALSO' ? 1 : 0,
            "$what: the group chosen";
        is decode_utf8($d->at('form#compose textarea[name=body]')->raw_text) =~ s/^\n//r, $f{body},
            "$what: the text kept" unless $f{body} eq ' ';
    }
    my $res = $c->post('/new', [ %good ]);
    is $res->{status}, 403, 'without the CSRF token: 403';
    unchanged($before, 'refused forms');
    is scalar @{ outbox() }, 2, 'the outbox holds the two mails sent before, nothing more';
};

subtest 'the mail sent: From the group, [Ticket#N], Cc in the headers, Bcc only delivered' => sub {
    $tk->spawn('outbox', MB::bin(), '-c', MB::conf($tk), 'outbox');
    TK::wait_for('delivery of the first mail', 20, sub { (art($n1, $a1)->{delivery} // '') eq 'sent' })
        or diag TK::tail($tk->log_file('outbox'), 20);
    my $a = art($n1, $a1);
    my ($m) = grep { $_->{data} =~ /^Message-ID:\s*<\Q$a->{message_id}\E>/mi } $smtp->mails;
    ok $m, 'the mail reached the SMTP server';
    my ($head) = split /\r?\n\r?\n/, $m->{data}, 2;
    $head =~ s/\r?\n[ \t]+/ /g;
    my %h;
    for (split /\r?\n/, $head) { my ($k, $v) = /^([^:]+):\s*(.*)$/ or next; $h{lc $k} = $v }
    like decode('MIME-Header', $h{from}), qr/^"?ALSO – Rechtshilfe"? <also\@example\.org>$/, 'From';
    like decode('MIME-Header', $h{subject}), qr/^\[Ticket#$n1\] Eure Anfrage$/, 'Subject with the tag';
    like $h{to}, qr/kim\.neu\@example\.net/, 'To';
    like $h{cc}, qr/bernd\@example\.net/, 'Cc in the headers';
    ok !exists $h{bcc}, 'no Bcc header';
    unlike $m->{data}, qr/akte\@example\.org/, 'the Bcc address nowhere in the mail';
    is_deeply [ sort @{ $m->{rcpt} } ], [ sort qw(kim.neu@example.net bernd@example.net akte@example.org) ],
        'one mail to To, Cc and Bcc';
    ok !exists $h{'in-reply-to'}, 'no In-Reply-To: it starts the conversation';

    # the customer answers: it threads back into the new ticket
    my $reply = MB::mail(from => 'Kim Neu <kim.neu@example.net>', to => 'also@example.org',
        subject => "Re: [Ticket#$n1] Eure Anfrage", in_reply_to => "<$a->{message_id}>",
        references => "<$a->{message_id}>", body => "Danke!\r\n");
    my ($rc, undef, $err) = MB::deliver($tk, $reply, '--recipient', 'also@example.org');
    is $rc, 0, 'the answer delivered' or diag $err;
    my ($rn) = MB::stored($tk, MB::msgid_of($reply));
    is $rn, $n1, 'the answer threads into the new ticket';
    is $tk->ticket_hash($n1)->{articles}, 2, 'two articles now';
};

subtest 'replies in the same state: the overview index updated in place, nothing left behind' => sub {
    # a reply to the new ticket keeps it "waiting" (the same partition):
    # its sets take the new time, its title member stays one
    my ($action, $pairs);
    my $page = $c->get("/t/$n1");
    ($action, $pairs) = $c->form_values($page, 'form#compose', body => 'Nachtrag', state => 3);
    is $c->post($action, $pairs)->{status}, 303, 'a reply sent';
    $page = $c->get("/t/$n1");
    ($action, $pairs) = $c->form_values($page, 'form#compose', body => 'Noch ein Nachtrag', state => 3);
    is $c->post($action, $pairs)->{status}, 303, 'and another';
    my $t = $tk->ticket_hash($n1);
    is $t->{state}, 3, 'still waiting';
    for my $o ('anna', '*') {
        is $r->zscore(tk_key_index('ALSO', 3, $o, 'upd'), $n1), $t->{updated}, "o:$o by:upd has the new time";
        is $r->zscore(tk_key_index('ALSO', 3, $o, 'crt'), $n1), $n1, "o:$o by:crt";
        my @ttl = grep { /\D0*$n1\z/ } $r->zrange(tk_key_index('ALSO', 3, $o, 'ttl'), 0, -1);
        is scalar @ttl, 1, "o:$o by:ttl: one member"
            or diag explain [ $r->zrange(tk_key_index('ALSO', 3, $o, 'ttl'), 0, -1) ];
    }
    # renamed in place: the old title's member goes, the new one comes
    is $c->submit("/t/$n1", 'form#rename', title => 'Neuer Titel')->{status}, 303, 'renamed';
    for my $o ('anna', '*') {
        my @ttl = grep { /\D0*$n1\z/ } $r->zrange(tk_key_index('ALSO', 3, $o, 'ttl'), 0, -1);
        is scalar @ttl, 1, "o:$o by:ttl after the rename: one member";
        like $ttl[0] // '', qr/^neuer titel\D/, '... the new title';
    }
    my @own = grep { /\D0*$n1\z/ } $r->zrange(tk_key_index('ALSO', 3, '*', 'own'), 0, -1);
    is scalar @own, 1, 'by:own: one member';
    like $own[0] // '', qr/^anna\D/, '... the owner';
    is_deeply $tk->index_counts, $tk->expected_counts, 'index counts';
};

subtest 'the security line: keys in Redis, the group signs; the article says how it goes out' => sub {
    $r->hset(tk_key_group('ALSO'), 'pgp_sign', 'FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000');
    $r->hset(TK_KEY_PGP_ADDR, 'maria@example.org', 'AAAA1111BBBB2222CCCC3333DDDD4444EEEE5555 0');
    $r->hset(TK_KEY_PGP_ADDR, 'kim.neu@example.net', 'BBBB1111BBBB2222CCCC3333DDDD4444EEEE5555 0');
    my $res = $c->post_csrf('/new', [ group => 'ALSO', to => 'Maria <maria@example.org>', cc => 'kim.neu@example.net',
        subject => '', body => 'x' ]);
    is $res->{status}, 422, 'refused (no subject) ...';
    my $sec = $res->dom->at('#security-line');
    is $sec->attr('data-crypt'), 'encrypt,sign', '... the line: encrypted to all and signed';
    is dtext($res->dom->at('form#compose button.send')), 'E-Mail an maria@example.org und 1 weitere senden', '... the button';
    $res = $c->post_csrf('/new', [ group => 'ALSO', to => 'Maria <maria@example.org>', bcc => 'nokey@example.net',
        subject => '', body => 'x' ]);
    is $res->dom->at('#security-line')->attr('data-crypt'), 'sign', 'a Bcc without a key: signed only';
    like dtext($res->dom->at('#security-line')), qr/kein Schlüssel für nokey\@example\.net/, 'and says whose key is missing';
    $res = send_new($c, group => 'ALSO', to => 'Maria <maria@example.org>', subject => 'Geheim', body => 'x');
    is $res->{status}, 303, 'sent';
    my ($n, $id) = ($res->location // '') =~ m{/t/(\d+)#a-(\d+)$};
    is art($n, $id)->{crypt}, 'encrypt,sign', 'the article: crypt encrypt,sign (mailbridge encrypts and signs)';
    $r->hdel(tk_key_group('ALSO'), 'pgp_sign');
    $r->hdel(TK_KEY_PGP_ADDR, 'maria@example.org', 'kim.neu@example.net');
};

subtest 'POST /api/v1/tickets' => sub {
    my $token = $tk->add_token('anna');
    my $rtoken = $tk->add_token('rita');
    my $api = $tk->client;
    my $post = sub {
        my ($tok, $body) = @_;
        return $api->api('POST', '/api/v1/tickets', $tok,
            content => ref $body ? $tk->json->encode($body) : $body);
    };
    my $res = $post->($token, { group => 'ALSO', customer => { name => 'Lou Lang', email => 'lou@example.net' },
        cc => 'cc@example.net', bcc => 'bcc@example.org', subject => 'Per API', body => "Hallo Lou\n",
        attachments => [ { name => 'Info.txt', content_type => 'text/plain', data => 'SW5mbwo=' } ] });
    is $res->{status}, 201, '201' or diag $res->{content};
    my $j = $res->json;
    my $n = $j->{number};
    ok $n, 'the number';
    like $res->header('location') // '', qr{/api/v1/tickets/$n$}, 'Location';
    is $j->{group}, 'ALSO', 'group';
    is $j->{state}, 'waiting', 'state';
    is $j->{customer}{email}, 'lou@example.net', 'customer';
    ok $j->{customer_created}, 'created';
    is $j->{article}{delivery}, 'queued', 'the article queued';
    my $a = art($n, $j->{article}{id});
    is $a->{to}, 'Lou Lang <lou@example.net>', 'To: the customer';
    is $a->{cc}, 'cc@example.net', 'Cc';
    is $a->{bcc}, 'bcc@example.org', 'Bcc';
    is $a->{message_id}, $j->{article}{message_id}, 'Message-ID';
    is $a->{attachments}, 1, 'the attachment';
    is MB::attachment($tk, $n, $j->{article}{id}, 1)->{data}, "Info\n", 'decoded from base64';
    is $api->api('GET', "/api/v1/tickets/$n", $token)->json->{number}, $n, 'GET it';
    TK::wait_for('the API\'s mail sent', 20, sub { (art($n, $j->{article}{id})->{delivery} // '') eq 'sent' });

    my $note = $post->($token, { group => 'ALSO', type => 'note', customer => { email => 'anruf@example.net' },
        subject => 'Anruf', body => 'Rief an wegen Frist.' });
    is $note->{status}, 201, 'a ticket begun with a note: 201';
    my $nj = $note->json;
    is $nj->{article}{kind}, 'note', 'kind note';
    is $nj->{state}, 'open', 'open';
    is art($nj->{number}, $nj->{article}{id})->{delivery} // '', '', 'not queued';

    my $before = state_of_db();
    my %ok = (group => 'ALSO', to => 'x@example.net', subject => 's', body => 'b');
    for my $case (
        [ 'read right only', $token, { %ok, group => 'Zivilrecht' }, 403, 'group' ],
        [ 'unknown group', $token, { %ok, group => 'Nope' }, 422, 'group' ],
        [ 'no group', $token, { %ok, group => undef }, 422, 'group' ],
        [ 'CR/LF in the subject', $token, { %ok, subject => "a\r\nBcc: e\@x.org" }, 422, 'subject' ],
        [ 'CR/LF in the customer name', $token, { %ok, customer => { name => "a\nb", email => 'x@example.net' } }, 422, 'customer' ],
        [ 'no recipient', $token, { %ok, to => '' }, 422, 'to' ],
        [ 'an unknown member', $token, { %ok, priority => 'high' }, 400, '?' ],
        [ 'a reader', $rtoken, { %ok, group => 'Zivilrecht' }, 403, 'group' ],
    ) {
        my ($what, $tok, $body, $status, $field) = @$case;
        my $res = $post->($tok, $body);
        is $res->{status}, $status, "$what: $status";
        is(($res->json // {})->{field}, $field, "$what: field $field");
    }
    is $post->($token, '{"group":')->{status}, 400, 'not JSON: 400';
    is $post->(undef, { %ok })->{status}, 401, 'no token: 401';
    unchanged($before, 'refused API calls');
};

done_testing;
