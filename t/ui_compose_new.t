# The new outbound ticket in a real browser (headless Chromium,
# t/ui/compose_new.js) at 1280 and 390 px: reached by the head's link,
# only the groups one may write in, the security line follows a typed
# recipient (a key in tk:pgp:addr, the group signs), address suggestions,
# a send without subject comes back (422) as typed, a send with a file
# creates the ticket, its customer and the queued mail.  Screenshots go
# to build/artifacts/ (copied to docs/img/ for docs/user-guide.md).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode ();
use TK;
use TKUI;
require "$FindBin::Bin/mail_lib.pl";

TKUI::need_browser();
plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $tk = TK->new;
$tk->add_group('ALSO', email => 'also@example.org');
$tk->add_group('Zivilrecht', email => 'zivil@example.org');
my $r = $tk->redis;
$r->hset(tk_key_group('ALSO'), 'signature', Encode::encode_utf8("Solidarische Grüße\nAG ALSO"));
$r->hset(tk_key_group('ALSO'), 'pgp_sign', 'FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000');
$r->hset(TK_KEY_PGP_ADDR, 'maria@example.org', 'AAAA1111BBBB2222CCCC3333DDDD4444EEEE5555 0');
my $pw = $tk->add_user('uta', name => 'Uta Oberfläche', rights => 'ALSO:full,Zivilrecht:read');
MB::write_conf($tk);
# a customer the suggestions find
my ($rc, undef, $err) = MB::deliver($tk, MB::mail(from => 'Berta Bestand <berta@example.net>',
    to => 'also@example.org', subject => 'Alt'), '--recipient', 'also@example.org');
die "deliver: $err" if $rc;

my $out = TKUI::artifacts('compose-new-*.png');

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{KEYED} = 'Maria <maria@example.org>';
local $ENV{CUSTOMER} = 'nora.neu@example.net';
local $ENV{OUT} = $out;
my $res = TKUI::run_script('compose_new.js', utf8 => 1);

my %sent;
for my $view (qw(desktop mobile)) {
    my $v = $res->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        ok $v->{linkVisible}, 'the head has "E-Mail senden"';
        is $v->{fresh}{path}, '/new', 'the link opens /new';
        is_deeply $v->{fresh}{groups}, ['ALSO'], 'only the group with full right';
        is $v->{fresh}{sendText}, 'E-Mail senden', 'the button before a recipient';
        ok $v->{fresh}{toVisible}, 'To shown';
        ok !$v->{fresh}{pendingVisible}, 'no reminder date for "waiting for reply"';
        is $v->{keyed}{crypt}, 'encrypt,sign', 'a recipient with a key: encrypted and signed';
        is $v->{keyed}{security}, 'Verschlüsselt an alle Empfänger*innen und signiert.', 'its text';
        is $v->{keyed}{sendText}, 'E-Mail an maria@example.org senden', 'the button names the recipient';
        is_deeply $v->{suggested}, ['Berta Bestand <berta@example.net>'], 'typing "Bert" suggests the customer';
        is $v->{toAfter}, 'Berta Bestand <berta@example.net>, ', 'a click puts her in';
        ok $v->{reminder}{pendingVisible}, 'the date picker for "with reminder"';
        is $v->{refused}{status}, 422, 'no subject: 422';
        like $v->{refused}{subjectError} // '', qr/Betreff/, 'the message at the subject';
        is $v->{refused}{to}, 'nora.neu@example.net', 'the form as typed';
        like $v->{sent}{url}, qr{^/t/(\d+)#a-\d+$}, 'sent: on to the new ticket';
        is $v->{sent}{kind}, 'out', 'its first article is the mail';
        is_deeply $v->{sent}{files}, ['Merkblatt.txt'], 'with the file (multipart)';
        cmp_ok $v->{$_}{scrollWidth}, '<=', $width, "$_: no horizontal scrolling" for qw(fresh refused sent);
        is_deeply $v->{errors}, [], 'no script errors or failed loads';
        ok -s "$out/compose-new-$_-$view.png" || -s "$out/compose-new-$view.png", "screenshot $_"
            for qw(error sent);
        ok -s "$out/compose-new-$view.png", "compose-new-$view.png";
        ($sent{$view}) = $v->{sent}{url} =~ m{^/t/(\d+)};
    };
}

subtest 'what the browser created' => sub {
    my ($d, $m) = @sent{qw(desktop mobile)};
    ok $d && $m && $d != $m, 'two tickets';
    for my $n (grep { $_ } $d, $m) {
        my $t = $tk->ticket_hash($n);
        is $t->{customer_email}, 'nora.neu@example.net', "$n: the customer";
        is $t->{customer_name}, 'Nora Neu', "$n: quick-created with her name";
        is $t->{group}, 'ALSO', "$n: group";
    }
    is $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'nora.neu@example.net'), $tk->ticket_hash($d)->{customer},
        'one customer for both';
    is $tk->ticket_hash($m)->{customer}, $tk->ticket_hash($d)->{customer}, 'the second found by address';
};

done_testing;
