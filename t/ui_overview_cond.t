# The overview conditions created range and customer (issue 12) in a real
# browser (headless Chromium via playwright-core, t/ui/ui_overview_cond.js)
# at 1280x800 and on a 390x844 phone: the date fields and the customer
# field of the filter bar narrow /overview/all, stay in the form and in
# the links, fit the screen; with JavaScript the Apply button shows once
# a typed field was edited.  Screenshots overview-created-{desktop,
# mobile}.png go to build/artifacts/ (copied to docs/img/).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path);
use JSON::PP;
use POSIX ();
use TK;

my $ui = "$FindBin::Bin/ui";
plan skip_all => 'node is not installed (make deps)' unless grep { -x "$_/node" } split /:/, $ENV{PATH};
plan skip_all => 'chromium is not installed (make deps)' unless -x '/usr/bin/chromium';
plan skip_all => 'playwright-core is not in t/ui/node_modules (make deps)'
    unless -e "$ui/node_modules/playwright-core/package.json";

my $tk = TK->new;
$tk->standard_groups;
my $pw = $tk->add_user('uta', name => 'Uta Oberfläche', rights => 'ALSO:full');
my @titles = ('Frist morgen: Stellungnahme', 'Vorladung als Zeugin', 'Bußgeldbescheid',
    'Akteneinsicht beantragt', 'Kündigung erhalten', 'Hausdurchsuchung', 'Einspruch Strafbefehl');
my $i = 0;
for my $title (@titles) {
    # ticket 3 is in Zivilrecht, which uta cannot read
    $tk->add_ticket(title => $title, group => $i == 2 ? 'Zivilrecht' : $i % 2 ? 'legal' : 'ALSO',
        state => 1 + $i % 3, customer => "Person $i <p" . ($i % 2) . '@example.org>');
    $i++;
}
# the first four were created 40 days ago
my $r = $tk->redis;
$r->hset(tk_key_ticket($_), 'created', time - 40 * 86400) for 1 .. 4;
$tk->ctl('reindex');
$r->incr(TK_KEY_INDEX_GEN);
my $cfrom = POSIX::strftime('%Y-%m-%d', localtime(time - 45 * 86400));
my $cto = POSIX::strftime('%Y-%m-%d', localtime(time - 35 * 86400));

my $out = "$TK::BUILD/artifacts";
make_path($out);
unlink glob("$out/overview-created-*.png");

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{OUT} = $out;
local $ENV{CFROM} = $cfrom;
local $ENV{CTO} = $cto;
local $ENV{CUSTOMER} = 'P1@example.org';
my ($rc, $stdout, $stderr) = TK::run_cmd('timeout', '120', 'node', "$ui/ui_overview_cond.js");
my $res = eval { JSON::PP->new->decode((split /\n/, $stdout)[-1] // '') };
ok $res && !$res->{fatal}, 'the browser script ran' or diag "exit $rc\n$stdout\n$stderr";
$res && !$res->{fatal} or done_testing, exit;
note "Chromium $res->{browser}";

for my $view (qw(desktop mobile)) {
    my $v = $res->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        ok !$v->{buttonBefore}, 'with JS the Apply button waits ...';
        ok $v->{buttonAfter}, '... until a date was typed';
        like $v->{created}{url}, qr{created_from=$cfrom&created_to=$cto}, 'created range: in the URL';
        is_deeply [ sort @{ $v->{created}{numbers} } ], [ 1, 2, 4 ],
            'the three created 40 days ago uta may read (not 3: Zivilrecht)';
        is $v->{created}{total}, 3, 'total';
        ok $v->{created}{reset}, '"clear filters"';
        like $v->{created}{sortLink} // '', qr{created_from=$cfrom&created_to=$cto}, 'sort links keep the range';
        is_deeply [ map { $_->{value} } @{ $v->{created}{fields} } ], [ $cfrom, $cto, '' ],
            'the dates stay in the form';
        ok !(grep { $_->{right} > $width || $_->{width} < 60 } @{ $v->{created}{fields} }), 'the fields fit';
        cmp_ok $v->{created}{scrollWidth}, '<=', $width, 'no horizontal scrolling';
        like $v->{customer}{url}, qr{customer=P1%40example\.org}, 'customer by address: in the URL';
        is_deeply [ sort @{ $v->{customer}{numbers} } ], [ 2, 4 ], 'and her tickets created in the range';
        is $v->{customer}{fields}[2]{value}, 'P1@example.org', 'the address stays in the form';
        cmp_ok $v->{customer}{scrollWidth}, '<=', $width, 'no horizontal scrolling';
        is_deeply $v->{errors}, [], 'no script errors or failed loads';
        ok -s "$out/overview-created-$view.png", "overview-created-$view.png saved";
    };
}

done_testing;
