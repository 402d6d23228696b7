# The administration pages (issue 12): users, groups, outbox queue, mail
# accounts -- only for admins; every form with the CSRF token; a refused
# form writes nothing; sessions end when an account is disabled, its
# sessions are ended or its password changes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode ();
use TK;

my $tk = TK->new;
$tk->standard_groups;              # ALSO, legal (all agents), Zivilrecht
my $adm_pw = $tk->add_user('ada', name => 'Ada Admin', admin => 1, rights => 'ALSO:full');
my $agent_pw = $tk->add_user('anna', rights => 'ALSO:full');
my $r = $tk->redis;

my $admin = $tk->login_client('ada', $adm_pw);
my $agent = $tk->login_client('anna', $agent_pw);
my $anon = $tk->client;

sub user_hash { my %h = $r->hgetall(tk_key_user($_[0])); \%h }

sub snapshot {
    return join "\n", map { $tk->json->encode(user_hash($_)) } sort $r->smembers(TK_KEY_USERS);
}

# POST a form of a page as the browser would, with overrides
sub submit {
    my ($c, $path, $sel, %set) = @_;
    my $page = $c->get($path);
    die "GET $path: $page->{status}" unless $page->{status} == 200;
    my ($action, $pairs) = $c->form_values($page, $sel, %set);
    # the page and this file are UTF-8 bytes; HTTP::Tiny encodes characters
    return $c->post($action, [ map { defined $_ ? Encode::decode_utf8($_) : $_ } @$pairs ]);
}

my @pages = ('/admin', '/admin/users', '/admin/users/new', '/admin/users/anna',
    '/admin/groups', '/admin/groups/new', '/admin/groups/ALSO',
    '/admin/outbox', '/admin/mail');

subtest 'every admin page is 404 for an agent, a login for the anonymous, 200 for an admin' => sub {
    for my $p (@pages) {
        is $agent->get($p)->{status}, 404, "agent: GET $p 404";
        my $res = $anon->get($p);
        is $res->{status}, 303, "anonymous: GET $p to login";
        like $res->{headers}{location} // '', qr{/login}, 'to /login';
        is $admin->get($p)->{status}, 200, "admin: GET $p 200";
    }
    $agent->get('/');
    my $res = $agent->post_csrf('/admin/users/new', [ login => 'evil', name => 'E', email => 'e@x.org',
        role => 'admin', password => 'xxxxxxxx1', confirm => 'xxxxxxxx1' ]);
    is $res->{status}, 404, 'agent: POST 404';
    ok !$r->exists(tk_key_user('evil')), 'nothing written';
};

subtest 'the page head links admins (only) to the administration' => sub {
    my $dom = $admin->get('/')->dom;
    ok $dom->at('a#nav-admin'), 'admin: a#nav-admin';
    ok !$agent->get('/')->dom->at('a#nav-admin'), 'agent: none';
    my @s = map { $_->attr('data-section') } $admin->get('/admin')->dom->find('ul#admin-sections a[data-section]');
    is_deeply [ @s[0 .. 3] ], [qw(users groups outbox mail)], 'sections';
};

subtest 'the user list shows every account with role, rights and status' => sub {
    my $dom = $admin->get('/admin/users')->dom;
    my %rows = map { $_->attr('data-login') => $_ } $dom->find('table#users tr[data-login]');
    is_deeply [ sort keys %rows ], [qw(ada anna)], 'both accounts';
    is $rows{ada}->at('td.role')->text, 'admin', 'role';
    is $rows{anna}->at('td.rights span.right[data-group=ALSO]')->text, 'ALSO: voll', 'rights per group';
    like $rows{ada}->at('td.last-login')->text, qr/\d\d:\d\d/, 'last sign-in recorded';
};

my $berta_pw = 'berta-secret-1';

