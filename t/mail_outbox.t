#!/usr/bin/perl
# mail_outbox.t -- mailbridge's outbound side ("mailbridge outbox"):
# outbound articles queued in tk:{ix}:outbox exactly as the composer
# writes them (article hash + XADD in one MULTI, see queue_out below) are
# composed, sent to a real SMTP server (t/lib/SMTPTest.pm, or Postfix's
# smtp-sink) and their delivery recorded: headers and threading, Bcc,
# attachments, a reply threading back, SMTP down and back, kill -9
# between the server's accept and the ack, permanent failures with the
# author's notice, header injection, the backoff, PGP not available.

use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(decode encode);
use MIME::Base64 qw(decode_base64);
use MIME::QuotedPrint qw(decode_qp);
use Time::HiRes qw(time sleep);
use TK;
use SMTPTest;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $tk = MB::setup();
my $smtp = SMTPTest->start($tk);
my $conf_extra = join '', map { "$_\n" }
    'smtp.url = ' . $smtp->url,
    'outbox.retry_min = 1',
    'outbox.retry_max = 4',
    'outbox.retry_for = 600',
    'outbox.claim_idle = 1',
    'outbox.from = "Ticketsystem" <tickets@example.org>';
MB::write_conf($tk, extra => $conf_extra);
$tk->add_user('franka', email => 'franka@example.org', name => 'Franka Frist');
my $r = $tk->redis;

# ---- helpers -------------------------------------------------------------

# An inbound mail makes the ticket the answers go to: (N, its Message-ID).
sub new_ticket {
    my (%h) = @_;
    my $mail = MB::mail(%h);
    my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'legal@example.org');
    is $rc, 0, 'inbound mail stored' or diag $err;
    my ($n) = MB::stored($tk, MB::msgid_of($mail));
    return ($n, MB::msgid_of($mail));
}

