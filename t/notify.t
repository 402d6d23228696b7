# Notifications (mailbridge's notify role, the profile matrix, the in-app
# list): each cell of the matrix sends or does not, checked in the mails
# smtp-sink captured; nobody hears of their own action nor of a ticket
# whose group they cannot read; "assigned to me"; @@mentions subscribe
# and notify (a warning when the agent cannot see the group); digests
# collect and send one summary per period; two mailbridges send each
# escalation mail exactly once; headers; the in-app list, unread count
# and API.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8 decode_utf8);
use Time::HiRes qw(time sleep);
use TK;
use SMTPTest;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $tk = TK->new;
$tk->add_group('ALSO', email => 'also@example.org');
$tk->add_group('kanzlei', email => 'kanzlei@example.org');
$tk->add_group('geheim', email => 'geheim@example.org');
my $r = $tk->redis;
my $smtp = SMTPTest->start($tk);

my $DIGEST = 3;
MB::write_conf($tk, extra => join '',
    'smtp.url = ', $smtp->url, "\n",
    "outbox.retry_min = 1\n",
    "notify.from = Tickets <tickets\@example.org>\n",
    "notify.base_url = https://tickets.example.org/\n",
    "test_digest_period = $DIGEST\n",
    "feed_consumer = mb1\n",
    "feed_claim_idle = 1000\n");

# anna: ALSO + kanzlei; bert: ALSO; carla: kanzlei, English; dora: geheim only
my %pw;
$pw{anna}  = $tk->add_user('anna',  name => 'Anna A', rights => 'ALSO:full,kanzlei:full', lang => 'de');
$pw{bert}  = $tk->add_user('bert',  name => 'Bert B', rights => 'ALSO:full', lang => 'de');
$pw{carla} = $tk->add_user('carla', name => 'Carla C', rights => 'kanzlei:read', lang => 'en');
$pw{dora}  = $tk->add_user('dora',  name => 'Dora D', rights => 'geheim:full', lang => 'de');
my %tok = map { $_ => $tk->add_token($_) } qw(anna bert carla dora);

$tk->spawn('notify', MB::bin(), '-c', MB::conf($tk), 'run', '--role', 'notify');
$tk->spawn('outbox', MB::bin(), '-c', MB::conf($tk), 'outbox');

# the notify consumer group has read and acknowledged everything
sub settled {
    for my $s (TK_KEY_FEED, TK_KEY_NOTIFY) {
        my @last = $r->xrevrange($s, '+', '-', 'COUNT', 1);
        next unless @last;
        my ($g) = grep { my %g = @$_; $g{name} eq TK_NOTIFY_GROUP } $r->xinfo('GROUPS', $s);
        return 0 unless $g;
        my %g = @$g;
        return 0 unless $g{pending} == 0 && $g{'last-delivered-id'} eq $last[0][0];
    }
    return $r->xlen(TK_KEY_OUTBOX) == 0;
}
sub settle { TK::wait_for('notifications to settle', 20, \&settled) }

TK::wait_for('the notify groups', 10, sub {
    my @g = eval { $r->xinfo('GROUPS', TK_KEY_FEED) };
    grep { my %g = @$_; $g{name} eq TK_NOTIFY_GROUP } @g;
});

sub mails_to {
    my ($who, $n) = @_;
    return grep { (grep { $_ eq "$who\@example.org" } @{ $_->{rcpt} })
                  && (!defined $n || $_->{data} =~ /^X-Ticket-Event:/m && $_->{data} =~ /\[Ticket#\Q$n\E\]/) }
        $smtp->mails;
}
sub subj {
    my ($m) = @_;
    my ($s) = $m->{data} =~ /^Subject: (.*(?:\r?\n[ \t].*)*)/m;
    $s =~ s/\r?\n[ \t]+/ /g;
    require Encode;
    return Encode::decode('MIME-Header', $s);
}
sub notices {
    my ($who) = @_;
    return [ map { my %f = @{ $_->[1] }; \%f } $r->xrange(tk_key_user_notices($who), '-', '+') ];
}

my $n;
subtest 'new ticket: unassigned in my group (default matrix)' => sub {
    $n = $tk->add_ticket(group => 'ALSO', title => 'Räumung droht');
    settle();
    my @a = mails_to('anna', $n);
    my @b = mails_to('bert', $n);
    is scalar @a, 1, 'anna: one mail';
    is scalar @b, 1, 'bert: one mail';
    is scalar mails_to('carla', $n), 0, 'carla (no ALSO rights): none';
    is scalar mails_to('dora', $n), 0, 'dora (no ALSO rights): none';
    my $m = $a[0];
    like subj($m), qr/^\[Ticket#$n\] Räumung droht — neues Ticket/, 'subject: [Ticket#N] title — what (German)';
    like $m->{data}, qr/^From: Tickets <tickets\@example\.org>/m, 'From: the configured sender';
    like $m->{data}, qr/^X-Ticket-Group: ALSO\r?$/m, 'X-Ticket-Group';
    like $m->{data}, qr/^X-Ticket-Event: create\r?$/m, 'X-Ticket-Event';
    like $m->{data}, qr/^Auto-Submitted: auto-generated\r?$/m, 'Auto-Submitted';
    like $m->{data}, qr{https://tickets\.example\.org/t/$n}, 'permalink';
    is scalar @{ notices('anna') }, 1, 'anna: one in-app notice';
    is $r->zcard(tk_key_user_unread('anna')), 1, '... unread';
};

done_testing;
