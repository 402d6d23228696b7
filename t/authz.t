# The authorization matrix (docs/security.md "Who may do what"): every
# view and API endpoint x role x ticket group.  Anything not allowed is a
# 404 -- 403 where the ticket is visible but read only, or for an
# agent's PGP key delete; anonymous, disabled and revoked credentials
# get the login redirect (pages) or 401 (API) -- and changes nothing in
# Redis and leaks nothing (the ticket's secret word is in no answer).
# Then the ways around it: search, overview counts, the go-to box, the
# page cache, 404 bodies as an oracle; CSRF on every POST of the table;
# session fixation, logout, password change, Secure cookies.
#
# The table is checked against the module's routing code: every path
# literal the routers compare against must appear in a row, so a new
# route without a row fails here.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use TK;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is not built' unless TK::mailbridge_bin();

my $SECRET = 'Quokkafrist';          # in the ALSO ticket only

# the public request form (ticket_form): anonymous by design, its own
# location; the "request form" subtest below
my $tk = TK->new(server => 'location = /form { ticket; ticket_form on; ticket_form_group legal; }');
$tk->standard_groups;                # ALSO, legal (all agents), Zivilrecht
MB::write_conf($tk);
my $r = $tk->redis;

my %pw = (
    root   => $tk->add_user('root', admin => 1, rights => 'ALSO:full'),
    full   => $tk->add_user('full', rights => 'ALSO:full'),
    reader => $tk->add_user('reader', rights => 'ALSO:read'),
    none   => $tk->add_user('none', rights => 'Zivilrecht:full'),
    gone   => $tk->add_user('gone', rights => 'ALSO:full'),
);
$tk->add_user('scratch', rights => 'ALSO:read');

# ---- tickets: an inbound mail (raw .eml, attachment, inline part) each --

sub mail_to {
    my ($to, $subject, $word, $from) = @_;
    $from //= 'Kundin <kundin@example.net>';
    (my $local = $to) =~ s/\@.*//;
    my $id = "authz.$local.$word." . time . ".$$\@example.net";
    my $mail = join "\r\n",
        "From: $from", "To: $to", "Subject: $subject",
        'Date: Mon, 23 Nov 2026 10:00:00 +0100', "Message-ID: <$id>",
        'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="MIX"', '',
        '--MIX', 'Content-Type: multipart/related; boundary="REL"', '',
        '--REL', 'Content-Type: text/html; charset=utf-8', '',
        "<p>Text $word <img src=\"cid:logo.1\@example.net\"></p>",
        '--REL', 'Content-Type: image/png', 'Content-Transfer-Encoding: base64',
        'Content-ID: <logo.1@example.net>', 'Content-Disposition: inline; filename="logo.png"', '',
        encode_base64('PNG' . $word) . '--REL--',
        '--MIX', 'Content-Type: application/pdf', 'Content-Transfer-Encoding: base64',
        "Content-Disposition: attachment; filename=\"$word.pdf\"", '',
        encode_base64("%PDF $word") . '--MIX--', '';
    my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', $to);
    die "deliver: $err" if $rc;
    my ($n, undef, $a) = MB::stored($tk, $id);
    return ($n, $a);
}

my ($t_also, $a_also) = mail_to('also@example.org', "Frist $SECRET", $SECRET);
my ($t_legal, $a_legal) = mail_to('legal@example.org', 'Frage legal', 'Legalwort');
is $tk->ticket_hash($t_also)->{group}, 'ALSO', "ticket $t_also in ALSO";
is $tk->ticket_hash($t_legal)->{group}, 'legal', "ticket $t_legal in legal";
# a customer whose only ticket is in ALSO: the customer rows ({C}) and
# the leak checks of the customer page and the address suggestions
my ($t_cust) = mail_to('also@example.org', "Mandat $SECRET", 'Mandatwort',
    'Geheime Mandantin <geheim.mandantin@example.net>');
