# Tags, merge and the customer page in a real browser (headless Chromium
# via playwright-core, t/ui/ui_casework.js), at 1280x800 and on a 390x844
# phone: the forms work without script, nothing scrolls sideways.
# Screenshots {tags,merge,customer}-{desktop,mobile}.png go to
# build/artifacts/ (and into docs/img/ for the user guide).
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
my $cust = 'Maria Musterfrau <maria@example.org>';
my @n;
for my $v (qw(desktop mobile)) {
    push @n, $tk->add_ticket(title => 'Kündigung wegen Eigenbedarf', group => 'ALSO', customer => $cust,
        body => "Hallo,\n\nmeine Vermieterin hat mir wegen Eigenbedarf gekündigt. Was kann ich tun?\n\nMaria");
    push @n, $tk->add_ticket(title => 'Nochmal: Kündigung', group => 'ALSO', customer => $cust,
        body => "Hallo,\n\nich schreibe nochmal wegen der Kündigung.\n\nMaria");
}
my $other = $tk->add_ticket(title => 'Anderes Ticket mit Tag', group => 'ALSO', customer => 'Ole <ole@example.org>');
my $token = $tk->add_token('uta');
my $tag = $tk->client->api(POST => "/api/v1/tickets/$other/tags", $token, content => '{"tags":["kaution","frist"]}');
is $tag->{status}, 200, 'another ticket has tags (autocomplete offers them)';
my $customer = $tk->ticket_hash($n[0])->{customer};
$tk->redis->hset(TK_KEY_PGP_ADDR, 'maria@example.org', 'AAAABBBBCCCCDDDDEEEEFFFF0000111122223333 0');

my $out = TKUI::artifacts('tags-*.png', 'merge-*.png', 'customer-*.png');

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{OUT} = $out;
local $ENV{TICKETS} = join ',', @n;
local $ENV{CUSTOMER} = $customer;
my $r = TKUI::run_script('ui_casework.js');
note "Chromium $r->{browser}";

my $i = 0;
for my $view (qw(desktop mobile)) {
    my $v = $r->{views}{$view};
    my ($t, $d) = @n[2 * $i, 2 * $i + 1];
    $i++;
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        is_deeply $v->{before}{tags}, [], 'no tags at first';
        is_deeply $v->{suggest}, [ 'mietrecht, kaution' ], 'script: suggestions for the tag after the comma';
        like $v->{added}{url}, qr{/t/$t#tags$}, 'back on the ticket, at the tags';
        is_deeply $v->{added}{tags}, [ 'eilt', 'mietrecht', 'räumung' ], 'three added, lower-cased';
        is_deeply $v->{removed}{tags}, [ 'mietrecht', 'räumung' ], 'one removed with its button';
        cmp_ok $v->{removed}{options}, '>=', 2, 'autocomplete offers the other tags';
        like $v->{afterMerge}{url}, qr{/t/$t$}, 'merge: on the target';
        like $v->{merged}{merged} // '', qr{/t/$t$}, 'the duplicate links to the target';
        is $v->{customer}{page}, 'customer', 'customer page';
        cmp_ok $v->{customer}{customerTickets}, '>=', 2, 'with the tickets';
        ok $v->{customer}{customerForm}, 'and the edit form';
        cmp_ok $_->{scrollWidth}, '<=', $width, "no horizontal scrolling ($_->{url})"
            for @$v{qw(added merged customer)};
        is_deeply $v->{errors}, [], 'no script errors or failed loads';
        ok -s "$out/$_-$view.png", "$_-$view.png saved" for qw(tags merge customer);
    };
}

done_testing;
