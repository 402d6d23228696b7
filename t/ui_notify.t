# Notifications in a real browser (headless Chromium via playwright-core,
# t/ui/): the bell with the unread count in the page head, the matrix on
# the profile page and the list at 1280x800 and on a 390x844 phone (no
# sideways scrolling, boxes big enough to tap), and "@@bei" in the
# composer suggesting the agent bert.  Screenshots notify-profile-* and
# notify-list-* go to build/artifacts/ (and into docs/img/ for the user
# guide).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;
use TKUI;
require "$FindBin::Bin/mail_lib.pl";

TKUI::need_browser();
plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $tk = TK->new;
$tk->standard_groups;
my $r = $tk->redis;
MB::write_conf($tk);
my $pw = $tk->add_user('uta', name => 'Uta Oberfläche', rights => 'ALSO:full', lang => 'de');
$tk->add_user('bert', name => 'Bert Beispiel', rights => 'ALSO:full');
$tk->spawn('notify', MB::bin(), '-c', MB::conf($tk), 'run', '--role', 'notify');
TK::wait_for('the notify group', 10, sub {
    grep { my %g = @$_; $g{name} eq TK_NOTIFY_GROUP } eval { $r->xinfo('GROUPS', TK_KEY_FEED) } });

my @n = map { $tk->add_ticket(group => 'ALSO', title => $_->[0], customer => $_->[1]) } (
    [ 'Fristverlängerung für die Stellungnahme', 'Maria Musterfrau <maria@example.org>' ],
    [ 'Vorladung als Zeugin', 'Kim Sommer <kim@example.net>' ],
    [ 'Bußgeldbescheid nach Sitzblockade', 'Lena K. <lena@example.net>' ],
);
$tk->ctl('ticket', 'update', $n[1], '--owner', 'uta');
$tk->ctl('ticket', 'update', $n[0], '--owner', 'uta');
TK::wait_for('notices', 10, sub { $r->zcard(tk_key_user_unread('uta')) >= 5 });
# as the timers role writes it when the SLA runs out
$r->xadd(TK_KEY_NOTIFY, '*', event => TK_NOTIFY_ESCALATED, ticket => $n[0], group => 'ALSO',
    owner => 'uta', due => time, time => time);
TK::wait_for('the escalation notice', 10, sub { $r->zcard(tk_key_user_unread('uta')) >= 6 });
my $unread = $r->zcard(tk_key_user_unread('uta'));
# one read already, so the list shows both kinds
my ($oldest) = $r->xrange(tk_key_user_notices('uta'), '-', '+', 'COUNT', 1);
$r->zrem(tk_key_user_unread('uta'), (split /-/, $oldest->[0])[1]);
$unread--;

my $out = TKUI::artifacts('notify-*.png');

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{TICKET} = $n[2];
local $ENV{MENTION} = 'bei';   # bert's name: Bert Beispiel
local $ENV{OUT} = $out;
my $res = TKUI::run_script('ui_notify.js');
note "Chromium $res->{browser}";

for my $view (qw(desktop mobile)) {
    my $v = $res->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        ok $v->{overview}{bell} && $v->{overview}{bell}{visible}, 'the bell is in the page head';
        cmp_ok $v->{overview}{bell}{right}, '<=', $width, '... on the screen';
        is $v->{overview}{badge}, $unread, "with the unread count ($unread)";
        cmp_ok $v->{overview}{scrollWidth}, '<=', $width, 'overview: no sideways scrolling';
        is $v->{profile}{page}, 'profile', 'profile page';
        ok $v->{profile}{matrix} && $v->{profile}{matrix}{visible}, 'the matrix is shown';
        is $v->{profile}{boxes}, 16, 'sixteen boxes, each at least 16 px';
        cmp_ok $v->{profile}{scrollWidth}, '<=', $width, 'profile: no sideways scrolling';
        is $v->{list}{page}, 'notifications', 'the list';
        cmp_ok $v->{list}{notices}, '>=', $unread + 1, 'every notice';
        is $v->{list}{unread}, $unread, 'the unread ones marked';
        cmp_ok $v->{list}{scrollWidth}, '<=', $width, 'list: no sideways scrolling';
        is_deeply $v->{mention}{suggested}, ['bert'], '"@@bei": bert suggested (by his name)';
        like $v->{mention}{value}, qr/\@\@bert $/, 'picked: "@@bert " in the body';
        is_deeply $v->{errors}, [], 'no script errors or failed loads';
        ok -s "$out/notify-profile-$view.png", "notify-profile-$view.png saved";
        ok -s "$out/notify-list-$view.png", "notify-list-$view.png saved";
    };
}

done_testing;