# An outbound article + its outbox entry in one MULTI, per the contract
# (BRIEF "Outbound article"; what tk_article_write + tk_outbox_enqueue
# write).  Returns (article id, Message-ID).
my $mseq = 0;
sub queue_out {
    my ($n, %a) = @_;
    my $id = $r->incr('tk:seq:article');
    my $mid = $a{message_id} // sprintf 'tk.%d.%d.%x%04d@example.org', $n, $id, time, ++$mseq;
    my @atts = @{ delete $a{atts} // [] };
    my %f = (
        id => $id, ticket => $n, kind => 'out',
        from => '"Legal-Team" <legal@example.org>',
        to => 'Anna Aktiv <anna@example.net>', cc => '', bcc => '',
        subject => "[Ticket#$n] Re: Hausdurchsuchung",
        message_id => $mid, in_reply_to => '', references => '',
        body => "Hallo Anna,\n\nwir melden uns.\n\n-- \nLegal-Team\n",
        body_html => '', author => 'franka', time => int(time),
        attachments => scalar(@atts), attachment_names => join(' ', map { $_->{name} } @atts),
        size => 0, flags => '', crypt => '',
        %a,
    );
    $f{$_} = encode('UTF-8', $f{$_}) for keys %f;
    $r->multi;
    $r->hset("tk:{t:$n}:a:$id", %f);
    my $k = 0;
    for my $att (@atts) {
        $k++;
        $r->hset("tk:{t:$n}:a:$id:att:$k", name => encode('UTF-8', $att->{name}),
            content_type => $att->{content_type}, size => length $att->{data},
            disposition => 'attachment', content_id => '', data => $att->{data});
    }
    $r->rpush("tk:{t:$n}:articles", $id);
    $r->hincrby("tk:{t:$n}", 'articles', 1);
    $r->hincrby("tk:{t:$n}", 'rev', 1);
    $r->set("tk:mid:$mid", "$n:$id");
    $r->hset("tk:{t:$n}:a:$id", delivery => 'queued', delivery_tries => 0, delivery_time => int(time));
    $r->xadd('tk:{ix}:outbox', '*', ticket => $n, article => $id, kind => 'article');
    $r->exec;
    return ($id, $mid);
}

sub art { MB::article($tk, @_) }

sub wait_delivery {
    my ($n, $id, $state, $t) = @_;
    eval { TK::wait_for("delivery $state of $n:$id", $t // 15,
        sub { (art($n, $id)->{delivery} // '') eq $state }); 1 }
        or diag "outbox log:\n" . TK::tail($tk->log_file('outbox'), 20);
    return art($n, $id);
}

sub start_outbox {
    my $pid = $tk->spawn('outbox', MB::bin(), '-c', MB::conf($tk), 'outbox');
    return $pid;
}

sub restart_outbox_with {
    my ($extra) = @_;
    $tk->stop_proc('outbox', 'TERM', 5);
    MB::write_conf($tk, extra => $conf_extra . $extra);
    start_outbox();
}

# headers (unfolded, decoded) and body of a mail as received
sub parse_mail {
    my ($data) = @_;
    my ($head, $body) = split /\r?\n\r?\n/, $data, 2;
    $head =~ s/\r?\n[ \t]+/ /g;
    my %h;
    for (split /\r?\n/, $head) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        push @{ $h{lc $k} }, $v;
    }
    return (\%h, $body);
}
sub hdr { my ($h, $k) = @_; $h->{lc $k} ? decode('MIME-Header', $h->{lc $k}[0]) : undef }

sub mails_with_mid {
    my ($mid) = @_;
    return grep { $_->{data} =~ /^Message-ID:\s*<\Q$mid\E>/mi } $smtp->mails;
}

sub pending { my $p = $r->xpending('tk:{ix}:outbox', 'mailbridge'); ref $p ? $p->[0] : 0 }

# ---- sent: headers, threading, Cc, Bcc, attachments ---------------------

my ($n, $in_mid) = new_ticket(subject => 'Hausdurchsuchung');
start_outbox();

my $pdf = join '', map { chr(($_ * 7) % 256) } 0 .. 3000;
my ($a1, $mid1) = queue_out($n,
    subject => "[Ticket#$n] Re: Hausdurchsuchung – Frist läuft",
    cc => 'Bernd Beistand <bernd@example.net>',
    bcc => 'akte@example.org',
    in_reply_to => $in_mid, references => "older\@example.net $in_mid",
    body => "Hallo Anna,\n\ndie Frist läuft am Freitag ab.\n.\nZeile mit Punkt\n\n-- \nLegal-Team\n",
    atts => [ { name => 'Bescheid Übersicht.pdf', content_type => 'application/pdf', data => $pdf } ]);

my $art = wait_delivery($n, $a1, 'sent');
is $art->{delivery}, 'sent', 'article sent';
like $art->{delivery_info}, qr/^250 2\.0\.0 Ok: queued as SMTPTEST/, 'server reply stored';
is $art->{delivery_tries}, 1, 'one try';

my @m = mails_with_mid($mid1);
is scalar @m, 1, 'exactly one mail with the stored Message-ID';
my ($h, $body) = parse_mail($m[0]{data} // '');
is hdr($h, 'Message-ID'), "<$mid1>", 'Message-ID equals the stored one';
is hdr($h, 'Subject'), "[Ticket#$n] Re: Hausdurchsuchung – Frist läuft", 'subject (RFC 2047 decoded) with the tag';
like $h->{subject}[0], qr/=\?utf-8\?/i, 'non-ASCII subject RFC 2047 encoded';
like hdr($h, 'From'), qr/^"?Legal-Team"? <legal\@example\.org>$/, 'From as stored';
like hdr($h, 'To'), qr/anna\@example\.net/, 'To';
is scalar @{ $h->{cc} // [] }, 1, 'one Cc header';
like hdr($h, 'Cc'), qr/Bernd Beistand <bernd\@example\.net>/, 'Cc present';
ok !$h->{bcc}, 'no Bcc header';
unlike $m[0]{data}, qr/akte\@example\.org/, 'the Bcc address appears nowhere in the mail';
is_deeply [ sort @{ $m[0]{rcpt} } ], [ sort qw(anna@example.net bernd@example.net akte@example.org) ],
    'RCPT TO: To + Cc + Bcc';
is $m[0]{from}, 'legal@example.org', 'envelope sender is the group address';
is hdr($h, 'In-Reply-To'), "<$in_mid>", 'In-Reply-To';
is hdr($h, 'References'), "<older\@example.net> <$in_mid>", 'References';
ok hdr($h, 'Date'), 'Date';
is hdr($h, 'MIME-Version'), '1.0', 'MIME-Version';
ok !$h->{'user-agent'} && !$h->{'x-mailer'}, 'no User-Agent / X-Mailer';
like hdr($h, 'Content-Type'), qr{^multipart/mixed}, 'multipart/mixed';
my ($bnd) = $h->{'content-type'}[0] =~ /boundary="?([^";]+)"?/;
my @parts = grep { /\S/ && !/^--\s*$/ } split /\r?\n--\Q$bnd\E(?:--)?\r?\n?/, "\n$body";
my ($ph, $pb) = parse_mail($parts[0] // '');
like hdr($ph, 'Content-Type'), qr{text/plain; charset=utf-8}i, 'text/plain utf-8';
is lc hdr($ph, 'Content-Transfer-Encoding'), 'quoted-printable', 'quoted-printable';
is decode('UTF-8', decode_qp($pb =~ s/\r\n/\n/gr)) =~ s/\n+$//r,
    "Hallo Anna,\n\ndie Frist läuft am Freitag ab.\n.\nZeile mit Punkt\n\n-- \nLegal-Team",
    'body as stored (dot line survives)';
my ($ah, $ab) = parse_mail($parts[1] // '');
like $ah->{'content-disposition'}[0] // '', qr/attachment;\s*filename\*=utf-8''Bescheid%20%C3%9Cbersicht\.pdf/i,
    'attachment file name RFC 2231';
is decode_base64($ab), $pdf, 'attachment bytes intact';
is $r->xlen('tk:{ix}:outbox'), 0, 'entry XDEL\'d';
is pending(), 0, 'nothing pending';

# ---- the customer's reply threads back -----------------------------------

my $reply = MB::mail(subject => "Re: [Ticket#$n] Re: Hausdurchsuchung", in_reply_to => "<$mid1>",
    references => "<$in_mid> <$mid1>");
my ($rc) = MB::deliver($tk, $reply, '--recipient', 'legal@example.org');
is $rc, 0, 'reply delivered';
my ($rn) = MB::stored($tk, MB::msgid_of($reply));
is $rn, $n, 'the reply to the sent Message-ID threads into the ticket';

# ---- many mails share one connection ---------------------------------------

my $conns = $smtp->connections;
my @ids = map { (queue_out($n))[0] } 1 .. 5;
wait_delivery($n, $ids[-1], 'sent');
wait_delivery($n, $_, 'sent') for @ids;
is $smtp->connections, $conns, 'five more mails, no new connection (reused)';

# a kept connection the server dropped (idle timeout): reconnect at once
$smtp->set(close_after_data => 1);
my ($ra) = queue_out($n);
wait_delivery($n, $ra, 'sent');
my ($rb) = queue_out($n);
$art = wait_delivery($n, $rb, 'sent', 5);
is $art->{delivery_tries}, 1, 'dropped connection: sent on the first try, reconnected';
$smtp->reset;

# ---- header injection --------------------------------------------------------

my $before = () = $smtp->mails;
my ($a2, $mid2) = queue_out($n, subject => "[Ticket#$n] Hallo\r\nBcc: victim\@example.net");
$art = wait_delivery($n, $a2, 'failed');
is $art->{delivery}, 'failed', 'CR/LF in the subject: failed';
like $art->{delivery_info}, qr/Subject contains a line break.*header injection refused/, 'clear message';
ok !mails_with_mid($mid2), 'nothing sent for it';
ok !(grep { grep { /victim/ } @{ $_->{rcpt} } } $smtp->mails), 'nobody injected';
my ($a2b) = queue_out($n, to => "anna\@example.net\n, victim\@example.net");
$art = wait_delivery($n, $a2b, 'failed');
like $art->{delivery_info}, qr/^To contains a line break/, 'CR/LF in an address: failed';

# the author hears of it (notices for both)
TK::wait_for('notices', 10, sub { (grep { $_->{data} =~ /^Subject: .*Unzustellbar/mi } $smtp->mails) >= 2 });
my ($notice) = grep { $_->{data} =~ /^In-Reply-To:\s*<\Q$mid2\E>/mi } $smtp->mails;
ok $notice, 'failure notice threaded to the failed article';
($h, $body) = parse_mail($notice->{data} // '');
is_deeply $notice->{rcpt}, ['franka@example.org'], 'notice to the author';
is hdr($h, 'Auto-Submitted'), 'auto-generated', 'Auto-Submitted';
like hdr($h, 'From'), qr/tickets\@example\.org/, 'from outbox.from';
$body = decode('UTF-8', decode_qp($body =~ s/\r\n/\n/gr));
like $body, qr/Ticket #$n konnte nicht zugestellt werden/, 'German text with the ticket number';
like $body, qr/header injection refused/, 'with the reason';

# ---- permanent 5xx: failed, reply stored, notice -----------------------------

$smtp->set(rcpt => '550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown',
    reject_rcpt => 'nobody');
my ($a3, $mid3) = queue_out($n, to => 'nobody@example.net', subject => "[Ticket#$n] Ablehnung");
$art = wait_delivery($n, $a3, 'failed');
is $art->{delivery}, 'failed', '5xx to RCPT: failed';
is $art->{delivery_info}, '550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown',
    "the server's reply stored";
TK::wait_for('notice for 5xx', 10, sub { grep { $_->{data} =~ /^In-Reply-To:\s*<\Q$mid3\E>/mi } $smtp->mails });
($notice) = grep { $_->{data} =~ /^In-Reply-To:\s*<\Q$mid3\E>/mi } $smtp->mails;
like decode('UTF-8', decode_qp($notice->{data} =~ s/\r\n/\n/gr)), qr/User unknown/, 'notice carries the reply';

# a 5xx to the data itself is permanent too; 4xx/421 anywhere is not
$smtp->set(data_end => '554 5.7.1 Message rejected as spam', reject_rcpt => undef, rcpt => undef);
my ($a3b, $mid3b) = queue_out($n, author => '');
$art = wait_delivery($n, $a3b, 'failed');
is $art->{delivery_info}, '554 5.7.1 Message rejected as spam', '5xx after the data: failed with the reply';
for my $case ([greeting => '421 4.3.2 Service not available'], [mail => '452 4.3.1 Insufficient system storage'],
              [data => '451 4.3.0 Local error in processing']) {
    $smtp->reset;
    $smtp->set(@$case);
    my ($ax) = queue_out($n);
    TK::wait_for("$case->[0] $case->[1]", 15, sub { (art($n, $ax)->{delivery_tries} // 0) >= 1 });
    $art = art($n, $ax);
    is $art->{delivery}, 'queued', "$case->[1] (to " . ($case->[0] eq 'greeting' ? 'the connect' : uc $case->[0]) . "): queued";
    like $art->{delivery_info}, qr/^\Q$case->[1]\E/, 'reply kept';
    $smtp->reset;
    wait_delivery($n, $ax, 'sent', 20);
}
$smtp->set(rcpt => '550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown',
    reject_rcpt => 'nobody');

# a failing notice is never noticed again
$smtp->set(reject_rcpt => 'nobody|franka');
my ($a4) = queue_out($n, to => 'nobody@example.net');
wait_delivery($n, $a4, 'failed');
TK::wait_for('queue empty', 10, sub { $r->xlen('tk:{ix}:outbox') == 0 });
sleep 1.5;
is $r->xlen('tk:{ix}:outbox'), 0, 'failed notice: no further notice (no loop)';
like TK::read_file($tk->log_file('outbox')), qr/failure notice failed \(not noticed again\)/, 'logged';
$smtp->reset;

# ---- 4xx: queued, backoff grows, then sent -------------------------------------

$smtp->set(rcpt => '451 4.3.0 Greylisted, try again later');
my ($a5, $mid5) = queue_out($n);
my @due;
for my $try (1 .. 3) {
    TK::wait_for("try $try", 20, sub { (art($n, $a5)->{delivery_tries} // 0) >= $try });
    push @due, $r->zscore('tk:{ix}:outbox:retry', ($r->xrange('tk:{ix}:outbox', '-', '+'))[0][0]) // 0;
    $art = art($n, $a5);
    is $art->{delivery}, 'queued', "try $try: still queued";
    like $art->{delivery_info}, qr/^451 4\.3\.0 Greylisted/, "try $try: 4xx reply in delivery_info";
}
ok $due[1] - $due[0] > 1500 && $due[2] - $due[1] > $due[1] - $due[0] + 500,
    "backoff grows (due times @due)";
is pending(), 1, 'temporarily failed entry stays pending (not acked)';
my ($qrc, $queue) = $tk->ctl_run('outbox');
is $qrc, 0, 'ticketctl outbox';
like $queue, qr/^1 entries, 1 waiting for a retry$/m, 'admin sees the queue: counts';
like $queue, qr/^\d+-\d+\s+article\s+$n\s+$a5\s+queued\s+[3-9]\s+\S+ \S+\s+\d{4}-\S+ \S+\s+\S+:\d+\s+451 4\.3\.0 Greylisted/m,
    'admin sees the queue: entry with state, tries, next try, holder, last reply' or diag $queue;
$smtp->reset;
$art = wait_delivery($n, $a5, 'sent', 20);
is $art->{delivery}, 'sent', 'sent once the server takes it';
is scalar(mails_with_mid($mid5)), 1, 'exactly once';
is $r->zcard('tk:{ix}:outbox:retry'), 0, 'no retry left scheduled';

# ---- SMTP down: queued with the error, back up: sent exactly once --------------

$smtp->stop;
my ($a6, $mid6) = queue_out($n);
TK::wait_for('connect failure recorded', 15, sub { (art($n, $a6)->{delivery_tries} // 0) >= 1 });
$art = art($n, $a6);
is $art->{delivery}, 'queued', 'SMTP down: delivery queued';
like $art->{delivery_info}, qr/connect|Couldn't/i, 'the connect error in delivery_info';

# a restart of the outbox keeps the schedule (and the entry)
$tk->stop_proc('outbox', 'TERM', 5);
ok !$tk->alive('outbox'), 'outbox stops on TERM';
start_outbox();
$smtp->restart;
$art = wait_delivery($n, $a6, 'sent', 20);
is $art->{delivery}, 'sent', 'SMTP back: sent';
is scalar(mails_with_mid($mid6)), 1, 'exactly once';

# ---- kill -9 between the server's accept and the ack -----------------------

my $pid = $tk->pid('outbox');
$smtp->set(kill_after_data => $pid);
my ($a7, $mid7) = queue_out($n);
TK::wait_for('outbox killed', 15, sub { !$tk->alive('outbox') });
is scalar(mails_with_mid($mid7)), 1, 'the server took the mail';
is art($n, $a7)->{delivery}, 'queued', 'not recorded as sent (no ack before the crash)';
is pending(), 1, 'the entry is pending for the dead consumer';
delete $tk->{procs}{outbox};
start_outbox();
$art = wait_delivery($n, $a7, 'sent', 20);
is $art->{delivery}, 'sent', 'after the restart: sent (reclaimed with XAUTOCLAIM)';
my @dups = mails_with_mid($mid7);
is scalar @dups, 2, 'at most one duplicate';
is((() = $dups[1]{data} =~ /^Message-ID:\s*<\Q$mid7\E>/mig), 1, 'with the same Message-ID');
is pending(), 0, 'nothing pending';
like TK::read_file($tk->log_file('outbox')), qr/reclaimed 1 entry/, 'reclaim logged';

# ---- retries exhausted: failed, with the last error, and the author told ------

$smtp->set(rcpt => '451 4.7.1 Please try again later', reject_rcpt => 'late');
restart_outbox_with("outbox.retry_for = 3\n");
my ($a13, $mid13) = queue_out($n, to => 'late@example.net');
$art = wait_delivery($n, $a13, 'failed', 20);
like $art->{delivery_info}, qr/^gave up after \d+ attempts in 3 s; last error: 451 4\.7\.1 Please try again later$/,
    'temporary failures for longer than outbox.retry_for: failed with the last error';
cmp_ok $art->{delivery_tries}, '>=', 2, 'after several tries';
TK::wait_for('notice for exhausted retries', 10,
    sub { grep { $_->{data} =~ /^In-Reply-To:\s*<\Q$mid13\E>/mi } $smtp->mails });
pass 'the author is told';
$smtp->reset;
restart_outbox_with('');

# ---- TLS: STARTTLS with the certificate verified, and implicit TLS (smtps) -----

SKIP: {
    skip 'needs openssl and IO::Socket::SSL', 6
        unless -x '/usr/bin/openssl' && eval { require IO::Socket::SSL; 1 };
    my $d = $tk->dir;
    my ($crc, undef, $cerr) = TK::run_cmd('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-keyout', "$d/key.pem", '-out', "$d/cert.pem", '-days', '2', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1');
    is $crc, 0, 'self-signed certificate' or diag $cerr;
    @{$smtp}{qw(cert key)} = ("$d/cert.pem", "$d/key.pem");
    $smtp->restart;
    $smtp->set(starttls => 1);

    restart_outbox_with("smtp.starttls = require\nsmtp.ca_file = $d/cert.pem\n");
    my ($t1, $tm1) = queue_out($n);
    wait_delivery($n, $t1, 'sent');
    my ($tl) = mails_with_mid($tm1);
    ok $tl && $tl->{tls}, 'STARTTLS required, certificate verified with smtp.ca_file: sent over TLS';

    restart_outbox_with("smtp.starttls = require\n");
    my ($t2, $tm2) = queue_out($n);
    TK::wait_for('untrusted certificate', 15, sub { (art($n, $t2)->{delivery_tries} // 0) >= 1 });
    is art($n, $t2)->{delivery}, 'queued', 'certificate not trusted: queued';
    like art($n, $t2)->{delivery_info}, qr/certificate|SSL/i, 'says why';
    ok !mails_with_mid($tm2), 'nothing sent';
    $smtp->reset;

    my $smtps = SMTPTest->start($tk, name => 'smtps', implicit_tls => 1,
        cert => "$d/cert.pem", key => "$d/key.pem");
    my $extra = "smtp.ca_file = $d/cert.pem\n";
    $tk->stop_proc('outbox', 'TERM', 5);
    MB::write_conf($tk, extra => ($conf_extra =~ s/^smtp\.url = .*$/'smtp.url = ' . $smtps->url/mer) . $extra);
    start_outbox();
    wait_delivery($n, $t2, 'sent', 20);
    my ($s1) = grep { $_->{data} =~ /^Message-ID:\s*<\Q$tm2\E>/mi } $smtps->mails;
    ok $s1 && $s1->{tls}, 'smtps:// (implicit TLS): sent';
    $smtps->stop;
    $smtp->{$_} = undef for qw(cert key);
    $smtp->restart;
    restart_outbox_with('');
}

# ---- TERM while sending: the mail in flight finishes, the rest is handed on ---

$tk->stop_proc('outbox', 'TERM', 5);
$smtp->set(stall_after_data => 2);
my @hand = map { [ queue_out($n) ] } 1 .. 3;
start_outbox();                      # takes all three in one XREADGROUP
sleep 1;                             # the first one's 250 is stalled
$tk->stop_proc('outbox', 'TERM', 10);
$smtp->reset;
is art($n, $hand[0][0])->{delivery}, 'sent', 'TERM during the SMTP dialogue: that mail is finished and recorded';
is $r->zcard('tk:{ix}:outbox:retry'), 2, 'the two taken but untried entries are handed on (due now)';
restart_outbox_with("outbox.claim_idle = 600\n");
wait_delivery($n, $_->[0], 'sent', 10) for @hand;
is scalar(grep { mails_with_mid($_->[1]) == 1 } @hand), 3, 'next consumer sends them at once (no claim_idle wait), each once';
restart_outbox_with('');

# ---- PGP asked for but not built in: waits, never plain ----------------------

SKIP: {
    skip 'mailbridge built with crypto', 3 if `nm -C @{[ TK::mailbridge_bin() ]} 2>/dev/null` =~ /mb_crypto_protect/;
    my ($a8, $mid8) = queue_out($n, crypt => 'encrypt,sign');
    TK::wait_for('pgp try', 15, sub { (art($n, $a8)->{delivery_tries} // 0) >= 1 });
    is art($n, $a8)->{delivery}, 'queued', 'encrypt asked, no PGP: queued';
    like art($n, $a8)->{delivery_info}, qr/PGP not available/, 'says why';
    ok !mails_with_mid($mid8), 'never sent in plain text';
}

# ---- AUTH, and STARTTLS required but not offered ------------------------------


$smtp->set(auth => 'legal-relay:geheim 1');
restart_outbox_with("smtp.user = legal-relay\nsmtp.password = geheim 1\n");
my ($a10, $mid10) = queue_out($n);
$art = wait_delivery($n, $a10, 'sent');
is $art->{delivery}, 'sent', 'AUTH PLAIN with smtp.user/smtp.password: sent';
is TK::read_file($smtp->dir . '/auth'), "legal-relay\n", 'the relay saw our login';

restart_outbox_with("smtp.user = legal-relay\nsmtp.password = falsch\n");
my ($a11, $mid11) = queue_out($n);
TK::wait_for('auth failure', 15, sub { (art($n, $a11)->{delivery_tries} // 0) >= 1 });
$art = art($n, $a11);
is $art->{delivery}, 'queued', 'wrong password (535 to AUTH): temporary, the admin fixes the config';
like $art->{delivery_info}, qr/535 5\.7\.8/, 'the reply in delivery_info';
ok !mails_with_mid($mid11), 'nothing sent';
$smtp->reset;

restart_outbox_with("smtp.starttls = require\n");
TK::wait_for('starttls failure', 15, sub { (art($n, $a11)->{delivery_tries} // 0) >= 2 });
$art = art($n, $a11);
is $art->{delivery}, 'queued', 'STARTTLS required, server has none: queued';
like $art->{delivery_info}, qr/STARTTLS|SSL|TLS/i, 'says TLS';
ok !mails_with_mid($mid11), 'never sent in plain text';
restart_outbox_with('');
$art = wait_delivery($n, $a11, 'sent', 20);
is scalar(mails_with_mid($mid11)), 1, 'sent once the config allows it';

# ---- Redis away and back: the role waits (no busy loop) and carries on -------

my $log0 = () = TK::read_file($tk->log_file('outbox')) =~ /\n/g;
$tk->stop_redis;
sleep 3;
ok $tk->alive('outbox'), 'Redis down: the outbox role keeps running';
my $log1 = () = TK::read_file($tk->log_file('outbox')) =~ /\n/g;
cmp_ok $log1 - $log0, '<', 15, 'and retries with backoff, not in a loop (' . ($log1 - $log0) . ' log lines in 3 s)';
$tk->start_redis;
$r = $tk->redis;
my ($a12, $mid12) = queue_out($n);
$art = wait_delivery($n, $a12, 'sent', 40);
is $art->{delivery}, 'sent', 'Redis back: queued mail goes out';
is scalar(mails_with_mid($mid12)), 1, 'once';

# ---- Postfix's smtp-sink: plain capture -----------------------------------------

$tk->stop_proc('outbox', 'TERM', 5);
$r->del('tk:{ix}:outbox:retry');
$r->del('tk:{ix}:outbox');
my $sink = $tk->start_smtp_sink;
MB::write_conf($tk, extra => $conf_extra =~ s/^smtp\.url = .*$/smtp.url = smtp:\/\/127.0.0.1:$sink->{port}/mr);
start_outbox();
my ($a9, $mid9) = queue_out($n, subject => "[Ticket#$n] über smtp-sink");
$art = wait_delivery($n, $a9, 'sent');
like $art->{delivery_info}, qr/^250/, 'smtp-sink accepted';
TK::wait_for('sink file', 10, sub { grep { /\Q$mid9\E/ } $sink->{messages}->() });
my ($file) = grep { /\Q$mid9\E/ } $sink->{messages}->();
like $file, qr/^X-Rcpt-Args: .*/m, 'smtp-sink wrote the mail';
like $file, qr/^Subject: \[Ticket#$n\] =\?utf-8\?b\?w7xiZXI=\?= smtp-sink$/mi, 'subject encoded (RFC 2047)';
unlike $file, qr/^(Cc|Bcc):/mi, 'no empty Cc, no Bcc header';

done_testing;
