# The page cache (ticket_cache): a page seen twice costs no data reads the
# second time, yet every change -- by ticketctl, by mailbridge, by the
# web pages themselves -- shows on the very next view; users with other
# groups, rights, language or login never get each other's page; a rights
# change counts at once; with the cache off or a zone too small for a
# page, pages are right all the same.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use TK;
require "$FindBin::Bin/mail_lib.pl";

# workers => 1: a worker sees the generations in Redis' order, which the
# "counter went back" test relies on; everything else holds for any number
my $tk = TK->new(workers => 1);
$tk->standard_groups;                 # ALSO, legal (all agents), Zivilrecht
my %pw = (
    anna => $tk->add_user('anna', name => 'Anna A', rights => 'ALSO:full', lang => 'en'),
    bert => $tk->add_user('bert', name => 'Bert B', rights => 'ALSO:full', lang => 'de'),
    carl => $tk->add_user('carl', name => 'Carl C', rights => 'ALSO:full', lang => 'en'),
    otto => $tk->add_user('otto', name => 'Otto O', rights => 'Zivilrecht:full', lang => 'en'),
);
my %c = map { $_ => $tk->login_client($_, $pw{$_}) } sort keys %pw;

my $also = $tk->add_ticket(group => 'ALSO', title => 'Akte ALSO', owner => 'anna', body => 'eins');
my $ziv = $tk->add_ticket(group => 'Zivilrecht', title => 'Akte Zivil', body => 'zwei');
my $legal = $tk->add_ticket(group => 'legal', title => 'Akte legal', owner => 'carl', body => 'drei');

# The Redis commands code sent, by name (the test client's own left out).
sub calls {
    my ($code) = @_;
    my $r = $tk->redis;
    $r->config('resetstat');
    $code->();
    my $info = $r->info('commandstats');
    my %n;
    for my $k (keys %$info) {
        my ($cmd) = $k =~ /^cmdstat_([a-z.]+)$/ or next;
        my ($calls) = $info->{$k} =~ /calls=(\d+)/ or next;
        $n{$cmd} = $calls;
    }
    delete @n{qw(config info)};
    return \%n;
}

sub rows { [ sort { $a <=> $b } map { $_->attr('data-number') } $_[0]->dom->find('table#tickets tr[data-number]') ] }
sub row_text {
    my ($res, $n, $cell) = @_;
    my $tr = $res->dom->at("table#tickets tr[data-number=\"$n\"]") or return undef;
    my $td = $tr->at("td.$cell") or return undef;
    return $td->text;
}
sub articles { scalar $_[0]->dom->find('article.article') }

# A page fetched twice is surely cached; then $change; then the next view.
sub after_change {
    my ($client, $path, $change) = @_;
    $client->get($path) for 1 .. 2;
    $change->();
    return $client->get($path);
}

# What authentication of a session request sends: nothing else on a hit
# (ZCARD twice: the quarantine and the unread notifications of the head).
my %auth = (hgetall => 2, ttl => 1, smembers => 1, zcard => 2, get => 1);

subtest 'a cached overview costs the authentication round trips and nothing else' => sub {
    $c{anna}->get('/overview/all') for 1 .. 2;
    my $n = calls(sub { is $c{anna}->get('/overview/all')->{status}, 200, 'served' });
    # overview pages read the saved overviews (two HGETALLs) in the user's
    # batch: a page-cache miss then needs one round trip less
    is_deeply $n, { %auth, hgetall => $auth{hgetall} + 2 },
        'session and its TTL, user, all-agents groups, quarantine, unread, generation, the saved overviews (no EXPIRE: renewed within the minute)';
    $c{anna}->get("/t/$also") for 1 .. 2;
    my $t = calls(sub { $c{anna}->get("/t/$also") });
    is $t->{hgetall}, 3 + 1, 'other pages do not read the saved overviews';
    $tk->ctl('ticket', 'update', $also, '--priority', 'high');
    $n = calls(sub { $c{anna}->get('/overview/all') });
    ok $n->{hmget}, 'after a change the counts are read again';
};

