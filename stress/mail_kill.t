#!/usr/bin/perl
# stress/mail_kill.t -- kill -9 at random points while mail flows.
#
# STRESS_MAILS mails (1000) arrive, half over IMAP (Dovecot, the imap
# role of "mailbridge run") and half through "mailbridge deliver" (a
# small MTA here retries on 75 and on a killed deliver, like Postfix's
# pipe(8)); STRESS_REPLIES replies (200), queued through the API, go out
# through the outbox role to t/lib/SMTPTest.pm.  Meanwhile a killer, at
# random intervals, sends SIGKILL to: a role (imap, feed, outbox), the
# supervisor with all its roles, Redis (AOF, appendfsync always; started
# again after up to 2 s), a running deliver, or the outbox between the
# server's taking a mail (after DATA) and its 250.  Afterwards: every
# inbound mail is an article exactly once (and its own ticket), the INBOX
# is empty, the index counts match the tickets, every reply was sent and
# is marked sent, no mail went out that was not queued (a duplicate with
# the same Message-ID is allowed and counted), the outbox is empty.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use Mail::IMAPClient;
use POSIX ();
use Time::HiRes qw(sleep time);
use TK;
use SMTPTest;
require "$FindBin::Bin/../t/mail_lib.pl";
require "$FindBin::Bin/lib.pl";

plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $N = ST::num('STRESS_MAILS', 1000, 200);
my $R = ST::num('STRESS_REPLIES', 200, 40);
# the mails are handed over spread across this many seconds
my $D = ST::num('STRESS_IN_SECONDS', 120, 30);
my $seed = ST::seed();
my $t0 = time;

my $tk = TK->new(redis_extra => "appendfsync always\n");
$tk->add_group('legal', email => 'legal@example.org');
$tk->add_group('ALSO', email => 'also@example.org');
my $token_user = 'anna';
$tk->add_user($token_user, rights => 'legal:full,ALSO:full');
my $token = $tk->add_token($token_user);
my $dc = $tk->start_dovecot(users => { agent => 'secret' });
my $smtp = SMTPTest->start($tk);
# a little time per mail, so that the sending overlaps the kills
$smtp->set(stall_after_data => sprintf '%.3f', $D / $R / 2);

MB::write_conf($tk, log_level => 'info', extra => join '', map { "$_\n" }
    "mailbox.in.url = imap://127.0.0.1:$dc->{port}/INBOX",
    'mailbox.in.user = agent',
    'mailbox.in.password = secret',
    'mailbox.in.group = ALSO',
    'mailbox.in.tls = none',
    'mailbox.in.poll = 1',
    'mailbox.in.processed = Processed',
    'smtp.url = ' . $smtp->url,
    'smtp.timeout = 5',
    'outbox.retry_min = 1',
    'outbox.retry_max = 2',
    'outbox.retry_for = 3600',
    'outbox.claim_idle = 2',
    'outbox.consumer = stress',
    'outbox.from = "Ticketsystem" <tickets@example.org>',
    'feed_claim_idle = 1000',
    'stop_timeout = 3');

sub imap {
    my $i = Mail::IMAPClient->new(Server => '127.0.0.1', Port => $dc->{port},
        User => 'agent', Password => 'secret', Uid => 1);
    return $i || die "IMAP login: $@";
}

