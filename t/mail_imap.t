# mailbridge run: IMAP polling against Dovecot.  Mails leave the INBOX
# only after their ticket exists; with Redis down they stay and are
# stored on a later poll; a mail stored before (crash between commit and
# move) is moved, not stored twice; SIGTERM ends the daemon cleanly.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Mail::IMAPClient;
use Time::HiRes qw(sleep time);
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = MB::setup();
my $dc = $tk->start_dovecot(users => { agent => 'secret', other => 'secret2' });

sub conf_for {
    my ($user, $pw, %o) = @_;
    MB::write_conf($tk, extra => join '',
        "mailbox.in.url = imap://127.0.0.1:$dc->{port}/INBOX\n",
        "mailbox.in.user = $user\n",
        "mailbox.in.password = $pw\n",
        "mailbox.in.group = ALSO\n",
        "mailbox.in.tls = none\n",
        "mailbox.in.poll = 1\n",
        "mailbox.in.processed = ", $o{processed} // 'Processed', "\n",
        $o{search} ? "mailbox.in.search = $o{search}\n" : '');
}

sub imap {
    my ($user, $pw) = @_;
    my $i = Mail::IMAPClient->new(Server => '127.0.0.1', Port => $dc->{port},
        User => $user // 'agent', Password => $pw // 'secret', Uid => 1)
        or die "IMAP login: $@";
    return $i;
}

sub append {
    my ($mail, @login) = @_;
    my $i = imap(@login);
    $i->append_string('INBOX', $mail) or die 'append: ' . $i->LastError;
    $i->logout;
}

sub count {
    my ($folder, @login) = @_;
    my $i = imap(@login);
    my $n = 0;
    if ($i->exists($folder)) {
        $i->examine($folder);
        $n = $i->message_count($folder) // 0;
    }
    $i->logout;
    return $n;
}

# run --once exits 0 when every poll went through, 75 when mail had to
# stay on the server (Redis or IMAP trouble)
sub run_once {
    my ($want) = @_;
    $want //= 0;
    my ($rc, $out, $err) = MB::mailbridge($tk, 'run', '--once');
    is $rc, $want, "run --once: exit $want" or diag $err;
    return $err;
}

sub stored_once {
    my (@ids) = @_;
    for my $id (@ids) {
        ok MB::where($tk, $id), "$id stored";
    }
}

conf_for('agent', 'secret');

subtest 'run picks up new mail, tickets in the mailbox group, INBOX emptied' => sub {
    my @mails = map { MB::mail(subject => "IMAP $_") } 1 .. 3;
    append($_) for @mails;
    is count('INBOX'), 3, 'three in INBOX';
    my $before = MB::ticket_count($tk);
    run_once();
    is MB::ticket_count($tk), $before + 3, 'three tickets';
    stored_once(map { MB::msgid_of($_) } @mails);
    my ($n) = MB::stored($tk, MB::msgid_of($mails[0]));
    is MB::ticket($tk, $n)->{group}, 'ALSO', 'group of the mailbox';
    is count('INBOX'), 0, 'INBOX empty';
    is count('Processed'), 3, 'moved to Processed';
};

subtest 'Redis down: mail stays in the INBOX, stored on a later poll' => sub {
    my @mails = map { MB::mail(subject => "Warten $_") } 1 .. 2;
    append($_) for @mails;
    $tk->stop_redis;
    my $err = run_once(75);
    like $err, qr/not stored, stays in INBOX/, 'logged';
    is count('INBOX'), 2, 'still in INBOX';
    $tk->start_redis;
    run_once();
    stored_once(map { MB::msgid_of($_) } @mails);
    is count('INBOX'), 0, 'INBOX empty after the poll';
};

subtest 'stored before (crash between commit and move): moved, not stored twice' => sub {
    my $mail = MB::mail(subject => 'Schon da');
    is((MB::deliver($tk, $mail))[0], 0, 'stored by deliver');
    my $articles = MB::article_count($tk);
    append($mail);
    my $err = run_once();
    like $err, qr/duplicate/, 'seen as duplicate';
    is MB::article_count($tk), $articles, 'no new article';
    is count('INBOX'), 0, 'moved anyway';
};

subtest 'daemon: Redis stopped mid-run, nothing lost, nothing duplicated' => sub {
    my @mails = map { MB::mail(subject => "Strom $_") } 1 .. 12;
    my $articles = MB::article_count($tk);
    $tk->spawn('mailbridge', MB::bin(), '-c', MB::conf($tk), 'run');
    append($_) for @mails[0 .. 3];
    TK::wait_for('first mails stored', 20, sub { !grep { !MB::where($tk, MB::msgid_of($_)) } @mails[0 .. 3] });
    $tk->stop_redis;
    append($_) for @mails[4 .. 11];
    sleep 3;                                  # a few polls fail
    ok count('INBOX') >= 8, 'mails wait in the INBOX while Redis is down';
    $tk->start_redis;
    TK::wait_for('all mails stored and moved', 30,
        sub { count('INBOX') == 0 && !grep { !MB::where($tk, MB::msgid_of($_)) } @mails });
    stored_once(map { MB::msgid_of($_) } @mails);
    is MB::article_count($tk), $articles + 12, 'exactly 12 new articles';
    my %seen;
    for my $m (@mails) {
        my ($n) = MB::stored($tk, MB::msgid_of($m));
        $seen{$n}++;
    }
    is scalar(keys %seen), 12, '12 distinct tickets';
    my $st = $tk->stop_proc('mailbridge', 'TERM', 10);
    is $st, 0, 'SIGTERM: exit 0';
    like TK::read_file($tk->log_file('mailbridge')), qr/stopped/, 'logged its stop';
    like TK::read_file($tk->log_file('mailbridge')), qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ mailbridge\[\d+\]: /m,
        'log lines carry timestamps';
};

subtest 'processed = expunge: gone from the server after storing' => sub {
    conf_for('other', 'secret2', processed => 'expunge');
    my $mail = MB::mail(subject => 'Weg damit');
    append($mail, 'other', 'secret2');
    run_once();
    stored_once(MB::msgid_of($mail));
    is count('INBOX', 'other', 'secret2'), 0, 'INBOX empty';
    is count('Processed', 'other', 'secret2'), 0, 'not moved anywhere';
};

subtest 'search = unseen: a failed store leaves the mail unseen' => sub {
    conf_for('other', 'secret2', search => 'unseen');
    my $mail = MB::mail(subject => 'Ungelesen');
    append($mail, 'other', 'secret2');
    $tk->stop_redis;
    run_once(75);
    my $i = imap('other', 'secret2');
    $i->select('INBOX');
    is scalar(@{ $i->unseen // [] }), 1, 'still unseen';
    $i->logout;
    $tk->start_redis;
    run_once();
    stored_once(MB::msgid_of($mail));
    is count('INBOX', 'other', 'secret2'), 0, 'moved';
};

subtest 'run --once under valgrind: no invalid accesses, no definite leaks' => sub {
    plan skip_all => 'valgrind not installed' unless -x '/usr/bin/valgrind';
    plan skip_all => 'valgrind and ASan do not mix (make asan)' if $ENV{TK_NGINX_PRELOAD};
    conf_for('agent', 'secret');
    my @mails = map { MB::mail(subject => "Valgrind $_") } 1 .. 2;
    append($_) for @mails;
    my $log = $tk->dir . '/valgrind-run.log';
    local $ENV{G_SLICE} = 'always-malloc';
    my ($rc, undef, $err) = TK::run_cmd('valgrind', '--leak-check=full',
        '--errors-for-leak-kinds=definite', '--error-exitcode=9', "--log-file=$log",
        MB::bin(), '-c', MB::conf($tk), 'run', '--once');
    is $rc, 0, 'clean' or diag TK::tail($log, 40), $err;
    stored_once(map { MB::msgid_of($_) } @mails);
};

subtest 'wrong password: logged, exit 75 for --once, nothing lost' => sub {
    conf_for('agent', 'wrong');
    append(MB::mail(subject => 'Passwort'));
    my ($rc, undef, $err) = MB::mailbridge($tk, 'run', '--once');
    is $rc, 75, 'exit 75';
    like $err, qr/Login denied|login|denied|failed/i, 'logged';
    is count('INBOX'), 1, 'mail still there';
};

subtest 'failing polls back off (1, 2, 4 s ... with poll = 1 s), and recover' => sub {
    # a port nothing listens on: each poll fails at once (a wrong
    # password would take Dovecot's auth_failure_delay)
    my $closed = Net::EmptyPort::empty_port();
    MB::write_conf($tk, extra => join '',
        "mailbox.in.url = imap://127.0.0.1:$closed/INBOX\n",
        "mailbox.in.user = agent\n", "mailbox.in.password = secret\n",
        "mailbox.in.group = ALSO\n", "mailbox.in.tls = none\n", "mailbox.in.poll = 1\n");
    $tk->spawn('mb-backoff', MB::bin(), '-c', MB::conf($tk), 'run');
    sleep 5.5;
    my $log = TK::read_file($tk->log_file('mb-backoff'));
    my $fails = () = $log =~ /poll failed \(\d+ in a row\)/g;
    cmp_ok $fails, '>=', 3, "retried ($fails failed polls in 5.5 s)";
    cmp_ok $fails, '<=', 4, 'not every second';
    like $log, qr/poll failed \(3 in a row\), next try in 4 s/, 'the delay doubles';
    $tk->stop_proc('mb-backoff', 'TERM', 10);
    conf_for('agent', 'secret');
    $tk->spawn('mb-backoff', MB::bin(), '-c', MB::conf($tk), 'run');
    TK::wait_for('the waiting mail stored', 15, sub { count('INBOX') == 0 });
    pass 'the mail that waited is fetched with the right password';
    $tk->stop_proc('mb-backoff', 'TERM', 10);
};

done_testing;
