# The administration pages in a real browser (headless Chromium, t/ui/):
# reached from the page head, usable at 1280 px and on a 390 px phone (no
# horizontal scrolling, the rights selects on screen), no CSP violations.
# Screenshots go to build/artifacts/admin-*.png (docs/img/ for the guide).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;
use TKUI;

TKUI::need_browser();

my $tk = TK->new;
$tk->standard_groups;
$tk->add_group('Bündnis');
my $pw = $tk->add_user('ada', name => 'Ada Verwaltung', admin => 1, rights => 'ALSO:full');
$tk->add_user('franka', name => 'Franka Fröhlich-Langname', email => 'franka.froehlich-langname@example.org',
    rights => 'ALSO:full,Zivilrecht:read');
$tk->add_user('sanne', name => 'Sanne Weber', rights => 'Bündnis:full');
$tk->add_user('otto', name => 'Otto Ohnerecht');
$tk->disable_user('otto');
my $r = $tk->redis;
my $n = $tk->add_ticket(title => 'Räumungsklage', group => 'ALSO');
$r->hset(tk_key_article($n, 5000), kind => 'out', to => 'maria.musterfrau@example.org',
    subject => "[Ticket#$n] Re: Räumungsklage", delivery => 'queued', delivery_tries => 1,
    delivery_info => '451 4.7.1 greylisted, try again later', delivery_time => time);
$r->xadd(TK_KEY_OUTBOX, '*', ticket => $n, article => 5000, kind => 'article');

my $out = TKUI::artifacts('admin-*.png');

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'ada';
local $ENV{PASSWORD} = $pw;
local $ENV{USER} = 'franka';
local $ENV{OUT} = $out;
my $res = TKUI::run_script('admin.js');

for my $view (qw(desktop mobile)) {
    my $v = $res->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        is $v->{index}{h1}, 'Verwaltung', 'a#nav-admin leads to the administration';
        ok $v->{index}{navCurrent}, '  marked as the current page';
        is $v->{users}{h1}, 'Benutzer', 'users page';
        is $v->{users}{rows}, 4, '  a row per account';
        is $v->{user}{h1}, 'franka', "a user's page through the list";
        ok @{ $v->{user}{selects} } == 4 && !grep({ !$_ } @{ $v->{user}{selects} }),
            '  every rights select on screen';
        is $v->{outbox}{rows}, 1, 'outbox: the queued mail';
        for my $p (qw(index users user outbox)) {
            cmp_ok $v->{$p}{scrollWidth}, '<=', $width, "$p: no horizontal scrolling";
            is_deeply $v->{$p}{csp}, [], "$p: no CSP violations";
        }
        # the profile's API tokens (helper api)
        my $t = $v->{tokens};
        is $t->{newToken} && $t->{newToken}{len}, 64, 'profile: the new token shown';
        ok $t->{newToken} && $t->{newToken}{inside}, '  within the screen';
        is $t->{listed}, $view eq 'mobile' ? 2 : 1, '  and listed';
        cmp_ok $t->{scrollWidth}, '<=', $width, 'profile with tokens: no horizontal scrolling';
        is_deeply $t->{csp}, [], 'profile with tokens: no CSP violations';
        is_deeply $v->{errors}, [], 'no page errors or failed loads';
        ok -s "$out/admin-users-$view.png", "admin-users-$view.png saved";
    };
}

done_testing;
