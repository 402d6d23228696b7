# The UI in a real browser (headless Chromium via playwright-core, t/ui/):
# login, overview and ticket page at 1280x800 and on a 390x844 phone.
# Screenshots go to build/artifacts/ (make screenshots copies them to
# docs/img/).
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
plan skip_all => 'playwright-core is not in t/ui/node_modules: make deps could not '
    . 'install it (npm registry unreachable?); run make deps again'
    unless -e "$ui/node_modules/playwright-core/package.json";

my $tk = TK->new;
$tk->standard_groups;
my $pw = $tk->add_user('uta', name => 'Uta Oberfläche', rights => 'ALSO:full');
my $title = 'Räumungsklage: Frist läuft am Freitag ab, bitte dringend prüfen (Mandantin ruft täglich an)';
my $n = $tk->add_ticket(title => $title, group => 'ALSO', priority => 4,
    customer => 'Maria Musterfrau-Langername <maria.musterfrau-langername@example.org>',
    body => "Sehr geehrte Damen und Herren,\n\nanbei das Schreiben. " . ('Lange Zeile ohne Umbruch ' x 20)
        . "\nhttps://example.org/ein/sehr/langer/pfad/der/nicht/umbricht/" . ('x' x 120));
$tk->add_ticket(title => "Anfrage $_ zum Mietrecht", group => $_ % 2 ? 'ALSO' : 'legal',
    customer => "Kunde $_ <k$_\@example.org>") for 1 .. 12;

my $out = "$TK::BUILD/artifacts";
make_path($out);
unlink glob "$out/*.png";

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{TICKET} = $n;
local $ENV{OUT} = $out;
my ($rc, $stdout, $stderr) = TK::run_cmd('timeout', '120', 'node', "$ui/ui.js");
# decoded as bytes, like the string literals of this file
my $r = eval { JSON::PP->new->decode((split /\n/, $stdout)[-1] // '') };
ok $r && !$r->{fatal}, 'the browser script ran' or diag "exit $rc\n$stdout\n$stderr";
$r && !$r->{fatal} or done_testing, exit;
note "Chromium $r->{browser}";

for my $view (qw(desktop mobile)) {
    my $v = $r->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        is $v->{login}{page}, 'login', 'login page';
        is $v->{overview}{page}, 'overview', 'after login: overview';
        is $v->{overview}{url}, '/', 'at /';
        is $v->{overview}{rows}, 13, '13 rows';
        like $v->{overview}{user} // '', qr/Uta Oberfläche/, 'user menu shows the name';
        ok $v->{overview}{stylesheets} >= 1, 'a stylesheet is loaded';
        is $v->{ticket}{page}, 'ticket', 'ticket page';
        is $v->{ticket}{url}, "/t/$n", "at /t/$n";
        is $v->{ticket}{title}, $title, 'h1#title';
        ok $v->{clicked}, 'reached through a link in its overview row';
        for my $p (qw(login overview ticket)) {
            cmp_ok $v->{$p}{scrollWidth}, '<=', $width, "$p: no horizontal scrolling";
            ok -s "$out/$p-$view.png", "$p-$view.png saved";
        }
        is_deeply $v->{errors}, [], 'no script errors, CSP violations or failed loads';
    };
}

done_testing;