subtest 'a cached ticket page reads the ticket but no article' => sub {
    $c{anna}->get("/t/$also") for 1 .. 2;
    my $n = calls(sub { is $c{anna}->get("/t/$also")->{status}, 200, 'served' });
    # the composer (t/compose.t) reads per request: the group (HGETALL)
    # and the recipients' keys; the answered mail comes with the thread
    is $n->{hgetall}, 3 + 1, 'HGETALL of session, user and ticket only (+ the composer\'s group)';
    ok !$n->{strlen}, 'no raw mail sizes';
    is $n->{hmget} // 0, 1, 'no user for the owner choice, no answered mail (HMGET: the composer\'s keys)';
    $tk->ctl('ticket', 'update', $also, '--title', 'Akte ALSO neu');
    $n = calls(sub { $c{anna}->get("/t/$also") });
    is $n->{hgetall}, 4 + 1, 'after a change: the article too';
    is $n->{strlen}, 1, 'and its raw mail size';
    is $n->{hmget}, 4 + 2, 'and the users (a ticket change bumps the generation too)';
};

subtest 'ticketctl changes show on the next overview, round after round' => sub {
    for my $round (1 .. 3) {
        my $title = "Akte ALSO Runde $round";
        my $res = after_change($c{anna}, '/overview/all',
            sub { $tk->ctl('ticket', 'update', $also, '--title', $title) });
        is row_text($res, $also, 'title'), $title, "round $round: new title";
        my $state = (2, 3, 5)[$round - 1];
        $res = after_change($c{anna}, '/overview/all',
            sub { $tk->ctl('ticket', 'update', $also, '--state', $state) });
        my ($now) = $res->dom->at("tr[data-number=\"$also\"]")->attr('class') =~ /state-(\d)/;
        is $now, $state, "round $round: new state";
        my $prio = (1, 2, 4)[$round - 1];
        $res = after_change($c{anna}, "/t/$also",
            sub { $tk->ctl('ticket', 'update', $also, '--priority', $prio) });
        ok $res->dom->at("p.ticket-meta span.prio-$prio"), "round $round: ticket page shows the new priority";
    }
    my $res = after_change($c{anna}, '/overview/all',
        sub { $tk->add_ticket(group => 'ALSO', title => 'Neu dazu') });
    is scalar @{ rows($res) }, 3, 'a new ticket appears';
};

SKIP: {
    skip 'build/mailbridge is not built', 1 unless TK::mailbridge_bin();

    subtest 'mailbridge: a reply shows on the next ticket page and overview' => sub {
        MB::write_conf($tk);
        my $first = MB::mail(subject => 'Durchsuchung', to => 'also@example.org');
        my ($rc, undef, $err) = MB::deliver($tk, $first);
        is $rc, 0, 'first mail stored' or diag $err;
        my ($n) = MB::stored($tk, MB::msgid_of($first));
        my $prev = $first;
        for my $round (1 .. 3) {
            my $body = "Antwort Nummer $round\r\n";
            my $res = after_change($c{anna}, "/t/$n", sub {
                my $reply = MB::mail(subject => 'Re: Durchsuchung', to => 'also@example.org',
                    in_reply_to => '<' . MB::msgid_of($prev) . '>', body => $body);
                my ($rc, undef, $err) = MB::deliver($tk, $reply);
                is $rc, 0, "reply $round stored" or diag $err;
                $prev = $reply;
            });
            is articles($res), $round + 1, "round $round: every article on the page";
            my $last = ($res->dom->find('article.article'))[-1];
            like $last->at('.body')->text, qr/Antwort Nummer $round/,
                "round $round: the new one last";
            like $res->dom->at('form#compose textarea[name=body]')->raw_text, qr/^> Antwort Nummer $round$/m,
                "round $round: the composer answers the new one";
        }
        $tk->ctl('ticket', 'update', $n, '--state', 'closed');
        my $res = after_change($c{anna}, '/overview/all', sub {
            my $reply = MB::mail(subject => 'Re: Durchsuchung', to => 'also@example.org',
                in_reply_to => '<' . MB::msgid_of($prev) . '>', body => "noch was\r\n");
            MB::deliver($tk, $reply);
        });
        like $res->dom->at("tr[data-number=\"$n\"]")->attr('class'), qr/state-2/,
            'a reply reopened it: the overview says so';
    };
}

subtest 'the web pages\' own changes show at once' => sub {
    my $res = after_change($c{anna}, '/overview/all', sub {
        my $r = $c{anna}->submit("/t/$also", 'form#rename', title => 'Per Web umbenannt');
        is $r->{status}, 303, 'renamed';
    });
    is row_text($res, $also, 'title'), 'Per Web umbenannt', 'overview';
    $res = after_change($c{anna}, '/overview/all', sub {
        $c{anna}->submit('/profile', 'form#profile', name => 'Anna Neu');
    });
    is $res->dom->at('#user .name')->text, 'Anna Neu', 'the page head has the new name';
};

