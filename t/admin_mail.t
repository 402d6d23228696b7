# mailbridge records every IMAP poll in tk:mailbox:NAME (when, when it
# last worked, what went wrong, how many mails); admins see it on
# /admin/mail.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Mail::IMAPClient;
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = TK->new;
$tk->add_group($_) for qw(legal ALSO);
my $dc = $tk->start_dovecot(users => { agent => 'secret' });
my $r = $tk->redis;
my $pw = $tk->add_user('ada', admin => 1);
my $admin = $tk->login_client('ada', $pw);

sub conf_for {
    my ($password) = @_;
    MB::write_conf($tk, extra => join '',
        "mailbox.in.url = imap://127.0.0.1:$dc->{port}/INBOX\n",
        "mailbox.in.user = agent\n",
        "mailbox.in.password = $password\n",
        "mailbox.in.group = ALSO\n",
        "mailbox.in.tls = none\n",
        "mailbox.in.poll = 1\n");
}

sub status { my %h = $r->hgetall(sprintf TK_FMT_MAILBOX, 'in'); \%h }

my $i = Mail::IMAPClient->new(Server => '127.0.0.1', Port => $dc->{port},
    User => 'agent', Password => 'secret', Uid => 1) or die "IMAP: $@";
$i->append_string('INBOX', MB::mail()) or die $i->LastError;
$i->append_string('INBOX', MB::mail()) or die $i->LastError;
$i->logout;

subtest 'a good poll: time, success, two mails fetched, no error' => sub {
    conf_for('secret');
    my $before = time;
    my ($rc, $out, $err) = MB::mailbridge($tk, 'run', '--once');
    is $rc, 0, 'run --once: 0' or diag $err;
    my $s = status();
    cmp_ok $s->{last_poll}, '>=', $before, 'last_poll';
    is $s->{last_ok}, $s->{last_poll}, 'last_ok = last_poll';
    is $s->{fetched}, 2, 'fetched 2';
    is $s->{last_error}, '', 'no error';
    like $s->{url}, qr{^imap://127\.0\.0\.1:\d+/INBOX$}, 'url, no password';
    ok $r->sismember(TK_KEY_MAILBOXES, 'in'), 'in tk:mailboxes';
};

subtest 'a failing poll: the error, last_ok stays' => sub {
    my $ok = status()->{last_ok};
    conf_for('wrong');
    sleep 1;
    my ($rc) = MB::mailbridge($tk, 'run', '--once');
    is $rc, 75, 'run --once: 75';
    my $s = status();
    cmp_ok $s->{last_poll}, '>', $ok, 'polled again';
    is $s->{last_ok}, $ok, 'last_ok unchanged';
    like $s->{last_error}, qr/Login denied/i, 'the error says why';
    is $s->{fetched}, 0, 'fetched 0';
};

subtest '/admin/mail shows it (admins only)' => sub {
    my $res = $admin->get('/admin/mail');
    is $res->{status}, 200, 'status 200';
    my $row = $res->dom->at('table#mailboxes tr[data-mailbox=in]');
    ok $row, 'the mailbox';
    ok $row->has_class('failing'), 'marked failing';
    like $row->at('td.error')->text, qr/Login denied/i, 'its error';
    like $row->at('td.last-poll')->text, qr/\d\d:\d\d/, 'last poll';
    is $row->at('td.fetched')->text, '0', 'fetched';
    my $agent = $tk->login_client('anna', $tk->add_user('anna', rights => 'ALSO:full'));
    is $agent->get('/admin/mail')->{status}, 404, 'agent: 404';
};

done_testing;
