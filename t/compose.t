# The composer: a reply writes exactly the outbound article of the
# contract (BRIEF.md, SCHEMA.md "Outbox") and one outbox entry in the
# same MULTI with the ticket's state and history; a note never reaches
# the outbox; nothing is written without the right, without the CSRF
# token, with a stale form (two agents on one ticket), with CR/LF or an
# invalid address; the security line from the key metadata in Redis;
# the encrypted-customer confirmation; the same through the JSON API.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8 decode_utf8);
use POSIX ();
use TK;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $tk = TK->new(location => 'ticket_upload_max_size 256k;');
$tk->add_group('ALSO', email => 'also@example.org');
$tk->add_group('legal', all_agents => 1, email => 'legal@example.org');
$tk->add_group('Zivilrecht', email => 'zivil@example.org');
my $r = $tk->redis;
$r->hset('tk:{g:ALSO}', 'signature', encode_utf8("Solidarische Grüße\nALSO-Team"));
MB::write_conf($tk);

my $pw = $tk->add_user('anna', name => 'Anna A', rights => 'ALSO:full,Zivilrecht:read');
my $otto_pw = $tk->add_user('otto', name => 'Otto O', rights => 'ALSO:full');
my $c = $tk->login_client('anna', $pw);
my $otto = $tk->login_client('otto', $otto_pw);

# an inbound mail makes a ticket, as in real life
sub deliver {
    my (%h) = @_;
    my $mail = MB::mail(%h);
    my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', $h{rcpt} // 'also@example.org');
    die "deliver: $rc $err" if $rc;
    my ($n, undef, $a) = MB::stored($tk, MB::msgid_of($mail));
    return ($n, $a);
}

my ($n, $first) = deliver(from => 'Kim Kundin <kim@example.net>', to => 'also@example.org',
    subject => 'Frist', message_id => '<m1@example.net>', body => "Hallo,\r\ndie Frist läuft ab.\r\n");

sub ids     { [ $r->lrange("tk:{t:$_[0]}:articles", 0, -1) ] }
sub outbox  { [ $r->xrange('tk:{ix}:outbox', '-', '+') ] }
sub art     { my %h = $r->hgetall("tk:{t:$_[0]}:a:$_[1]"); \%h }
sub snapshot {
    my ($num) = @_;
    return { ids => ids($num), hist => scalar @{ $tk->history($num) },
             outbox => scalar @{ outbox() }, ticket => $tk->ticket_hash($num) };
}
sub unchanged {
    my ($before, $num, $what) = @_;
    my $now = snapshot($num);
    delete $_->{ticket}{rev} for $before, $now;
    is_deeply $now, $before, "$what: nothing written";
}
sub dtext { my $e = $_[0]; $e ? decode_utf8($e->text) : '' }

# the composer's fields as a browser would send them, with overrides
sub compose_form {
    my ($client, $num, %set) = @_;
    my $page = $client->get("/t/$num");
    die "GET /t/$num: $page->{status}" unless $page->{status} == 200;
    return $client->form_values($page, 'form#compose', %set);
}
sub send_form {
    my ($client, $num, %set) = @_;
    my ($action, $pairs) = compose_form($client, $num, %set);
    return $client->post($action, $pairs);
}

subtest 'the ticket page has the composer: reply by default, the mail answered quoted' => sub {
    my $res = $c->get("/t/$n");
    is $res->{status}, 200, '200';
    my $d = $res->dom;
    my $f = $d->at("form#compose[action\$=\"/t/$n/reply\"]");
    ok $f, 'form#compose posts to /t/N/reply';
    ok $d->at('form#compose input[name=type][value=reply][checked]'), 'reply is the default mode';
    ok $d->at('form#compose input[name=type][value=note]'), 'note is the other mode';
    is $d->at('form#compose input[name=to]')->attr('value'), 'Kim Kundin <kim@example.net>', 'To: the sender';
    is $d->at('form#compose input[name=subject]')->attr('value'), 'Re: Frist', 'subject';
    my $body = decode_utf8($d->at('form#compose textarea[name=body]')->raw_text);
    like $body, qr/schrieb Kim Kundin <kim\@example\.net>:\n> Hallo,\n> die Frist läuft ab\./, 'the mail quoted';
    is dtext($d->at('form#compose button.send')), 'E-Mail an kim@example.net senden', 'the button says what happens';
    like dtext($d->at('form#compose .note-label')), qr/nicht an die Kundin gesendet/, 'note label';
    my $sec = $d->at('#security-line');
    is $sec->attr('data-crypt'), '', 'security line: plain';
    is dtext($sec), 'NICHT verschlüsselt: kein Schlüssel für kim@example.net.', 'security line text';
    is $d->at('form#compose select[name=state] option[selected]')->attr('value'), '3', 'state afterwards: waiting for reply';
    ok $d->at('form#compose input[name=pending_until][type=datetime-local]'), 'reminder date picker';
    is $d->at('form#compose input[name=reply]')->attr('value'), $first, 'answers the newest mail';
    like dtext($d->at('form#compose .signature pre')), qr/ALSO-Team/, 'the signature is shown';
};