subtest 'create a user: she can sign in with that password' => sub {
    my $res = submit($admin, '/admin/users/new', 'form#user-form',
        login => 'Berta', name => 'Berta B', email => 'berta@example.org', role => 'agent',
        'r.ALSO' => 'read', 'r.Zivilrecht' => 'full', password => $berta_pw, confirm => $berta_pw);
    is $res->{status}, 303, 'status 303' or diag $res->{content};
    like $res->{headers}{location}, qr{/admin/users/berta\?saved=created$}, 'to her page';
    my $u = user_hash('berta');
    is $u->{name}, 'Berta B', 'name';
    is $u->{rights}, 'ALSO:read,Zivilrecht:full', 'rights';
    is $u->{role}, 'agent', 'role';
    like $u->{password}, qr/^\$y\$/, 'yescrypt hash';
    ok $r->sismember(TK_KEY_USERS, 'berta'), 'in tk:users';
    my $b = $tk->client;
    is $b->login('berta', $berta_pw)->{status}, 303, 'signs in';
    is $b->get('/')->{status}, 200, 'overview';
    my $page = $admin->get($res->{headers}{location});
    is $page->dom->at('.flash.ok')->text, 'Angelegt.', 'flash';
    is $page->dom->at('table#user-rights tr[data-group=Zivilrecht] option[selected]')->attr('value'), 'full',
        'form shows the rights';
};

subtest 'invalid input: a clear error and nothing written' => sub {
    my $before = snapshot();
    my %good = (login => 'carl', name => 'Carl', email => 'carl@example.org', role => 'agent',
        password => 'long-enough-1', confirm => 'long-enough-1');
    my @cases = (
        [ { login => 'Carl Space' }, qr/Anmeldename/ ],
        [ { login => 'berta' }, qr/gibt es schon/ ],
        [ { email => 'nope' }, qr/E-Mail-Adresse/ ],
        [ { name => '' }, qr/Name/ ],
        [ { role => 'root' }, qr/Rolle/ ],
        [ { 'r.ALSO' => 'owner' }, qr/Recht/ ],
        [ { password => 'short', confirm => 'short' }, qr/mindestens 8/ ],
        [ { confirm => 'other-one-1' }, qr/nicht gleich/ ],
    );
    for my $case (@cases) {
        my ($set, $want) = @$case;
        my $res = submit($admin, '/admin/users/new', 'form#user-form', %good, %$set);
        is $res->{status}, 400, "400 for " . join(',', %$set);
        my $err = $res->dom->at('.flash.error');
        like $err ? $err->text : '', $want, 'the message says what';
    }
    my $res = submit($admin, '/admin/users/anna', 'form#user-form', email => 'a@b');
    is $res->{status}, 400, 'edit: bad email 400';
    is snapshot(), $before, 'Redis unchanged';
    ok !$r->exists(tk_key_user('carl')), 'no carl';
};

subtest 'edit name, email, role and rights' => sub {
    my $gen = $r->get(TK_KEY_INDEX_GEN) // 0;
    my $res = submit($admin, '/admin/users/berta', 'form#user-form',
        name => 'Berta Bauer', email => 'bb@example.org', 'r.ALSO' => 'full', 'r.Zivilrecht' => 'none');
    is $res->{status}, 303, 'status 303';
    my $u = user_hash('berta');
    is $u->{name}, 'Berta Bauer', 'name';
    is $u->{email}, 'bb@example.org', 'email';
    is $u->{rights}, 'ALSO:full', 'rights';
    cmp_ok $r->get(TK_KEY_INDEX_GEN), '>', $gen, 'page cache generation bumped';
};

subtest 'disable: the running session stops at once, sign-in refused; enable again' => sub {
    my $b = $tk->login_client('berta', $berta_pw);
    is $b->get('/')->{status}, 200, 'signed in';
    my $res = submit($admin, '/admin/users/berta', 'form#user-disable');
    is $res->{status}, 303, 'disabled';
    is user_hash('berta')->{disabled}, '1', 'disabled = 1';
    $res = $b->get('/');
    is $res->{status}, 303, 'her next request: to the login';
    like $res->{headers}{location}, qr{/login}, 'login';
    is $tk->client->login('berta', $berta_pw)->{status}, 401, 'sign-in refused';
    like $admin->get('/admin/users')->dom->at('tr[data-login=berta]')->attr('class'), qr/disabled/, 'listed as disabled';
    $res = submit($admin, '/admin/users/berta', 'form#user-enable');
    is $res->{status}, 303, 'enabled';
    is $tk->client->login('berta', $berta_pw)->{status}, 303, 'signs in again';
};

