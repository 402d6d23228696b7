# Several nginx front ends on one Redis (docs/scaling.md): a session made
# on one works on the other and a logout on one ends it on both; the
# login rate limit counts attempts made on both; and the page cache --
# one shared-memory zone per nginx, keyed on the versions in Redis -- never
# shows on front end B a page older than a write made through front end A,
# whatever the write (reply, note, state, rename, tags, owner, a mail
# through mailbridge, the API), on the overview, the ticket page and the
# API list: B's pages are byte for byte what front end C (no cache)
# renders.  And after a lost Redis link (failover, restart) nothing cached
# before it is served.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(decode_utf8);
use POSIX ();
use Time::HiRes ();
use File::Path qw(make_path);
use Net::EmptyPort qw(empty_port wait_port);
use TK;
use SMTPTest;
require "$FindBin::Bin/mail_lib.pl";

# front end A: the harness' own nginx
my $tk = TK->new;
$tk->add_group('ALSO', email => 'also@example.org');
$tk->add_group('legal', all_agents => 1, email => 'legal@example.org');
$tk->add_group('Zivilrecht');

# front end B: a second nginx with its own prefix, port and cache zone,
# on the same Redis
my $B = FE->new($tk, 'nginx-b');
my $A = FE->wrap($tk);
# front end C: no page cache at all -- what B must show byte for byte
my $C = FE->new($tk, 'nginx-c', location => 'ticket_cache off;');

my %pw = (
    anna => $tk->add_user('anna', name => 'Anna A', rights => 'ALSO:full', lang => 'en'),
    bert => $tk->add_user('bert', name => 'Bert B', rights => 'ALSO:full', lang => 'en'),
    rosa => $tk->add_user('rosa', rights => 'ALSO:full'),
    karl => $tk->add_user('karl', rights => 'ALSO:full'),
);

# a client of front end FE (TK::Client asks its "tk" for URLs only)
sub client_on { TK::Client->new($_[0]) }

subtest 'two front ends answer' => sub {
    isnt $A->port, $B->port, 'on different ports';
    for my $fe ($A, $B) {
        is client_on($fe)->get('/login')->{status}, 200, 'login page on ' . $fe->port;
    }
};

subtest 'sessions: made on A, used on B, ended on A' => sub {
    my $a = client_on($A);
    is $a->login('anna', $pw{anna})->{status}, 303, 'logged in on A';
    my $b = client_on($B);
    $b->jar->{$_} = $a->jar->{$_} for keys %{ $a->jar };
    my $res = $b->get('/overview/all');
    is $res->{status}, 200, 'B knows the session';
    is $res->dom->at('#user .name')->text, 'Anna A', 'as anna';
    is $b->submit('/profile', 'form#profile', name => 'Anna A')->{status}, 303,
        'a POST on B with the CSRF token of B\'s page';
    is $a->logout->{status}, 303, 'logged out on A';
    $res = $b->get('/overview/all');
    isnt $res->{status}, 200, 'B: the session is gone';
    like $res->location // '', qr{/login}, 'B sends to the login';

    # and the other way round
    my $b2 = client_on($B);
    is $b2->login('bert', $pw{bert})->{status}, 303, 'logged in on B';
    my $a2 = client_on($A);
    $a2->jar->{$_} = $b2->jar->{$_} for keys %{ $b2->jar };
    is $a2->get('/overview/all')->{status}, 200, 'A knows it';
    $b2->logout;
    isnt $a2->get('/overview/all')->{status}, 200, 'logged out on B: gone on A';

    # a balancer without stickiness: the login form from A, posted to B
    # (the CSRF token is a double-submit cookie, no per-server secret)
    my $c = client_on($A);
    my $csrf = $c->get('/login')->dom->at('form#login input[name=csrf]')->attr('value');
    my $res2 = $c->post($B->url('/login'), [ login => 'bert', password => $pw{bert}, csrf => $csrf ]);
    is $res2->{status}, 303, 'login form of A, sent to B: signed in';
    is $c->get('/overview/all')->{status}, 200, 'and that session works on A';
    my $page = $c->get($B->url('/overview/all'));
    is $page->{status}, 200, 'and on B';
    $c->get('/overview/all');        # the CSRF token of A's page
    is $c->post($B->url('/logout'), [ csrf => $c->csrf ])->{status}, 303,
        'a POST to B with the token of A\'s page';
    isnt $c->get('/overview/all')->{status}, 200, 'signed out everywhere';
};