subtest 'names: ticketctl user set, and the owner on the ticket page' => sub {
    my $res = after_change($c{carl}, "/t/$legal",
        sub { $tk->ctl('user', 'set', 'carl', '--name', 'Carl Umbenannt') });
    like $res->dom->at('.meta-owner')->text, qr/Carl Umbenannt/, 'owner shown with the new name';
    is $res->dom->at('#user .name')->text, 'Carl Umbenannt', 'and in the page head';
    $res = after_change($c{anna}, "/t/$legal",
        sub { $tk->ctl('user', 'set', 'carl', '--name', 'Carl C') });
    my ($opt) = grep { ($_->attr('value') // '') eq 'carl' } $res->dom->find('select#f-owner option');
    like $opt->text, qr/Carl C/, 'owner list has the new name';
};

# the history is rendered per request; the names in it come from the
# owner choice's user list (cached under the generation a rename bumps)
# or, for a reader without that list, from HGETs in the article batch
subtest 'names in the history: a rename shows on the next ticket page' => sub {
    is $c{bert}->submit("/t/$also", 'form#ticket-update', priority => 3)->{status}, 303, 'bert changes it';
    my $who = sub {
        my ($res) = @_;
        my ($li) = grep { $_->at('.user[title=bert]') } $res->dom->find('ol#history li');
        return $li ? $li->at('.user[title=bert]')->text : '';
    };
    is $who->($c{anna}->get("/t/$also")), 'Bert B', 'display name in the history';
    $c{anna}->get("/t/$also");
    my $n = calls(sub { $c{anna}->get("/t/$also") });
    ok !$n->{hget}, 'cached page: the names cost no command of their own (no HGET per person)';
    my $res = after_change($c{anna}, "/t/$also", sub { $tk->ctl('user', 'set', 'bert', '--name', 'Bert Neu') });
    is $who->($res), 'Bert Neu', 'ticketctl user set: the new name at once';
    $res = after_change($c{anna}, "/t/$also",
        sub { $c{bert}->submit('/profile', 'form#profile', name => 'Bert Profil') });
    is $who->($res), 'Bert Profil', 'renamed on the profile page: at once';
    $tk->ctl('user', 'set', 'bert', '--name', 'Bert B');
};

# The page's lists (users, groups, all-agents groups, tags, the template
# names) come from the cache under the generation, the composer's reads
# of the articles (the mail answered, whether the customer wrote
# encrypted) under the ticket's rev: each kind of change shows next time.
subtest 'the page\'s lists and the composer\'s reads: cached, and every change shows' => sub {
    my $path = "/t/$also";
    $c{anna}->get($path) for 1 .. 2;
    my $n = calls(sub { is $c{anna}->get($path)->{status}, 200, 'served' });
    ok !$n->{sort}, 'no SORT: neither the articles\' flags and kinds nor the templates';
    is $n->{smembers}, $auth{smembers}, 'SMEMBERS only for the authentication';
    ok !$n->{zrevrange}, 'no ZREVRANGE of the tags';
    ok !$n->{echo}, 'no ECHO';
    is $n->{hmget}, 1, 'HMGET: the customer\'s key only (the mail answered is cached)';
    my $total = 0;
    $total += $_ for values %$n;
    cmp_ok $total, '<=', 14, "$total commands in all";

    my $values = sub { my ($res, $sel) = @_; [ map { $_->attr('value') // '' } $res->dom->find("$sel option") ] };
    my $res = after_change($c{anna}, $path,
        sub { $tk->add_user('dora', name => 'Dora D', rights => 'ALSO:full') });
    ok((grep { $_ eq 'dora' } @{ $values->($res, 'select#f-owner') }), 'a new user: in the owner choice');

    $res = after_change($c{anna}, $path, sub { $tk->add_group('Neu', all_agents => 1) });
    ok((grep { $_ eq 'Neu' } @{ $values->($res, 'select#f-group') }), 'a new all-agents group: a group to move it to');

    $res = after_change($c{anna}, $path, sub {
        $c{carl}->get("/t/$legal");
        is $c{carl}->post_csrf("/t/$legal/tags", [ add => 'fristsache' ])->{status}, 303, 'carl tags another ticket';
    });
    ok((grep { $_ eq 'fristsache' } @{ $values->($res, 'datalist#tag-names') }), 'a new tag: suggested');

    my $root = $tk->login_client('root', $tk->add_user('root', rights => 'ALSO:full', admin => 1, lang => 'en'));
    my $names = sub { [ map { $_->text } $_[0]->dom->find('select#template-choice option') ] };
    $res = after_change($c{anna}, $path, sub {
        $root->get('/admin/templates');
        is $root->post_csrf('/admin/templates/save', { name => 'Vorlage Eins', subject => 'V' })->{status}, 303,
            'a template saved';
    });
    is_deeply $names->($res), [ 'Vorlage Eins' ], 'a new template: in the choice';
    my ($tid) = $tk->redis->smembers(TK_KEY_TEMPLATES);
    $res = after_change($c{anna}, $path, sub {
        $root->get('/admin/templates');
        is $root->post_csrf('/admin/templates/delete', { id => $tid })->{status}, 303, 'and deleted';
    });
    is_deeply $names->($res), [], 'a deleted template: gone from the choice';

    # what mailbridge writes when it finds a mail was encrypted: the
    # article's flags and the ticket's rev, in one MULTI
    my $r = $tk->redis;
    my ($aid) = $r->lrange(tk_key_ticket_arts($also), -1, -1);
    $res = after_change($c{anna}, $path, sub {
        $r->multi;
        $r->hset(tk_key_article($also, $aid), TK_F_FLAGS, 'encrypted');
        $r->hincrby(tk_key_ticket($also), TK_F_REV, 1);
        $r->exec;
    });
    ok $res->dom->at('form#compose input[name=confirm_plain]'), 'the customer wrote encrypted: the confirm is there';
    # a key is per request: never from the cache
    $res = after_change($c{anna}, $path,
        sub { $r->hset(TK_KEY_PGP_ADDR, 'kundin@example.org', 'AAAA1111BBBB2222CCCC3333DDDD4444EEEE5555 0') });
    is $res->dom->at('#security-line')->attr('data-crypt'), 'encrypt', 'a new key: encrypted';
    $r->hdel(TK_KEY_PGP_ADDR, 'kundin@example.org');
    $res = $c{anna}->get($path);
    isnt $res->dom->at('#security-line')->attr('data-crypt'), 'encrypt', 'the key gone: not encrypted';
    $r->multi;
    $r->hset(tk_key_article($also, $aid), TK_F_FLAGS, '');
    $r->hincrby(tk_key_ticket($also), TK_F_REV, 1);
    $r->exec;
    ok !$c{anna}->get($path)->dom->at('form#compose input[name=confirm_plain]'), 'flag gone: no confirm';

    # the quote of the mail answered is kept escaped: per language, apart
    # for a forward, the same as made
    my $quote = sub { $_[0]->dom->at('form#compose textarea[name=body]')->raw_text };
    $tk->ctl('ticket', 'update', $also, '--priority', 'low');
    my $made = $c{anna}->get($path);
    my $kept = $c{anna}->get($path);
    is $quote->($kept), $quote->($made), 'the quote from the cache is the quote made';
    like $quote->($kept), qr/^On .* wrote:\n> eins$/m, 'the mail answered, quoted';
    like $kept->{content}, qr/&lt;kundin\@example\.org&gt; wrote:/, 'escaped once in the HTML';
    unlike $kept->{content}, qr/&amp;lt;/, 'not twice';
    $c{bert}->get($path);
    like $quote->($c{bert}->get($path)), qr/^Am .*:\n> eins$/m, 'German for bert, from the same ticket';
    like $quote->($c{anna}->get($path)), qr/ wrote:\n/, 'English again for anna';
    $c{anna}->get("$path?to=forward");
    my $fwd = $quote->($c{anna}->get("$path?to=forward"));
    like $fwd, qr/Forwarded message/, 'a forward: its own text';
    unlike $fwd, qr/^> /m, 'not quoted';
};

subtest 'same URL, other groups: each sees only their own' => sub {
    $c{anna}->get('/overview/all') for 1 .. 2;
    my $o = $c{otto}->get('/overview/all');
    ok((grep { $_ == $ziv } @{ rows($o) }), 'otto: the Zivilrecht ticket');
    ok(!(grep { $_ == $also } @{ rows($o) }), 'otto: not the ALSO one');
    ok((grep { $_ == $legal } @{ rows($o) }), 'otto: legal (all agents)');
    my $a = $c{anna}->get('/overview/all');
    ok(!(grep { $_ == $ziv } @{ rows($a) }), 'anna again: not the Zivilrecht one');
    ok((grep { $_ == $also } @{ rows($a) }), 'anna: the ALSO one');
    $c{anna}->get('/overview/group-ALSO') for 1 .. 2;
    is $c{otto}->get('/overview/group-ALSO')->{status}, 404, 'otto: no ALSO overview, cached or not';
    $c{anna}->get("/t/$also") for 1 .. 2;
    my $t = $c{otto}->get("/t/$also");
    is $t->{status}, 404, 'otto: no ALSO ticket, cached or not';
    unlike $t->{content}, qr/Akte|Per Web/, 'nothing of it in the 404';
    my %seen = map { $_ => scalar articles($c{$_}->get("/t/$legal")) } qw(anna otto);
    is $seen{otto}, $seen{anna}, 'a ticket both may read: the same articles';
};

subtest 'same groups, other language or login: their own page' => sub {
    $c{anna}->get('/overview/all') for 1 .. 2;
    my $b = $c{bert}->get('/overview/all');
    is $b->dom->at('html')->attr('lang'), 'de', 'bert reads German';
    like $b->dom->at('nav#overviews')->text, qr/Alle Tickets/, 'German sidebar';
    $c{anna}->get('/overview/my') for 1 .. 2;
    my $mine = rows($c{carl}->get('/overview/my'));
    ok(!(grep { $_ == $also } @$mine), 'carl: not anna\'s ticket under "my"');
    ok((grep { $_ == $legal } @$mine), 'carl: his own');
};

subtest 'a rights change counts on the next request' => sub {
    $c{anna}->get($_) for '/overview/all', '/overview/all', "/t/$also", "/t/$also";
    $tk->ctl('user', 'set', 'otto', '--groups', 'Zivilrecht:full,ALSO:read');
    ok((grep { $_ == $also } @{ rows($c{otto}->get('/overview/all')) }), 'otto sees ALSO now');
    my $t = $c{otto}->get("/t/$also");
    is $t->{status}, 200, 'and the ticket';
    ok !$t->dom->at('form#ticket-update'), 'read only: no change form';
    ok $c{anna}->get("/t/$also")->dom->at('form#ticket-update'), 'anna still has it';
    $tk->ctl('user', 'set', 'otto', '--groups', 'Zivilrecht:full');
    ok(!(grep { $_ == $also } @{ rows($c{otto}->get('/overview/all')) }), 'taken away: gone');
    is $c{otto}->get("/t/$also")->{status}, 404, 'ticket: 404 again';
};

subtest 'the API list: cached, fresh, per user' => sub {
    my %tok = map { $_ => $tk->add_token($_) } qw(anna otto);
    my $list = sub { $_[0]->api('GET', '/api/v1/tickets?overview=all', $tok{ $_[1] })->json };
    $list->($c{anna}, 'anna') for 1 .. 2;
    my $n = calls(sub { $list->($c{anna}, 'anna') });
    is_deeply $n, { hgetall => 2, smembers => 1, get => 1 }, 'a hit: token, user, groups, generation';
    my %nums = map { $_->{number} => $_ } @{ $list->($c{otto}, 'otto')->{tickets} };
    ok !$nums{$also} && $nums{$ziv}, 'otto: his groups only';
    $tk->ctl('ticket', 'update', $also, '--title', 'API neu');
    my ($t) = grep { $_->{number} == $also } @{ $list->($c{anna}, 'anna')->{tickets} };
    is $t->{title}, 'API neu', 'the next list has the change';
};

subtest 'the counter went back (Redis reset): the cache starts over' => sub {
    my $r = $tk->redis;
    after_change($c{anna}, '/overview/all', sub { });
    my $gen = $r->get(TK_KEY_INDEX_GEN);
    # behind the write path's back: only a reset could do this
    $r->hset(tk_key_ticket($also), 'title', 'Nach Reset');
    # (and its list row gone: the page reads the hash, as after reindex)
    $r->hdel(TK_KEY_INDEX_ROWS, $also);
    $r->set(TK_KEY_INDEX_GEN, 1);
    my $ov = $c{anna}->get('/overview/all');
    is row_text($ov, $also, 'title'), 'Nach Reset', 'lower generation: rendered anew';
    $r->set(TK_KEY_INDEX_GEN, $gen);
    is row_text($c{anna}->get('/overview/all'), $also, 'title'), 'Nach Reset',
        'the old generation again: not the page cached under it before';
    like $tk->error_log(200), qr/went back .*the page cache starts over/, 'logged';
    $tk->ctl('ticket', 'update', $also, '--title', 'Akte ALSO');
};

subtest 'no room, too large, cache off: right all the same' => sub {
    my $big = "Zeile mit Text, damit der Artikel groß wird.\n" x 300;   # ~14 kB
    for my $setup ([ 'ticket_cache off', location => 'ticket_cache off;' ],
                   [ 'ticket_cache off, ticket_row_cache off', location => 'ticket_cache off; ticket_row_cache off;' ],
                   [ 'a 64k zone', http => 'ticket_cache_zone 64k;' ],
                   [ 'a 128k zone', http => 'ticket_cache_zone 128k;' ],
                   [ 'ticket_cache_zone off', http => 'ticket_cache_zone off;' ])
    {
        my ($name, @opt) = @$setup;
        my $t = TK->new(@opt);
        $t->standard_groups;
        my $p = $t->add_user('anna', rights => 'ALSO:full', lang => 'en');
        my $cl = $t->login_client('anna', $p);
        my @n = map { $t->add_ticket(group => 'ALSO', title => "T$_", body => $big) } 1 .. 3;
        # many pages: more than the small zones hold
        my $last;
        for my $sort (qw(number title customer owner state priority created updated)) {
            for my $dir (qw(asc desc)) {
                $last = "/overview/all?sort=$sort&dir=$dir";
                is $cl->get($last)->{status}, 200, "$name: $sort $dir" or last;
            }
        }
        if ($name eq 'a 128k zone') {
            my $calls = do {
                my $r = $t->redis;
                $r->config('resetstat');
                $cl->get($last);
                $r->info('commandstats');
            };
            ok !$calls->{cmdstat_hmget}, "$name: full, the oldest made room for the newest";
        }
        for my $round (1 .. 2) {
            my $res = do {
                $cl->get("/t/$n[0]") for 1 .. 2;
                $t->ctl('ticket', 'update', $n[0], '--title', "T1 $round");
                $cl->get('/overview/all?sort=title&dir=asc');
            };
            is row_text($res, $n[0], 'title'), "T1 $round", "$name: round $round, overview current";
            $res = $cl->get("/t/$n[0]");
            is $res->dom->at('h1#title')->text, "T1 $round", "$name: ticket page current";
            is articles($res), 1, "$name: its article";
        }
        my $calls = do {
            my $r = $t->redis;
            $cl->get("/t/$n[1]");
            $r->config('resetstat');
            $cl->get("/t/$n[1]");
            $r->info('commandstats');
        };
        my ($hgetall) = ($calls->{cmdstat_hgetall} // '') =~ /calls=(\d+)/;
        if ($name eq 'a 128k zone') {
            is $hgetall, 3 + 1, "$name: the articles fit, and come from the cache (+ composer)";
        } else {
            is $hgetall, 4 + 1, "$name: articles too large or not cached are read each time (+ composer)";
        }
        if ($name =~ /off/) {
            ok !$calls->{cmdstat_get}, "$name: the generation is not even read";
        }
        unlike $t->error_log(200), qr/\[(?:alert|crit|emerg)\]|no room/, "$name: nothing bad logged";
        $t->stop_all;
    }
};

subtest 'the row cache: page cache off, rows right after every change' => sub {
    # ticket_cache off: every view renders its page, and its rows come
    # from the row cache when their content, language, columns and day
    # are the same -- so every kind of change must show at once
    my $t = TK->new(location => 'ticket_cache off;');
    $t->standard_groups;
    my %p = (anna => $t->add_user('anna', rights => 'ALSO:full', lang => 'en'),
             bert => $t->add_user('bert', rights => 'ALSO:full', lang => 'de'));
    my %cl = map { $_ => $t->login_client($_, $p{$_}) } qw(anna bert);
    my $n = $t->add_ticket(group => 'ALSO', title => 'Erste Akte', body => 'x');
    my $m = $t->add_ticket(group => 'ALSO', title => 'Zweite Akte', body => 'y');
    my $state = sub { my ($who) = @_; row_text($cl{$who}->get('/overview/all'), $n, 'state') };
    for my $round (1 .. 2) {      # the second round is served from the rows cached by the first
        is $state->('anna'), 'new', "round $round: English state";
        is $state->('bert'), 'neu', "round $round: German state, same row";
    }
    $t->ctl('ticket', 'update', $n, '--state', 'open');
    is $state->('anna'), 'in progress', 'a state change shows';
    is $state->('bert'), 'in Bearbeitung', 'in both languages';
    $t->ctl('ticket', 'update', $n, '--title', 'Umbenannt', '--owner', 'anna');
    my $res = $cl{anna}->get('/overview/all');
    is row_text($res, $n, 'title'), 'Umbenannt', 'a new title shows';
    is row_text($res, $n, 'owner'), 'anna', 'a new owner shows';
    is row_text($res, $m, 'title'), 'Zweite Akte', 'the other row as before';
    # the same rows with fewer columns: no cell of the others
    $res = $cl{anna}->get('/overview/all?sort=updated&dir=desc&columns=number,title');
    my $tr = $res->dom->at("table#tickets tr[data-number=\"$n\"]");
    ok $tr && $tr->at('td.title') && !$tr->at('td.owner') && !$tr->at('td.state'),
        'columns=number,title: only those cells';
    $res = $cl{anna}->get('/overview/all');
    ok $res->dom->at("table#tickets tr[data-number=\"$n\"] td.owner"), 'all columns again';
    $t->ctl('ticket', 'update', $n, '--priority', 'urgent');
    $res = $cl{anna}->get('/overview/all');
    is row_text($res, $n, 'priority'), 'URGENT', 'a priority change shows';
    unlike $t->error_log(200), qr/\[(?:alert|crit|emerg)\]/, 'nothing bad logged';
    $t->stop_all;
};

subtest 'nginx -t: the directives and their bad values' => sub {
    my $port = Net::EmptyPort::empty_port();
    my $test = sub {
        $tk->nginx_test($tk->nginx_conf(port => $port, prefix => $tk->dir . '/nginx-t', @_));
    };
    my ($rc, $out) = $test->(http => 'ticket_cache_zone 1m;', location => 'ticket_cache off;');
    is $rc, 0, 'a size and "ticket_cache off" pass' or diag $out;
    for my $bad ([ 'not a size', 'ticket_cache_zone lots;', qr/invalid value "lots" in "ticket_cache_zone"/ ],
                 [ 'too small', 'ticket_cache_zone 4k;', qr/"4k" in "ticket_cache_zone" directive, it must be at least 32k/ ],
                 [ 'twice', "ticket_cache_zone 1m;\nticket_cache_zone 2m;", qr/"ticket_cache_zone" directive is duplicate/ ])
    {
        my ($what, $conf, $why) = @$bad;
        ($rc, $out) = $test->(http => $conf);
        isnt $rc, 0, "$what: nginx -t fails";
        like $out, $why, "$what: and says why";
    }
    ($rc, $out) = $test->(location => 'ticket_cache maybe;');
    like $out, qr/invalid value "maybe" in "ticket_cache" directive/, 'ticket_cache takes on or off';
    ($rc, $out) = $test->(location => 'ticket_row_cache off;');
    is $rc, 0, '"ticket_row_cache off" passes' or diag $out;
    ($rc, $out) = $test->(location => 'ticket_row_cache maybe;');
    like $out, qr/invalid value "maybe" in "ticket_row_cache" directive/, 'ticket_row_cache takes on or off';
};

subtest 'nginx -s reload empties the cache' => sub {
    my $r = $tk->redis;
    after_change($c{anna}, '/overview/all', sub { });
    $r->hset(tk_key_ticket($also), 'title', 'Hinter dem Rücken');
    $r->hdel(TK_KEY_INDEX_ROWS, $also);
    is row_text($c{anna}->get('/overview/all'), $also, 'title'), 'Akte ALSO',
        'a change that bypasses the write path is not seen (the cache works)';
    kill 'HUP', $tk->pid('nginx');
    my $fresh;
    for (1 .. 50) {
        sleep 0.1;
        # a new connection (the old worker keeps the old ones a while);
        # while workers change, a request may fail: try again
        my $cl = eval { $tk->login_client('anna', $pw{anna}) } or next;
        $fresh = row_text($cl->get('/overview/all'), $also, 'title');
        last if defined $fresh && $fresh ne 'Akte ALSO';
    }
    is $fresh, 'Hinter dem Rücken', 'after the reload: rendered anew';
};

done_testing;