subtest 'end all sessions' => sub {
    my $b1 = $tk->login_client('berta', $berta_pw);
    my $b2 = $tk->login_client('berta', $berta_pw);
    is $b1->get('/')->{status}, 200, 'session 1';
    is $b2->get('/')->{status}, 200, 'session 2';
    my $res = submit($admin, '/admin/users/berta', 'form#user-sessions');
    is $res->{status}, 303, 'status 303';
    is $b1->get('/')->{status}, 303, 'session 1 ended';
    is $b2->get('/')->{status}, 303, 'session 2 ended';
    my $b3 = $tk->login_client('berta', $berta_pw);
    is $b3->get('/')->{status}, 200, 'a new sign-in works';
    is $admin->get('/')->{status}, 200, "the admin's own session is untouched";
};

subtest "an admin's password reset ends the user's sessions; the new password works" => sub {
    my $b = $tk->login_client('berta', $berta_pw);
    my $new = 'reset-by-admin-2';
    my $res = submit($admin, '/admin/users/berta', 'form#user-password', password => $new, confirm => $new);
    is $res->{status}, 303, 'status 303';
    is $b->get('/')->{status}, 303, 'her session ended';
    is $tk->client->login('berta', $berta_pw)->{status}, 401, 'old password refused';
    is $tk->client->login('berta', $new)->{status}, 303, 'new password works';
    my $before = snapshot();
    $res = submit($admin, '/admin/users/berta', 'form#user-password', password => 'x', confirm => 'x');
    is $res->{status}, 400, 'too short: 400';
    is snapshot(), $before, 'nothing written';
    $berta_pw = $new;
};

subtest "the profile's password change ends the user's other sessions, keeps this one" => sub {
    my $this = $tk->login_client('berta', $berta_pw);
    my $other = $tk->login_client('berta', $berta_pw);
    my $new = 'changed-myself-3';
    my $res = submit($this, '/profile', 'form#password', old => $berta_pw, new => $new, confirm => $new);
    is $res->{status}, 303, 'changed';
    is $this->get('/profile')->{status}, 200, 'this session goes on';
    is $this->get('/')->{status}, 200, 'and on';
    is $other->get('/')->{status}, 303, 'the other one ended';
    is $tk->client->login('berta', $new)->{status}, 303, 'new password works';
    $berta_pw = $new;
};

subtest 'the last active admin cannot disable or demote himself' => sub {
    my $before = snapshot();
    my $res = submit($admin, '/admin/users/ada', 'form#user-disable');
    is $res->{status}, 400, 'disable: 400';
    like $res->dom->at('.flash.error')->text, qr/letzte aktive Admin/, 'says why';
    $res = submit($admin, '/admin/users/ada', 'form#user-form', role => 'agent');
    is $res->{status}, 400, 'demote: 400';
    is snapshot(), $before, 'nothing written';
    # with a second admin it works
    $res = submit($admin, '/admin/users/berta', 'form#user-form', role => 'admin');
    is $res->{status}, 303, 'berta is admin';
    $res = submit($admin, '/admin/users/ada', 'form#user-form', role => 'agent');
    is $res->{status}, 303, 'now ada may step down';
    is user_hash('ada')->{role}, 'agent', 'ada is an agent';
    is $admin->get('/admin/users')->{status}, 404, 'and sees no admin pages any more';
    $tk->ctl('user', 'set', 'ada', '--admin');
};

