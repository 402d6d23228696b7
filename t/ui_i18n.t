# Every view on a 390 px phone in Chromium, in German and in English
# (t/ui/i18n.js): no horizontal scrolling, <html lang> right, and none of
# the other language's catalogue texts in what a reader sees.  The German
# pages are saved to build/artifacts/*-de-mobile.png (make screenshots
# copies them to docs/img/).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use TK;
use TKUI;
use TKCatalogue;

TKUI::need_browser();

my $tk = TK->new;
$tk->standard_groups;
my $de = $tk->add_user('dana', name => 'Dana Deutschmann-Langname', rights => 'ALSO:full', admin => 1);
my $en = $tk->add_user('emil', name => 'Emil English', rights => 'ALSO:full', admin => 1, lang => 'en');
my $n = $tk->add_ticket(group => 'ALSO', owner => 'dana', priority => 3,
    title => 'Räumungsklage: Frist läuft am Freitag ab, bitte dringend prüfen',
    customer => 'Maria Musterfrau-Langername <maria.musterfrau-langername@example.org>',
    body => "Sehr geehrte Damen und Herren,\n\nanbei das Schreiben. " . ('Lange Zeile ohne Umbruch ' x 12));
$tk->add_ticket(group => 'ALSO', title => "Anfrage $_ zum Mietrecht", customer => "Kunde $_ <k$_\@example.org>")
    for 1 .. 4;
# something in the history
$tk->login_client('dana', $de)->submit("/t/$n", 'form#ticket-update', state => 2);

my @pages = (
    [ overview => '/' ], [ overview_all => '/overview/all' ], [ ticket => "/t/$n" ],
    [ reply => "/t/$n?reply=1&to=all" ], [ search => '/search?q=Frist' ], [ profile => '/profile' ],
    [ keys => '/admin/keys' ], [ admin => '/admin' ], [ admin_users => '/admin/users' ],
    [ admin_user => '/admin/users/dana' ], [ admin_user_new => '/admin/users/new' ],
    [ admin_groups => '/admin/groups' ], [ admin_group => '/admin/groups/ALSO' ],
    [ quarantine => '/admin/quarantine' ], [ outbox => '/admin/outbox' ],
    [ mail_accounts => '/admin/mail' ], [ triggers => '/admin/triggers' ],
    [ not_found => '/t/999999' ],
);

my %cat = %{ TKCatalogue::catalogue() };
my $out = TKUI::artifacts();

local $ENV{BASE} = $tk->base;
local $ENV{OUT} = $out;
local $ENV{USERS} = JSON::PP->new->encode([
    { login => 'dana', password => $de, lang => 'de' },
    { login => 'emil', password => $en, lang => 'en' } ]);
local $ENV{PAGES} = JSON::PP->new->encode([ map { { name => $_->[0], path => $_->[1] } } @pages ]);
# the German page must not show English-only texts, and vice versa
local $ENV{SAMPLES} = JSON::PP->new->utf8->encode({
    de => TKCatalogue::only_texts(\%cat, 'en'), en => TKCatalogue::only_texts(\%cat, 'de') });

my $r = TKUI::run_script('i18n.js', timeout => 300, utf8 => 1);
note "Chromium $r->{browser}";

for my $lang (qw(de en)) {
    my $v = $r->{langs}{$lang};
    subtest "$lang at 390 px" => sub {
        for my $name ('login', map { $_->[0] } @pages) {
            my $p = $v->{pages}{$name} or do { fail "$name: not seen"; next };
            my $want = $name eq 'not_found' ? 404 : 200;
            is $p->{status}, $want, "$name: $want" if $name ne 'login';
            is $p->{lang}, $lang, "$name: <html lang=\"$lang\">";
            cmp_ok $p->{scrollWidth}, '<=', 390, "$name: no horizontal scrolling"
                or diag "sticking out: @{ $p->{out} }";
            is "@{ $p->{leftovers} }", '', "$name: no text of the other language"
                or diag join "\n", @{ $p->{leftovers} };
            ok -s "$out/$name-de-mobile.png", "$name-de-mobile.png saved" if $lang eq 'de';
        }
        is_deeply $v->{errors}, [], 'no script errors';
    };
}

done_testing;
