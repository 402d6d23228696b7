# The trigger action "set tags" (issue 13): a rule adds its tags to the
# ticket through the shared write path (tag sets, history by the
# trigger), ticketctl refuses a bad tag list, the admin form has the field.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = MB::setup(extra => "feed_consumer = tagtrg\nfeed_claim_idle = 1000\n");
my $r  = $tk->redis;

my ($rc, $out, $err) = TK::run_cmd("$TK::BUILD/ticketctl", '--redis', $tk->redis_url,
    'trigger', 'add', 'bad', '--subject', 'x', '--set-tags', 'a{b}');
isnt $rc, 0, 'ticketctl refuses a bad tag list';
like "$out$err", qr/set_tags/, 'naming the field';

$tk->ctl('trigger', 'add', 'kuendigung', '--subject', 'K(ü|ue)ndigung', '--icase', '1',
    '--set-tags', 'Mietrecht, Kündigung,mietrecht');
my ($id) = grep { $r->hget("tk:trigger:$_", 'name') eq 'kuendigung' } $r->zrange(TK_KEY_TRIGGERS, 0, -1);
is $r->hget("tk:trigger:$id", TK_F_TRG_SET_TAGS), 'Mietrecht, Kündigung,mietrecht', 'stored as given';

$tk->spawn('feed', TK::mailbridge_bin(), '-c', MB::conf($tk), 'run', '--role', 'feed');
TK::wait_for('the feed role\'s consumer group', 60, sub {
    eval { grep { { @$_ }->{name} eq 'mailbridge' } $r->xinfo('GROUPS', TK_KEY_FEED) } });

my $mail = MB::mail(subject => 'Kündigung der Wohnung');
($rc, undef, $err) = MB::deliver($tk, $mail);
is $rc, 0, 'delivered' or diag $err;
my ($n) = MB::stored($tk, MB::msgid_of($mail));
TK::wait_for('the rule to tag the ticket', 15, sub { length($tk->ticket_hash($n)->{tags} // '') });
is $tk->ticket_hash($n)->{tags}, 'kündigung,mietrecht', 'tags added, normalised';
is $r->zscore(TK_PFX_TAG . 'mietrecht', $n), $tk->ticket_hash($n)->{updated}, 'tag set';
my ($hist) = grep { $_->{field} eq 'tags' } @{ $tk->history($n) };
is $hist->{by}, 'trigger:kuendigung', 'history by the trigger';

my $other = MB::mail(subject => 'Hausdurchsuchung');
MB::deliver($tk, $other);
my ($o) = MB::stored($tk, MB::msgid_of($other));
sleep 1;
is $tk->ticket_hash($o)->{tags}, '', 'a mail the rule does not match: no tags';

done_testing;