subtest 'CSRF: no, a wrong or a foreign token is refused and writes nothing' => sub {
    my $b = $tk->login_client('berta', $berta_pw);
    $b->get('/');
    my $foreign = $b->csrf;
    my $before = snapshot();
    $admin->get('/admin/users/anna');
    my @posts = (
        [ '/admin/users/new', [ login => 'mallory', name => 'M', email => 'm@x.org', role => 'admin',
                                 password => 'mallory-pw-1', confirm => 'mallory-pw-1' ] ],
        [ '/admin/users/anna', [ name => 'Hacked', email => 'h@x.org', role => 'admin' ] ],
        [ '/admin/users/anna/disable', [] ],
        [ '/admin/users/anna/sessions', [] ],
        [ '/admin/users/anna/password', [ password => 'hacked-pw-1', confirm => 'hacked-pw-1' ] ],
    );
    for my $p (@posts) {
        my ($path, $form) = @$p;
        for my $tok (undef, 'x' x 64, $foreign) {
            my $res = $admin->post($path, [ defined $tok ? (csrf => $tok) : (), @$form ]);
            ok $res->{status} == 403 || $res->{status} == 400, "$path refused" or diag $res->{status};
        }
    }
    is snapshot(), $before, 'Redis unchanged';
};

subtest 'groups: create with the same rules as ticketctl, edit, list' => sub {
    my $gen = $r->get(TK_KEY_INDEX_GEN) // 0;
    my $res = submit($admin, '/admin/groups/new', 'form#group-form', name => 'Bündnis',
        email => 'buendnis@example.org', display_name => 'Bündnis Legal-Team',
        signature => "-- \r\nGrüße", all_agents => 1);
    is $res->{status}, 303, 'created' or diag $res->{status}, ' ', ($res->dom->at('.flash.error') ? $res->dom->at('.flash.error')->text : substr($res->{content}, 0, 3000));
    my %g = $r->hgetall(tk_key_group('Bündnis'));
    is $g{email}, 'buendnis@example.org', 'email';
    is $g{display_name}, 'Bündnis Legal-Team', 'display name';
    is $g{signature}, "-- \nGrüße", 'signature: CR LF from the browser stored as LF';
    is $g{all_agents}, '1', 'all agents';
    ok $r->sismember(TK_KEY_GROUPS, 'Bündnis'), 'in tk:groups';
    ok $r->sismember(TK_KEY_GROUPS_ALL, 'Bündnis'), 'in tk:groups:all-agents';
    cmp_ok $r->get(TK_KEY_INDEX_GEN), '>', $gen, 'page cache generation bumped';
    my $row = $admin->get('/admin/groups')->dom->at('table#groups tr[data-group=Bündnis]');
    ok $row, 'listed';
    is $row->at('td.email')->text, 'buendnis@example.org', 'with its address';
    my $link = $row->at('td.name a')->attr('href');
    is $admin->get($link)->{status}, 200, 'its page opens (name percent-encoded)';
    $r->hset(tk_key_group('Bündnis'), TK_F_PGP_SIGN, 'ABCDEF0123456789');
    is $admin->get($link)->dom->at('#g-pgp-sign')->attr('value'), 'ABCDEF0123456789', 'signing key shown';
    $res = submit($admin, $link, 'form#group-form', email => 'b2@example.org', all_agents => undef);
    is $res->{status}, 303, 'saved';
    %g = $r->hgetall(tk_key_group('Bündnis'));
    is $g{email}, 'b2@example.org', 'new email';
    is $g{pgp_sign}, 'ABCDEF0123456789', 'signing key kept';
    ok !$r->sismember(TK_KEY_GROUPS_ALL, 'Bündnis'), 'no longer all agents';
    ok $admin->get('/admin/users/new')->dom->at('table#user-rights tr[data-group=Bündnis]'),
        'the new group is offered for rights';
    my ($code, $out) = $tk->ctl_run('group', 'list');
    like $out, qr/Bündnis/, 'ticketctl group list shows it';
};

