# Text modules and ticket templates (SCHEMA.md "Text modules and
# templates", docs/user-guide.md "Text modules"): admins keep the shared
# ones, every agent their own; a keyword used twice in a list and bad
# fields come back as 422 with nothing written; nobody reaches another
# agent's modules; the search API (prefix on keyword or name, own before
# shared, placeholders filled for a ticket one may see); "::keyword" in a
# reply or note sent without JavaScript is expanded with the ticket's
# customer, number, group and the agent's name; templates: admin page,
# API and the composer's prefill (/t/N?template=ID).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8 decode_utf8);
use TK;

my $tk = TK->new;
$tk->add_group('ALSO', email => 'also@example.org');
$tk->add_group('legal', all_agents => 1, email => 'legal@example.org');
my $r = $tk->redis;

my $admin_pw = $tk->add_user('ada', name => 'Ada Admin', admin => 1, rights => 'ALSO:full');
my $pw = $tk->add_user('anna', name => 'Anna Aktiv', rights => 'ALSO:full');
my $opw = $tk->add_user('otto', name => 'Otto O', rights => 'ALSO:full');
my $admin = $tk->login_client('ada', $admin_pw);
my $c = $tk->login_client('anna', $pw);
my $otto = $tk->login_client('otto', $opw);
my $token = $tk->add_token('anna');
my $n = $tk->add_ticket(title => 'Frist Bußgeld', group => 'ALSO', customer => 'Kim Kundin <kim@example.net>');
my $secret = $tk->add_ticket(title => 'Geheim', group => 'legal', customer => 'x@example.net');

sub api { my ($path) = @_; $c->api('GET', $path, $token) }
sub keywords { [ map { $_->{keyword} } @{ $_[0]->json->{text_modules} } ] }

subtest 'admins keep the shared modules; the admin index links them' => sub {
    my $res = $admin->get('/admin');
    ok $res->dom->at('ul#admin-sections a[data-section="text-modules"]'), 'admin index: text modules';
    ok $res->dom->at('ul#admin-sections a[data-section="templates"]'), 'admin index: templates';
    $res = $admin->get('/admin/text-modules');
    is $res->{status}, 200, 'page';
    $res = $admin->post_csrf('/admin/text-modules/save', { keyword => 'frist', name => 'Fristverlängerung',
        body => "Hallo {{customer.name}},\nwir beantragen Fristverlängerung in Ticket {{ticket.number}} ({{group.name}}).\nGrüße, {{agent.name}}" });
    is $res->{status}, 303, 'saved: 303';
    my @ids = $r->smembers(TK_KEY_TEXTMODS);
    is scalar @ids, 1, 'one shared module';
    is decode_utf8($r->hget(tk_key_textmod($ids[0]), TK_F_TM_NAME)), 'Fristverlängerung', 'name stored';
    is $r->hget(tk_key_textmod($ids[0]), TK_F_TM_OWNER), '', 'no owner';
    $res = $admin->get('/admin/text-modules');
    ok $res->dom->at("table#textmods tr[data-id=\"$ids[0]\"] td.keyword"), 'listed';

    $admin->get('/admin/text-modules');
    $res = $admin->post_csrf('/admin/text-modules/save', { keyword => 'frist', name => 'Doppelt', body => 'x' });
    is $res->{status}, 422, 'same keyword twice: 422';
    ok $res->dom->at('#error-keyword'), 'message at the keyword';
    is $res->dom->at('form#textmod-form input[name=name]')->attr('value'), 'Doppelt', 'form as sent';
    $res = $admin->post_csrf('/admin/text-modules/save', { keyword => 'Groß Buchstaben', name => 'x', body => 'x' });
    is $res->{status}, 422, 'bad keyword: 422';
    $res = $admin->post_csrf('/admin/text-modules/save', { keyword => 'leer', name => 'x', body => '' });
    is $res->{status}, 422, 'empty body: 422';
    is scalar(my @x = $r->smembers(TK_KEY_TEXTMODS)), 1, 'nothing written';

    is $c->get('/admin/text-modules')->{status}, 404, 'an agent: 404';
    $c->get('/');
    is $c->post_csrf('/admin/text-modules/save', { keyword => 'x', name => 'x', body => 'x' })->{status}, 404,
        'an agent cannot save shared ones';
    is $admin->post('/admin/text-modules/save', [ keyword => 'y', name => 'y', body => 'y' ])->{status}, 403,
        'without CSRF: refused';
};

