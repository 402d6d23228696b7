#!/usr/bin/perl
# stress/mail_down.t -- the IMAP and the SMTP server down for minutes
# (STRESS_DOWN seconds, 120; STRESS_QUICK=1: 20), then back.  Mail waits
# on the IMAP server, replies wait in the outbox; both are retried with
# a growing delay (not once per poll interval), admins see the trouble
# on /admin/mail (the error of the last poll) and /admin/outbox (queued
# entries, their tries); when the servers are back everything arrives,
# once, without a restart of mailbridge.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use Mail::IMAPClient;
use Time::HiRes qw(sleep time);
use TK;
use SMTPTest;
require "$FindBin::Bin/../t/mail_lib.pl";
require "$FindBin::Bin/lib.pl";

plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $DOWN = ST::num('STRESS_DOWN', 120, 20);
my $NIN = 20;
my $NOUT = 20;

my $tk = TK->new;
$tk->add_group('legal', email => 'legal@example.org', all_agents => 1);
$tk->add_group('ALSO', email => 'also@example.org');
my $apw = $tk->add_user('admin', admin => 1, rights => 'legal:full,ALSO:full');
$tk->add_user('anna', rights => 'legal:full,ALSO:full');
my $token = $tk->add_token('anna');
my $dc = $tk->start_dovecot(users => { agent => 'secret' });
my $smtp = SMTPTest->start($tk);
MB::write_conf($tk, extra => join '', map { "$_\n" }
    "mailbox.in.url = imap://127.0.0.1:$dc->{port}/INBOX",
    'mailbox.in.user = agent', 'mailbox.in.password = secret',
    'mailbox.in.group = ALSO', 'mailbox.in.tls = none', 'mailbox.in.poll = 1',
    'mailbox.in.processed = Processed',
    'smtp.url = ' . $smtp->url, 'smtp.timeout = 5',
    'outbox.retry_min = 1', 'outbox.retry_max = 30', 'outbox.retry_for = 3600',
    'outbox.consumer = down', 'outbox.from = "Ticketsystem" <tickets@example.org>');

sub imap {
    my $i = Mail::IMAPClient->new(Server => '127.0.0.1', Port => $dc->{port},
        User => 'agent', Password => 'secret', Uid => 1);
    return $i || die "IMAP: $@";
}

# mails on the server, then the servers go down
my @in = map { MB::mail(subject => "Waehrend des Ausfalls $_") } 1 .. $NIN;
{ my $i = imap(); $i->append_string('INBOX', $_) for @in; $i->logout }
$tk->stop_proc('dovecot', 'TERM', 10);
$smtp->stop;

# replies written while SMTP is down
my ($seed) = do {
    my $m = MB::mail(subject => 'Antwortziel');
    MB::deliver($tk, $m, '--recipient', 'legal@example.org');
    MB::stored($tk, MB::msgid_of($m));
};
my $api = $tk->client;
my (@arts, %mids);
for my $k (1 .. $NOUT) {
    my $res = $api->api('POST', "/api/v1/tickets/$seed/articles", $token,
        content => $tk->json->encode({ type => 'reply', to => "k$k\@example.net",
            subject => "Antwort $k", body => "Text $k\n" }));
    die "reply: $res->{status}" unless $res->{status} == 201;
    push @arts, $res->json->{id};
    $mids{ MB::article($tk, $seed, $res->json->{id})->{message_id} } = 0;
}

my $t0 = time;
$tk->spawn('mailbridge', MB::bin(), '-c', MB::conf($tk), 'run');
sleep $DOWN;

my $log = TK::read_file($tk->log_file('mailbridge'));
my $polls = () = $log =~ /imap:in: poll failed/g;
note "IMAP: $polls failed polls in $DOWN s (poll interval 1 s)";
cmp_ok $polls, '>=', 3, 'the IMAP role kept trying';
cmp_ok $polls, '<', $DOWN / 2, 'with a growing delay, not every second';
my @tries = map { MB::article($tk, $seed, $_)->{delivery_tries} // 0 } @arts;
my ($max_tries) = sort { $b <=> $a } @tries;
note "outbox: up to $max_tries tries per reply in $DOWN s (retry_min 1 s, retry_max 30 s)";
cmp_ok $max_tries, '>=', 2, 'the outbox retried';
cmp_ok $max_tries, '<', $DOWN / 2, 'with backoff';
is scalar(grep { (MB::article($tk, $seed, $_)->{delivery} // '') eq 'queued' } @arts), $NOUT,
    'every reply still queued (not failed: retry_for is an hour)';
ok !MB::where($tk, MB::msgid_of($in[0])), 'no IMAP mail yet';

# what admins see
my $admin = $tk->login_client('admin', $apw);
my $page = $admin->get('/admin/mail');
is $page->{status}, 200, '/admin/mail';
my $err = $page->dom->at('td.error');
like $err ? $err->text : '', qr/\S/, '/admin/mail shows the error of the last poll: '
    . ($err ? $err->text : '');
my $ob = $admin->get('/admin/outbox');
is $ob->{status}, 200, '/admin/outbox';
my $total = $ob->dom->at('#outbox-total');
is $total ? $total->text : '', $NOUT, '/admin/outbox: the queued replies';
my @rows = $ob->dom->find('table#outbox tr[data-id]');
my ($tr) = map { $_->at('td.tries') } @rows;
like $tr ? $tr->text : '', qr/[1-9]/, '... with their tries';

# back
my $t_back = time;
$tk->spawn('dovecot', 'dovecot', '-F', '-c', "$dc->{dir}/dovecot.conf");
Net::EmptyPort::wait_port({ port => $dc->{port}, max_wait => 10 }) or die 'dovecot';
$smtp->restart;
my $ok = eval {
    TK::wait_for('the IMAP mail stored', 60, sub { !grep { !MB::where($tk, MB::msgid_of($_)) } @in });
    TK::wait_for('the replies sent', 60, sub {
        !grep { (MB::article($tk, $seed, $_)->{delivery} // '') ne 'sent' } @arts });
    1;
};
ok $ok, 'everything through after the servers came back' or diag $@;
my $after = time - $t_back;
note sprintf 'through %.0f s after the servers were back', $after;
for my $m ($smtp->mails) {
    my ($mid) = $m->{data} =~ /^Message-ID:\s*<([^>]+)>/mi;
    $mids{$mid}++ if defined $mid && exists $mids{$mid};
}
is scalar(grep { !$mids{$_} } keys %mids), 0, 'every reply arrived';
is scalar(grep { $mids{$_} > 1 } keys %mids), 0, 'none twice';
my %seen;
for my $n (keys %{ $tk->all_tickets }) {
    $seen{ MB::article($tk, $n, $_)->{message_id} // '' }++ for @{ MB::article_ids($tk, $n) };
}
is scalar(grep { ($seen{ MB::msgid_of($_) } // 0) != 1 } @in), 0, 'every IMAP mail stored once';
TK::wait_for('the next good poll', 40, sub { MB::where($tk, MB::msgid_of($in[-1])) });
my $e2 = $admin->get('/admin/mail')->dom->at('td.error');
unlike $e2 ? $e2->text : '', qr/connect|fail/i, '/admin/mail: the error is gone after a good poll';
ST::result(sprintf 'mail_down: IMAP+SMTP down %d s: %d failed IMAP polls (interval 1 s), up to %d outbox tries; '
    . '%d mails in, %d replies out %.0f s after the servers were back, none lost, none twice',
    $DOWN, $polls, $max_tries, $NIN, $NOUT, $after);

done_testing;
