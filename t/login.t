# Signing in and out: session cookie, wrong passwords, disabled users,
# logout with CSRF that ends the session in Redis.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;
my $anna = $tk->add_user('anna', name => 'Anna Agent', rights => 'ALSO:full');
my $dora = $tk->add_user('dora', rights => 'ALSO:full');
my $r = $tk->redis;

sub sessions { scalar $r->keys(tk_key_session('*')) }

# The client is logged in: / answers with the overview page.
sub logged_in {
    my ($c) = @_;
    my $res = $c->get('/');
    return $res->{status} == 200 && $res->page eq 'overview';
}

subtest 'the login page has the form and sets the CSRF cookie' => sub {
    my $c = $tk->client;
    my $res = $c->get('/login');
    is $res->{status}, 200, 'status 200';
    is $res->page, 'login', 'body data-page="login"';
    my $form = $res->dom->at('form#login');
    ok $form, 'form#login';
    is lc($form ? $form->attr('method') // '' : ''), 'post', 'method post';
    ok $res->dom->at("form#login input[name=$_]"), "field $_" for qw(login password);
    my $csrf = $res->dom->at('form#login input[type=hidden][name=csrf]');
    ok $csrf && length($csrf->attr('value') // '') >= 16, 'hidden csrf field with a token';
    ok $res->cookie('tk_csrf'), 'tk_csrf cookie set';
};

subtest 'anonymous requests go to the login page' => sub {
    for my $path ('/', '/t/1', '/overview/all', '/profile') {
        my $res = $tk->client->get($path);
        like $res->{status}, qr/^30[23]$/, "$path redirects";
        like $res->location // '', qr{/login}, "$path -> /login";
    }
};

subtest 'right password: 303 and a HttpOnly SameSite=Strict session cookie' => sub {
    my $before = sessions();
    my $c = $tk->client;
    my $res = $c->login('anna', $anna);
    is $res->{status}, 303, '303 See Other';
    my ($name, $cookie) = $res->session_cookie;
    is $name, 'tk_session', 'the tk_session cookie is set' or return;
    ok $cookie->{attrs}{httponly}, 'HttpOnly';
    is lc($cookie->{attrs}{samesite} // ''), 'strict', 'SameSite=Strict';
    is sessions(), $before + 1, 'one new session in Redis';
    ok $r->exists(tk_key_session($cookie->{value})), 'stored as tk:{s:ID}';
    ok logged_in($c), 'the overview opens';
    my $page = $c->get('/');
    like $page->dom->at('#user') ? $page->dom->at('#user')->text : '', qr/Anna Agent/,
        '#user shows the display name';
    ok $page->dom->at('meta[name=csrf]'), 'logged-in pages carry <meta name="csrf">';
};

subtest 'every page carries the security headers' => sub {
    my $c = $tk->client;
    for my $res ($c->get('/login'), $c->login('anna', $anna), $c->get('/'), $c->get('/t/424242')) {
        my $p = $res->{path};
        like $res->header('content-security-policy') // '', qr/default-src 'none'/, "$p: CSP";
        unlike $res->header('content-security-policy') // '', qr/unsafe-inline/, "$p: no unsafe-inline";
        is $res->header('x-content-type-options'), 'nosniff', "$p: nosniff";
        is $res->header('x-frame-options'), 'DENY', "$p: X-Frame-Options";
        like $res->header('cache-control') // '', qr/no-store/, "$p: no-store";
    }
    my $page = $c->get('/');
    unlike $page->{content}, qr/<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline script';
    unlike $page->{content}, qr/\son[a-z]+\s*=/i, 'no inline event handlers';
};

subtest 'wrong password: an error, no session' => sub {
    my $before = sessions();
    my $c = $tk->client;
    my $res = $c->login('anna', 'not-her-password');
    isnt $res->{status}, 303, 'no redirect';
    is $res->page, 'login', 'the login page again';
    my $flash = $res->dom->at('.flash.error');
    ok $flash && length $flash->text, 'with an error message';
    ok !$res->session_cookie, 'no session cookie';
    is sessions(), $before, 'no session in Redis';
    ok !logged_in($c), 'still anonymous';
};

subtest 'unknown user: the same answer as a wrong password' => sub {
    my $wrong = $tk->client->login('anna', 'nope');
    my $unknown = $tk->client->login('nobody-here', 'nope');
    is $unknown->{status}, $wrong->{status}, 'same status';
    my ($fw, $fu) = map { $_->dom->at('.flash.error') } $wrong, $unknown;
    is $fu ? $fu->text : undef, $fw ? $fw->text : '', 'same message';
    ok !$unknown->session_cookie, 'no session cookie';
};

subtest 'login without the CSRF token is refused' => sub {
    my $before = sessions();
    my $c = $tk->client;
    my $res = $c->login('anna', $anna, csrf => '');
    isnt $res->{status}, 303, 'no redirect';
    ok $res->{status} == 400 || $res->{status} == 403, '400/403';
    ok !$res->session_cookie, 'no session cookie';
    is sessions(), $before, 'no session in Redis';
};

subtest 'a disabled user cannot log in and loses an open session' => sub {
    my $pw = $tk->add_user('dieter', rights => 'ALSO:full');
    my $open = $tk->login_client('dieter', $pw);
    ok logged_in($open), 'logged in before';
    $tk->disable_user('dieter');
    my $c = $tk->client;
    my $res = $c->login('dieter', $pw);
    isnt $res->{status}, 303, 'login refused';
    ok !$res->session_cookie, 'no session cookie';
    ok $res->dom->at('.flash.error'), 'with an error message';
    ok !logged_in($open), 'the old session no longer works';
};

subtest 'logout requires the CSRF token' => sub {
    my $c = $tk->login_client('dora', $dora);
    ok logged_in($c), 'logged in';
    my $sid = (grep { !/csrf/i } keys %{ $c->jar })[0];
    my $res = $c->post('/logout', []);
    ok $res->{status} == 403 || $res->{status} == 400, 'no token: 400/403';
    $res = $c->post('/logout', [ csrf => 'f' x 64 ]);
    ok $res->{status} == 403 || $res->{status} == 400, 'wrong token: 400/403';
    ok logged_in($c), 'still logged in';
    ok $r->exists(tk_key_session($c->{jar}{$sid})), 'session still in Redis';
};

subtest 'logout ends the session on the server' => sub {
    my $c = $tk->login_client('dora', $dora);
    my $page = $c->get('/');
    my $form = $page->dom->at('form#logout');
    ok $form, 'form#logout on the page';
    ok $page->dom->at('form#logout input[name=csrf]'), 'with a csrf field';
    my ($name) = grep { !/csrf/i } keys %{ $c->jar };
    my $sid = $c->cookie($name);
    my $res = $c->post_csrf('/logout');
    is $res->{status}, 303, 'status 303';
    like $res->location // '', qr{/login}, 'to /login';
    ok !$r->exists(tk_key_session($sid)), 'session deleted from Redis';
    # a copy of the old cookie must not work any more
    my $replay = $tk->client;
    $replay->jar->{$name} = $sid;
    ok !logged_in($replay), 'the old cookie is dead';
};

# every user is German: the sign-in page too, unless the browser
# prefers English; after sign-out, the language of who just left
sub lang_of {
    my ($res) = @_;
    my ($lang) = ($res->{content} // '') =~ /<html lang="([^"]+)"/;
    my $h1 = $res->dom->at('.login h1');
    return ($lang // '', $h1 ? $h1->text : '');
}

subtest 'the login page is German unless Accept-Language prefers English' => sub {
    my %want = (
        ''                                => 'de',
        'de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7' => 'de',
        'fr-FR,fr;q=0.9'                  => 'de',
        'en-US,en;q=0.9,de;q=0.8'         => 'en',
        'en'                              => 'en',
        'fr, en;q=0.5'                    => 'en',
        'en;q=0.5, de'                    => 'de',
        'de, en'                          => 'de',
        'en, de'                          => 'en',
        'en;q=0'                          => 'de',
        'EN-gb'                           => 'en',
    );
    for my $al (sort keys %want) {
        my $res = $tk->client->get('/login', headers => { length $al ? ('accept-language' => $al) : () });
        my ($lang, $h1) = lang_of($res);
        is $lang, $want{$al}, "Accept-Language '$al': lang=\"$want{$al}\"";
        is $h1, $want{$al} eq 'de' ? 'Anmelden' : 'Sign in', "  heading in it";
    }
    my $res = $tk->client->login('anna', 'nope');
    is $res->dom->at('.flash.error')->text, 'Benutzername oder Passwort falsch.',
        'wrong password: the message in German'
        or diag $res->dom->at('.flash.error')->text;
};

subtest 'after logout the login page speaks the language of who left' => sub {
    my $en_pw = $tk->add_user('emma', rights => 'ALSO:full', lang => 'en');
    for my $u ([ 'anna', $anna, 'de', 'en-US,en' ], [ 'emma', $en_pw, 'en', 'de-DE,de' ]) {
        my ($login, $pw, $lang, $browser) = @$u;
        my $c = $tk->client;
        $c->login($login, $pw);
        my $res = $c->logout;
        is $res->{status}, 303, "$login signs out";
        is $res->cookie('tk_lang') ? $res->cookie('tk_lang')->{value} : '', $lang, "tk_lang=$lang";
        # the browser asks for the other language: the user's wins
        $res = $c->get('/login', headers => { 'accept-language' => $browser });
        is((lang_of($res))[0], $lang, "the login page after it: $lang");
        $res = $c->login($login, 'wrong');
        is((lang_of($res))[0], $lang, "  and after a wrong password");
    }
};

# A session seen before is read together with its user, in one round
# trip (nginx keeps which login a session id has); the session hash still
# decides.  Each way a session ends must end it at once.
subtest 'a session seen before: read with its user, ended all the same' => sub {
    my $fresh = sub {
        my $c = $tk->login_client('anna', $anna);
        ok logged_in($c) && logged_in($c), 'two page views (the second in one round trip)';
        return ($c, tk_key_session($c->cookie('tk_session')));
    };
    my ($c, $key) = $fresh->();
    $r->del($key);
    ok !logged_in($c), 'the session expired (its hash gone): signed out';
    ($c, $key) = $fresh->();
    $r->hset($key, 'gen', 'another');
    ok !logged_in($c), 'ended by "end all sessions" (another session generation)';
    ($c, $key) = $fresh->();
    $r->hset(tk_key_user('anna'), 'disabled', '1');
    ok !logged_in($c), 'the user disabled: signed out';
    $r->hdel(tk_key_user('anna'), 'disabled');
    ($c, $key) = $fresh->();
    $r->hset($key, 'login', 'dora');
    my $res = $c->get('/profile');
    like $res->{content} // '', qr/dora/i, 'a session of another login (cannot happen) is read the long way';
    unlike $res->dom->at('header') // '', qr/\banna\b/, '  and shows no trace of the cached one';
};

subtest 'sliding expiry: renewed by a request, at most once a minute' => sub {
    my $c = $tk->login_client('anna', $anna);
    my $sid = $c->cookie('tk_session');
    my $key = tk_key_session($sid);
    my $full = $r->ttl($key);
    ok $full > 28000, "a new session lives the timeout ($full s)";
    my $expires = sub {
        $r->config('resetstat');
        ok logged_in($c), 'a page view';
        my $st = $r->info('commandstats')->{cmdstat_expire} // '';
        return ($st =~ /calls=(\d+)/)[0] // 0;
    };
    is $expires->(), 0, 'right after login: no EXPIRE (a write) for a page view';
    $r->expire($key, $full - 30);
    is $expires->(), 0, 'half a minute used: still none';
    $r->expire($key, $full - 90);
    is $expires->(), 1, 'more than a minute used: the request renews it';
    ok $r->ttl($key) >= $full - 1, 'back to the full timeout';
    is $expires->(), 0, 'and the next request does not again';
};

subtest 'the session ID is random and long' => sub {
    my (%seen, $len);
    for (1 .. 3) {
        my $res = $tk->client->login('anna', $anna);
        my (undef, $c) = $res->session_cookie;
        $seen{ $c->{value} }++;
        $len = length $c->{value};
    }
    is scalar keys %seen, 3, 'three logins, three sessions';
    cmp_ok $len, '>=', 32, 'at least 128 bits as hex';
};

done_testing;