subtest 'an agent keeps their own; nobody else reaches them' => sub {
    my $res = $c->get('/text-modules');
    is $res->{status}, 200, 'page';
    ok $res->dom->at('table#textmods-shared'), 'the shared ones shown';
    $res = $c->post_csrf('/text-modules/save', { keyword => 'gruss', name => 'Gruß', body => "Solidarische Grüße\n{{agent.name}}" });
    is $res->{status}, 303, 'saved';
    $res = $c->post_csrf('/text-modules/save', { keyword => 'frist', name => 'Meine Frist', body => 'Eigene Frist für {{customer.name}}' });
    is $res->{status}, 303, 'an own one may share a keyword with a shared one';
    my @mine = $r->smembers(tk_key_user_textmods('anna'));
    is scalar @mine, 2, 'two own modules';
    is scalar(my @s = $r->smembers(TK_KEY_TEXTMODS)), 1, 'shared list unchanged';

    $otto->get('/text-modules');
    $res = $otto->post_csrf('/text-modules/delete', { id => $mine[0] });
    is $res->{status}, 404, "another agent's id: 404";
    $res = $otto->post_csrf('/text-modules/save', { id => $mine[0], keyword => 'weg', name => 'x', body => 'x' });
    is $res->{status}, 404, "another agent's id cannot be overwritten";
    is scalar(my @m = $r->smembers(tk_key_user_textmods('anna'))), 2, 'still two';
    unlike $otto->get('/text-modules')->{content}, qr/Meine Frist/, "otto does not see anna's";
};

subtest 'GET /api/v1/text_modules: prefix, own before shared, placeholders for a ticket' => sub {
    my $res = api('/api/v1/text_modules?q=');
    is $res->{status}, 200, 'answered';
    is_deeply [ sort @{ keywords($res) } ], [ 'frist', 'gruss' ], "own frist hides the shared one";
    my ($f) = grep { $_->{keyword} eq 'frist' } @{ $res->json->{text_modules} };
    ok !$f->{shared}, 'frist: the own one';
    is_deeply keywords(api('/api/v1/text_modules?q=GR')), [ 'gruss' ], 'prefix, case folded';
    is_deeply keywords(api('/api/v1/text_modules?q=mei')), [ 'frist' ], 'prefix of the name';
    is_deeply keywords(api('/api/v1/text_modules?q=zzz')), [], 'nothing';
    $res = api("/api/v1/text_modules?q=gr&ticket=$n");
    is $res->json->{text_modules}[0]{body}, "Solidarische Grüße\nAnna Aktiv", 'agent name filled';
    $res = api("/api/v1/text_modules?q=fr&ticket=$n");
    is $res->json->{text_modules}[0]{body}, 'Eigene Frist für Kim Kundin', 'customer name filled';
    is api("/api/v1/text_modules?ticket=999999")->{status}, 404, 'no such ticket: 404';
    is api("/api/v1/text_modules?ticket=abc")->{status}, 400, 'not a number: 400';
    # otto sees the shared frist, filled
    my $ot = $tk->add_token('otto');
    $res = $otto->api('GET', "/api/v1/text_modules?q=frist&ticket=$n", $ot);
    like $res->json->{text_modules}[0]{body}, qr/^Hallo Kim Kundin,\nwir beantragen Fristverlängerung in Ticket $n \(ALSO\)\.\nGrüße, Otto O$/,
        'shared module, every placeholder';
    # the session twin for textmod.js
    $res = $c->get("/text-modules.json?q=gr&ticket=$n");
    is $res->{status}, 200, 'session JSON';
    is $res->json->{text_modules}[0]{keyword}, 'gruss', 'same answer';
};

