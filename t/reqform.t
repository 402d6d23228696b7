# The public request form (docs/directives.md "ticket_form", user guide
# "Request form"): no account, no JavaScript.  An accepted request is a
# ticket in the configured group written like inbound mail (customer,
# article with its attachment, change feed) plus a confirmation in the
# outbox, which mailbridge sends with Auto-Submitted: auto-replied and
# the ticket number (captured by Postfix's smtp-sink).  Abuse changes
# nothing: no token, a used token, the honeypot, a message or attachment
# too large, a body over the limit, more requests per IP than allowed.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8 decode_utf8);
use TK;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $tk = TK->new(server => 'location = /form { ticket; ticket_form on; ticket_form_group legal; '
    . 'ticket_form_rate 3; ticket_form_attachment_max_size 8k; }');
$tk->add_group('legal', all_agents => 1, email => 'legal@example.org');
$tk->ctl('group', 'set', 'legal', '--display-name', 'Rechtshilfe Kollektiv');
my $r = $tk->redis;
my $c = $tk->client;

# everything a request could have written
sub snapshot {
    my @keys = grep { !/^tk:form:tok:/ && !/^tk:rl:form:/ } $r->keys('*');
    return { keys => scalar @keys, seq => $r->get(TK_KEY_SEQ_TICKET) // 0,
             outbox => $r->xlen(TK_KEY_OUTBOX), feed => $r->exists('tk:{ix}:feed') ? $r->xlen('tk:{ix}:feed') : 0,
             customers => $r->hlen(TK_KEY_CUSTOMER_BY_EMAIL) };
}

my $B = 'xYzBoundary42';
sub multipart {
    my (@parts) = @_;
    my $body = '';
    while (my ($name, $v) = splice @parts, 0, 2) {
        if (ref $v) {
            $body .= "--$B\r\nContent-Disposition: form-data; name=\"$name\"; filename=\"$v->{name}\"\r\n"
                . "Content-Type: $v->{type}\r\n\r\n$v->{data}\r\n";
        } else {
            $body .= "--$B\r\nContent-Disposition: form-data; name=\"$name\"\r\n\r\n" . encode_utf8($v) . "\r\n";
        }
    }
    return $body . "--$B--\r\n";
}
sub token { my $p = $c->get('/form'); $p->dom->at('form#request-form input[name=token]')->attr('value') }
sub submit {
    my (%f) = @_;
    my $tok = exists $f{token} ? delete $f{token} : token();
    my %v = (name => 'Zora Zeugin', email => 'Zora.Zeugin@example.net', subject => 'Hausdurchsuchung',
        message => "Bei mir war heute die Polizei.\nWas tun?", website => '', %f);
    my @parts = (defined $tok ? (token => $tok) : (),
        map { exists $v{$_} ? ($_ => $v{$_}) : () } qw(name email subject message attachment website));
    return $c->request('POST', '/form', content => multipart(@parts),
        headers => { 'content-type' => "multipart/form-data; boundary=$B" });
}
sub unchanged { my ($before, $what) = @_; is_deeply snapshot(), $before, "$what: nothing written" }

subtest 'the form: no account, no script, a token with a TTL' => sub {
    my $res = $c->get('/form');
    is $res->{status}, 200, '200 without a session';
    my $f = $res->dom->at('form#request-form[enctype="multipart/form-data"]');
    ok $f, 'form#request-form';
    ok $f->at("input[name=$_]"), "field $_" for qw(name email subject attachment website token);
    ok $f->at('textarea[name=message]'), 'message';
    ok $res->dom->at('.hp[aria-hidden=true] input[name=website][tabindex="-1"]'), 'honeypot hidden from people';
    unlike $res->{content}, qr/<script(?![^>]*\bsrc=)/i, 'no inline script';
    my $tok = $f->at('input[name=token]')->attr('value');
    like $tok, qr/^[0-9a-f]{32}$/, 'token';
    my $ttl = $r->ttl(tk_key_form_token($tok));
    ok $ttl > 3500 && $ttl <= 3600, "token stored with TTL ($ttl)";
};

