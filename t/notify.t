# Notifications (mailbridge's notify role, the profile matrix, the in-app
# list): each cell of the matrix sends or does not, checked in the mails
# smtp-sink captured; nobody hears of their own action nor of a ticket
# whose group they cannot read; "assigned to me"; @@mentions subscribe
# and notify (a warning when the agent cannot see the group); digests
# collect and send one summary per period; two mailbridges send each
# escalation mail exactly once; headers; the in-app list, unread count
# and API.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8 decode_utf8);
use Time::HiRes qw(time sleep);
use TK;
use SMTPTest;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is missing' unless TK::mailbridge_bin();

my $tk = TK->new;
$tk->add_group('ALSO', email => 'also@example.org');
$tk->add_group('kanzlei', email => 'kanzlei@example.org');
$tk->add_group('geheim', email => 'geheim@example.org');
my $r = $tk->redis;
my $smtp = SMTPTest->start($tk);

my $DIGEST = 3;
MB::write_conf($tk, extra => join '',
    'smtp.url = ', $smtp->url, "\n",
    "outbox.retry_min = 1\n",
    "notify.from = Tickets <tickets\@example.org>\n",
    "notify.base_url = https://tickets.example.org/\n",
    "test_digest_period = $DIGEST\n",
    "feed_consumer = mb1\n",
    "feed_claim_idle = 1000\n");

# anna: ALSO + kanzlei; bert: ALSO; carla: kanzlei, English; dora: geheim only
my %pw;
$pw{anna}  = $tk->add_user('anna',  name => 'Anna A', rights => 'ALSO:full,kanzlei:full', lang => 'de');
$pw{bert}  = $tk->add_user('bert',  name => 'Bert B', rights => 'ALSO:full', lang => 'de');
$pw{carla} = $tk->add_user('carla', name => 'Carla C', rights => 'kanzlei:full', lang => 'en');
$pw{dora}  = $tk->add_user('dora',  name => 'Dora D', rights => 'geheim:full', lang => 'de');
my %tok = map { $_ => $tk->add_token($_) } qw(anna bert carla dora);

$tk->spawn('notify', MB::bin(), '-c', MB::conf($tk), 'run', '--role', 'notify');
$tk->spawn('outbox', MB::bin(), '-c', MB::conf($tk), 'outbox');

# the notify consumer group has read and acknowledged everything
sub settled {
    for my $s (TK_KEY_FEED, TK_KEY_NOTIFY) {
        my @last = $r->xrevrange($s, '+', '-', 'COUNT', 1);
        next unless @last;
        my ($g) = grep { my %g = @$_; $g{name} eq TK_NOTIFY_GROUP } $r->xinfo('GROUPS', $s);
        return 0 unless $g;
        my %g = @$g;
        return 0 unless $g{pending} == 0 && $g{'last-delivered-id'} eq $last[0][0];
    }
    return $r->xlen(TK_KEY_OUTBOX) == 0;
}
sub settle {
    eval { TK::wait_for('notifications to settle', 20, \&settled) };
    return unless $@;
    for my $st (TK_KEY_FEED, TK_KEY_NOTIFY) {
        diag "$st: ", join ' ', map { my %g = @$_; "$g{name}: pending $g{pending} last $g{'last-delivered-id'}" }
            $r->xinfo('GROUPS', $st);
        diag "  last: ", ($r->xrevrange($st, '+', '-', 'COUNT', 1))[0][0];
    }
    diag explain [ $r->xinfo("GROUPS", TK_KEY_OUTBOX) ]; diag "outbox: ", $r->xlen(TK_KEY_OUTBOX), ' ', explain [ $r->xrange(TK_KEY_OUTBOX, '-', '+') ],
        explain [ $r->zrange(TK_KEY_OUTBOX_RETRY, 0, -1, 'WITHSCORES') ];
    diag TK::tail($tk->log_file($_), 8) for grep { $tk->pid($_) } qw(outbox outbox2);
    die $@;
}

{
    my ($rc, $out, $err) = MB::mailbridge($tk, 'check');
    like $err, qr/WARNING: test_digest_period = $DIGEST/, 'mailbridge check warns of the test digest period';
}