subtest 'login rate limit: per account, counted on both' => sub {
    for my $i (1 .. 10) {
        my $fe = $i % 2 ? $A : $B;
        my $res = client_on($fe)->login('rosa', "guess-$i");
        isnt $res->{status}, 303, "attempt $i on " . ($i % 2 ? 'A' : 'B') . ' refused';
    }
    for my $fe ([ A => $A ], [ B => $B ]) {
        my $res = client_on($fe->[1])->login('rosa', $pw{rosa});
        is $res->{status}, 429, "then the right password on $fe->[0]: 429";
        ok !$res->session_cookie, 'no session';
    }
    is client_on($B)->login('karl', $pw{karl})->{status}, 303, 'another account logs in';
    $tk->redis->del(tk_key_rl_login_user('rosa'));
};

subtest 'login rate limit: per address, counted on both' => sub {
    my $r = $tk->redis;
    $r->del($_) for $r->keys(tk_key_rl_login_ip('*'));
    my $hit;
    for my $i (1 .. 35) {
        my $res = client_on($i % 2 ? $A : $B)->login("ghost$i", 'nope');
        if ($res->{status} == 429) { $hit = $i; last }
    }
    ok $hit, 'a 429 came' or return;
    cmp_ok $hit, '>', 30, 'not before 30 failures on A and B together';
    cmp_ok $hit, '<=', 31, 'right after (not 30 on each)';
    for my $fe ([ A => $A ], [ B => $B ]) {
        is client_on($fe->[1])->login('karl', $pw{karl})->{status}, 429,
            "karl on $fe->[0]: 429 from this address too";
    }
    $r->del($_) for $r->keys(tk_key_rl_login_ip('*'));
    $r->del(tk_key_rl_login_user($_)) for qw(karl anna bert);
};

# ---- the page cache -----------------------------------------------------

MB::write_conf($tk);
my $first = MB::mail(from => 'Kim Kundin <kim@example.net>', to => 'also@example.org',
    subject => 'Frist', body => "Hallo,\r\ndie Frist.\r\n");
my ($rc, undef, $err) = MB::deliver($tk, $first, '--recipient', 'also@example.org');
is $rc, 0, 'a mail made the ticket' or diag $err;
my ($n) = MB::stored($tk, MB::msgid_of($first));
my $last_mail = $first;

my $ca = $tk->login_client('anna', $pw{anna});          # writes through A
my $cb = client_on($B);                                 # reads through B
is $cb->login('anna', $pw{anna})->{status}, 303, 'anna also on B';
# the same session on C: the same page head, CSRF token included
my $cc = client_on($C);
$cc->jar->{$_} = $cb->jar->{$_} for keys %{ $cb->jar };
my $token = $tk->add_token('anna');