subtest 'abuse changes nothing' => sub {
    my $before = snapshot();
    my $res = submit(token => undef);
    is $res->{status}, 403, 'no token: 403';
    ok $res->dom->at('#request-refused'), 'said why';
    ok $res->dom->at('form#request-form input[name=token]'), 'a fresh form';
    unchanged($before, 'no token');

    $res = submit(token => 'f' x 32);
    is $res->{status}, 403, 'an unknown token: 403';
    unchanged($before, 'unknown token');

    $res = submit(website => 'http://spam.example');
    is $res->{status}, 200, 'honeypot: looks accepted';
    ok $res->dom->at('#request-done'), 'thank-you page';
    is $res->dom->at('#request-done')->attr('data-ticket'), '', 'but no ticket';
    unchanged($before, 'honeypot');

    $res = submit(message => 'x' x 20001);
    is $res->{status}, 422, 'message too long: 422';
    ok $res->dom->at('#error-message'), 'message next to the field';
    is $res->dom->at('input[name=subject]')->attr('value'), 'Hausdurchsuchung', 'form as sent';
    unchanged($before, 'long message');

    $res = submit(attachment => { name => 'big.pdf', type => 'application/pdf', data => 'A' x 9000 });
    is $res->{status}, 422, 'attachment over 8k: 422';
    ok $res->dom->at('#error-attachment'), 'message at the attachment';
    unchanged($before, 'big attachment');

    $res = submit(attachment => { name => 'huge.bin', type => 'application/octet-stream', data => 'B' x 200_000 });
    is $res->{status}, 413, 'body over the limit: 413';
    unchanged($before, 'huge body');

    $res = submit(email => 'keine-adresse', name => '');
    is $res->{status}, 422, 'bad address and no name: 422';
    ok $res->dom->at('#error-email') && $res->dom->at('#error-name'), 'both messages';
    unchanged($before, 'bad fields');

    $res = submit(name => 'Eve "x" <evil@example.net>');
    is $res->{status}, 422, 'a name that would break the From: 422';
    ok $res->dom->at('#error-name'), 'message at the name';
    $res = submit(subject => "Hallo\r\nBcc: victim\@example.net");
    is $res->{status}, 422, 'a subject with CR/LF: 422';
    unchanged($before, 'header injection');
};

my ($n, $tok);
subtest 'a request: a ticket like inbound mail, the confirmation queued' => sub {
    my $before = snapshot();
    $tok = token();
    my $res = submit(token => $tok, attachment => { name => '../Vorladung.pdf', type => 'application/pdf', data => "%PDF-1.4\n" });
    is $res->{status}, 200, 'answered';
    $n = $res->dom->at('#request-done')->attr('data-ticket');
    like $n, qr/^\d+$/, "ticket number shown ($n)";
    my $t = $tk->ticket_hash($n);
    is $t->{group}, 'legal', 'the configured group';
    is $t->{state}, 1, 'new';
    is $t->{customer_email}, 'zora.zeugin@example.net', 'customer address, lower case';
    is decode_utf8($t->{customer_name}), 'Zora Zeugin', 'customer name';
    is $t->{title}, 'Hausdurchsuchung', 'title';
    is $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'zora.zeugin@example.net'), $t->{customer}, 'customer indexed';
    my @ids = $r->lrange(tk_key_ticket_arts($n), 0, -1);
    is scalar @ids, 2, 'two articles: the request and the confirmation';
    my %in = $r->hgetall(tk_key_article($n, $ids[0]));
    is $in{kind}, 'in', 'request: in';
    is $in{flags}, 'form', 'flag form';
    is $in{from}, '"Zora Zeugin" <zora.zeugin@example.net>', 'from';
    is $in{attachments}, 1, 'one attachment';
    my %att = $r->hgetall(tk_key_attachment($n, $ids[0], 1));
    is $att{name}, 'Vorladung.pdf', 'file name cleaned';
    is $att{data}, "%PDF-1.4\n", 'bytes stored';
    my %out = $r->hgetall(tk_key_article($n, $ids[1]));
    is $out{kind}, 'out', 'confirmation: out';
    is $out{flags}, 'auto-reply', 'flag auto-reply';
    is $out{delivery}, 'queued', 'queued';
    like $out{subject}, qr/^\[Ticket#$n\] /, 'subject tagged';
    like decode_utf8($out{body}), qr/Ticketnummer $n\b/, 'the number in the text';
    my $s = snapshot();
    is $s->{outbox}, $before->{outbox} + 1, 'one outbox entry';
    ok $s->{feed} > $before->{feed}, 'change feed entry';
    my @hits = $r->__std_cmd('FT.SEARCH', TK_KEY_FT_ARTICLES, 'Polizei', 'NOCONTENT');
    ok $hits[0] >= 1, 'request in the full text';

    $before = snapshot();
    $res = submit(token => $tok);
    is $res->{status}, 403, 'the same token again: 403';
    unchanged($before, 'token reused');
};