subtest 'ticketctl group set/add: the same writer and checks' => sub {
    like $tk->ctl('group', 'set', 'Zivilrecht', '--display-name', 'AG Zivilrecht', '--all-agents'),
        qr/group Zivilrecht changed \(all agents\)/, 'group set';
    my %g = $r->hgetall(tk_key_group('Zivilrecht'));
    is $g{display_name}, 'AG Zivilrecht', 'display name';
    ok $r->sismember(TK_KEY_GROUPS_ALL, 'Zivilrecht'), 'all agents';
    $tk->ctl('group', 'set', 'Zivilrecht', '--no-all-agents');
    %g = $r->hgetall(tk_key_group('Zivilrecht'));
    is $g{display_name}, 'AG Zivilrecht', 'kept what it was not told';
    ok !$r->sismember(TK_KEY_GROUPS_ALL, 'Zivilrecht'), 'no longer all agents';
    my ($rc, undef, $err) = $tk->ctl_run('group', 'set', 'Nope', '--email', 'n@example.org');
    is $rc, 65, 'set of an unknown group: EX_DATAERR';
    ok !$r->exists(tk_key_group('Nope')), 'not created';
    ($rc, undef, $err) = $tk->ctl_run('group', 'add', 'Quote', '--display-name', 'a"b');
    is $rc, 65, 'a quote in the display name: refused';
    like $err, qr/display name/, 'says why';
    ($rc) = $tk->ctl_run('group', 'add', 'ALSO');
    is $rc, 65, 'add of an existing group: refused';
};

subtest 'groups: invalid input is refused, nothing written' => sub {
    my $snap = sub { join "\n", sort($r->smembers(TK_KEY_GROUPS)),
        map { $tk->json->encode({ $r->hgetall(tk_key_group($_)) }) } sort $r->smembers(TK_KEY_GROUPS) };
    my $before = $snap->();
    for my $case ([ { name => 'two words' }, qr/Name/ ], [ { name => 'a:b' }, qr/Name/ ],
                  [ { name => 'ALSO' }, qr/gibt es schon/ ], [ { name => 'ok', email => 'x@' }, qr/E-Mail/ ],
                  [ { name => 'ok', display_name => "a\"b" }, qr/Absendername/ ]) {
        my ($set, $want) = @$case;
        my $res = submit($admin, '/admin/groups/new', 'form#group-form', %$set);
        is $res->{status}, 400, '400 for ' . join(',', %$set);
        like $res->dom->at('.flash.error')->text, $want, 'says what';
    }
    $admin->get('/admin/groups/ALSO');
    my $res = $admin->post('/admin/groups/ALSO', [ csrf => 'x' x 64, email => 'evil@x.org' ]);
    is $res->{status}, 403, 'wrong CSRF token: 403';
    is $snap->(), $before, 'Redis unchanged';
    is $agent->get('/admin/groups/ALSO')->{status}, 404, 'agent: 404';
};

subtest 'ticketctl mirrors it: user end-sessions, user passwd ends sessions' => sub {
    my $b = $tk->login_client('berta', $berta_pw);
    is $b->get('/')->{status}, 200, 'signed in';
    like $tk->ctl('user', 'end-sessions', 'berta'), qr/sessions of berta ended/, 'end-sessions';
    is $b->get('/')->{status}, 303, 'session ended';
    $b = $tk->login_client('berta', $berta_pw);
    $berta_pw = 'set-by-ticketctl-4';
    $tk->ctl_stdin("$berta_pw\n", 'user', 'passwd', 'berta', '--password-stdin');
    is $b->get('/')->{status}, 303, 'passwd ended the session';
    is $tk->client->login('berta', $berta_pw)->{status}, 303, 'new password works';
};

