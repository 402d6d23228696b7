# Filtering and saving an overview in a real browser (headless Chromium
# via playwright-core, t/ui/ui_overviews.js) at 1280x800 and on a 390x844
# phone: the filter bar narrows /overview/all, "save as new overview"
# puts it into the sidebar, nothing scrolls sideways; on a ticket the
# owner choice shows the agents of the group selected.  Screenshots
# overview-filter-{desktop,mobile}.png go to build/artifacts/ (copied to
# docs/img/ for the user guide).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path);
use JSON::PP;
use TK;

my $ui = "$FindBin::Bin/ui";
plan skip_all => 'node is not installed (make deps)' unless grep { -x "$_/node" } split /:/, $ENV{PATH};
plan skip_all => 'chromium is not installed (make deps)' unless -x '/usr/bin/chromium';
plan skip_all => 'playwright-core is not in t/ui/node_modules (make deps)'
    unless -e "$ui/node_modules/playwright-core/package.json";

my $tk = TK->new;
$tk->standard_groups;
my $pw = $tk->add_user('uta', name => 'Uta Oberfläche', rights => 'ALSO:full,Zivilrecht:full');
$tk->add_user('zeno', name => 'Zeno Zivil', rights => 'Zivilrecht:full');
$tk->add_user('alma', name => 'Alma ALSO', rights => 'ALSO:full');
my @titles = ('Frist morgen: Stellungnahme', 'Vorladung als Zeugin', 'Bußgeldbescheid',
    'Akteneinsicht beantragt', 'Kündigung erhalten', 'Hausdurchsuchung', 'Einspruch Strafbefehl');
my $i = 0;
my $urgent_mine = 0;
for my $title (@titles) {
    my $owner = $i % 2 ? '' : 'uta';
    my $prio = $i % 3 ? 4 : 2;
    $urgent_mine++ if $owner eq 'uta' && $prio == 4;
    $tk->add_ticket(title => $title, group => $i % 2 ? 'legal' : 'ALSO', owner => $owner,
        priority => $prio, state => 1 + $i % 3,
        customer => "Person $i <p$i\@example.org>");
    $i++;
}
my $moved = $tk->add_ticket(title => 'Umzug in eine andere AG', group => 'ALSO', owner => 'alma');

my $out = "$TK::BUILD/artifacts";
make_path($out);
unlink glob "$out/overview-filter-*.png";

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{TICKET} = $moved;
local $ENV{OUT} = $out;
my ($rc, $stdout, $stderr) = TK::run_cmd('timeout', '150', 'node', "$ui/ui_overviews.js");
my $r = eval { JSON::PP->new->decode((split /\n/, $stdout)[-1] // '') };
ok $r && !$r->{fatal}, 'the browser script ran' or diag "exit $rc\n$stdout\n$stderr";
$r && !$r->{fatal} or done_testing, exit;
note "Chromium $r->{browser}";

for my $view (qw(desktop mobile)) {
    my $v = $r->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        like $v->{filtered}{url}, qr{^/overview/all\?.*owner=me}, 'the owner filter is in the URL';
        like $v->{filtered}{url}, qr{priority=4}, 'and the priority';
        is $v->{filtered}{rows}, $urgent_mine, "$urgent_mine urgent tickets of mine";
        ok !(grep { $_ !~ /uta/ } @{ $v->{filtered}{owners} }), 'all mine';
        ok !(grep { $_ !~ /prio-4/ } @{ $v->{filtered}{prios} }), 'all urgent';
        like $v->{saved}{url}, qr{^/overview/\d+$}, 'saved: the new overview opens';
        is $v->{saved}{currentLabel}, "Dringend meine $view", 'in the sidebar, current';
        is $v->{saved}{currentCount}, "$urgent_mine", 'with its count';
        is $v->{saved}{rows}, $urgent_mine, 'the same tickets';
        ok $v->{saved}{saveBox} && $v->{saved}{saveBox}{visible}, 'the save form can be opened';
        cmp_ok $v->{saved}{scrollWidth}, '<=', $width, 'no horizontal scrolling';
        ok((grep { $_ eq 'alma' } @{ $v->{ownersBefore} }), 'ALSO ticket: alma offered');
        ok(!(grep { $_ eq 'zeno' } @{ $v->{ownersBefore} }), 'zeno (Zivilrecht) hidden');
        ok((grep { $_ eq 'zeno' } @{ $v->{ownersAfter} }), 'group Zivilrecht selected: zeno offered');
        ok(!(grep { $_ eq 'alma' } @{ $v->{ownersAfter} }), 'and alma hidden');
        is_deeply $v->{errors}, [], 'no script errors or failed loads';
        ok -s "$out/overview-filter-$view.png", "overview-filter-$view.png saved";
    };
}

done_testing;