subtest '"::keyword" in a note or reply sent without JavaScript is expanded' => sub {
    my $mine = $c->get("/t/$n")->dom;
    like $mine->at('#textmod-hint a')->attr('href'), qr{/text-modules$}, 'the hint links the list of keywords';
    my $page = $otto->get("/t/$n");
    like $otto->get('/text-modules')->{content}, qr/::frist/, "otto's list shows the shared frist";
    my ($action, $pairs) = $otto->form_values($page, 'form#compose', type => 'note', subject => 'Notiz',
        body => "Vorschlag:\n::frist\n\nund ::unbekannt bleibt, a::frist auch");
    my $res = $otto->post($action, $pairs);
    is $res->{status}, 303, 'note saved' or diag $res->{content};
    my @ids = $r->lrange(tk_key_ticket_arts($n), 0, -1);
    my $body = decode_utf8($r->hget(tk_key_article($n, $ids[-1]), TK_F_BODY));
    like $body, qr/^Vorschlag:\nHallo Kim Kundin,\nwir beantragen Fristverlängerung in Ticket $n \(ALSO\)\.\nGrüße, Otto O\n\nund ::unbekannt bleibt, a::frist auch$/,
        'the shared module, filled; unknown and glued tokens stay';

    $res = $c->api('POST', "/api/v1/tickets/$n/articles", $token,
        content => $tk->json->encode({ type => 'note', body => "::gruss" }));
    is $res->{status}, 201, 'API note: 201';
    @ids = $r->lrange(tk_key_ticket_arts($n), 0, -1);
    is decode_utf8($r->hget(tk_key_article($n, $ids[-1]), TK_F_BODY)), "Solidarische Grüße\nAnna Aktiv",
        "anna's own module through the API";
};

subtest 'ticket templates: admin page, API, the composer prefilled' => sub {
    my $res = $admin->get('/admin/templates');
    is $res->{status}, 200, 'page';
    $res = $admin->post_csrf('/admin/templates/save', { name => 'Akteneinsicht', group => 'ALSO', state => 'open',
        priority => 'high', subject => 'Akteneinsicht für {{customer.name}}', body => "Hallo {{customer.name}},\nanbei.",
        customer => 'behoerde@example.org' });
    is $res->{status}, 303, 'saved';
    my ($id) = $r->smembers(TK_KEY_TEMPLATES);
    ok $id, 'one template';
    is $r->hget(tk_key_template($id), TK_F_TPL_PRIORITY), 'high', 'priority stored';

    $admin->get('/admin/templates');
    for my $bad ([ group => 'Nope' ], [ state => 'kaputt' ], [ priority => 'sehr' ], [ customer => 'no-address' ], [ name => '' ]) {
        $res = $admin->post_csrf('/admin/templates/save', { name => 'X', @$bad });
        is $res->{status}, 422, "bad $bad->[0]: 422";
        ok $res->dom->at("#error-$bad->[0]"), "message at $bad->[0]";
    }
    is scalar(my @t = $r->smembers(TK_KEY_TEMPLATES)), 1, 'nothing more written';
    is $c->get('/admin/templates')->{status}, 404, 'agents: 404';

    $res = api('/api/v1/templates');
    is $res->{status}, 200, 'API 200';
    is_deeply $res->json->{templates}[0], { id => $id + 0, name => 'Akteneinsicht', group => 'ALSO', state => 'open',
        priority => 'high', subject => 'Akteneinsicht für {{customer.name}}', body => "Hallo {{customer.name}},\nanbei.",
        customer => 'behoerde@example.org' }, 'the template, placeholders as written';

    $admin->get('/admin/templates');
    $admin->post_csrf('/admin/templates/save', { name => 'Zweite', subject => 'Z' });
    $admin->post_csrf('/admin/templates/save', { name => 'Anhörung', subject => 'A' });
    is_deeply [ map { decode_utf8($_->text) } $c->get("/t/$n")->dom->find('select#template-choice option') ],
        [ 'Akteneinsicht', 'Anhörung', 'Zweite' ], 'the choice sorted by name';
    $res = $c->get("/t/$n?template=$id");
    is $res->{status}, 200, 'ticket page with ?template';
    my $f = $res->dom->at('form#compose');
    is decode_utf8($f->at('input[name=subject]')->attr('value')), 'Akteneinsicht für Kim Kundin', 'subject prefilled, filled';
    like decode_utf8($f->at('textarea[name=body]')->raw_text), qr/^\n?Hallo Kim Kundin,\nanbei\./, 'body prefilled';
    ok $res->dom->at("select#template-choice option[value=\"$id\"][selected]"), 'the choice of templates';
    ok $f->at('select[name=state] option[value="2"][selected]'), "the template's state preselected";
    ok !$f->at('select[name=state] option[value="3"][selected]'), 'instead of the default';
    is $c->get("/t/$n?template=9999")->{status}, 200, 'unknown template: the page as usual';
};

done_testing;
