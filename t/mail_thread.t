# mailbridge threading and ticket state: replies by In-Reply-To and
# References (also to our own outbound mail), the subject tag only for
# participants, reopening from states 3-6, auto-generated mail and
# bounces.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = MB::setup();
$tk->add_user('tina', name => 'Tina T', rights => 'legal:full');

sub deliver_ok {
    my ($mail, $what, @args) = @_;
    my ($rc, undef, $err) = MB::deliver($tk, $mail, @args);
    is $rc, 0, "$what: exit 0" or diag $err;
    return MB::stored($tk, MB::msgid_of($mail));
}

sub counts_ok { is_deeply $tk->index_counts, $tk->expected_counts, $_[0] // 'index counts consistent' }

my $first = MB::mail(subject => 'Anzeige wegen Sitzblockade');
my ($n) = deliver_ok($first, 'first mail');
my $id1 = MB::msgid_of($first);

subtest 'reply by In-Reply-To lands in the ticket' => sub {
    my $reply = MB::mail(subject => 'Re: Anzeige wegen Sitzblockade', in_reply_to => "<$id1>");
    my ($rn, $a) = deliver_ok($reply, 'reply');
    is $rn, $n, 'same ticket';
    is $a->{in_reply_to}, $id1, 'in_reply_to stored';
    is scalar @{ MB::article_ids($tk, $n) }, 2, 'two articles';
    is MB::ticket($tk, $n)->{articles}, 2, 'article counter';
};

subtest 'reply by References only (newest known wins)' => sub {
    my $reply = MB::mail(subject => 'AW: etwas anderes', in_reply_to => undef,
        references => "<unknown\@nowhere.example> <$id1>");
    my ($rn) = deliver_ok($reply, 'reply');
    is $rn, $n, 'same ticket';
};

subtest 'reply to our own outbound mail (tk:mid: of an outbound article)' => sub {
    $tk->redis->set(tk_key_msgid('out-1@example.org'), "$n:999");
    my $reply = MB::mail(subject => 'Re: Ihre Anfrage', from => 'lawyer@kanzlei.example',
        in_reply_to => '<out-1@example.org>');
    my ($rn) = deliver_ok($reply, 'reply');
    is $rn, $n, 'same ticket';
};

subtest 'subject tag from a participant threads' => sub {
    my $m = MB::mail(subject => "Re: [Ticket#$n] noch eine Frage", message_id => '<tag-1@example.net>');
    my ($rn) = deliver_ok($m, 'tagged');
    is $rn, $n, 'same ticket';
};

subtest 'subject tag from a stranger starts a new ticket' => sub {
    my $before = MB::ticket_count($tk);
    my $m = MB::mail(subject => "[Ticket#$n] ich will das lesen", from => 'spy@evil.example');
    my ($rn) = deliver_ok($m, 'stranger');
    isnt $rn, $n, 'not threaded';
    is MB::ticket_count($tk), $before + 1, 'a new ticket';
    ok !$tk->redis->sismember(tk_key_participants($n), 'spy@evil.example'), 'not made a participant';
};

subtest 'tag of a ticket that does not exist: new ticket' => sub {
    my $m = MB::mail(subject => '[Ticket#999999] hallo');
    my ($rn) = deliver_ok($m, 'mail');
    ok $rn && $rn != 999999, 'new ticket';
};

subtest 'reopen: a customer reply to a ticket in state 3, 4, 5, 6 -> 2, owner kept' => sub {
    for my $state (3 .. 6) {
        my $t = $tk->add_ticket(title => "Status $state", group => 'legal', owner => 'tina',
            state => $state, customer => 'Bea Beispiel <bea@example.net>', body => 'Erste Mail');
        my $m = MB::mail(subject => "Re: [Ticket#$t] Status $state", from => 'Bea <bea@example.net>');
        my ($rn) = deliver_ok($m, "state $state");
        is $rn, $t, 'threaded';
        my $h = MB::ticket($tk, $t);
        is $h->{state}, 2, "state $state -> 2";
        is $h->{owner}, 'tina', 'owner kept';
        ok $h->{updated} >= $h->{created}, 'updated';
        my ($e) = grep { $_->{field} eq 'state' } @{ $tk->history($t) };
        is_deeply [ $e->{from}, $e->{to} ], [ "$state", '2' ], 'history entry';
    }
    counts_ok();
};

subtest 'a follow-up on new or open tickets keeps the state' => sub {
    for my $state (1, 2) {
        my $t = $tk->add_ticket(title => "Status $state", group => 'legal', state => $state,
            customer => 'bea@example.net', body => 'x');
        deliver_ok(MB::mail(subject => "[Ticket#$t]", from => 'bea@example.net'), "state $state");
        is MB::ticket($tk, $t)->{state}, $state, "state $state kept";
    }
};

subtest 'auto-generated mail never reopens' => sub {
    my $t = $tk->add_ticket(title => 'Wartet', group => 'legal', state => 3,
        customer => 'carl@example.net', body => 'x');
    my $m = MB::mail(subject => "Abwesenheitsnotiz: [Ticket#$t]", from => 'carl@example.net',
        'Auto-Submitted' => 'auto-replied');
    my ($rn, $a) = deliver_ok($m, 'auto-reply');
    is $rn, $t, 'threaded';
    like $a->{flags}, qr/\bauto\b/, 'article flag auto';
    is MB::ticket($tk, $t)->{state}, 3, 'still waiting';
    unlike MB::ticket($tk, $t)->{flags}, qr/auto/, 'a human ticket is not flagged auto';
};

subtest 'auto-generated first mails: ticket flag auto, owner partition "!"' => sub {
    my %cases = (
        'Auto-Submitted'   => [ 'Auto-Submitted' => 'auto-generated' ],
        'Precedence bulk'  => [ Precedence => 'bulk' ],
        'Precedence list'  => [ Precedence => 'list' ],
        'Precedence junk'  => [ Precedence => 'junk' ],
        'List-Id'          => [ 'List-Id' => '<news.example.org>' ],
        'X-Autoreply'      => [ 'X-Autoreply' => 'yes' ],
        'noreply sender'   => [ from => 'Shop <noreply@shop.example>' ],
        'no-reply sender'  => [ from => 'no-reply@bank.example' ],
        'MAILER-DAEMON'    => [ from => 'MAILER-DAEMON@mx.example' ],
        'Return-Path <>'   => [ 'Return-Path' => '<>' ],
    );
    for my $name (sort keys %cases) {
        my $m = MB::mail(subject => "Newsletter $name", @{ $cases{$name} });
        my ($rn, $a) = deliver_ok($m, $name);
        like MB::ticket($tk, $rn)->{flags}, qr/\bauto\b/, "$name: ticket flag";
        like $a->{flags}, qr/\bauto\b/, "$name: article flag";
        my $t = MB::ticket($tk, $rn);
        ok defined $tk->redis->zscore(tk_key_index($t->{group}, 1, '!', 'upd'), $rn),
            "$name: in the \"!\" (automatic) partition";
        ok !defined $tk->redis->zscore(tk_key_index($t->{group}, 1, '-', 'upd'), $rn),
            "$name: not among the unassigned";
    }
    my $m = MB::mail(subject => 'Null sender');
    my ($rn) = deliver_ok($m, 'null envelope sender', '--sender', '');
    like MB::ticket($tk, $rn)->{flags}, qr/\bauto\b/, '--sender "": auto';
    my $h = MB::mail(subject => 'Mensch', 'Auto-Submitted' => 'no');
    ($rn) = deliver_ok($h, 'Auto-Submitted: no');
    unlike MB::ticket($tk, $rn)->{flags} // '', qr/auto/, 'Auto-Submitted: no is a person';
};

# A ticket with an outbound article whose Message-ID we know.
sub outbound {
    my ($mid) = @_;
    my $t = $tk->add_ticket(title => 'Antwort raus', group => 'legal', state => 3,
        customer => 'dora@example.net', body => 'x');
    my $a = 90000 + $t;
    $tk->redis->hset(tk_key_article($t, $a), id => $a, ticket => $t, kind => 'out',
        message_id => $mid, flags => '');
    $tk->redis->set(tk_key_msgid($mid), "$t:$a");
    return ($t, $a);
}

sub dsn {
    my ($mid, $kind) = @_;
    my $orig = $kind eq 'headers'
        ? "Content-Type: text/rfc822-headers\r\n\r\nFrom: legal\@example.org\r\nTo: dora\@example.net\r\nMessage-ID: <$mid>\r\nSubject: Antwort\r\n"
        : "Content-Type: message/rfc822\r\n\r\nFrom: legal\@example.org\r\nTo: dora\@example.net\r\nMessage-ID: <$mid>\r\nSubject: Antwort\r\n\r\nText\r\n";
    return MB::mail(from => 'Mail Delivery System <MAILER-DAEMON@mx.example.org>',
        subject => 'Undelivered Mail Returned to Sender',
        'MIME-Version' => '1.0',
        'Content-Type' => 'multipart/report; report-type=delivery-status; boundary="B"',
        body => "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
            . "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
            . "Final-Recipient: rfc822; dora\@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            . "--B\r\n$orig\r\n--B--\r\n");
}

for my $kind (qw(message headers)) {
    subtest "bounce (returned $kind): attached to the ticket, outbound article flagged" => sub {
        my ($t, $out) = outbound("out-$kind\@example.org");
        my ($rn, $a) = deliver_ok(dsn("out-$kind\@example.org", $kind), 'bounce');
        is $rn, $t, 'in the ticket of the bounced mail';
        like $a->{flags}, qr/\bbounce\b/, 'article flag bounce';
        like $a->{flags}, qr/\bauto\b/, 'article flag auto';
        like MB::article($tk, $t, $out)->{flags}, qr/\bbounced\b/, 'outbound article flag bounced';
        is MB::ticket($tk, $t)->{state}, 3, 'no reopen';
        like $a->{body}, qr/sorry to have to inform/, 'report text';
    };
}

subtest 'a bounce for a mail we do not know: a new auto ticket' => sub {
    my ($rn, $a) = deliver_ok(dsn('unknown@example.org', 'message'), 'bounce');
    like MB::ticket($tk, $rn)->{flags}, qr/\bauto\b/, 'auto ticket';
};

counts_ok('index counts consistent at the end');

done_testing;