sub folder_count {
    my ($folder) = @_;
    my $i = eval { imap() } or return -1;
    my $n = 0;
    if ($i->exists($folder)) { $i->examine($folder); $n = $i->message_count($folder) // 0 }
    $i->logout;
    return $n;
}

# ---- tickets to reply to, and the replies (queued before the faults) ----

my @reply_tickets;
for my $k (1 .. 10) {
    my $m = MB::mail(subject => "Antwortziel $k");
    my ($rc, undef, $err) = MB::deliver($tk, $m, '--recipient', 'legal@example.org');
    die "seed mail: $rc $err" if $rc;
    my ($n) = MB::stored($tk, MB::msgid_of($m));
    push @reply_tickets, $n;
}
my $api = $tk->client;
my (%reply_mid, @reply_art);
for my $k (1 .. $R) {
    my $n = $reply_tickets[ $k % @reply_tickets ];
    my $res = $api->api('POST', "/api/v1/tickets/$n/articles", $token,
        content => $tk->json->encode({ type => 'reply', to => "kundin$k\@example.net",
            subject => "Antwort $k", body => "Hallo,\n\nAntwort Nummer $k.\n" }));
    die "reply $k: $res->{status} $res->{content}" unless $res->{status} == 201;
    my $id = $res->json->{id};
    my $mid = MB::article($tk, $n, $id)->{message_id} or die "reply $k: no message_id";
    $reply_mid{$mid} = 0;
    push @reply_art, [ $n, $id ];
}
is scalar(keys %reply_mid), $R, "$R replies queued, each its own Message-ID";

# ---- the inbound mails ----------------------------------------------------

my (@imap_mails, @deliver_mails);
for my $k (1 .. $N) {
    my $m = MB::mail(subject => "Stress $k $seed", body => "Mail $k von $N.\r\n" x 5);
    push @{ $k % 2 ? \@imap_mails : \@deliver_mails }, $m;
}
my @in_mids = map { MB::msgid_of($_) } @imap_mails, @deliver_mails;

my $stat = $tk->dir . '/stress-stat';
mkdir $stat;

# IMAP: APPEND in small batches, spread over time
sub appender {
    my @todo = @imap_mails;
    while (@todo) {
        my $i = eval { imap() };
        unless ($i) { sleep 0.5; next }
        for (1 .. 10) {
            my $m = shift @todo // last;
            unless ($i->append_string('INBOX', $m)) { unshift @todo, $m; last }
        }
        $i->logout;
        sleep rand(2 * $D / (@imap_mails / 10));
    }
}

# the MTA: deliver until exit 0; sometimes kill -9 the deliver under way
sub mta {
    my ($kills, $defers) = (0, 0);
    my $in = $tk->dir . '/mta-mail';
    for my $m (@deliver_mails) {
        TK::write_file($in, $m);
        while (1) {
            my $pid = fork // die;
            if (!$pid) {
                open STDIN, '<', $in; open STDOUT, '>', '/dev/null';
                open STDERR, '>>', $tk->dir . '/deliver.log';
                { exec MB::bin(), '-c', MB::conf($tk), 'deliver', '--recipient', 'legal@example.org' }
                POSIX::_exit(127);
            }
            if (rand() < 0.08) {
                sleep rand 0.06;
                kill 'KILL', $pid;
            }
            waitpid $pid, 0;
            if ($? == 0) { sleep rand(2 * $D / @deliver_mails); last }
            if ($? & 127) { $kills++ } else { $defers++ }
            sleep 0.1;
        }
    }
    TK::write_file("$stat/mta", "$kills $defers\n");
}

my %gen;
for my $g ([ appender => \&appender ], [ mta => \&mta ]) {
    my $pid = fork // die;
    if (!$pid) { $tk->{stopped} = 1; @TK::INSTANCES = (); $g->[1]->(); POSIX::_exit(0) }
    $gen{ $g->[0] } = $pid;
}

# ---- mailbridge run, the killer -------------------------------------------

sub start_mb { $tk->spawn('mailbridge', MB::bin(), '-c', MB::conf($tk), 'run') }
start_mb();

sub gens_running { grep { waitpid($gen{$_}, POSIX::WNOHANG()) == 0 } sort keys %gen }
my %done_gen;
sub gens_left {
    for (keys %gen) { $done_gen{$_} = 1 if !$done_gen{$_} && waitpid($gen{$_}, POSIX::WNOHANG()) != 0 }
    return grep { !$done_gen{$_} } keys %gen;
}

sub inbound_stored { scalar grep { MB::where($tk, $_) } @in_mids }

sub all_sent {
    my $r = eval { $tk->redis } or return 0;
    for my $a (@reply_art) {
        my $d = eval { $r->hget(tk_key_article(@$a), 'delivery') } // return 0;
        return 0 unless $d eq 'sent';
    }
    return 1;
}

my %kills;
my $kill_for = ST::num('STRESS_KILL_SECONDS', 0, 0);   # 0: until the mail is through
my $deadline = time + ST::num('STRESS_TIMEOUT', 900, 300);
while (time < $deadline) {
    sleep 0.5 + rand 2;
    my $left = gens_left();
    my $busy = $left || !all_sent() || eval { inbound_stored() } != $N;
    last unless $busy || ($kill_for && time - $t0 < $kill_for);
    last if !$left && $kills{total} && $kills{total} > 400;
    my $x = rand;
    my $mb = $tk->pid('mailbridge');
    if ($x < 0.35) {
        my $k = ST::kids($mb);
        my @roles = grep { /^mb-(imap|feed|outbox)$/ } sort keys %$k;
        next unless @roles;
        my $role = $roles[ int rand @roles ];
        kill 'KILL', $k->{$role};
        $kills{$role}++;
    } elsif ($x < 0.55) {
        my @all = ($mb, values %{ ST::kids($mb) });
        kill 'KILL', @all;
        waitpid $mb, 0;
        delete $tk->{procs}{mailbridge};
        $kills{supervisor}++;
        sleep rand 1;
        start_mb();
    } elsif ($x < 0.75) {
        ST::redis_crash($tk, rand 2);
        $kills{redis}++;
    } else {
        my $ob = ST::kids($mb)->{'mb-outbox'} or next;
        $smtp->set(kill_after_data => $ob);
        $kills{outbox_after_data}++;
    }
    $kills{total}++;
}
$smtp->set(kill_after_data => undef);
note 'kills: ' . join ', ', map { "$_ $kills{$_}" } sort keys %kills;
ok $kills{total} && $kills{total} >= 5, "killed $kills{total} times";
ok !gens_left(), 'every mail was handed over (APPEND, deliver)';

# settle: the daemon up, everything through
start_mb() unless $tk->alive('mailbridge');
my $ok = eval {
    TK::wait_for('every inbound mail stored', 300, sub { inbound_stored() == $N });
    TK::wait_for('the INBOX empty', 120, sub { folder_count('INBOX') == 0 });
    TK::wait_for('every reply sent', 300, \&all_sent);
    1;
};
ok $ok, 'converged' or diag $@;
my $elapsed = time - $t0;

# ---- the counts -------------------------------------------------------------

my $r = $tk->redis;
my (%seen, $articles_in, $tickets);
for my $n (1 .. ($r->get(TK_KEY_SEQ_TICKET) // 0)) {
    next unless $r->exists(tk_key_ticket($n));
    $tickets++;
    for my $id ($r->lrange(tk_key_ticket_arts($n), 0, -1)) {
        my ($kind, $mid) = $r->hmget(tk_key_article($n, $id), 'kind', 'message_id');
        next unless ($kind // '') eq 'in';
        $articles_in++;
        $seen{$mid // ''}++;
    }
}
my @missing = grep { !$seen{$_} } @in_mids;
my @twice = grep { $seen{$_} > 1 } @in_mids;
is scalar @missing, 0, "no inbound mail lost ($N)" or diag "missing: @missing[0 .. 4]";
is scalar @twice, 0, 'no inbound mail stored twice' or diag "twice: @twice[0 .. 4]";
is $articles_in, $N + 10, 'inbound articles: the mails and the 10 seed mails, nothing else';
is $tickets, $N + 10, 'one ticket per mail';
is folder_count('Processed'), scalar @imap_mails, 'every IMAP mail moved to Processed, once';
is_deeply $tk->index_counts, $tk->expected_counts, 'index counts equal the tickets (nothing half-written)';

my ($sent, $dups, $foreign) = (0, 0, 0);
for my $m ($smtp->mails) {
    my ($mid) = $m->{data} =~ /^Message-ID:\s*<([^>]+)>/mi;
    if (!defined $mid || !exists $reply_mid{$mid}) { $foreign++; next }
    $reply_mid{$mid}++;
}
my @unsent = grep { !$reply_mid{$_} } keys %reply_mid;
$dups += $reply_mid{$_} - 1 for grep { $reply_mid{$_} > 1 } keys %reply_mid;
is scalar @unsent, 0, "every reply reached the SMTP server ($R)";
is $foreign, 0, 'no mail that was not queued';
ok all_sent(), 'every reply marked sent';
is $r->xlen(TK_KEY_OUTBOX), 0, 'the outbox stream is empty';
my $p = $r->xpending(TK_KEY_OUTBOX, 'mailbridge');
is ref $p ? $p->[0] : 0, 0, 'nothing pending in the outbox group';

my ($mta_kills, $mta_defers) = split ' ', TK::read_file("$stat/mta");
my $line = sprintf "mail_kill: %d mails in (%d IMAP, %d deliver), %d replies out, %.0f s; "
    . "kills: %s; deliver killed %d, deferred (75) %d; duplicate sends %d; seed %d\n",
    $N, scalar @imap_mails, scalar @deliver_mails, $R, $elapsed,
    join(', ', map { "$_ $kills{$_}" } sort keys %kills), $mta_kills // 0, $mta_defers // 0,
    $dups, $seed;
note $line;
if (open my $fh, '>>', "$TK::ROOT/build/stress-results.txt") { print $fh scalar(gmtime) . " $line" }

done_testing;