sub row {
    my ($res, $num) = @_;
    return $res->dom->at("table#tickets tr[data-number=\"$num\"]");
}
sub api_list {
    my ($c) = @_;
    my $res = $c->api(GET => '/api/v1/tickets?overview=all&sort=number&dir=asc', $token);
    return { map { $_->{number} => $_ } @{ $res->json->{tickets} // [] } };
}

# B's overview, ticket page and API list, fetched twice: surely cached
sub warm_b {
    $cb->get('/overview/all') for 1 .. 2;
    $cb->get("/t/$n") for 1 .. 2;
    api_list($cb) for 1 .. 2;
}

# What B shows now, next to what Redis holds
sub b_now {
    my ($num) = @_;
    $num //= $n;
    my $ov = $cb->get('/overview/all');
    my $tr = row($ov, $num);
    my $page = $cb->get("/t/$num");
    my $t = $tk->ticket_hash($num);
    return {
        num      => $num,
        row      => $tr,
        row_title => $tr ? decode_utf8($tr->at('td.title a')->text) : undef,
        row_state => $tr && ($tr->attr('class') // '') =~ /state-(\d)/ ? $1 : undef,
        row_tags => $tr ? join(',', map { decode_utf8($_->text) } $tr->find('span.tag')) : undef,
        row_owner => $tr && $tr->at('td.owner') ? decode_utf8($tr->at('td.owner')->text) : undef,
        page     => $page,
        title    => $page->dom->at('h1#title') ? decode_utf8($page->dom->at('h1#title')->text) : undef,
        articles => scalar(my @a = $page->dom->find('article.article')),
        bodies   => join("\n", map { $_->at('.body') ? decode_utf8($_->at('.body')->text) : '' }
                         $page->dom->find('article.article')),
        api      => api_list($cb)->{$num},
        redis    => $t,
        narts    => $tk->redis->llen(tk_key_ticket_arts($num)),
    };
}

# A page without the static files' ?v= (each nginx's start time).
sub unversioned { (my $x = $_[0] // '') =~ s/\?v=\d+/?v=/g; return $x }

# B agrees with Redis on everything the three views show of ticket num,
# and its pages are the very pages C renders from Redis without a cache
sub b_agrees {
    my ($what, $v) = @_;
    my $t = $v->{redis};
    my $num = $v->{num};
    for my $path ('/overview/all', "/t/$num") {
        my ($b, $c) = ($cb->get($path), $cc->get($path));
        is $b->{status}, $c->{status}, "$what: $path, same status on B and C";
        # the static files' ?v= is each nginx's own start time (a new one
        # per configuration load busts the browsers' caches): not data
        my ($bc, $cc_) = map { unversioned($_->{content}) } $b, $c;
        ok $bc eq $cc_, "$what: $path on B is the page C renders uncached"
            or diag_diff($bc, $cc_);
    }
    my $path = '/api/v1/tickets?overview=all&sort=number&dir=asc';
    is $cb->api(GET => $path, $token)->{content}, $cc->api(GET => $path, $token)->{content},
        "$what: API list on B = C's";
    ok $v->{row}, "$what: B's overview has the row" or return;
    is $v->{row_title}, decode_utf8($t->{title}), "$what: B's overview title";
    is $v->{row_state}, $t->{state}, "$what: B's overview state";
    is $v->{row_tags}, decode_utf8($t->{tags} // ''), "$what: B's overview tags";
    is $v->{title}, decode_utf8($t->{title}), "$what: B's ticket page title";
    is $v->{articles}, $v->{narts}, "$what: B's ticket page has every article";
    ok $v->{api}, "$what: B's API list has it" or return;
    is $v->{api}{title}, decode_utf8($t->{title}), "$what: API title";
    is $v->{api}{state}, $t->{state}, "$what: API state" if defined $v->{api}{state} && $v->{api}{state} =~ /^\d$/;
    is $v->{api}{updated}, POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $t->{updated}),
        "$what: API updated" if exists $v->{api}{updated};
    is $v->{api}{owner} // '', $t->{owner} // '', "$what: API owner" if exists $v->{api}{owner};
}

sub diag_diff {
    my ($x, $y) = @_;
    my @x = split /\n/, $x;
    my @y = split /\n/, $y;
    for my $i (0 .. ($#x > $#y ? $#x : $#y)) {
        next if ($x[$i] // '') eq ($y[$i] // '');
        diag "line $i\n  B: " . ($x[$i] // '') . "\n  C: " . ($y[$i] // '');
        return;
    }
}

# Warm B, write through A (or elsewhere), then B's next views.
sub through_a {
    my ($what, $write, $check, %o) = @_;
    subtest $what => sub {
        warm_b();
        my $before = $tk->ticket_hash($n);
        # a new second: "updated" (shown by the overview and the API
        # list) must change too, so a write that forgets the generation
        # shows as an old time
        Time::HiRes::sleep(0.05) while time <= ($before->{updated} // 0);
        $write->();
        my $after = $tk->ticket_hash($n);
        isnt $after->{rev}, $before->{rev}, 'the write bumped the ticket\'s rev' unless $o{no_rev};
        my $v = b_now();
        b_agrees($what, $v);
        $check->($v) if $check;
    };
}

subtest 'B serves from its cache (else the rest proves nothing)' => sub {
    warm_b();
    my $r = $tk->redis;
    $r->config('resetstat');
    $cb->get('/overview/all');
    api_list($cb);
    my $info = $r->info('commandstats');
    ok !$info->{cmdstat_hmget}, 'no rows read for the overview or API list';
    $r->config('resetstat');
    $cb->get("/t/$n");
    $info = $r->info('commandstats');
    ok !$info->{cmdstat_strlen}, 'no article read for the ticket page';
    b_agrees('warm', b_now());
};

subtest 'a change behind the write path\'s back is not seen on B (B caches)' => sub {
    warm_b();
    my $t = $tk->ticket_hash($n);
    $tk->redis->hset(tk_key_ticket($n), 'title', 'Heimlich');
    $tk->redis->hdel(TK_KEY_INDEX_ROWS, $n);    # the list row too (read from the hash)
    my $v = b_now();
    is $v->{row_title}, decode_utf8($t->{title}), 'B\'s overview: the cached page';
    is api_list($cb)->{$n}{title}, decode_utf8($t->{title}), 'B\'s API list: the cached one';
    isnt unversioned($cb->get('/overview/all')->{content}),
        unversioned($cc->get('/overview/all')->{content}),
        'B\'s overview differs from what C renders uncached (the comparison below can fail)';
    $tk->ctl('ticket', 'update', $n, '--title', $t->{title});
};

through_a('a reply through A', sub {
    my $page = $ca->get("/t/$n");
    my ($action, $pairs) = $ca->form_values($page, 'form#compose',
        type => 'reply', body => 'Antwort von Front A', state => 3);
    is $ca->post($action, $pairs)->{status}, 303, 'sent';
}, sub {
    my ($v) = @_;
    like $v->{bodies}, qr/Antwort von Front A/, 'B shows the reply';
    is $v->{row_state}, 3, 'and the new state';
});

through_a('a note through A', sub {
    my $page = $ca->get("/t/$n");
    my ($action, $pairs) = $ca->form_values($page, 'form#compose',
        type => 'note', body => 'Interne Notiz von A', state => 2);
    is $ca->post($action, $pairs)->{status}, 303, 'noted';
}, sub { like $_[0]{bodies}, qr/Interne Notiz von A/, 'B shows the note' });

through_a('a state change through A', sub {
    is $ca->submit("/t/$n", 'form#ticket-update', state => 4,
        pending_until => '2030-01-01T10:00')->{status}, 303, 'changed';
}, sub { is $_[0]{row_state}, 4, 'B: pending' });

through_a('owner and priority through A', sub {
    is $ca->submit("/t/$n", 'form#ticket-update', state => 2, owner => 'bert', priority => 4)->{status},
        303, 'changed';
}, sub {
    my ($v) = @_;
    like $v->{row_owner} // '', qr/bert/i, 'B\'s overview: the new owner';
    ok $v->{page}->dom->at('p.ticket-meta span.prio-4'), 'B\'s ticket page: the new priority';
});

through_a('a rename through A', sub {
    is $ca->submit("/t/$n", 'form#rename', title => 'Frist (umbenannt auf A)')->{status}, 303, 'renamed';
}, sub { is $_[0]{row_title}, 'Frist (umbenannt auf A)', 'B: the new title' });

through_a('a tag added through A (/t/N/tags)', sub {
    $ca->get("/t/$n");
    is $ca->post_csrf("/t/$n/tags", [ add => 'eilig, frist' ])->{status}, 303, 'tagged';
}, sub {
    my ($v) = @_;
    is $v->{row_tags}, 'eilig,frist', 'B\'s overview: the tags';
    is join(',', map { $_->text } $v->{page}->dom->find('ul#tag-list a.tag')), 'eilig,frist',
        'B\'s ticket page: the tags';
});

through_a('a tag removed through A', sub {
    $ca->get("/t/$n");
    is $ca->post_csrf("/t/$n/tags", [ remove => 'eilig' ])->{status}, 303, 'untagged';
}, sub { is $_[0]{row_tags}, 'frist', 'B: one tag left' });

through_a('a tag through A\'s API', sub {
    my $res = $ca->api(POST => "/api/v1/tickets/$n/tags", $token,
        content => $tk->json->encode({ tags => ['api-tag'] }),
        headers => { 'content-type' => 'application/json' });
    like $res->{status}, qr/^20\d$/, 'tagged by API';
}, sub { is $_[0]{row_tags}, 'api-tag,frist', 'B: the API\'s tag' });

through_a('a mail through mailbridge deliver', sub {
    my $reply = MB::mail(from => 'Kim Kundin <kim@example.net>', to => 'also@example.org',
        subject => 'Re: Frist', in_reply_to => '<' . MB::msgid_of($last_mail) . '>',
        body => "Noch eine Frage per Mail.\r\n");
    my ($rc, undef, $err) = MB::deliver($tk, $reply, '--recipient', 'also@example.org');
    is $rc, 0, 'delivered' or diag $err;
    $last_mail = $reply;
}, sub { like $_[0]{bodies}, qr/Noch eine Frage per Mail/, 'B shows the mail' });

through_a('ticketctl ticket update', sub {
    $tk->ctl('ticket', 'update', $n, '--title', 'Frist (ticketctl)', '--state', 'open');
}, sub { is $_[0]{row_title}, 'Frist (ticketctl)', 'B: the new title' });

through_a('a note through A\'s API', sub {
    my $res = $ca->api(POST => "/api/v1/tickets/$n/articles", $token,
        content => $tk->json->encode({ type => 'note', body => "Notiz per API\n" }));
    is $res->{status}, 201, 'noted by API' or diag $res->{content};
}, sub { like $_[0]{bodies}, qr/Notiz per API/, 'B shows it' });

through_a('the customer edited through A', sub {
    my $id = $tk->ticket_hash($n)->{customer};
    ok $id, 'the ticket has a customer';
    $ca->get("/customers/$id");
    my $res = $ca->post_csrf("/customers/$id", [ name => 'Kim Kundin', email => 'kim@example.net',
        organisation => 'Mieterverein Süd', notes => 'per A' ]);
    is $res->{status}, 303, 'saved';
}, undef, no_rev => 1);

through_a('anna renames herself on A (owner choice, page head)', sub {
    is $ca->submit('/profile', 'form#profile', name => 'Anna Umbenannt')->{status}, 303, 'renamed';
}, sub {
    my ($v) = @_;
    is $v->{page}->dom->at('#user .name')->text, 'Anna Umbenannt', 'B\'s page head';
    my ($opt) = grep { ($_->attr('value') // '') eq 'anna' } $v->{page}->dom->find('select#f-owner option');
    like $opt ? $opt->text : '', qr/Anna Umbenannt/, 'B\'s owner choice';
}, no_rev => 1);

through_a('bert (the owner) renamed by ticketctl', sub {
    $tk->ctl('user', 'set', 'bert', '--name', 'Bert Neu');
}, sub {
    like $_[0]{page}->dom->at('.meta-owner')->text, qr/Bert Neu/, 'B\'s ticket page: the owner\'s new name';
}, no_rev => 1);

subtest 'an article split off through A: both tickets current on B' => sub {
    warm_b();
    my @ids = $tk->redis->lrange(tk_key_ticket_arts($n), 0, -1);
    my $art = $ids[-1];
    $ca->get("/t/$n/a/$art/split");
    my $res = $ca->post_csrf("/t/$n/a/$art/split", [ rev => $tk->ticket_hash($n)->{rev} ]);
    is $res->{status}, 303, 'split' or diag $res->{content};
    my ($x) = ($res->location // '') =~ m{/t/(\d+)$};
    ok $x, 'into a new ticket' or return;
    b_agrees('split source', b_now($n));
    b_agrees('split target', b_now($x));
    is b_now($n)->{articles}, @ids - 1, 'B: one article less on the source';
};

subtest 'a new ticket through a mail shows on B\'s overview and API list' => sub {
    warm_b();
    my $mail = MB::mail(from => 'Lea <lea@example.net>', to => 'also@example.org',
        subject => 'Neue Sache');
    my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'also@example.org');
    is $rc, 0, 'delivered' or diag $err;
    my ($m) = MB::stored($tk, MB::msgid_of($mail));
    ok $m && $m != $n, 'a new ticket';
    b_agrees('new ticket', b_now($m));
};

subtest 'a merge through A: both tickets current on B' => sub {
    my $other = $tk->add_ticket(group => 'ALSO', title => 'Zum Zusammenlegen', body => 'zweiter Fall');
    warm_b();
    $cb->get("/t/$other") for 1 .. 2;
    $ca->get("/t/$other");
    my $res = $ca->post_csrf("/t/$other/merge", [ into => $n, rev => $tk->ticket_hash($other)->{rev} ]);
    is $res->{status}, 303, 'merged' or diag $res->{content};
    my $v = b_now($n);
    b_agrees('merge target', $v);
    like $v->{bodies}, qr/zweiter Fall/, 'B: the merged article on the target';
    my $src = b_now($other);
    if ($src->{row}) { b_agrees('merge source', $src) }
    else { is $src->{row_title}, undef, 'merge source: gone from B\'s overview' }
    is $src->{articles}, $src->{narts}, 'merge source: B\'s ticket page has its articles (none)';
};

subtest 'the outbox role sends the reply: its delivery state current on B' => sub {
    my $r = $tk->redis;
    my ($queued) = grep { ($r->hget(tk_key_article($n, $_), 'delivery') // '') eq 'queued' }
        $r->lrange(tk_key_ticket_arts($n), 0, -1);
    ok $queued, 'the reply of A waits in the outbox' or return;
    warm_b();
    my $before = $tk->ticket_hash($n);
    my $smtp = SMTPTest->start($tk);
    MB::write_conf($tk, extra => 'smtp.url = ' . $smtp->url . "\n");
    $tk->spawn('outbox', MB::bin(), '-c', MB::conf($tk), 'outbox');
    TK::wait_for('the reply sent', 20, sub {
        ($r->hget(tk_key_article($n, $queued), 'delivery') // '') eq 'sent' });
    $tk->stop_proc('outbox');
    isnt $tk->ticket_hash($n)->{rev}, $before->{rev}, 'the delivery bumped the rev';
    my $v = b_now();
    b_agrees('delivered', $v);
    is $v->{page}->dom->at("article#a-$queued p.delivery")->attr('data-state'), 'sent',
        'B\'s ticket page: sent';
};

# A failover to a replica that missed the last write (or a restart on an
# older AOF) and a new write after it: the counters read the same version
# again, with other data.  What a worker cached before it lost its link
# must not be served after it is back.
subtest 'after a lost link (failover, restart) nothing cached before is served' => sub {
    warm_b();
    my $r = $tk->redis;
    my $t = $tk->ticket_hash($n);
    # the new primary's data at the same versions: a title the write
    # path never bumped for (as if written before a failover lost gen)
    $r->hset(tk_key_ticket($n), 'title', 'Nach dem Failover');
    $r->hdel(TK_KEY_INDEX_ROWS, $n);
    is $cb->get('/overview/all')->{status}, 200, 'B still serves';
    $r->client_kill('TYPE', 'normal');       # what Sentinel does to a demoted primary
    my $ov;
    TK::wait_for('B back on Redis', 10, sub {
        $ov = $cb->get('/overview/all');
        $ov->{status} == 200 });
    is decode_utf8(row($ov, $n)->at('td.title a')->text), 'Nach dem Failover',
        'B\'s overview: rendered anew after the reconnect';
    is api_list($cb)->{$n}{title}, 'Nach dem Failover', 'and its API list';
    like TK::tail($B->error_log, 100), qr/page cache starts over/, 'B says why';
    $tk->ctl('ticket', 'update', $n, '--title', $t->{title});
};

subtest 'a write through B shows on A as well' => sub {
    $ca->get('/overview/all') for 1 .. 2;
    $ca->get("/t/$n") for 1 .. 2;
    is $cb->submit("/t/$n", 'form#rename', title => 'Zuletzt auf B')->{status}, 303, 'renamed on B';
    my $ov = $ca->get('/overview/all');
    is decode_utf8(row($ov, $n)->at('td.title a')->text), 'Zuletzt auf B', 'A\'s overview';
    is decode_utf8($ca->get("/t/$n")->dom->at('h1#title')->text), 'Zuletzt auf B', 'A\'s ticket page';
};

for my $fe ([ A => $tk->error_log(300) ], [ B => TK::tail($B->error_log, 300) ]) {
    unlike $fe->[1], qr/\[(?:alert|crit|emerg)\]/, "$fe->[0]: nothing bad logged";
}

done_testing;

# ===========================================================================
# A front end: a port and a URL builder for TK::Client; FE->new starts a
# second nginx (own prefix, pid, logs, cache zone) on $tk's Redis.
package FE;

sub wrap { my ($class, $tk) = @_; bless { tk => $tk, port => $tk->port }, $class }

sub new {
    my ($class, $tk, $name, %o) = @_;
    my $prefix = $tk->dir . "/$name";
    File::Path::make_path("$prefix/conf", "$prefix/logs", "$prefix/tmp");
    my $port = Net::EmptyPort::empty_port();
    TK::write_file("$prefix/conf/nginx.conf", $tk->nginx_conf(prefix => $prefix, port => $port, %o));
    # TK_NGINX_PRELOAD: libasan for an ASan-built module (make asan), as TK.pm does
    my @env = $ENV{TK_NGINX_PRELOAD} ? ({ LD_PRELOAD => $ENV{TK_NGINX_PRELOAD} }) : ();
    $tk->spawn($name, @env, 'nginx', '-p', $prefix, '-c', "$prefix/conf/nginx.conf", '-g', 'daemon off;');
    Net::EmptyPort::wait_port({ port => $port, max_wait => 10 })
        or die "$name did not start:\n" . TK::tail("$prefix/logs/error.log", 20);
    TK::wait_for("$name pid", 5, sub { -s "$prefix/logs/nginx.pid" });
    return bless { tk => $tk, port => $port, prefix => $prefix }, $class;
}

sub port      { $_[0]{port} }
sub base      { "http://127.0.0.1:$_[0]{port}" }
sub url       { $_[0]->base . $_[1] }
sub error_log { "$_[0]{prefix}/logs/error.log" }