my $c_also = $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'geheim.mandantin@example.net');
ok $c_also, "customer $c_also with ticket $t_cust in ALSO only";
my $c_kundin = $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'kundin@example.net');
my ($k_pdf) = grep { (MB::attachment($tk, $t_also, $a_also, $_)->{content_type} // '') eq 'application/pdf' } 1 .. 2;
ok $k_pdf, 'the PDF part';

# a quarantined mail for the admin rows
my $qid = 'ab' x 32;
$r->hset(tk_key_quarantine($qid), raw => "From: x\r\n\r\nquarantined", reason => 'test',
    time => time, source => 'deliver', size => 24);
$r->zadd(TK_KEY_QUARANTINE, time, $qid);

# ---- credentials --------------------------------------------------------

my (%web, %tok);
for my $who (sort keys %pw) {
    $web{$who} = $tk->login_client($who, $pw{$who});
    $web{$who}->get('/');
    $tok{$who} = $tk->add_token($who);
}
$tk->disable_user('gone');

# a third ticket in Zivilrecht, where only "none" has a right (not even
# the admin): moved there from legal by "none" through the API
my ($t_ziv, $a_ziv) = mail_to('legal@example.org', 'Zivilsache', 'Zivilwort');
is $tk->client->request(PATCH => "/api/v1/tickets/$t_ziv", no_cookies => 1,
    content => '{"group":"Zivilrecht"}',
    headers => { authorization => "Bearer $tok{none}", 'content-type' => 'application/json' })->{status},
    200, "ticket $t_ziv moved to Zivilrecht";
is $tk->ticket_hash($t_ziv)->{group}, 'Zivilrecht', '  in Zivilrecht';
# three tickets, not one mail twice: the Message-IDs differ by the word
# (with "time" alone two mails of one second were one ticket, and the
# legal ticket then moved to Zivilrecht: the legal rows failed at random)
is scalar(keys %{ { map { $_ => 1 } $t_also, $t_legal, $t_ziv } }), 3, 'three distinct tickets';
my $revoked = $tk->add_token('full');
$tk->ctl('token', 'revoke', $revoked);
$web{anon} = $tk->client;

# ---- casework and overview fixtures (issue 14, authz3) ---------------------
# root's own text modules and saved overviews ({M}, {O}; {MD}, {OD} to be
# deleted by their row), shared ones and templates ({SD}, {PD} to delete),
# a data-protection request with its result ({R}), a shared overview for
# Zivilrecht only ({Z}) and one for everyone ({S}).
sub saved_id {
    my ($res) = @_;
    my ($id) = ($res->header('location') // '') =~ m{overview/(\d+)$};
    die "no saved overview: $res->{status}\n" unless $id;
    return $id;
}
my %fx;
{
    my $new_tm = sub {
        my ($who, $path, $set, %f) = @_;
        my %old = map { $_ => 1 } $r->smembers($set);
        is $web{$who}->post_csrf($path, [ %f ])->{status}, 303, "$path: $f{keyword}";
        my ($id) = grep { !$old{$_} } $r->smembers($set);
        return $id;
    };
    $fx{M}  = $new_tm->('root', '/text-modules/save', tk_key_user_textmods('root'),
        keyword => 'rootmod', name => 'Root Modul', body => 'Liebe {{customer.name}}');
    $fx{MD} = $new_tm->('root', '/text-modules/save', tk_key_user_textmods('root'),
        keyword => 'rootweg', name => 'Root weg', body => 'x');
    $new_tm->('root', '/admin/text-modules/save', TK_KEY_TEXTMODS,
        keyword => 'geteilt', name => 'Geteilt', body => 'Hallo {{customer.name}}');
    $fx{SD} = $new_tm->('root', '/admin/text-modules/save', TK_KEY_TEXTMODS,
        keyword => 'geteiltweg', name => 'Geteilt weg', body => 'x');
    my $new_tp = sub {
        my (%f) = @_;
        my %old = map { $_ => 1 } $r->smembers(TK_KEY_TEMPLATES);
        is $web{root}->post_csrf('/admin/templates/save', [ %f ])->{status}, 303, "template $f{name}";
        my ($id) = grep { !$old{$_} } $r->smembers(TK_KEY_TEMPLATES);
        return $id;
    };
    $fx{P}  = $new_tp->(name => 'Vorlage', subject => 'Betreff', body => 'Für {{customer.name}}');
    $fx{PD} = $new_tp->(name => 'Vorlage weg', subject => 'Weg', body => 'x');
    $fx{O}  = saved_id($web{root}->submit('/overview/all', 'form#overview-save', name => 'Root privat'));
    $fx{OD} = saved_id($web{root}->submit('/overview/all', 'form#overview-save', name => 'Root weg'));
    $fx{Z}  = saved_id($web{root}->submit('/overview/all', 'form#overview-save', name => 'Nur Ziv',
        shared => 1, vgroups => 'Zivilrecht'));
    $fx{S}  = saved_id($web{root}->submit('/overview/all', 'form#overview-save', name => 'Alle geteilt',
        shared => 1));
    $fx{SOD} = saved_id($web{root}->submit('/overview/all', 'form#overview-save', name => 'Geteilt weg',
        shared => 1));
    $fx{R}  = '1700000000000-0';
    $r->hset(tk_key_dp_result($fx{R}), TK_F_DP_OP, 'export', TK_F_DP_STATUS, 'done',
        TK_F_DP_MESSAGE, 'ok', TK_F_DP_TICKETS, 1, TK_F_DP_ARTICLES, 1, TK_F_DP_FILE, '{"export":1}');
    ok $fx{$_}, "fixture {$_} = $fx{$_}" for sort keys %fx;
}

# ---- the table ----------------------------------------------------------
#
# [ METHOD, PATH, CLASS, BODY ]   BODY: form pairs (pages) or a JSON
# object (API); CLASS decides who may:
#   user          everyone signed in
#   ticket_read   who may read the ticket's group
#   ticket_write  who has the full right on it (read only: 403)
#   admin         admins (everyone else: 404)
#   admin403      admins (agents: 403, the page says why)
#   group         who may read the group the path names (ALSO)
#   own           root's own text module or saved overview (others: 404)
#   ziv           a shared overview for Zivilrecht readers (none; others 404, root too)
#   session       sign-in and out, tested on their own below
# Paths: {T} ticket, {A} article, {K} attachment, {Q} quarantine id,
# {C} a customer whose only ticket is in ALSO.

my @ROUTES = (
    # sign-in and out: their own subtests below and t/login.t, t/csrf.t
    [ GET  => '/login',                              'session' ],
    [ POST => '/login',                              'session' ],
    [ POST => '/logout',                             'session' ],
    [ GET  => '/',                                   'user' ],
    [ GET  => '/overview/all',                       'user' ],
    [ GET  => '/overview/group-ALSO',                'group' ],
    [ GET  => '/search?q=Frist',                     'user' ],
    [ GET  => '/go?n=1',                             'user' ],
    [ GET  => '/profile',                            'user' ],
    [ POST => '/profile',                            'user', [ name => '', email => 'x' ] ],
    [ POST => '/profile/password',                   'user', [ old => 'x', new => 'y', confirm => 'z' ] ],
    [ POST => '/profile/tokens',                     'user', [ label => "bad\x01" ] ],
    [ POST => '/profile/tokens/revoke',              'user', [ id => '00000000' ] ],
    [ GET  => '/t/{T}',                              'ticket_read' ],
    [ POST => '/t/{T}/update',                       'ticket_write', [ priority => 3 ] ],
    [ POST => '/t/{T}/title',                        'ticket_write', [ title => '' ] ],
    [ POST => '/t/{T}/reply',                        'ticket_write', [ type => 'note', body => '' ] ],
    [ GET  => '/t/{T}/security?to=a%40example.org',  'ticket_write' ],
    [ GET  => '/t/{T}/complete?q=ku',                'ticket_write' ],
    [ GET  => '/t/{T}/a/{A}/att/{K}',                'ticket_read' ],
    [ GET  => '/t/{T}/a/{A}/cid/logo.1@example.net', 'ticket_read' ],
    [ GET  => '/t/{T}/a/{A}/raw',                    'ticket_read' ],
    # tags, merge, split (issue 13): the ticket page's forms
    [ POST => '/t/{T}/tags',                         'ticket_write', [ add => '' ] ],
    [ POST => '/t/{T}/merge',                        'ticket_write', [ into => '' ] ],
    [ GET  => '/t/{T}/a/{A}/split',                  'ticket_write' ],
    [ POST => '/t/{T}/a/{A}/split',                  'ticket_write', [ rev => 'x' ] ],
    # customers (issue 13): {C} has tickets in ALSO only
    [ GET  => '/customers/{C}',                      'group' ],
    [ POST => '/customers/{C}',                      'ticket_write', [ email => '' ] ],
    [ GET  => '/customers?email=geheim.mandantin%40example.net', 'group' ],
    # send email: a new ticket with our first mail (outbound)
    [ GET  => '/new',                                'user' ],
    [ POST => '/new',                                'user', [ group => 'legal', to => '', subject => '', body => '' ] ],
    [ GET  => '/new/security?group=legal&to=a%40example.org', 'user' ],
    [ GET  => '/new/complete?q=ku',                  'user' ],
    # notifications (per user) and subscriptions (read right)
    [ GET  => '/notifications',                      'user' ],
    [ POST => '/notifications/read',                 'user', [ n => '' ] ],
    [ POST => '/profile/notifications',              'user', [ mail => 'bogus', digest => 'bogus' ] ],
    [ POST => '/t/{T}/subscription',                 'ticket_read', [ on => 'x' ] ],
    [ GET  => '/admin/keys',                         'user' ],
    [ POST => '/admin/keys/import',                  'user', [ key => 'not a key' ] ],
    [ POST => '/admin/keys/import-att',              'ticket_read', [ ticket => '{T}', article => '{A}', att => '{K}' ] ],
    [ POST => '/admin/keys/delete',                  'admin403', [ fpr => 'nonsense' ] ],
    [ GET  => '/admin',                              'admin' ],
    [ GET  => '/admin/users',                        'admin' ],
    [ GET  => '/admin/users/new',                    'admin' ],
    [ POST => '/admin/users/new',                    'admin', [ login => '' ] ],
    [ GET  => '/admin/users/scratch',                'admin' ],
    [ POST => '/admin/users/scratch',                'admin', [ name => '' ] ],
    [ POST => '/admin/users/scratch/disable',        'admin' ],
    [ POST => '/admin/users/scratch/enable',         'admin' ],
    [ POST => '/admin/users/scratch/password',       'admin', [ password => 'short' ] ],
    [ POST => '/admin/users/scratch/sessions',       'admin' ],
    [ GET  => '/admin/groups',                       'admin' ],
    [ GET  => '/admin/groups/new',                   'admin' ],
    [ POST => '/admin/groups/new',                   'admin', [ name => '' ] ],
    [ GET  => '/admin/groups/legal',                 'admin' ],
    [ POST => '/admin/groups/legal',                 'admin', [ email => 'not an address' ] ],
    [ GET  => '/admin/outbox',                       'admin' ],
    [ GET  => '/admin/mail',                         'admin' ],
    [ GET  => '/admin/quarantine',                   'admin' ],
    [ GET  => '/admin/quarantine/{Q}/raw',           'admin' ],
    [ GET  => '/admin/triggers',                     'admin' ],
    [ POST => '/admin/triggers/save',                'admin', [ name => '' ] ],
    [ POST => '/admin/triggers/delete',              'admin', [ id => '999999' ] ],
    # casework (issue 14 authz3): text modules ({M} root's own, {MD} root's
    # own to delete, {SD} a shared one to delete), templates ({P}, {PD}),
    # data protection (admins; agents get the 404 of the admin API)
    [ GET  => '/text-modules',                       'user' ],
    [ GET  => '/text-modules?edit={M}',              'own' ],
    [ POST => '/text-modules/save',                  'user', [ keyword => '', name => '', body => '' ] ],
    [ POST => '/text-modules/save',                  'own', [ id => '{M}', keyword => '', name => '', body => '' ] ],
    [ POST => '/text-modules/delete',                'own', [ id => '{MD}' ] ],
    [ GET  => '/text-modules.json?q=',               'user' ],
    [ GET  => '/text-modules.json?q=&ticket={T}',    'ticket_read' ],
    [ GET  => '/admin/text-modules',                 'admin' ],
    [ POST => '/admin/text-modules/save',            'admin', [ keyword => '', name => '', body => '' ] ],
    [ POST => '/admin/text-modules/delete',          'admin', [ id => '{SD}' ] ],
    [ GET  => '/admin/templates',                    'admin' ],
    [ GET  => '/admin/templates?edit={P}',           'admin' ],
    [ POST => '/admin/templates/save',               'admin', [ name => '' ] ],
    [ POST => '/admin/templates/delete',             'admin', [ id => '{PD}' ] ],
    [ GET  => '/t/{T}?template={P}',                 'ticket_read' ],
    [ GET  => '/admin/customers',                    'admin' ],
    [ GET  => '/admin/customers?request={R}',        'admin' ],
    [ GET  => '/admin/customers/download?request={R}', 'admin' ],
    [ POST => '/admin/customers/export',             'admin', [ address => 'not an address' ] ],
    [ POST => '/admin/customers/erase',              'admin', [ address => 'not an address', mode => 'x' ] ],
    # overviews (issue 14 authz3): {O} root's own, {OD} root's own to
    # delete, {Z} shared with Zivilrecht readers only (none, not root)
    [ POST => '/overview/save',                      'user', [ name => '   ' ] ],
    [ GET  => '/overview/{O}',                       'own' ],
    [ POST => '/overview/{OD}/delete',               'own' ],
    [ GET  => '/overview/{Z}',                       'ziv' ],
    [ GET  => '/admin/overviews',                    'admin' ],
    [ POST => '/admin/overviews',                    'admin', [ id => '{SOD}' ] ],   # deletes a shared one
    # the API (bearer tokens)
    [ GET   => '/api/v1/me',                         'user' ],
    [ GET   => '/api/v1/tickets',                    'user' ],
    [ GET   => '/api/v1/search?q=Frist',             'user' ],
    [ GET   => '/api/v1/tickets/{T}',                'ticket_read' ],
    [ PATCH => '/api/v1/tickets/{T}',                'ticket_write', { priority => 'bogus' } ],
    [ POST  => '/api/v1/tickets/{T}/articles',       'ticket_write', { type => 'note', body => '' } ],
    [ POST  => '/api/v1/tickets',                    'user', { group => 'legal', to => '' } ],
    [ GET   => '/api/v1/tickets/{T}/tags',           'ticket_read' ],
    [ POST  => '/api/v1/tickets/{T}/tags',           'ticket_write', { tags => 'x', other => 'y' } ],
    [ DELETE => '/api/v1/tickets/{T}/tags',          'ticket_write', { tags => 'x', other => 'y' } ],
    [ POST  => '/api/v1/tickets/{T}/merge',          'ticket_write', { into => 0 } ],
    [ POST  => '/api/v1/tickets/{T}/articles/{A}/split', 'ticket_write', {} ],
    [ GET   => '/api/v1/notifications',              'user' ],
    [ POST  => '/api/v1/notifications/read',         'user', {} ],
    [ DELETE => '/api/v1/tickets/{T}/subscription',  'ticket_read' ],
    [ GET   => '/api/v1/admin/users',                'admin' ],
    [ GET   => '/api/v1/admin/users/scratch',        'admin' ],
    [ POST  => '/api/v1/admin/users',                'admin', { login => '' } ],
    [ PATCH => '/api/v1/admin/users/scratch',        'admin', { email => 'not an address' } ],
    [ POST  => '/api/v1/admin/users/scratch/disable','admin', {} ],
    [ POST  => '/api/v1/admin/users/scratch/enable', 'admin', {} ],
    [ POST  => '/api/v1/admin/users/scratch/password','admin', { password => 'short' } ],
    [ POST  => '/api/v1/admin/users/scratch/sessions','admin', {} ],
    [ GET   => '/api/v1/admin/groups',               'admin' ],
    [ POST  => '/api/v1/admin/groups',               'admin', { name => '' } ],
    [ PATCH => '/api/v1/admin/groups/legal',         'admin', { email => 'not an address' } ],
    [ GET   => '/api/v1/admin/outbox',               'admin' ],
    [ GET   => '/api/v1/admin/mail',                 'admin' ],
    [ GET   => '/api/v1/admin/quarantine',           'admin' ],
    # casework and overviews (issue 14 authz3)
    [ GET   => '/api/v1/text_modules?q=',            'user' ],
    [ GET   => '/api/v1/text_modules?q=&ticket={T}', 'ticket_read' ],
    [ GET   => '/api/v1/templates',                  'user' ],
    [ GET   => '/api/v1/customers/a%40example.org/export', 'admin' ],
    [ GET   => '/api/v1/customers/kein-adresse/export', 'admin' ],   # rights before the 422
    [ POST  => '/api/v1/customers/a%40example.org/erase',  'admin', { mode => 'bogus' } ],
    [ GET   => '/api/v1/customers/requests/{R}',     'admin' ],
    [ GET   => '/api/v1/overviews',                  'user' ],
    [ GET   => '/api/v1/overviews/all/tickets',      'user' ],
    [ GET   => '/api/v1/overviews/{O}/tickets',      'own' ],
    [ GET   => '/api/v1/overviews/{Z}/tickets',      'ziv' ],
);

# Not routes: literals of the routing code that name no address of
# their own (with the reason).
my %NOT_A_ROUTE = (
    '/static/'   => 'ticket_static_url default',
    '/admin/new' => 'the API admin rewrite builds "/admin" + path + "/new"',
    '/api'       => 'the API prefix, covered by every /api/v1 row',
    # overview_def.c's tables of owner and overview kinds ({ "nobody",
    # NGX_HTTP_TICKET_OWNER_NONE }): query values and name prefixes
    '/anyone'      => 'owner=anyone, a filter value',
    '/auto'        => 'owner=auto, a filter value',
    '/nobody'      => 'owner=nobody, a filter value',
    '/unassigned-' => 'the overview name unassigned-G (/overview/NAME)',
    '/escalated-'  => 'the overview name escalated-G (/overview/NAME)',
);

# ---- the table covers the routing code ------------------------------------

subtest 'every route of the module has a row' => sub {
    my %lit;
    for my $f (glob "$FindBin::Bin/../ngx_ticket_module/*.c") {
        open my $fh, '<', $f or die "$f: $!";
        my $code = do { local $/; <$fh> };
        $code =~ s{/\*.*?\*/}{}gs;                      # comments
        (my $base = $f) =~ s{.*/}{};
        $lit{$1} //= $base while $code =~ m{"(/[A-Za-z][^"%\s]*)"}g;
        # the action tables of the admin pages ({ "disable", NGX_... })
        $lit{"/$1"} //= $base while $code =~ m{\{\s*"([a-z][a-z-]*)",\s*NGX_HTTP_TICKET_}g;
    }
    my @paths = map { $_->[1] } @ROUTES;
    for my $l (sort keys %lit) {
        next if $NOT_A_ROUTE{$l};
        ok((grep { index($_, $l) >= 0 } @paths), "\"$l\" ($lit{$l}) has a row")
            or diag "add a row for the route using \"$l\" to \@ROUTES in t/authz.t";
    }
};

# ---- helpers ----------------------------------------------------------------

# Redis as it is, but for what a read or refused request may touch
# (sessions' sliding expiry, login counters).
sub snapshot {
    my %s;
    for my $k ($r->keys('*')) {
        next if $k =~ /^tk:\{s:|^tk:rl:/;
        $s{$k} = $r->dump($k);
    }
    return \%s;
}

sub changed {
    my ($a, $b) = @_;
    my @d = grep { !defined $b->{$_} || !defined $a->{$_} || $a->{$_} ne $b->{$_} }
        keys %{ { %$a, %$b } };
    return join ', ', sort @d;
}

sub fill {
    my ($s, $t, $a) = @_;
    $s =~ s/\{T\}/$t/g;
    $s =~ s/\{A\}/$a/g;
    $s =~ s/\{K\}/$k_pdf/g;
    $s =~ s/\{Q\}/$qid/g;
    $s =~ s/\{C\}/$c_also/g;
    $s =~ s/\{(MD|M|SOD|SD|PD|P|OD|O|Z|R)\}/$fx{$1}/g;
    return $s;
}

# One request as who: a session (pages) or a token (API).
sub call {
    my ($who, $route, $t, $a, %o) = @_;
    my ($method, $path, undef, $body) = @$route;
    $path = fill($path, $t, $a);
    if ($path =~ m{^/api/}) {
        my $token = $who eq 'anon' ? undef : $who eq 'revoked' ? $revoked : $tok{$who};
        my %h = (accept => 'application/json');
        $h{authorization} = "Bearer $token" if defined $token;
        my $content;
        if ($method ne 'GET') {
            $content = encode_json({ map { $_ => fill($body->{$_}, $t, $a) } keys %{ $body // {} } });
            $h{'content-type'} = 'application/json';
        }
        return $tk->client->request($method, $path, headers => \%h, no_cookies => 1,
            defined $content ? (content => $content) : ());
    }
    my $c = $web{ $who eq 'revoked' ? 'anon' : $who };
    my %h = $who eq 'revoked' ? (headers => { authorization => "Bearer $revoked" }) : ();
    return $c->get($path, %h) if $method eq 'GET';
    my @form = map { fill($_, $t, $a) } @{ $body // [] };
    unshift @form, csrf => ($o{csrf} // $c->csrf // '') unless $o{no_csrf};
    return $c->post($path, \@form, %h);
}

# An API call with a JSON body.
sub japi {
    my ($method, $path, $token, $body) = @_;
    return $tk->client->api($method => $path, $token, content => encode_json($body),
        headers => { 'content-type' => 'application/json' });
}

sub to_login {
    my ($res) = @_;
    return $res->{status} == 303 && ($res->header('location') // '') =~ m{/login};
}

# What who may do with a route of class, for a ticket of group.
sub allowed {
    my ($who, $class, $group) = @_;
    return 0 if $who =~ /^(anon|gone|revoked)$/;
    return 1 if $class eq 'user';
    return $who eq 'root' if $class =~ /^(admin|own)/;
    return $who eq 'none' if $class eq 'ziv';
    my $right = $group eq 'legal' ? 'full'
              : $group eq 'Zivilrecht' ? ($who eq 'none' ? 'full' : 'none')
              : { root => 'full', full => 'full', reader => 'read' }->{$who} // 'none';
    return $right ne 'none' if $class eq 'ticket_read' || $class eq 'group';
    return $right eq 'full' ? 1 : $right eq 'read' ? 'read' : 0;
}

sub denial_status {
    my ($who, $class, $api, $may) = @_;
    return $api ? 401 : 303 if $who =~ /^(anon|gone|revoked)$/;
    return 403 if $class eq 'admin403';
    return 403 if $may eq 'read';
    return 404;
}

# ---- the matrix --------------------------------------------------------------

my @WHO = qw(anon gone revoked none reader full root);

for my $route (grep { $_->[2] ne 'session' } @ROUTES) {
    my ($method, $path, $class) = @$route;
    my @tickets = $path =~ /\{T\}/ ? ([ $t_also, $a_also, 'ALSO' ], [ $t_legal, $a_legal, 'legal' ],
                                      [ $t_ziv, $a_ziv, 'Zivilrecht' ])
                                   : ([ $t_also, $a_also, 'ALSO' ]);
    for my $tt (@tickets) {
        my ($t, $a, $group) = @$tt;
        my $name = "$method $path" . ($path =~ /\{T\}/ ? " (ticket in $group)" : '');
        subtest $name => sub {
            for my $who (@WHO) {
                my $may = allowed($who, $class, $group);
                my $api = $path =~ m{^/api/};
                my $before = $may eq '1' ? undef : snapshot();
                my $res = call($who, $route, $t, $a);
                my $st = $res->{status};
                if ($may eq '1') {
                    ok $st < 500 && $st != 401 && $st != 403 && $st != 404 && !to_login($res),
                        "$who: allowed ($st)" or diag substr($res->{content} // '', 0, 300);
                    next;
                }
                my $want = denial_status($who, $class, $api, $may);
                is $st, $want, "$who: $want" or diag substr($res->{content} // '', 0, 300);
                ok to_login($res), "$who: to the login page" if $want == 303;
                is changed($before, snapshot()), '', "$who: Redis unchanged";
                my $word = { ALSO => $SECRET, Zivilrecht => 'Zivilwort' }->{$group};
                unlike $res->{content} // '', qr/$word/, "$who: no secret in the answer"
                    if $word && $may ne 'read';
            }
        };
    }
}

# ---- leaks around the matrix -------------------------------------------------

subtest 'search never shows an invisible ticket' => sub {
    my $res = $web{none}->get("/search?q=$SECRET");
    is $res->{status}, 200, 'page 200';
    unlike $res->{content}, qr{/t/$t_also\b|$SECRET</}, 'no hit for none';
    my $j = $tk->client->api(GET => "/api/v1/search?q=$SECRET", $tok{none})->json;
    is $j->{total}, 0, 'API: total 0 for none';
    $j = $tk->client->api(GET => "/api/v1/search?q=$SECRET", $tok{reader})->json;
    ok $j->{total} >= 1, 'control: reader finds it';
    $j = $tk->client->api(GET => '/api/v1/search?q=Legalwort', $tok{none})->json;
    ok $j->{total} >= 1, 'control: none finds the legal ticket';
};

subtest 'overviews and their counts leave the ticket out' => sub {
    for my $p ('/', '/overview/all', '/overview/open') {
        my $res = $web{none}->get($p);
        unlike $res->{content}, qr{/t/$t_also\b}, "$p: not listed for none";
        ok !$res->dom->at('[data-overview="group-ALSO"]'), "$p: no ALSO overview";
    }
    my $count = $web{none}->get('/overview/all')->dom->at('[data-overview="all"] .count');
    is $count ? $count->text : '', '2', 'the "all" count for none: the legal and the Zivilrecht ticket';
    my $rc = $web{reader}->get('/overview/all')->dom->at('[data-overview="all"] .count');
    is $rc ? $rc->text : '', '3', 'control: 3 for reader (the ALSO customer\'s ticket too)';
    my $j = $tk->client->api(GET => '/api/v1/tickets?overview=all', $tok{none})->json;
    ok !(grep { $_->{number} == $t_also } @{ $j->{tickets} }), 'API list: not listed';
    is $j->{total}, scalar(grep { $_->{number} } @{ $j->{tickets} }), 'total counts only what is listed';
    is $tk->client->api(GET => '/api/v1/tickets?group=ALSO', $tok{none})->{status} =~ /^(404|200)$/ ? 1 : 0, 1,
        'a foreign group filter: 404 or empty';
};

subtest 'no oracle: an invisible ticket looks like none at all' => sub {
    my $a = $web{none}->get("/t/$t_also");
    my $b = $web{none}->get('/t/999999');
    is $a->{status}, 404, 'the ticket page: 404';
    is $a->{content}, $b->{content}, 'the same page as a ticket that does not exist';
    my $ja = $tk->client->api(GET => "/api/v1/tickets/$t_also", $tok{none});
    my $jb = $tk->client->api(GET => '/api/v1/tickets/999999', $tok{none});
    is $ja->{content}, $jb->{content}, 'API: the same body';
    my $ga = $web{none}->get("/go?n=$t_also");
    my $gb = $web{none}->get('/go?n=999999');
    is $ga->{status}, $gb->{status}, 'go-to: the same status';
    isnt $ga->header('location') // '', "/t/$t_also", 'go-to: no redirect to it';
    my $ka = $web{none}->get("/admin/keys?import=$t_also/$a_also/$k_pdf");
    unlike $ka->{content}, qr/$SECRET/, 'key import confirm: not the attachment\'s name';
    ok !$ka->dom->at('form[action$="/admin/keys/import-att"]'), '  and no import form for it';
    my $kr = $web{reader}->get("/admin/keys?import=$t_also/$a_also/$k_pdf");
    like $kr->{content}, qr/$SECRET/, '  control: reader sees the confirm';
};

subtest 'the page cache never serves one user\'s page to another' => sub {
    # full opens them first: ticket page, overview, API list (cached)
    $web{full}->get("/t/$t_also") for 1 .. 2;
    $web{full}->get('/overview/all') for 1 .. 2;
    $tk->client->api(GET => '/api/v1/tickets', $tok{full}) for 1 .. 2;
    is $web{none}->get("/t/$t_also")->{status}, 404, 'none: 404 after full viewed it';
    unlike $web{none}->get('/overview/all')->{content}, qr{/t/$t_also\b}, 'none: overview without it';
    my $j = $tk->client->api(GET => '/api/v1/tickets', $tok{none})->json;
    ok !(grep { $_->{number} == $t_also } @{ $j->{tickets} }), 'none: API list without it';
    my $page = $web{reader}->get("/t/$t_also");
    is $page->{status}, 200, 'reader: 200';
    ok !$page->dom->at('section#composer'), 'reader: no composer (not full\'s page)';
    ok !$page->dom->at('form#ticket-update'), 'reader: no update form';
    is $page->dom->at('meta[name=csrf]')->attr('content'), $web{reader}->csrf, 'reader: own CSRF token';
    my $user = $page->dom->at('#user');
    like $user ? $user->text : '', qr/Reader Test/, 'reader: own name in the head';
};

subtest 'new routes: no way around the group right' => sub {
    # a new ticket in a group one cannot read: the answer of a group that
    # does not exist, and nothing written
    my $before = snapshot();
    my %post = (to => 'x@example.org', subject => 'S', body => 'B');
    my $a = japi(POST => '/api/v1/tickets', $tok{none}, { %post, group => 'ALSO' });
    my $b = japi(POST => '/api/v1/tickets', $tok{none}, { %post, group => 'Nirgendwo' });
    is $a->{status}, $b->{status}, "API new ticket in ALSO for none: $a->{status} like a missing group";
    is $a->{content}, $b->{content}, '  the same body';
    my $s = $web{none}->get('/new/security?group=ALSO&to=a%40example.org');
    is $s->{status}, 404, '/new/security for a foreign group: 404';
    is changed($before, snapshot()), '', '  Redis unchanged';
    # the customer page: the ALSO ticket is not in kundin's list for none
    my $cp = $web{none}->get("/customers/$c_kundin");
    is $cp->{status}, 200, 'none: kundin\'s page (tickets in legal)';
    unlike $cp->{content}, qr{/t/$t_also\b|$SECRET}, '  without the ALSO ticket';
    like $web{reader}->get("/customers/$c_kundin")->{content}, qr{/t/$t_also\b}, '  control: reader sees it';
    my $ca = $web{none}->get("/customers/$c_also");
    my $cn = $web{none}->get('/customers/999999');
    is $ca->{content}, $cn->{content}, 'the ALSO-only customer: the page of one that does not exist';
    my $ea = $web{none}->get('/customers?email=geheim.mandantin%40example.net');
    my $en = $web{none}->get('/customers?email=niemand%40example.net');
    is $ea->{status}, 404, 'by address: 404, no redirect to the id';
    is $ea->{content}, $en->{content}, '  like an unknown address';
    is $web{reader}->get('/customers?email=geheim.mandantin%40example.net')->{status}, 303,
        '  control: reader is sent to the page';
    # the address suggestions and the organisation's list: a customer
    # whose page is a 404 is named nowhere
    my $sugg = sub {
        my ($who, $path) = @_;
        my $res = $web{$who}->get($path);
        return $res->{status} == 200 ? join ' ', map { $_->{email} } @{ $res->json->{addresses} } : "($res->{status})";
    };
    unlike $sugg->('none', '/new/complete?q=geheim'), qr/geheim\.mandantin/, '/new/complete: not suggested to none';
    like $sugg->('reader', '/new/complete?q=geheim'), qr/geheim\.mandantin/, '  control: suggested to reader (reads ALSO)';
    like $sugg->('full', '/new/complete?q=geheim'), qr/geheim\.mandantin/, '  and to full';
    unlike $sugg->('none', "/t/$t_legal/complete?q=geheim"), qr/geheim\.mandantin/, "/t/N/complete: not suggested to none";
    like $sugg->('none', "/t/$t_legal/complete?q=kundin"), qr/kundin\@/, '  control: kundin (legal tickets) is';
    for my $c ([ $c_kundin, 'Kundin', 'kundin@example.net' ], [ $c_also, 'Geheime Mandantin', 'geheim.mandantin@example.net' ]) {
        is $web{root}->post_csrf("/customers/$c->[0]", [ name => $c->[1], email => $c->[2],
            organisation => 'Kollektiv', notes => '' ])->{status}, 303, "customer $c->[0] in the organisation";
    }
    my $org = $web{none}->get("/customers/$c_kundin");
    unlike $org->{content}, qr/geheim\.mandantin|Geheime Mandantin|customers\/$c_also\b/, 'the organisation\'s list: not named to none';
    like $web{full}->get("/customers/$c_kundin")->{content}, qr{customers/$c_also\b}, '  control: named to full';
    # @@mentions: who may not read the ticket is warned about, not told
    my $note = japi(POST => "/api/v1/tickets/$t_also/articles", $tok{full},
        { type => 'note', body => "\@\@none \@\@reader \@\@niemand bitte" });
    is $note->{status}, 201, 'a note in ALSO mentioning none, reader and an unknown login';
    is_deeply $note->json->{mentions_unseen}, [ 'none', 'niemand' ],
        '  none (no right) and the unknown login alike: not told';
    # tags: per ticket right; the names in the ticket page's suggestions are
    # global like Zammad's (docs/security.md)
    is $web{full}->post_csrf("/t/$t_also/tags", [ add => 'quokkatag' ])->{status}, 303, 'full tags the ALSO ticket';
    my $tg = $tk->client->api(GET => "/api/v1/tickets/$t_also/tags", $tok{none});
    is $tg->{status}, 404, 'none: its tags 404';
    unlike $tg->{content}, qr/quokkatag/, '  and not in the answer';
    my $sr = $web{none}->get('/search?tag=quokkatag');
    unlike $sr->{content}, qr{/t/$t_also\b}, 'search by the tag: not listed for none';
    my $j = $tk->client->api(GET => '/api/v1/search?tag=quokkatag', $tok{none})->json;
    is $j->{total} // 0, 0, '  API: total 0';
    is japi(POST => "/api/v1/tickets/$t_legal/merge", $tok{none}, { into => $t_also })->{status}, 422,
        'merging into an invisible ticket: 422 "no such ticket"';
    is japi(POST => "/api/v1/tickets/$t_legal/merge", $tok{none}, { into => 999999 })->{content},
       japi(POST => "/api/v1/tickets/$t_legal/merge", $tok{none}, { into => $t_also })->{content},
        '  the same answer as for a ticket that does not exist';
};

subtest 'notifications: nothing about a ticket one can no longer read' => sub {
    # reader subscribes to the legal ticket and is told of an update;
    # then the ticket moves to Zivilrecht (reader: no right)
    my $t = (mail_to('legal@example.org', 'Umzug', 'Umzugwort'))[0];
    is japi(POST => "/api/v1/tickets/$t/subscription", $tok{reader}, {})->{status}, 200, 'reader subscribes';
    my $seq = $r->incr(tk_key_user_notices_seq('reader'));
    $r->xadd(tk_key_user_notices('reader'), "0-$seq", ticket => $t, event => 'update',
        title => 'Umzug Umzugwort', by => 'full', group => 'legal', text => 'x', time => time);
    $r->zadd(tk_key_user_unread('reader'), $seq, $seq);
    my $l = $tk->client->api(GET => '/api/v1/notifications', $tok{reader})->json;
    ok((grep { $_->{ticket} == $t } @{ $l->{notifications} }), 'listed while in legal');
    is japi(PATCH => "/api/v1/tickets/$t", $tok{none}, { group => 'Zivilrecht' })->{status}, 200,
        'moved to Zivilrecht';
    $l = $tk->client->api(GET => '/api/v1/notifications', $tok{reader})->json;
    ok !(grep { $_->{ticket} == $t } @{ $l->{notifications} }), 'API: not listed any more';
    my $page = $web{reader}->get('/notifications');
    is $page->{status}, 200, 'the page: 200';
    unlike $page->{content}, qr/Umzugwort|\/t\/$t\b/, '  without it';
};

subtest 'casework and saved overviews: no way around the group right' => sub {
    # saved overviews: list and count never include an invisible ticket
    my $s = $web{none}->get("/overview/$fx{S}");
    is $s->{status}, 200, 'the shared overview for everyone: 200 for none';
    unlike $s->{content}, qr{/t/$t_also\b|/t/$t_cust\b|$SECRET}, '  without the ALSO tickets';
    # the shared overview is "all" saved: its count is the user's "all"
    my $count = sub {
        my ($who, $name) = @_;
        my $c = $web{$who}->get("/overview/$fx{S}")->dom->at(qq{nav#overviews [data-overview="$name"] .count});
        return $c ? $c->text : '';
    };
    is $count->('none', $fx{S}), $count->('none', 'all'), '  its count for none: the one of "all" (no ALSO ticket)';
    is $count->('reader', $fx{S}), $count->('reader', 'all'), '  control: the same for reader';
    my @rows = map { $_->attr('data-number') } $s->dom->find('table#tickets tr[data-number]');
    is scalar(@rows), $count->('none', $fx{S}), '  as many rows as the count';
    ok !(grep { $_ == $t_also || $_ == $t_cust } @rows), '  none of them in ALSO';
    my $j = $tk->client->api(GET => "/api/v1/overviews/$fx{S}/tickets", $tok{none})->json;
    ok !(grep { $_->{number} == $t_also || $_->{number} == $t_cust } @{ $j->{tickets} }), '  API: not listed';
    my $l = $tk->client->api(GET => '/api/v1/overviews', $tok{none});
    unlike $tk->client->api(GET => '/api/v1/overviews', $tok{reader})->{content}, qr/Nur Ziv|Root privat/,
        'API overview list for reader: not the Zivilrecht one nor root\'s own';
    like $l->{content}, qr/Nur Ziv/, '  control: none has the Zivilrecht one';
    unlike $l->{content}, qr/Root privat/, '  but not root\'s own';
    ok !$web{reader}->get('/')->dom->at(qq{nav#overviews a[data-overview="$fx{Z}"]}), 'not in reader\'s sidebar';
    # another's overview id in "save changes", a shared one's in delete
    my @keys = (tk_key_user_overviews('root'), TK_KEY_OVERVIEWS);
    my @was = map { $r->dump($_) // '' } @keys;
    my $h = $web{none}->post_csrf('/overview/save', [ name => 'Gekapert', def => '', id => $fx{O} ]);
    my $k = $web{full}->post_csrf('/overview/save', [ name => 'Gekapert', def => '', id => $fx{S}, shared => 1 ]);
    my $d = $web{none}->post_csrf("/overview/$fx{Z}/delete", []);
    is $d->{status}, 404, "a shared overview's delete by an agent: 404";
    is_deeply [ map { $r->dump($_) // '' } @keys ], \@was,
        "root's own and the shared overviews unchanged (save with their id: $h->{status}, $k->{status})";
    unlike $web{root}->get("/overview/$fx{O}")->{content}, qr/Gekapert/, '  root\'s still has its name';
    # a group one cannot read, saved into an own overview: dropped
    my $res = $web{none}->submit('/overview/all?group=ALSO', 'form#overview-save', name => 'Fremde Gruppe');
    if ($res->{status} == 303) {
        my $id = saved_id($res);
        my $p = $web{none}->get("/overview/$id");
        unlike $p->{content}, qr{/t/$t_also\b|$SECRET}, 'an own overview naming ALSO: still without its tickets';
    } else {
        ok $res->{status} == 404 || $res->{status} == 422, "an own overview naming ALSO: refused ($res->{status})";
    }
    # text modules and templates: placeholders of an invisible ticket
    for my $path ("/text-modules.json?q=geteilt&ticket=$t_cust", "/t/$t_cust?template=$fx{P}") {
        my $a = $web{none}->get($path);
        is $a->{status}, 404, "$path for none: 404";
        unlike $a->{content}, qr/Geheime|Mandantin|$SECRET/, '  no customer name';
    }
    my $x = $tk->client->api(GET => "/api/v1/text_modules?q=geteilt&ticket=$t_cust", $tok{none});
    is $x->{status}, 404, 'API text modules filled for an invisible ticket: 404';
    unlike $x->{content}, qr/Geheime|Mandantin/, '  no customer name';
    is $x->{content}, $tk->client->api(GET => '/api/v1/text_modules?q=geteilt&ticket=999999', $tok{none})->{content},
        '  the answer for a ticket that does not exist';
    like $tk->client->api(GET => "/api/v1/text_modules?q=geteilt&ticket=$t_cust", $tok{reader})->{content},
        qr/Hallo Geheime Mandantin/, '  control: filled for reader';
    unlike $tk->client->api(GET => '/api/v1/text_modules?q=', $tok{none})->{content}, qr/rootmod|Root Modul/,
        'root\'s own module: not in none\'s list';
    my $ed = $web{reader}->get("/text-modules?edit=$fx{M}");
    is $ed->{content}, $web{reader}->get('/text-modules?edit=999999')->{content},
        'root\'s module id in ?edit=: the 404 of one that does not exist';
    unlike $ed->{content}, qr/rootmod|Root Modul|Liebe \{\{/, '  nothing of it';
    # "::keyword" in a note on a ticket one cannot see: 404, nothing written
    my $before = snapshot();
    my $n = japi(POST => "/api/v1/tickets/$t_cust/articles", $tok{none}, { type => 'note', body => '::geteilt' });
    is $n->{status}, 404, '"::geteilt" in a note on an invisible ticket: 404';
    unlike $n->{content}, qr/Geheime|Mandantin/, '  no customer name';
    is changed($before, snapshot()), '', '  Redis unchanged';
    # data protection: never runs for an agent
    $before = snapshot();
    for my $who (qw(none reader full)) {
        my $e = $tk->client->api(GET => '/api/v1/customers/geheim.mandantin%40example.net/export', $tok{$who});
        is $e->{status}, 404, "$who: export 404";
        my $d = japi(POST => '/api/v1/customers/geheim.mandantin%40example.net/erase', $tok{$who}, { mode => 'delete' });
        is $d->{status}, 404, "$who: erase 404";
        unlike $e->{content} . $d->{content}, qr/Geheime|$SECRET/, '  nothing about the customer';
        is $web{$who}->post_csrf('/admin/customers/erase', [ address => 'geheim.mandantin@example.net',
            mode => 'delete', confirm => 'geheim.mandantin@example.net' ])->{status}, 404, "$who: the admin form 404";
    }
    is changed($before, snapshot()), '', 'no request written';
};

subtest 'the request form: anonymous, shows and changes no ticket' => sub {
    my $c = $tk->client;
    my $f = $c->get('/form');
    is $f->{status}, 200, '/form: the form for anyone';
    unlike $f->{content}, qr{/t/\d|$SECRET|Legalwort|Zivilwort|Kundin|csrf}i, '  names no ticket, customer or session';
    my $before = snapshot();
    for my $q ("/form?ticket=$t_also", "/form/$t_also", "/form?n=$t_also") {
        my $res = $c->get($q);
        unlike $res->{content} // '', qr/$SECRET|Kundin/, "$q: no ticket";
    }
    my $p = $c->post('/form', [ name => 'x', email => 'x@example.org', subject => 's', message => 'm',
        ticket => $t_also, token => 'bogus' ]);
    ok $p->{status} == 403 || $p->{status} == 422, "a post without a valid form token: refused ($p->{status})";
    unlike $p->{content} // '', qr/$SECRET/, '  no secret';
    my $snap = changed($before, snapshot());
    unlike $snap, qr/\{t:/, 'no ticket key changed';
    # the form is a location of its own (ticket_form on), not a route of
    # the ticket app: beside it, /form/... is the app's 404
    unlike $web{full}->get('/form')->{content}, qr/$SECRET|Full Test/, 'with a session: nothing of it shown';
    is $web{full}->get('/form/')->{status}, 404, '/form/ in the app (ticket_form off): 404';
    is $web{full}->post_csrf('/form/', [ name => 'x' ])->{status}, 404, '  also for a POST';
};

# ---- CSRF: every POST of the table -------------------------------------------

subtest 'CSRF: a POST without or with a wrong token changes nothing' => sub {
    for my $route (grep { $_->[0] eq 'POST' && $_->[1] !~ m{^/api/} && $_->[2] ne 'session' } @ROUTES) {
        my $who = $route->[2] =~ /^admin/ ? 'root' : 'full';
        for my $csrf (undef, 'f' x 64, $web{reader}->csrf) {
            my $before = snapshot();
            my $res = call($who, $route, $t_also, $a_also,
                defined $csrf ? (csrf => $csrf) : (no_csrf => 1));
            ok $res->{status} == 403 || $res->{status} == 400,
                "$route->[1] " . (defined $csrf ? 'wrong token' : 'no token') . ": refused ($res->{status})";
            is changed($before, snapshot()), '', '  Redis unchanged';
        }
    }
};

# ---- sessions ------------------------------------------------------------------

subtest 'session fixation: an id set before login is not kept' => sub {
    my $c = $tk->client;
    my $fixed = 'a1' x 32;
    $c->jar->{tk_session} = $fixed;
    my $res = $c->login('full', $pw{full});
    is $res->{status}, 303, 'signed in';
    isnt $c->cookie('tk_session'), $fixed, 'a new session id';
    my $d = $tk->client;
    $d->jar->{tk_session} = $fixed;
    ok to_login($d->get('/')), 'the fixed id is no session';
};

subtest 'logout and password change end sessions on the server' => sub {
    my $pw = $tk->add_user('sess', rights => 'ALSO:full');
    my $a = $tk->login_client('sess', $pw);
    my $b = $tk->login_client('sess', $pw);
    my $old = $a->cookie('tk_session');
    $a->get('/');
    like $a->post('/logout', [ csrf => 'f' x 64 ])->{status}, qr/^40[03]$/, 'logout with a wrong token: refused';
    is $a->get('/')->{status}, 200, '  and still signed in';
    is $a->logout->{status}, 303, 'logout';
    my $c = $tk->client;
    $c->jar->{tk_session} = $old;
    ok to_login($c->get('/')), 'the old cookie no longer works';
    is $b->get('/')->{status}, 200, 'the other session still works';
    my $d = $tk->login_client('sess', $pw);
    $d->get('/profile');
    my $res = $d->post_csrf('/profile/password', [ old => $pw, new => 'ein neues Passwort', confirm => 'ein neues Passwort' ]);
    is $res->{status}, 303, 'password changed';
    ok to_login($b->get('/')), 'the other session ended';
    is $d->get('/')->{status}, 200, 'this session goes on';
};

subtest 'a revoked or disabled credential stops at once' => sub {
    is $tk->client->api(GET => '/api/v1/me', $revoked)->{status}, 401, 'revoked token: 401';
    is $tk->client->api(GET => '/api/v1/me', $tok{gone})->{status}, 401, 'disabled user\'s token: 401';
    ok to_login($web{gone}->get('/')), 'disabled user\'s session: login';
};

subtest 'cookies are Secure when configured' => sub {
    my $res = $tk->client->get('/login');
    my ($name, $ck) = $res->session_cookie;
    ($ck) = values %{ $res->{set_cookies} } unless $ck;
    ok $ck && !$ck->{attrs}{secure}, 'test config (ticket_cookie_secure off): not Secure';
    $tk->stop_nginx;
    my $n = $tk->dir . '/nginx';
    my $conf = $tk->nginx_conf;
    $conf =~ s/ticket_cookie_secure off;/ticket_cookie_secure on;/ or die 'no ticket_cookie_secure in the config';
    TK::write_file("$n/conf/nginx.conf", $conf);
    # run_nginx: with libasan preloaded under make asan, like start_nginx
    $tk->run_nginx;
    TK::wait_for('nginx up', 10, sub { $tk->client->get('/login')->{status} == 200 });
    my $c = $tk->client;
    $res = $c->login('full', $pw{full});
    is $res->{status}, 303, 'signed in';
    my $sc = $res->cookie('tk_session');
    ok $sc && $sc->{attrs}{secure}, 'session cookie: Secure';
    ok $sc && $sc->{attrs}{httponly}, 'HttpOnly';
    is $sc && $sc->{attrs}{samesite}, 'Strict', 'SameSite=Strict';
};

done_testing;