subtest 'per-IP rate limit' => sub {
    is submit()->{status}, 200, 'second request';
    is submit()->{status}, 200, 'third request';
    my $before = snapshot();
    my $res = submit();
    is $res->{status}, 429, 'fourth in the hour: 429';
    ok $res->dom->at('#request-refused'), 'said why';
    ok !$res->dom->at('form#request-form'), 'no form';
    unchanged($before, 'over the rate');
    my $ttl = $r->ttl(tk_key_rl_form_ip('127.0.0.1'));
    ok $ttl > 0 && $ttl <= 3600, "counter expires ($ttl)";
};

subtest 'mailbridge sends the confirmation: Auto-Submitted: auto-replied' => sub {
    my $sink = $tk->start_smtp_sink;
    MB::write_conf($tk, extra => "smtp.url = smtp://127.0.0.1:$sink->{port}\noutbox.claim_idle = 1\n");
    $tk->spawn('outbox', MB::bin(), '-c', MB::conf($tk), 'outbox');
    my @ids = $r->lrange(tk_key_ticket_arts($n), 0, -1);
    my $mid = $r->hget(tk_key_article($n, $ids[1]), 'message_id');
    TK::wait_for('the confirmation in smtp-sink', 20, sub { grep { /\Q$mid\E/ } $sink->{messages}->() })
        or diag TK::tail($tk->log_file('outbox'), 20);
    my ($mail) = grep { /\Q$mid\E/ } $sink->{messages}->();
    like $mail, qr/^Auto-Submitted: auto-replied\r?$/mi, 'Auto-Submitted: auto-replied';
    like $mail, qr/^To: .*zora\.zeugin\@example\.net/mi, 'to the sender';
    like $mail, qr/^From: .*legal\@example\.org/mi, 'from the group';
    like $mail, qr/^Subject: .*\[Ticket#$n\]/mi, 'ticket number in the subject';
    TK::wait_for('delivery sent', 10, sub { ($r->hget(tk_key_article($n, $ids[1]), 'delivery') // '') eq 'sent' });
};

subtest 'triggers act on a request as on mail (the change feed)' => sub {
    $r->del(tk_key_rl_form_ip('127.0.0.1'));          # as if the hour were over
    $tk->spawn('feed', MB::bin(), '-c', MB::conf($tk), 'run', '--role', 'feed');
    my $res = submit(subject => 'DRINGEND: Gewahrsam seit gestern');
    is $res->{status}, 200, 'sent';
    my $m = $res->dom->at('#request-done')->attr('data-ticket');
    TK::wait_for('the rule "dringend"', 20, sub { ($tk->ticket_hash($m)->{priority} // 0) == 4 })
        or diag TK::tail($tk->log_file('feed'), 20);
    is $tk->ticket_hash($m)->{priority}, 4, 'priority DRINGEND! by the shipped rule';
};

done_testing;
