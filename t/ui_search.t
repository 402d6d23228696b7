# Search in a real browser (headless Chromium via playwright-core, t/ui/):
# the box in the page head at 1280x800 and on a 390x844 phone, the
# results with marked, escaped snippets, sorting from the results page.
# Screenshots search-{desktop,mobile}.png go to build/artifacts/ (and
# into docs/img/ for the user guide).
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
my $pw = $tk->add_user('uta', name => 'Uta Oberfläche', rights => 'ALSO:full');
my @t = (
    [ 'Fristverlängerung für die Stellungnahme', 'ALSO', 'Maria Musterfrau <maria@example.org>',
      "Hallo,\n\ndas Gericht hat uns eine Frist bis zum 14. gesetzt. Können wir eine Fristverlängerung beantragen? Die Frist ist sehr knapp, weil die Akte erst gestern kam.\n\nViele Grüße\nMaria" ],
    [ 'Bußgeldbescheid nach Sitzblockade', 'legal', 'Lena K. <lena@example.net>',
      "Moin,\n\nich habe einen Bußgeldbescheid bekommen. Die Frist für den Einspruch ist zwei Wochen. Lohnt sich ein Einspruch?\n\nLena" ],
    [ 'Vorladung als Zeugin', 'ALSO', 'Kim Sommer <kim@example.net>',
      "Hallo,\n\nich soll als Zeugin aussagen. Innerhalb welcher Frist muss ich antworten? Anbei der Brief: <script>window.tkPwned=1</script>\n\nKim" ],
    [ 'Mietrecht: Kündigung erhalten', 'legal', 'Ole Berg <ole@example.org>',
      "Guten Tag,\n\nmeine Vermieterin hat mir gekündigt, die Fristen scheinen mir zu kurz.\n\nOle" ],
);
$tk->add_ticket(title => $_->[0], group => $_->[1], customer => $_->[2], body => $_->[3]) for @t;

my $out = TKUI::artifacts('search-*.png');

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{QUERY} = 'Frist';
local $ENV{OUT} = $out;
my $r = TKUI::run_script('ui_search.js');
note "Chromium $r->{browser}";

for my $view (qw(desktop mobile)) {
    my $v = $r->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        ok $v->{overview}{box} && $v->{overview}{box}{visible}, 'the search box is visible on the overview';
        cmp_ok $v->{overview}{box}{width}, '>=', 120, 'and wide enough to type in';
        is $v->{results}{page}, 'search', 'Enter in the box: the results page';
        like $v->{results}{url}, qr{^/search\?q=Frist$}, 'GET /search?q=Frist';
        is $v->{results}{hits}, 4, 'four tickets (Frist, Fristen, not the compound alone)';
        is $v->{results}{total}, '4', 'total';
        cmp_ok $v->{results}{marks}, '>=', 4, 'matches marked';
        is $v->{results}{scripts}, 0, 'no script element in the snippets';
        like $v->{results}{snippetText}, qr{<script>window\.tkPwned=1</script>}, 'the mail\'s <script> shown as text';
        is $v->{results}{pwned}, undef, 'and it did not run';
        is $v->{results}{value}, 'Frist', 'the text stays in the results form';
        cmp_ok $v->{results}{scrollWidth}, '<=', $width, 'no horizontal scrolling';
        like $v->{byDate}{url}, qr{sort=date}, 'sort by date from the form';
        is $v->{byDate}{hits}, 4, 'the same tickets';
        is_deeply $v->{errors}, [], 'no script errors or failed loads';
        ok -s "$out/search-$view.png", "search-$view.png saved";
    };
}

done_testing;