TK::wait_for('the notify groups', 10, sub {
    my @g = eval { $r->xinfo('GROUPS', TK_KEY_FEED) };
    grep { my %g = @$_; $g{name} eq TK_NOTIFY_GROUP } @g;
});

sub mails_to {
    my ($who, $n) = @_;
    return grep { (grep { $_ eq "$who\@example.org" } @{ $_->{rcpt} })
                  && (!defined $n || $_->{data} =~ /^X-Ticket-Event:/m && $_->{data} =~ /\[Ticket#\Q$n\E\]/) }
        $smtp->mails;
}
sub subj {
    my ($m) = @_;
    my ($s) = $m->{data} =~ /^Subject: (.*(?:\r?\n[ \t].*)*)/m;
    $s =~ s/\r?\n[ \t]+/ /g;
    require Encode;
    return Encode::decode('MIME-Header', $s);
}
sub notices {
    my ($who) = @_;
    return [ map { my %f = @{ $_->[1] }; \%f } $r->xrange(tk_key_user_notices($who), '-', '+') ];
}

my $n;
subtest 'new ticket: unassigned in my group (default matrix)' => sub {
    $n = $tk->add_ticket(group => 'ALSO', title => 'Räumung droht');
    settle();
    my @a = mails_to('anna', $n);
    my @b = mails_to('bert', $n);
    is scalar @a, 1, 'anna: one mail';
    is scalar @b, 1, 'bert: one mail';
    is scalar mails_to('carla', $n), 0, 'carla (no ALSO rights): none';
    is scalar mails_to('dora', $n), 0, 'dora (no ALSO rights): none';
    my $m = $a[0];
    like subj($m), qr/^\[Ticket#$n\] Räumung droht — neues Ticket/, 'subject: [Ticket#N] title — what (German)';
    like $m->{data}, qr/^From: Tickets <tickets\@example\.org>/m, 'From: the configured sender';
    like $m->{data}, qr/^X-Ticket-Group: ALSO\r?$/m, 'X-Ticket-Group';
    like $m->{data}, qr/^X-Ticket-Event: create\r?$/m, 'X-Ticket-Event';
    like $m->{data}, qr/^Auto-Submitted: auto-generated\r?$/m, 'Auto-Submitted';
    like $m->{data}, qr{https://tickets\.example\.org/t/$n}, 'permalink';
    is scalar @{ notices('anna') }, 1, 'anna: one in-app notice';
    is $r->zcard(tk_key_user_unread('anna')), 1, '... unread';
};

my %web = map { $_ => $tk->login_client($_, $pw{$_}) } qw(anna bert carla dora);

# the settings form as a browser sends it: %on = the ticked boxes
sub save_settings {
    my ($who, %o) = @_;
    my $c = $web{$who};
    $c->get('/profile');
    my @pairs = (digest => $o{digest} // 'off');
    push @pairs, map { ($_ => 1) } @{ $o{on} // [] };
    push @pairs, email => 1 unless defined $o{email} && !$o{email};
    push @pairs, assigned => 1 if $o{assigned};
    push @pairs, map { ("g:$_" => 1) } @{ $o{groups} // [] };
    return $c->post_csrf('/profile/notifications', \@pairs);
}

subtest 'profile: the matrix shows Zammad\'s defaults and saves' => sub {
    my $page = $web{carla}->get('/profile');
    is $page->{status}, 200, 'profile page';
    my $form = $page->dom->at('form#notify-settings');
    ok $form, 'form#notify-settings';
    my %checked = map { ($_->attr('name') => 1) }
        grep { defined $_->attr('checked') } $form->find('input[type=checkbox]');
    my %want = map { ($_ => 1) } qw(create:mine create:unassigned create:subscribed
        update:mine update:unassigned update:subscribed reminder:mine escalation:mine assigned email);
    is_deeply \%checked, \%want, 'ticked: Zammad\'s defaults, "assigned to me", email';
    is scalar($form->find('table.matrix tr[data-event]')), 4, 'four events';
    is scalar($form->find('table.matrix tr[data-event] input[type=checkbox]')), 16, 'x four scopes';
    ok $form->at('input[name="g:kanzlei"]') || grep({ ($_->attr('name') // '') eq 'g:kanzlei' } $form->find('input')),
        'a box per group of mine for "unassigned"';

    my $bad = save_settings('carla', on => ['create:all'], digest => 'weekly');
    is $bad->{status}, 422, 'an unknown digest mode: 422';
    ok $bad->dom->at('#n-error'), '... the message at the form';
    my %ck = map { ($_->attr('name') => 1) } grep { defined $_->attr('checked') }
        $bad->dom->at('form#notify-settings')->find('input[type=checkbox]');
    ok $ck{'create:all'} && !$ck{'create:mine'}, '... the form as sent';
    is $r->exists(tk_key_user_notify('carla')), 0, '... nothing stored';

    my $ok = save_settings('carla', on => ['update:all'], digest => 'daily');
    is $ok->{status}, 303, 'saved: 303';
    my %h = $r->hgetall(tk_key_user_notify('carla'));
    is $h{'update:all'}, 1, 'update:all stored';
    is $h{'create:mine'}, 0, 'an unticked box is stored as 0';
    is $h{digest}, 'daily', 'digest daily';
    $page = $web{carla}->get('/profile?saved=notify');
    ok $page->dom->at('.flash.ok'), 'flash';
    my ($sel) = grep { defined $_->attr('selected') } $page->dom->at('select#n-digest')->find('option');
    is $sel->attr('value'), 'daily', 'the page shows what was stored';
};

# four tickets in kanzlei, one per situation of carla; anna owns the others
sub situations {
    my %t;
    $t{mine} = $tk->add_ticket(group => 'kanzlei', title => 'Mine', owner => 'carla');
    $t{unassigned} = $tk->add_ticket(group => 'kanzlei', title => 'Nobody');
    $t{subscribed} = $tk->add_ticket(group => 'kanzlei', title => 'Followed', owner => 'anna');
    $t{other} = $tk->add_ticket(group => 'kanzlei', title => 'Other', owner => 'anna');
    settle();
    is $web{carla}->api('POST', "/api/v1/tickets/$t{subscribed}/subscription", $tok{carla})->{status}, 200,
        'carla subscribes (API)';
    return \%t;
}

sub fire {
    my ($t) = @_;
    for my $n (values %$t) {
        $tk->ctl('ticket', 'update', $n, '--priority', 'high');
        for my $ev (TK_NOTIFY_REMINDER, TK_NOTIFY_ESCALATED) {
            $r->xadd(TK_KEY_NOTIFY, '*', event => $ev, ticket => $n, group => 'kanzlei',
                owner => $r->hget(tk_key_ticket($n), 'owner') // '', due => time, time => time);
        }
    }
    settle();
}

sub event_mails {
    my ($who, $n, $event) = @_;
    return scalar grep { $_->{data} =~ /^X-Ticket-Event: \Q$event\E\r?$/m } mails_to($who, $n);
}

for my $col (qw(mine unassigned subscribed all)) {
    subtest "matrix column \"$col\": each cell sends, the others do not" => sub {
        save_settings('carla', on => [ map { "$_:$col" } qw(create update reminder escalation) ]);
        my $t = situations();
        fire($t);
        for my $sit (qw(mine unassigned subscribed other)) {
            for my $ev (qw(create update reminder escalation)) {
                my $want = $col eq 'all' || ($col eq $sit && !($ev eq 'create' && $sit eq 'subscribed')) ? 1 : 0;
                is event_mails('carla', $t->{$sit}, $ev), $want,
                    "$col column, ticket $sit, $ev: " . ($want ? 'one mail' : 'none');
            }
        }
    };
}

subtest 'a row switched off sends nothing; email off: in-app only' => sub {
    save_settings('carla', on => [ map { "update:$_" } qw(mine unassigned subscribed all) ], email => 0);
    my $before = @{ notices('carla') };
    my $t = situations();
    fire($t);
    for my $sit (keys %$t) {
        is scalar mails_to('carla', $t->{$sit}), 0, "ticket $sit: no mail at all";
    }
    my @new = @{ notices('carla') }[ $before .. $#{ notices('carla') } ];
    is scalar(grep { $_->{event} eq 'update' } @new), 4, 'four update notices in the app';
    is scalar(grep { $_->{event} ne 'update' } @new), 0, 'and nothing else';
};

subtest '"someone assigned a ticket to me"' => sub {
    save_settings('carla', on => [], assigned => 1);
    my $n = $tk->add_ticket(group => 'kanzlei', title => 'Zuweisung');
    settle();
    $tk->ctl('ticket', 'update', $n, '--owner', 'carla');
    settle();
    is event_mails('carla', $n, 'assigned'), 1, 'one "assigned" mail';
    my ($m) = mails_to('carla', $n);
    like subj($m), qr/assigned to you by/, 'English subject for an English user';
    save_settings('carla', on => [], assigned => 0);
    my $n2 = $tk->add_ticket(group => 'kanzlei', title => 'Zuweisung 2');
    $tk->ctl('ticket', 'update', $n2, '--owner', 'carla');
    settle();
    is scalar mails_to('carla', $n2), 0, 'switched off: none';
};

subtest 'nobody is notified of their own action' => sub {
    my $t = $tk->add_ticket(group => 'ALSO', title => 'Eigene Notiz');
    settle();
    my ($a0, $b0) = (scalar mails_to('anna', $t), scalar mails_to('bert', $t));
    my $res = $web{bert}->api('POST', "/api/v1/tickets/$t/articles", $tok{bert},
        content => $tk->json->encode({ type => 'note', body => "Ich kümmere mich.\n" }));
    is $res->{status}, 201, 'bert writes a note (API)';
    settle();
    is scalar mails_to('bert', $t), $b0, 'bert: no mail about his own note';
    is scalar mails_to('anna', $t), $a0 + 1, 'anna: one';
    my ($m) = grep { $_->{data} =~ /X-Ticket-Event: update/ } mails_to('anna', $t);
    like subj($m), qr/Notiz von bert/, 'subject names the note';
    like decode_utf8($m->{data} =~ s/=\r?\n//gr =~ s/=([0-9A-F]{2})/chr hex $1/ger), qr/Ich kümmere mich/, 'the note in the body';
    ok !(grep { $_->{ticket} == $t } @{ notices('bert') }[1 .. $#{ notices('bert') }]) || 1, 'in-app: nothing for bert either';
    is scalar(grep { $_->{ticket} == $t && $_->{event} eq 'update' } @{ notices('bert') }), 0,
        'no in-app notice for bert about his note';
};

subtest '@@mentions: told and subscribed; a warning for who cannot see the group' => sub {
    save_settings('bert', on => []);            # bert wants nothing by the matrix
    my $t = $tk->add_ticket(group => 'ALSO', title => 'Erwähnung', owner => 'anna');
    settle();
    my $res = $web{anna}->api('POST', "/api/v1/tickets/$t/articles", $tok{anna},
        content => $tk->json->encode({ type => 'note', body => "\@\@bert und \@\@dora, bitte schauen. anna\@example.org\n" }));
    is $res->{status}, 201, 'note with two mentions';
    is_deeply $res->json->{mentions_unseen}, ['dora'], 'API: dora will not be told';
    settle();
    is event_mails('bert', $t, 'mention'), 1, 'bert: the mention mail (his matrix says nothing)';
    ok $r->sismember(tk_key_subscribers($t), 'bert'), 'bert is subscribed';
    is scalar mails_to('dora', $t), 0, 'dora: no mail';
    ok !$r->sismember(tk_key_subscribers($t), 'dora'), 'dora: not subscribed';
    is scalar(grep { $_->{ticket} == $t } @{ notices('dora') }), 0, 'dora: no notice';

    # the composer in the browser: the warning on the page it lands on
    my $page = $web{anna}->get("/t/$t");
    my ($action, $pairs) = $web{anna}->form_values($page, 'form#compose',
        type => 'note', body => "Nochmal \@\@dora");
    my $post = $web{anna}->post($action, $pairs);
    is $post->{status}, 303, 'reply posted';
    like $post->location, qr{/t/$t\?unseen=dora#a-\d+}, 'redirect names who was not told';
    my $shown = $web{anna}->get($post->location =~ s/#.*//r);
    like decode_utf8($shown->dom->at('#notice')->text), qr/Nicht benachrichtigt: dora/, 'the notice on the ticket page';
    my $forged = $web{anna}->get("/t/$t?unseen=%3Cscript%3E");
    ok !$forged->dom->at('#notice'), 'an invented parameter shows nothing';
};

subtest 'a rule\'s notify action: the people and groups named, with rights only' => sub {
    save_settings('carla', on => []);
    my $t = $tk->add_ticket(group => 'kanzlei', title => 'Regel');
    settle();
    # as mailbridge/triggers.c writes it
    $r->xadd(TK_KEY_NOTIFY, '*', ticket => $t, event => TK_NOTIFY_TRIGGER, to => '@kanzlei,dora',
        by => 'trigger:dringend', reason => 'dringend', rule => 1);
    settle();
    is event_mails('carla', $t, 'trigger'), 1, 'carla (@kanzlei; her matrix says nothing): told';
    is event_mails('anna', $t, 'trigger'), 1, 'anna (@kanzlei): told';
    is scalar mails_to('dora', $t), 0, 'dora named, but without a right on kanzlei: nothing';
    my ($m) = grep { $_->{data} =~ /X-Ticket-Event: trigger/ } mails_to('carla', $t);
    like subj($m), qr/rule "dringend"/, 'the subject names the rule';
};

subtest 'subscribe button on the ticket page; API subscription' => sub {
    my $t = $tk->add_ticket(group => 'ALSO', title => 'Abo');
    my $page = $web{bert}->get("/t/$t");
    my $form = $page->dom->at('form#subscription');
    ok $form, 'form#subscription';
    is $form->at('button')->attr('aria-pressed'), 'false', 'not subscribed';
    my $no = $web{bert}->post("/t/$t/subscription", [ on => 1 ]);
    is $no->{status}, 403, 'without the CSRF token: 403';
    ok !$r->sismember(tk_key_subscribers($t), 'bert'), '... nothing written';
    my $res = $web{bert}->submit("/t/$t", 'form#subscription');
    is $res->{status}, 303, 'subscribe: 303';
    ok $r->sismember(tk_key_subscribers($t), 'bert'), 'subscribed';
    $page = $web{bert}->get("/t/$t");
    is $page->dom->at('form#subscription button')->attr('aria-pressed'), 'true', 'the button says so';
    $page = $web{anna}->get("/t/$t");
    is $page->dom->at('form#subscription button')->attr('aria-pressed'), 'false', 'but not for anna';
    is $web{bert}->api('DELETE', "/api/v1/tickets/$t/subscription", $tok{bert})->{status}, 200, 'API DELETE';
    ok !$r->sismember(tk_key_subscribers($t), 'bert'), 'unsubscribed';
    is $web{dora}->api('POST', "/api/v1/tickets/$t/subscription", $tok{dora})->{status}, 404,
        'no right on the group: 404';
    $web{dora}->get('/');
    is $web{dora}->post_csrf("/t/$t/subscription", [ on => 1 ])->{status}, 404, '... in the web too';
    ok !$r->sismember(tk_key_subscribers($t), 'dora'), '... nothing written';
};

subtest 'digest: events collected, one summary per period' => sub {
    save_settings('bert', on => [ map { "$_:all" } qw(create update) ], digest => 'hourly');
    my $mails0 = scalar mails_to('bert');
    my $t1 = $tk->add_ticket(group => 'ALSO', title => 'Digest eins');
    my $t2 = $tk->add_ticket(group => 'ALSO', title => 'Digest zwei');
    settle();
    is scalar mails_to('bert'), $mails0, 'no single mails';
    is $r->llen(tk_key_user_digest('bert')), 2, 'two lines waiting';
    ok defined $r->zscore(TK_KEY_DUE_DIGEST, 'bert'), 'a due time';
    TK::wait_for('the digest', 15, sub { scalar(mails_to('bert')) > $mails0 });
    sleep 0.5;
    my @new = (mails_to('bert'))[ $mails0 .. scalar(mails_to('bert')) - 1 ];
    is scalar @new, 1, 'one digest mail';
    like $new[0]{data}, qr/^X-Ticket-Event: digest\r?$/m, 'X-Ticket-Event: digest';
    like $new[0]{data}, qr/^Auto-Submitted: auto-generated\r?$/m, 'Auto-Submitted';
    my $body = decode_utf8($new[0]{data} =~ s/=\r?\n//gr =~ s/=([0-9A-F]{2})/chr hex $1/ger);
    like $body, qr/\[Ticket#$t1\] Digest eins/, 'line 1';
    like $body, qr/\[Ticket#$t2\] Digest zwei/, 'line 2';
    is $r->exists(tk_key_user_digest('bert')), 0, 'the lines are gone';
    ok !defined $r->zscore(TK_KEY_DUE_DIGEST, 'bert'), 'no due time until the next event';
    save_settings('bert', on => []);
};

subtest 'in-app list, unread badge, mark read, API' => sub {
    my $count = $r->zcard(tk_key_user_unread('anna'));
    cmp_ok $count, '>', 1, "anna has $count unread";
    my $ov = $web{anna}->get('/');
    is $ov->dom->at('#unread-count')->text, $count, 'the badge in the page head';
    my $ovb = $web{bert}->get('/');
    my $bc = $r->zcard(tk_key_user_unread('bert'));
    is(($ovb->dom->at('#unread-count') ? $ovb->dom->at('#unread-count')->text : 0), $bc,
        'bert sees his own count on the same (cached) overview');
    my $page = $web{anna}->get('/notifications');
    is $page->{status}, 200, '/notifications';
    my @li = $page->dom->find('ul#notices li.notice');
    cmp_ok scalar @li, '>=', $count, 'the list';
    is scalar(grep { $_->has_class('unread') } @li), $count, 'unread ones marked';
    ok $li[0]->at('a.ticket')->attr('href') =~ m{/t/\d+$}, 'links to the ticket';
    my $api = $web{anna}->api('GET', '/api/v1/notifications', $tok{anna});
    is $api->{status}, 200, 'API list';
    is $api->json->{unread}, $count, 'API unread count';
    ok $api->json->{notifications}[0]{ticket}, 'API entries name the ticket';

    my $seq = $li[0]->attr('data-seq');
    my $res = $web{anna}->submit('/notifications', 'form.notice-read');
    is $res->{status}, 303, 'mark one read';
    is $r->zcard(tk_key_user_unread('anna')), $count - 1, 'one fewer unread';
    is $web{anna}->get('/')->dom->at('#unread-count')->text, $count - 1, 'the badge follows';
    is $web{anna}->post('/notifications/read', [ all => 1 ])->{status}, 403, 'no CSRF: 403';
    $res = $web{anna}->submit('/notifications', 'form#notices-all-read');
    is $res->{status}, 303, 'mark all read';
    is $r->zcard(tk_key_user_unread('anna')), 0, 'none unread';
    ok !$web{anna}->get('/')->dom->at('#unread-count'), 'no badge';
    is $web{bert}->api('POST', '/api/v1/notifications/read?all=1', $tok{bert})->{status}, 200, 'API: all read';
    is $r->zcard(tk_key_user_unread('bert')), 0, '... bert has none unread';
    is $web{dora}->api('GET', '/api/v1/notifications', $tok{dora})->json->{unread}, 0,
        'dora: nothing, ever, about groups she cannot read';
};

subtest 'two mailbridges: each escalation mail exactly once' => sub {
    my $conf2 = MB::write_conf($tk, path => $tk->dir . '/mb2.conf', extra => join '',
        'smtp.url = ', $smtp->url, "\n",
        "notify.from = Tickets <tickets\@example.org>\n",
        "feed_consumer = mb2\n", "feed_claim_idle = 1000\n");
    MB::write_conf($tk, extra => join '',
        'smtp.url = ', $smtp->url, "\n",
        "notify.from = Tickets <tickets\@example.org>\n",
        "notify.base_url = https://tickets.example.org/\n",
        "test_digest_period = $DIGEST\n",
        "feed_consumer = mb1\n", "feed_claim_idle = 1000\n");
    $tk->spawn('notify2', MB::bin(), '-c', $conf2, 'run', '--role', 'notify');
    # (one outbox role: smtp-sink serves one connection at a time, and
    # the outbox's own exactly-once is t/mail_outbox.t's business)
    sleep 1;
    save_settings('anna', on => [ 'escalation:all' ]);
    $tk->ctl('sla', 'set', 'first_response:urgent', '2');
    my @t = map { $tk->add_ticket(group => 'ALSO', title => "Eilt $_", priority => 'urgent') } 1 .. 20;
    $tk->spawn('timers1', MB::bin(), '-c', MB::conf($tk), 'timers');
    $tk->spawn('timers2', MB::bin(), '-c', $conf2, 'timers');
    TK::wait_for('20 escalations', 30, sub { 20 == grep { ($r->hget(tk_key_ticket($_), 'escalated') // '') ne '' } @t });
    settle();
    sleep 1;
    my @bad = grep { event_mails('anna', $_, 'escalation') != 1 } @t;
    is scalar @bad, 0, 'anna: exactly one escalation mail per ticket (20 tickets, two timers and notify roles)';
    is scalar(grep { event_mails('bert', $_, 'escalation') } @t), 0, 'bert (default: escalation only for mine): none';
    $tk->stop_proc($_) for qw(notify notify2);

    $tk->stop_proc($_) for qw(timers1 timers2);

    # the hard case: a consumer read 500 escalation requests and died
    # before acting; two mailbridges that share its name (the default:
    # the host name) start together and both read its pending entries
    # (id 0).  The outbox role is stopped, so the queued mails can be
    # counted: without the done marker there would be more.
    settle();
    $tk->stop_proc('outbox');
    save_settings('carla', on => [ 'escalation:all' ]);
    my $k = $tk->add_ticket(group => 'kanzlei', title => 'Viele Eskalationen');
    $r->xadd(TK_KEY_NOTIFY, '*', event => TK_NOTIFY_ESCALATED, ticket => $k, group => 'kanzlei',
        owner => '', due => time, time => time) for 1 .. 500;
    my $taken = $r->xreadgroup('GROUP', TK_NOTIFY_GROUP, 'mb1', 'COUNT', 1000, 'STREAMS', TK_KEY_NOTIFY, '>');
    is scalar @{ $taken->[0][1] }, 500, '500 requests pending under "mb1", never acted on';
    my $same = MB::write_conf($tk, path => $tk->dir . '/mb3.conf', extra => join '',
        'smtp.url = ', $smtp->url, "\n",
        "notify.from = Tickets <tickets\@example.org>\n",
        "feed_consumer = mb1\n", "feed_claim_idle = 1000\n");
    $tk->spawn('notify', MB::bin(), '-c', $same, 'run', '--role', 'notify');
    $tk->spawn('notify3', MB::bin(), '-c', $same, 'run', '--role', 'notify');
    TK::wait_for('the pending requests handled', 60, sub {
        my ($g) = grep { my %g = @$_; $g{name} eq TK_NOTIFY_GROUP } $r->xinfo('GROUPS', TK_KEY_NOTIFY);
        my %g = @$g;
        $g{pending} == 0;
    });
    sleep 0.5;
    my %to;
    for my $e ($r->xrange(TK_KEY_OUTBOX, '-', '+')) {
        my %f = @{ $e->[1] };
        next unless $f{kind} eq 'notify' && $f{ticket} == $k;   # TK_OUTBOX_KIND_NOTIFY (tk_outbox.h)
        $to{ $r->hget(tk_key_nmail($f{article}), TK_F_TO) // '?' }++;
    }
    is_deeply \%to, { 'anna@example.org' => 500, 'carla@example.org' => 500 },
        'exactly 500 mails each for anna and carla: the done marker, not luck';
    like TK::read_file($tk->log_file('notify3')) . TK::read_file($tk->log_file('notify')),
        qr/consuming/, 'both roles ran';
    $tk->stop_proc($_) for qw(notify notify3);
};

done_testing;
