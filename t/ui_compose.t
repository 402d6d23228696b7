# The composer in a real browser (headless Chromium, t/ui/compose.js) at
# 1280 and 390 px: reply by mail is the default mode, an internal note
# looks different (its own background, label and button), the security
# line says what will happen and follows a typed recipient, the reminder
# date appears for "waiting with reminder" only.  Screenshots of both
# modes go to build/artifacts/ (make screenshots: docs/img/).
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
$tk->add_group('legal', all_agents => 1, email => 'legal@example.org');
$tk->redis->hset("tk:{g:ALSO}", "signature", Encode::encode_utf8("Solidarische Grüße\nAG ALSO"));
$tk->redis->hset('tk:{g:ALSO}', 'pgp_sign', 'FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000');
$tk->redis->hset('tk:pgp:addr', 'maria@example.org', 'AAAA1111BBBB2222CCCC3333DDDD4444EEEE5555 0');
my $pw = $tk->add_user('uta', name => 'Uta Oberfläche', rights => 'ALSO:full');
MB::write_conf($tk);
my $mail = MB::mail(from => 'Kim Kundin <kim@example.net>', to => 'also@example.org',
    subject => 'Kündigung der Wohnung: Frist?',
    body => "Hallo,\r\nmeine Vermieterin hat gekündigt. Bis wann muss ich widersprechen?\r\n\r\nViele Grüße\r\nKim\r\n");
my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'also@example.org');
die "deliver: $err" if $rc;
my ($n) = MB::stored($tk, MB::msgid_of($mail));

my $out = TKUI::artifacts('compose-*.png');

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{TICKET} = $n;
local $ENV{KEYED} = 'Maria <maria@example.org>';
local $ENV{OUT} = $out;
my $r = TKUI::run_script('compose.js', utf8 => 1);

for my $view (qw(desktop mobile)) {
    my $v = $r->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        is $v->{reply}{mode}, 'reply', 'reply is the default mode';
        ok $v->{reply}{sendVisible} && !$v->{reply}{saveVisible}, 'reply: the send button only';
        ok $v->{reply}{toVisible}, 'reply: recipients shown';
        ok !$v->{reply}{noteLabel}, 'reply: no note label';
        is $v->{reply}{sendText}, 'E-Mail an kim@example.net senden', 'the button names the recipient';
        is $v->{reply}{crypt}, 'sign', 'security line: signed only';
        is $v->{reply}{security}, 'Nur signiert, NICHT verschlüsselt: kein Schlüssel für kim@example.net.',
            'security line text';
        ok !$v->{reply}{pendingVisible}, 'no reminder date for "waiting for reply"';
        is $v->{keyed}{crypt}, 'encrypt,sign', 'a recipient with a key: the script updates the line';
        is $v->{keyed}{security}, 'Verschlüsselt an alle Empfänger*innen und signiert.', 'its text';
        is $v->{keyed}{sendText}, 'E-Mail an maria@example.org senden', 'and the button';
        is_deeply $v->{suggested}, ['Kim Kundin <kim@example.net>'], 'typing "Ki" suggests the customer';
        is $v->{ccAfter}, 'Kim Kundin <kim@example.net>, ', 'a click puts the address in';
        ok $v->{reminder}{pendingVisible}, 'the date picker for "with reminder"';
        is $v->{note}{mode}, 'note', 'note mode';
        isnt $v->{note}{background}, $v->{reply}{background}, "note mode has another background ($v->{note}{background})";
        ok $v->{note}{noteLabel}, 'note: "not sent to the customer" shown';
        ok $v->{note}{saveVisible} && !$v->{note}{sendVisible}, 'note: "Save internal note" only';
        ok !$v->{note}{toVisible}, 'note: no recipients';
        cmp_ok $v->{$_}{scrollWidth}, '<=', $width, "$_: no horizontal scrolling" for qw(reply note);
        like $v->{saved}{url}, qr{^/t/$n#a-\d+$}, 'the browser sent the form: back at the new article';
        is $v->{saved}{kind}, 'note', 'saved as a note';
        is $v->{saved}{body}, "Notiz aus $view", 'with the text';
        is_deeply $v->{saved}{files}, ['Akte.txt'], 'and the file chosen (multipart)';
        if ($view eq 'desktop') {
            is $v->{conflict}{status}, 409, 'two agents: the second send stops (409)';
            is_deeply $v->{conflict}{changes}, ['Neue interne Notiz von uta'], 'and says what changed';
            is $v->{conflict}{body}, 'Meine Antwort, geschrieben bevor die Notiz kam.', 'the text as written';
            ok -s "$out/compose-conflict-desktop.png", 'compose-conflict-desktop.png';
        }
        is_deeply $v->{errors}, [], 'no script errors or failed loads';
        ok -s "$out/compose-$_-$view.png", "compose-$_-$view.png" for qw(reply note encrypted);
    };
}

done_testing;