subtest 'outbox: queued entries with their delivery state and who holds them; failed ones' => sub {
    my $n = $tk->add_ticket(title => 'Frist', group => 'ALSO');
    my $now = time;
    # the contract (tk_outbox_enqueue): the article hash, then XADD
    for my $a (9001, 9002) {
        $r->hset(tk_key_article($n, $a), kind => 'out', to => "k$a\@example.org",
            subject => "[Ticket#$n] Re: Frist $a", delivery => 'queued',
            delivery_tries => ($a == 9001 ? 2 : 0), delivery_info => ($a == 9001 ? '451 try later' : ''),
            delivery_time => $now);
        $r->xadd(TK_KEY_OUTBOX, '*', ticket => $n, article => $a, kind => 'article');
    }
    my $res = $admin->get('/admin/outbox');
    is $res->{status}, 200, 'status 200';
    like $res->dom->at('.summary')->text, qr/noch nicht geöffnet/, 'no consumer group yet';
    $r->xgroup('CREATE', TK_KEY_OUTBOX, TK_OUTBOX_GROUP, '0');
    $r->xreadgroup('GROUP', TK_OUTBOX_GROUP, 'mb-test-1', 'COUNT', 1, 'STREAMS', TK_KEY_OUTBOX, '>');
    $res = $admin->get('/admin/outbox');
    my $dom = $res->dom;
    is $dom->at('#outbox-total')->text, '2', 'two queued';
    is $dom->at('#outbox-pending')->text, '1', 'one taken';
    ok $dom->at('ul#outbox-consumers li[data-consumer=mb-test-1]'), 'the consumer';
    my @rows = $dom->find('table#outbox tr[data-id]');
    is scalar @rows, 2, 'two rows, oldest first';
    is $rows[0]->at('td.to')->text, 'k9001@example.org', 'recipient';
    is $rows[0]->at('td.subject')->text, "[Ticket#$n] Re: Frist 9001", 'subject';
    is $rows[0]->at('td.delivery span')->attr('data-delivery'), 'queued', 'delivery state';
    is $rows[0]->at('td.tries')->text, '2', 'tries';
    is $rows[0]->at('td.info')->text, '451 try later', 'last reply';
    like $rows[0]->at('td.holder')->text, qr/mb-test-1 \d+ s/, 'held by the consumer, idle time';
    is $rows[1]->at('td.holder')->text, '–', 'the second is not taken';
    like $rows[0]->at('td.ticket a')->attr('href'), qr{/t/$n#a-9001$}, 'links to the article';
    like $dom->at('#outbox-failed') ? '' : $dom->at('.admin-outbox')->text, qr/Keine/, 'no failures yet';
    # the sender's final failure (tk_outbox_delivery, t/unit/test_outbox.c)
    $r->hset(tk_key_article($n, 9003), kind => 'out', to => 'gone@example.org', subject => 'Weg',
        delivery => 'failed', delivery_tries => 5, delivery_info => '550 no such user', delivery_time => $now);
    $r->zadd(TK_KEY_OUTBOX_FAILED, $now, "$n:9003");
    my $f = $admin->get('/admin/outbox')->dom->at('table#outbox-failed tr[data-article=9003]');
    ok $f, 'failed article listed';
    is $f->at('td.info')->text, '550 no such user', 'with its error';
    is $agent->get('/admin/outbox')->{status}, 404, 'agent: 404';
};

subtest 'outbox: a page at a time' => sub {
    my $n = $tk->add_ticket(title => 'Viele', group => 'ALSO');
    for my $a (1 .. 55) {
        $r->hset(tk_key_article($n, 10000 + $a), kind => 'out', to => 'x@example.org', delivery => 'queued');
        $r->xadd(TK_KEY_OUTBOX, '*', ticket => $n, article => 10000 + $a, kind => 'article');
    }
    my $dom = $admin->get('/admin/outbox')->dom;
    is scalar(my @a = $dom->find('table#outbox tr[data-id]')), 50, 'first page: 50';
    my $next = $dom->at('a#outbox-next')->attr('href');
    $dom = $admin->get($next)->dom;
    is scalar(my @b = $dom->find('table#outbox tr[data-id]')), 7, 'second page: the rest';
    ok !$dom->at('a#outbox-next'), 'no further page';
};

subtest 'mail accounts: the status mailbridge recorded' => sub {
    $r->hset(sprintf(TK_FMT_MAILBOX, 'legal'), url => 'imaps://mail.example.org:993/INBOX',
        last_poll => time, last_ok => time - 600, last_error => 'SELECT: Login denied', fetched => 0);
    $r->sadd(TK_KEY_MAILBOXES, 'legal');
    my $row = $admin->get('/admin/mail')->dom->at('table#mailboxes tr[data-mailbox=legal]');
    ok $row, 'listed';
    is $row->at('td.error')->text, 'SELECT: Login denied', 'the error';
    is $row->at('td.url')->text, 'imaps://mail.example.org:993/INBOX', 'url';
};

done_testing;