subtest 'reply: the outbound article of the contract and one outbox entry in the same MULTI' => sub {
    my $mon = "$tk->{dir}/monitor.log";
    # line-buffered, or redis-cli keeps what it saw when it is stopped
    $tk->spawn('monitor', 'stdbuf', '-oL', 'redis-cli', '-s', $tk->redis_sock, 'monitor');
    TK::wait_for('MONITOR', 10, sub { -s $mon && TK::read_file($mon) =~ /^OK/m });
    my $t0 = time;
    my ($action, $pairs) = compose_form($c, $n, body => "Hallo Kim,\nwir kümmern uns.\n\nAm ... schrieb Kim:\n> Hallo");
    my $res = $c->post($action, $pairs);
    TK::wait_for('the MULTI in the monitor', 10, sub { TK::read_file($mon) =~ /"XADD".*\n(?:.*\n)*?.*"EXEC"/ });
    $tk->stop_proc('monitor');
    is $res->{status}, 303, '303';
    my ($id) = ($res->location // '') =~ m{/t/$n#a-(\d+)$};
    ok $id, 'to the new article';
    is_deeply ids($n), [ $first, $id ], 'appended to the ticket';
    my $a = art($n, $id);
    is $a->{kind}, 'out', 'kind out';
    is $a->{from}, 'ALSO <also@example.org>', 'From: the group';
    is $a->{to}, 'Kim Kundin <kim@example.net>', 'to';
    is $a->{cc}, '', 'cc';
    is $a->{bcc} // '', '', 'bcc empty';
    is $a->{subject}, "[Ticket#$n] Re: Frist", 'subject with the tag';
    like $a->{message_id}, qr/^tk\.$n\.$id\.[0-9a-f]{24}\@example\.org$/, 'Message-ID: random + ticket + article at the group domain';
    is $r->get("tk:mid:$a->{message_id}"), "$n:$id", 'tk:mid: index';
    is $a->{in_reply_to}, 'm1@example.net', 'In-Reply-To';
    is $a->{references}, 'm1@example.net', 'References';
    is decode_utf8($a->{body}), "Hallo Kim,\nwir kümmern uns.\n\nAm ... schrieb Kim:\n> Hallo\n\n-- \nSolidarische Grüße\nALSO-Team\n",
        'body: as typed, with the signature';
    is $a->{author}, 'anna', 'author';
    ok $a->{time} >= $t0 - 1, 'time';
    is $a->{crypt} // '', '', 'crypt empty: plain';
    is $a->{delivery}, 'queued', 'delivery queued';
    my @ob = @{ outbox() };
    is scalar @ob, 1, 'one outbox entry';
    is_deeply { @{ $ob[0][1] } }, { ticket => $n, article => $id, kind => 'article' }, 'the entry names the article';
    my $t = $tk->ticket_hash($n);
    is $t->{state}, 3, 'state: waiting for reply';
    ok $t->{first_response}, 'first_response set';
    is $t->{articles}, 2, 'article count';
    my @h = grep { $_->{field} eq 'state' } @{ $tk->history($n) };
    is $h[-1]{by}, 'anna', 'history: state change by anna';
    is_deeply $tk->index_counts, $tk->expected_counts, 'index counts';

    # one MULTI ... EXEC holds the article, the ticket and the outbox entry
    my @lines = split /\n/, TK::read_file($mon);
    my ($block, $in) = ('', 0);
    for (@lines) {
        if (/"MULTI"/) { $in = 1; $block = ''; next }
        if (/"EXEC"/ && $in) { $in = 0; last if $block =~ /XADD/; next }
        $block .= "$_\n" if $in;
    }
    like $block, qr/"XADD" "tk:\{ix\}:outbox"/, 'XADD in the MULTI';
    like $block, qr/"HSET" "tk:\{t:$n\}:a:$id" "id"/, 'the article in the same MULTI';
    like $block, qr/"HSET" "tk:\{t:$n\}" "number"/, 'the ticket in the same MULTI';
    like $block, qr/"XADD" "tk:\{t:$n\}:history"/, 'the history in the same MULTI';

    my $page = $c->get("/t/$n")->dom;
    my $out = $page->at("article#a-$id");
    is $out->attr('data-kind'), 'out', 'shown as sent';
    is $out->at('.delivery')->attr('data-state'), 'queued', 'delivery state on the article';
};

subtest 'a signature that brings its own "-- " line keeps one separator' => sub {
    $r->hset('tk:{g:ALSO}', 'signature', encode_utf8("-- \nSolidarische Grüße\nALSO-Team"));
    my $res = send_form($c, $n, body => 'Kurz.');
    is $res->{status}, 303, '303';
    my ($id) = ($res->location // '') =~ m{/t/$n#a-(\d+)$};
    my $body = decode_utf8(art($n, $id)->{body});
    like $body, qr/\n\n-- \nSolidarische Grüße\nALSO-Team\n\z/, 'the signature after one "-- " line';
    unlike $body, qr/-- \n-- \n/, 'never two';
    $r->hset('tk:{g:ALSO}', 'signature', encode_utf8("Solidarische Grüße\nALSO-Team"));
};

subtest 'the delivery state re-renders (rev bumped by tk_outbox_delivery)' => sub {
    my ($id) = @{ ids($n) }[-1];
    $c->get("/t/$n");          # cached
    $r->hset("tk:{t:$n}:a:$id", 'delivery', 'failed', 'delivery_info', '550 no such user');
    $r->hincrby("tk:{t:$n}", 'rev', 1);
    my $d = $c->get("/t/$n")->dom->at("article#a-$id .delivery");
    is $d->attr('data-state'), 'failed', 'failed';
    like dtext($d), qr/550 no such user/, 'delivery_info shown';
};

subtest 'a note: kind note, no outbox entry, state as chosen' => sub {
    my $ob = scalar @{ outbox() };
    my $res = send_form($c, $n, type => 'note', body => 'Intern: Akte liegt bei Otto.', state => 2);
    is $res->{status}, 303, '303';
    my $id = ids($n)->[-1];
    my $a = art($n, $id);
    is $a->{kind}, 'note', 'kind note';
    is $a->{author}, 'anna', 'author';
    ok !$a->{delivery}, 'no delivery state';
    is scalar @{ outbox() }, $ob, 'no outbox entry';
    is $tk->ticket_hash($n)->{state}, 2, 'state as chosen';
};

subtest 'read right only: refused, nothing written; no right: 404' => sub {
    my ($z) = deliver(from => 'x@example.net', to => 'zivil@example.org', rcpt => 'zivil@example.org',
        subject => 'Zivil');
    $r->hset('tk:{t:' . $z . '}', 'group', 'Zivilrecht');     # mailbridge maps it to legal otherwise
    $r->hincrby('tk:{t:' . $z . '}', 'rev', 1);
    my $page = $c->get("/t/$z");
    is $page->{status}, 200, 'read-only user sees the ticket';
    ok !$page->dom->at('form#compose'), 'but no composer';
    my $before = snapshot($z);
    my $seq = $r->get('tk:seq:article');
    my $res = $c->post_csrf("/t/$z/reply", [ type => 'reply', to => 'x@example.net', subject => 'x', body => 'x', state => 3 ]);
    is $res->{status}, 403, '403';
    unchanged($before, $z, 'read only');
    is $r->get('tk:seq:article'), $seq, 'not even an article id taken';
    $otto->get('/');
    is $otto->post_csrf("/t/$z/reply", [ type => 'reply', to => 'x@example.net', subject => 'x', body => 'x' ])->{status},
        404, 'no right: 404';

    # the form's group only saves a read: one that is not the ticket's
    # (moved since, or a lie) is checked against the ticket under WATCH
    $c->get('/');
    $res = $c->post_csrf("/t/$z/reply", [ type => 'reply', to => 'x@example.net', subject => 'x', body => 'x',
        state => 3, group => 'ALSO', reply => $r->lindex("tk:{t:$z}:articles", 0) ]);
    is $res->{status}, 403, 'a group in the form that is not the ticket\'s: still 403';
    unchanged($before, $z, 'wrong group in the form');
    is $otto->post_csrf("/t/$z/reply", [ type => 'reply', to => 'x@example.net', subject => 'x', body => 'x',
        group => 'ALSO', reply => 1 ])->{status}, 404, 'and 404 without any right';
};

subtest 'without the CSRF token: refused, nothing written' => sub {
    my $before = snapshot($n);
    my ($action, $pairs) = compose_form($c, $n, body => 'x');
    my %p = @$pairs; delete $p{csrf};
    is $c->post($action, [ %p ])->{status}, 403, 'no token: 403';
    $p{csrf} = 'f' x 64;
    is $c->post($action, [ %p ])->{status}, 403, 'wrong token: 403';
    unchanged($before, $n, 'csrf');
};

subtest 'validation: message next to the field, form as typed, nothing written' => sub {
    my $before = snapshot($n);
    my @cases = (
        [ 'CR/LF in the subject', { subject => "Hallo\r\nBcc: evil\@example.com" }, '#c-subject-error', qr/Zeilenumbrüche/ ],
        [ 'CR/LF in To', { to => "kim\@example.net\r\nBcc: evil\@example.com" }, '#c-to-error', qr/Zeilenumbrüche/ ],
        [ 'LF in a name', { cc => "\"Ki\nm\" <k\@example.net>" }, '#c-cc-error', qr/Zeilenumbrüche/ ],
        [ 'invalid address', { to => 'kim(at)example.net' }, '#c-to-error', qr/keine gültige E-Mail-Adresse/ ],
        [ 'invalid bcc', { bcc => 'a@b' }, '#c-bcc-error', qr/keine gültige/ ],
        [ 'no recipient', { to => '', cc => '', bcc => '' }, '#c-to-error', qr/mindestens eine/ ],
        [ 'empty text', { body => "  \n " }, '#c-body-error', qr/leer/ ],
        [ 'reminder without a date', { state => 4, pending_until => '' }, '#c-state-error', qr/Datum/ ],
        [ 'reminder with a bad date', { state => 4, pending_until => '2026-13-40T10:00' }, '#c-state-error', qr/Datum/ ],
    );
    for my $case (@cases) {
        my ($what, $set, $sel, $re) = @$case;
        my $res = send_form($c, $n, body => 'Mein Text bleibt.', %$set);
        is $res->{status}, 400, "$what: 400";
        like dtext($res->dom->at($sel)), $re, "$what: message next to the field";
        my $kept = $set->{body} // 'Mein Text bleibt.';
        is decode_utf8($res->dom->at('form#compose textarea[name=body]')->raw_text // ''),
            $kept, "$what: the text is kept";
    }
    unchanged($before, $n, 'validation');
};

subtest 'waiting with reminder: pending_until from the date picker' => sub {
    my $res = send_form($c, $n, body => 'Wir melden uns.', state => 4, pending_until => '2030-05-06T07:08');
    is $res->{status}, 303, '303';
    my $t = $tk->ticket_hash($n);
    is $t->{state}, 4, 'state 4';
    # the picker's time is the collective's (ticket_time_zone Europe/Berlin)
    local $ENV{TZ} = 'Europe/Berlin';
    POSIX::tzset();
    my @lt = localtime $t->{pending_until};
    is sprintf('%04d-%02d-%02dT%02d:%02d', $lt[5] + 1900, $lt[4] + 1, @lt[3, 2, 1]), '2030-05-06T07:08', 'pending_until';
};

subtest 'two agents: a stale form stops the send and shows what changed' => sub {
    my ($action, $pairs) = compose_form($c, $n, body => 'Meine Antwort an Kim.');
    # meanwhile: a mail comes in and otto changes the priority
    deliver(from => 'Kim Kundin <kim@example.net>', subject => "Re: [Ticket#$n] Frist",
        in_reply_to => '<m1@example.net>', body => "Noch etwas!\r\n");
    my $res0 = $otto->submit("/t/$n", 'form#ticket-update', priority => 3);
    is $res0->{status}, 303, 'otto changed the priority';
    my $before = snapshot($n);
    my $res = $c->post($action, $pairs);
    is $res->{status}, 409, '409';
    my $box = $res->dom->at('#compose-conflict');
    ok $box, 'the conflict is shown';
    my $text = join ' | ', map { dtext($_) } $box->find('li');
    like $text, qr/Neue E-Mail von Kim Kundin <kim\@example\.net>/, 'the new mail is named';
    like $text, qr/otto hat die Priorität/, "otto's change is named";
    is decode_utf8($res->dom->at('form#compose textarea[name=body]')->raw_text), 'Meine Antwort an Kim.', 'the form as typed';
    unchanged($before, $n, 'stale form');
    # having seen it, the agent sends the form as it came back
    my ($a2, $p2) = $c->form_values($res, 'form#compose');
    is $c->post($a2, $p2)->{status}, 303, 'sent after looking';
};

subtest 'a new delivery state alone is no conflict' => sub {
    my ($action, $pairs) = compose_form($c, $n, body => 'Noch eine Antwort.');
    $r->hincrby("tk:{t:$n}", 'rev', 1);      # what tk_outbox_delivery does
    is $c->post($action, $pairs)->{status}, 303, 'sent';
};

subtest 'security line and crypt from tk:pgp:addr and the group signing key' => sub {
    $r->hset('tk:pgp:addr', 'kim@example.net', 'AAAA1111BBBB2222CCCC3333DDDD4444EEEE5555 0');
    my $d = $c->get("/t/$n")->dom;
    is $d->at('#security-line')->attr('data-crypt'), 'encrypt', 'key for the only recipient: encrypt';
    is dtext($d->at('#security-line')), 'Verschlüsselt an alle Empfänger*innen.', 'text';

    $r->hset('tk:{g:ALSO}', 'pgp_sign', 'FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000');
    $d = $c->get("/t/$n")->dom;
    is $d->at('#security-line')->attr('data-crypt'), 'encrypt,sign', 'and signing';

    my $res = send_form($c, $n, body => 'Verschlüsselt.', cc => 'Ohne Schluessel <ohne@example.net>');
    is $res->{status}, 303, 'sent';
    is art($n, ids($n)->[-1])->{crypt}, 'sign', 'a recipient without key: sign only';

    my $j = $c->get("/t/$n/security?to=kim%40example.net&cc=ohne%40example.net")->json;
    is $j->{crypt}, 'sign', 'JSON: sign';
    is $j->{kind}, 'signed', 'JSON: kind';
    is $j->{text}, 'Nur signiert, NICHT verschlüsselt: kein Schlüssel für ohne@example.net.', 'JSON: text names the address';
    $j = $c->get("/t/$n/security?to=kim%40example.net")->json;
    is $j->{crypt}, 'encrypt,sign', 'JSON: encrypt,sign';
    is $c->get("/t/$n/security?to=kim%40example.net%0D%0ABcc:x")->{status}, 400, 'JSON: CR/LF refused';

    $r->hset('tk:pgp:addr', 'kim@example.net', 'AAAA1111BBBB2222CCCC3333DDDD4444EEEE5555 1000');
    $j = $c->get("/t/$n/security?to=kim%40example.net")->json;
    is $j->{crypt}, 'sign', 'an expired key is no key';
    $r->hdel('tk:{g:ALSO}', 'pgp_sign');
    $j = $c->get("/t/$n/security?to=kim%40example.net")->json;
    is $j->{crypt}, '', 'neither';
    is $j->{text}, 'NICHT verschlüsselt: kein Schlüssel für kim@example.net.', 'NOT encrypted: no key for';
    $r->hset('tk:pgp:addr', 'kim@example.net', 'AAAA1111BBBB2222CCCC3333DDDD4444EEEE5555 0');
};

subtest 'the customer wrote encrypted: a plaintext reply needs a confirm' => sub {
    my ($e, $ea) = deliver(from => 'Eva <eva@example.net>', subject => 'Geheim');
    $r->hset("tk:{t:$e}:a:$ea", 'flags', 'encrypted');
    $r->hincrby("tk:{t:$e}", 'rev', 1);
    my $page = $c->get("/t/$e")->dom;
    ok $page->at('form#compose input[name=confirm_plain]'), 'the confirm checkbox is there';
    my $before = snapshot($e);
    my $res = send_form($c, $e, body => 'Unverschlüsselt?');
    is $res->{status}, 400, 'without the confirm: 400';
    like dtext($res->dom->at('#c-confirm-error')), qr/verschlüsselt geschrieben/, 'the message';
    unchanged($before, $e, 'not confirmed');
    $res = send_form($c, $e, body => 'Unverschlüsselt, bestätigt.', confirm_plain => 1);
    is $res->{status}, 303, 'with the confirm: sent';
    $r->hset('tk:pgp:addr', 'eva@example.net', 'AAAA1111BBBB2222CCCC3333DDDD4444EEEE6666 0');
    is send_form($c, $e, body => 'Verschlüsselt, ohne Frage.')->{status}, 303, 'encrypted: no confirm needed';
    is art($e, ids($e)->[-1])->{crypt}, 'encrypt', 'crypt encrypt';
};

subtest 'reply all, reply to list, reply to sender' => sub {
    my ($l, $la) = deliver(from => 'Lea <lea@example.net>', to => 'aktive@lists.example.org',
        cc => 'also@example.org, Bo <bo@example.net>', subject => 'Demo',
        'Reply-To' => 'aktive@lists.example.org', 'List-Id' => 'Aktive <aktive.lists.example.org>');
    my $a = art($l, $la);
    is $a->{list_id}, 'aktive.lists.example.org', 'List-Id stored (mailbridge)';
    my $d = $c->get("/t/$l")->dom;
    my $art = $d->at("article#a-$la");
    is dtext($art->at('.list-id')), 'aktive.lists.example.org', 'List-Id shown';
    is dtext($art->at('.reply-to')), 'aktive@lists.example.org', 'Reply-To shown';
    ok $art->at('a.reply-list'), 'reply to list link';
    ok $art->at('a.reply-sender'), 'reply to sender link';
    my %to = (
        ''        => [ 'aktive@lists.example.org', '' ],
        'list'    => [ 'aktive@lists.example.org', '' ],
        'sender'  => [ 'Lea <lea@example.net>', '' ],
        'all'     => [ 'aktive@lists.example.org', 'Bo <bo@example.net>' ],
    );
    for my $m (sort keys %to) {
        my $q = "/t/$l?reply=$la" . ($m ? "&to=$m" : '');
        my $f = $c->get($q)->dom;
        is $f->at('form#compose input[name=to]')->attr('value'), $to{$m}[0], "to=$m: To";
        is $f->at('form#compose input[name=cc]')->attr('value'), $to{$m}[1], "to=$m: Cc";
    }
    my $ro = $tk->login_client('otto', $otto_pw);
    ok $ro->get("/t/$l")->dom->at("article#a-$la a.reply"), 'the links for those who may reply';
};

subtest 'forward: the mail and its attachments go along (copied inside Redis)' => sub {
    my $mail = join "\r\n", 'From: Fa <fa@example.net>', 'To: also@example.org', 'Subject: Bescheid',
        'Message-ID: <fw1@example.net>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="B"', '',
        '--B', 'Content-Type: text/plain; charset=utf-8', '', 'Anbei der Bescheid.',
        '--B', 'Content-Type: application/pdf; name="bescheid.pdf"', 'Content-Disposition: attachment; filename="bescheid.pdf"',
        '', '%PDF-1.4 bescheid', '--B--', '';
    my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'also@example.org');
    die $err if $rc;
    my ($f, undef, $fa) = MB::stored($tk, 'fw1@example.net');
    my $page = $c->get("/t/$f?reply=$fa&to=forward")->dom;
    ok $page->at("article#a-$fa a.forward[href*=\"to=forward\"]"), 'a forward link on the mail';
    is $page->at('form#compose input[name=to]')->attr('value'), '', 'forward: no recipient yet';
    is $page->at('form#compose input[name=subject]')->attr('value'), 'Fwd: Bescheid', 'subject Fwd:';
    like decode_utf8($page->at('form#compose textarea[name=body]')->raw_text), qr/Weitergeleitete Nachricht.*Anbei der Bescheid/s,
        'the forwarded text';
    ok $page->at('form#compose input[name=forward][value=1]'), 'the form says forward';
    like dtext($page->at('form#compose .forward-files')), qr/1 Anh/, 'the attachment goes along';
    my $res = send_form($c, "$f?reply=$fa&to=forward", to => 'Anwalt <anwalt@example.com>');
    is $res->{status}, 303, 'sent';
    my $id = ids($f)->[-1];
    my $a = art($f, $id);
    is $a->{attachments}, 1, 'one attachment';
    is $a->{in_reply_to}, '', 'a forward answers nothing';
    my %att = $r->hgetall("tk:{t:$f}:a:$id:att:1");
    my %orig = $r->hgetall("tk:{t:$f}:a:$fa:att:1");
    is_deeply \%att, \%orig, 'the attachment hash copied as it is';
    is $c->get("/t/$f/a/$id/att/1")->{status}, 200, 'and served like any attachment';
};


subtest 'attachments: uploaded with the form (multipart), stored like mail attachments' => sub {
    my ($action, $pairs) = compose_form($c, $n, body => 'Anbei zwei Dateien.');
    my $pdf = "%PDF-1.4\0\r\n--not-the-boundary\r\n\xff\xfe binary";
    my $boundary = q{----odd'(boundary)+_,-./:=?};
    my $body = TK::multipart($boundary, @$pairs,
        attachment => { filename => '../../etc/Bescheid vom 3.12..pdf', type => 'application/pdf', data => $pdf },
        attachment => { filename => "C:\\Akten\\Notiz\x01.txt", type => 'text/plain; charset=utf-8', data => "Hallo\n" },
        attachment => { filename => '', type => 'application/octet-stream', data => '' });
    my $res = $c->request('POST', $action, content => $body,
        headers => { 'content-type' => qq{multipart/form-data; boundary="$boundary"} });
    is $res->{status}, 303, '303';
    my $id = ids($n)->[-1];
    my $a = art($n, $id);
    is $a->{attachments}, 2, 'two attachments (the empty file input is none)';
    is $a->{attachment_names}, 'Bescheid vom 3.12..pdf Notiz.txt', 'names without paths and control bytes';
    my %f1 = $r->hgetall("tk:{t:$n}:a:$id:att:1");
    is $f1{name}, 'Bescheid vom 3.12..pdf', 'name';
    is $f1{content_type}, 'application/pdf', 'type';
    is $f1{size}, length $pdf, 'size';
    is $f1{disposition}, 'attachment', 'disposition';
    is $f1{data}, $pdf, 'the bytes exactly';
    my %f2 = $r->hgetall("tk:{t:$n}:a:$id:att:2");
    is $f2{content_type}, 'application/octet-stream', 'a type with parameters: octet-stream';
    my $dl = $c->get("/t/$n/a/$id/att/1");
    is $dl->{status}, 200, 'downloaded';
    is $dl->{content}, $pdf, 'as uploaded';
    is $c->get("/t/$n/a/$id/att/3")->{status}, 404, 'no third: 404';
    is art($n, $id)->{delivery}, 'queued', 'and queued with its attachments';
};

subtest 'attachments: too large, malformed, and a form that comes back' => sub {
    my $before = snapshot($n);
    my ($action, $pairs) = compose_form($c, $n, body => 'Zu groß.');
    my $big = TK::multipart('B0', @$pairs, attachment => { filename => 'big.bin', type => 'application/octet-stream',
        data => 'x' x (400 * 1024) });
    my $res = $c->request('POST', $action, content => $big,
        headers => { 'content-type' => 'multipart/form-data; boundary=B0' });
    is $res->{status}, 413, 'over ticket_upload_max_size: 413';
    my $bad = TK::multipart('B1', @$pairs);
    $bad =~ s/--B1--\r\n$//;
    is $c->request('POST', $action, content => $bad,
        headers => { 'content-type' => 'multipart/form-data; boundary=B1' })->{status}, 400, 'no closing delimiter: 400';
    is $c->request('POST', $action, content => TK::multipart('B2', @$pairs),
        headers => { 'content-type' => 'multipart/form-data' })->{status}, 400, 'no boundary: 400';
    my %p = @$pairs;
    $p{subject} = "a\r\nb";
    $res = $c->request('POST', $action, content => TK::multipart('B3', %p,
            attachment => { filename => 'a.txt', type => 'text/plain', data => 'a' }),
        headers => { 'content-type' => 'multipart/form-data; boundary=B3' });
    is $res->{status}, 400, 'an invalid form with a file: 400';
    like dtext($res->dom->at('#c-files-error')), qr/noch einmal auswählen/, 'the file must be chosen again';
    unchanged($before, $n, 'uploads refused');
    is $c->post('/t/' . $n . '/reply', [ csrf => $c->csrf, body => 'x' x (1100 * 1024) ])->{status}, 413,
        'an urlencoded form stays at 1 MiB';
};

subtest 'address suggestions: customers and agents, for those who may write' => sub {
    my $j = $c->get("/t/$n/complete?q=KIM")->json;
    my @emails = map { $_->{email} } @{ $j->{addresses} };
    ok((grep { $_ eq 'kim@example.net' } @emails), 'a customer by her address (any case)');
    my ($kim) = grep { $_->{email} eq 'kim@example.net' } @{ $j->{addresses} };
    is $kim->{kind}, 'customer', 'kind customer';
    $j = $c->get("/t/$n/complete?q=otto")->json;
    is_deeply [ map { [ $_->{email}, $_->{name}, $_->{kind} ] } @{ $j->{addresses} } ],
        [ [ 'otto@example.org', 'Otto O', 'agent' ] ], 'an agent by login';
    is_deeply $c->get("/t/$n/complete?q=k")->json->{addresses}, [], 'one letter: nothing';
    is_deeply $c->get("/t/$n/complete?q=k%2A")->json->{addresses}, [], 'glob characters are literal';
    my ($z) = grep { $tk->ticket_hash($_)->{group} eq 'Zivilrecht' } keys %{ $tk->all_tickets };
    is $c->get("/t/$z/complete?q=kim")->{status}, 403, 'read only: 403';
    is $c->get("/t/$z/security?to=kim%40example.net")->{status}, 403, 'security line, read only: 403';
    is $otto->get("/t/$z/security?to=kim%40example.net")->{status}, 404, 'security line, no right: 404';
    is $otto->get("/t/$z/complete?q=kim")->{status}, 404, 'no right: 404';
};

subtest 'API: POST /api/v1/tickets/N/articles' => sub {
    my $token = $tk->add_token('anna');
    my $api = $tk->client;
    my $post = sub {
        my ($num, $body) = @_;
        return $api->api('POST', "/api/v1/tickets/$num/articles", $token,
            content => ref $body ? $tk->json->encode($body) : $body);
    };
    my $ob = scalar @{ outbox() };
    my $res = $post->($n, { type => 'reply', to => 'kim@example.net', subject => 'Per API', body => "Text\n" });
    is $res->{status}, 201, '201';
    my $j = $res->json;
    ok $j->{id}, 'article id';
    is $j->{delivery}, 'queued', 'delivery queued';
    my $a = art($n, $j->{id});
    is $a->{subject}, "[Ticket#$n] Per API", 'subject tagged';
    my ($newest) = grep { art($n, $_)->{kind} eq 'in' } reverse @{ ids($n) };
    is $a->{in_reply_to}, art($n, $newest)->{message_id}, 'answers the newest mail received';
    is $a->{crypt}, 'encrypt', 'crypt from the keys';
    is scalar @{ outbox() }, $ob + 1, 'one outbox entry';

    $res = $post->($n, { type => 'reply', to => 'kim@example.net', subject => 'Mit Anhang', body => 'Anbei.',
        attachments => [ { name => '../Akte.pdf', content_type => 'application/pdf', data => 'JVBERi0xLjQKJcOk' } ] });
    is $res->{status}, 201, 'with an attachment (base64): 201';
    my $aid = $res->json->{id};
    is art($n, $aid)->{attachments}, 1, 'one attachment';
    my %att = $r->hgetall("tk:{t:$n}:a:$aid:att:1");
    is_deeply [ @att{qw(name content_type data)} ], [ 'Akte.pdf', 'application/pdf', "%PDF-1.4\n%\xc3\xa4" ],
        'name cleaned, the bytes decoded';
    $ob++;

    $res = $post->($n, { type => 'note', body => 'API-Notiz' });
    is $res->{status}, 201, 'note: 201';
    is $res->json->{delivery}, undef, 'note: no delivery';
    is scalar @{ outbox() }, $ob + 1, 'note: no outbox entry';

    my $before = snapshot($n);
    my @bad = (
        [ { type => 'reply', to => "kim\@example.net\r\nBcc: x\@y.z", subject => 's', body => 'b' }, 'to' ],
        [ { type => 'reply', to => 'kim@example.net', subject => "s\nBcc: x", body => 'b' }, 'subject' ],
        [ { type => 'reply', to => 'nope', subject => 's', body => 'b' }, 'to' ],
        [ { type => 'reply', to => 'kim@example.net', subject => 's', body => '' }, 'body' ],
        [ { type => 'mail', body => 'b' }, 'type' ],
        [ { type => 'reply', to => 'kim@example.net', subject => 's', body => 'b', state => 'reminder' }, 'pending_until' ],
        [ { type => 'reply', to => 'kim@example.net', subject => 's', body => 'b', attachments => [ { name => 'x', data => '!!' } ] }, 'attachments' ],
        [ { type => 'reply', to => 'kim@example.net', subject => 's', body => 'b', attachments => [ 'x' ] }, 'attachments' ],
        [ { type => 'reply', to => 'kim@example.net', subject => 's', body => 'b', attachments => [ { name => 'x', data => '', size => 1 } ] }, 'attachments' ],
        [ { type => 'note', body => 'b', colour => 'red' }, '?' ],
    );
    for my $b (@bad) {
        my $res = $post->($n, $b->[0]);
        is $res->{status}, 400, "400 for $b->[1]";
        is $res->json && $res->json->{field}, $b->[1], "the error names $b->[1]";
    }
    is $post->($n, '{"type":"note",')->{status}, 400, 'not JSON: 400';
    # ill-formed UTF-8 in a string (fuzz finding t/fuzz/regress/json/)
    my $res8 = $post->($n, qq({"type":"note","body":"a\xff\xfeb"}));
    is $res8->{status}, 400, 'invalid UTF-8 in the body: 400';
    is $res8->json && $res8->json->{field}, 'body', 'the error names the body';
    is $post->($n, qq({"type":"note","body":"\xc0\xaf"}))->{status}, 400, 'an overlong sequence: 400';
    unchanged($before, $n, 'API errors');

    my $rev = $api->api('GET', "/api/v1/tickets/$n", $token)->json->{rev};
    is $rev, $tk->ticket_hash($n)->{rev}, 'GET /api/v1/tickets/N tells the rev';
    my ($sent) = reverse grep { $_->{kind} eq 'out' } @{ $api->api('GET', "/api/v1/tickets/$n", $token)->json->{articles} };
    is $sent->{delivery}, 'queued', 'and the delivery state of mail sent';
    $res = $post->($n, { type => 'note', body => 'stale', rev => $rev - 1 });
    is $res->{status}, 409, 'stale rev: 409';
    unchanged($before, $n, 'API stale rev');
    is $post->($n, { type => 'note', body => 'fresh', rev => $rev + 0 })->{status}, 201, 'current rev: 201';

    my ($z) = grep { $tk->ticket_hash($_)->{group} eq 'Zivilrecht' } keys %{ $tk->all_tickets };
    is $post->($z, { type => 'note', body => 'x' })->{status}, 403, 'read right: 403';
    is $post->(99999, { type => 'note', body => 'x' })->{status}, 404, 'no such ticket: 404';
    my $ot = $tk->add_token('otto');
    is $api->api('POST', "/api/v1/tickets/$z/articles", $ot, content => '{"type":"note","body":"x"}')->{status},
        404, 'no right: 404';
    is $api->api('POST', "/api/v1/tickets/$n/articles", undef, content => '{}')->{status}, 401, 'no token: 401';
};

done_testing;
