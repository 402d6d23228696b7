# Text modules, templates and the request form in a real browser
# (headless Chromium, t/ui/textmod.js) at 1280 and 390 px: "::fr" in
# the composer offers the text modules starting with "fr" and Enter puts
# the own one in, placeholders filled (customer, ticket number, agent);
# a template chosen above the composer fills subject and text; the
# admins' page and the public form fit the phone; the browser sends the
# form.  Screenshots go to build/artifacts/ (make screenshots: docs/img/).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8 decode_utf8);
use TK;
use TKUI;

TKUI::need_browser();

my $tk = TK->new(server => 'location = /form { ticket; ticket_cookie_secure off; ticket_form on; ticket_form_group legal; }');
$tk->add_group('legal', all_agents => 1, email => 'legal@example.org');
my $pw = $tk->add_user('uta', name => 'Uta Oberfläche', admin => 1, rights => 'legal:full');
my $r = $tk->redis;
my $n = $tk->add_ticket(title => 'Kündigung', group => 'legal', customer => 'Kim Kundin <kim@example.net>');
my $c = $tk->login_client('uta', $pw);
$c->get('/admin/text-modules');
$c->post_csrf('/admin/text-modules/save', { keyword => 'frist', name => 'Fristverlängerung (alle)',
    body => 'Für alle: Frist für {{customer.name}}' });
$c->post_csrf('/admin/text-modules/save', { keyword => 'gruss', name => 'Gruß', body => 'Viele Grüße' });
$c->get('/text-modules');
$c->post_csrf('/text-modules/save', { keyword => 'frist-eigen', name => 'Meine Frist',
    body => "Hallo {{customer.name}},\nin Ticket {{ticket.number}} beantragen wir Fristverlängerung.\n{{agent.name}}" });
$c->get('/admin/templates');
$c->post_csrf('/admin/templates/save', { name => 'Akteneinsicht', group => 'legal',
    subject => 'Akteneinsicht für {{customer.name}}', body => "Hallo {{customer.name}},\nanbei der Antrag." });
my ($tpl) = $r->smembers(TK_KEY_TEMPLATES);

my $out = TKUI::artifacts();
local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{TICKET} = $n;
local $ENV{TEMPLATE} = $tpl;
local $ENV{OUT} = $out;
my $res = TKUI::run_script('textmod.js', utf8 => 1);

for my $view (qw(desktop mobile)) {
    my $v = $res->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        is_deeply $v->{errors}, [], 'no script errors';
        is_deeply $v->{menu}, [ 'frist-eigen', 'frist' ], '"::fr" offers the modules starting with fr, own first';
        is $v->{inserted}, "Liebe Grüße vorweg.\nHallo Kim Kundin,\nin Ticket $n beantragen wir Fristverlängerung.\nUta Oberfläche",
            'Enter put the first in, placeholders filled';
        ok !$v->{menuAfter}, 'the menu closed';
        is $v->{templateSubject}, 'Akteneinsicht für Kim Kundin', 'template: subject';
        like $v->{templateBody}, qr/^Hallo Kim Kundin,\nanbei der Antrag\./, 'template: text';
        like $v->{formDone}, qr/^\d+$/, 'the browser sent the request form';
        ok !$v->{honeypotVisible}, 'the honeypot is off screen';
        ok $v->{$_} <= $width, "$_ fits ($v->{$_} px)" for qw(formWidth ticketWidth adminWidth dpWidth tplWidth);
        is $v->{dpAddress}, 'kim@example.net', 'data protection page prefilled from ?address=';
        ok $v->{adminRows} >= 2, 'admin page lists the shared modules';
    };
}
my $t = $tk->ticket_hash($res->{views}{mobile}{formDone} // 0);
is $t->{customer_email}, 'rosa.mobile@example.net', 'the form made a ticket';

done_testing;
