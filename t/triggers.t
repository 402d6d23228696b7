# Triggers (SCHEMA.md "Triggers", docs/user-guide.md "Triggers"): rules
# saved with ticketctl (invalid patterns refused with PCRE2's message and
# offset), evaluated by mailbridge's feed role on mail that arrives
# through "mailbridge deliver".  The shipped default "dringend" sets
# priority urgent on German subjects (and "Fristverlängerung" -- a
# deadline too); notes and notification requests come from the same
# MULTI; a trigger's own changes never fire again; an entry processed
# again after a crash before its XACK fires nothing a second time.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $FEED   = 'tk:{ix}:feed';
my $NOTIFY = TK_KEY_NOTIFY;
my $GROUP  = 'mailbridge';

my $tk = MB::setup(extra => "feed_consumer = trg\nfeed_claim_idle = 1000\n");
my $r  = $tk->redis;

# TRG_VALGRIND=1: the feed role under valgrind (errors fail the last test)
my @VG = $ENV{TRG_VALGRIND} ? ('valgrind', '-q', '--error-exitcode=99', '--leak-check=full',
    '--errors-for-leak-kinds=definite') : ();
sub feed_role { $tk->spawn('feed', @VG ? { TK_TRIGGER_NOJIT => 1 } : (), @VG, MB::bin(), '-c', MB::conf($tk), 'run', '--role', 'feed') }

# The feed role has acknowledged everything appended so far (also what
# its triggers appended meanwhile: the newest entry is read each time).
sub settled {
    TK::wait_for('the feed role to catch up', 15, sub {
        my $last = ($r->xrevrange($FEED, '+', '-', 'COUNT', 1))[0] or return 1;
        my ($g) = grep { { @$_ }->{name} eq $GROUP } $r->xinfo('GROUPS', $FEED);
        my %g = @{ $g // [] };
        ($g{'last-delivered-id'} // '') eq $last->[0] && $g{pending} == 0;
    });
}

# deliver a mail with this subject (RFC 2047 for non-ASCII); its ticket
sub arrive {
    my ($subject, %h) = @_;
    my $mail = MB::mail(subject => $subject, %h);
    my ($rc, $out, $err) = MB::deliver($tk, $mail);
    is $rc, 0, "deliver '$subject'" or diag $err;
    settled();
    my ($n) = MB::stored($tk, MB::msgid_of($mail));
    return wantarray ? ($n, MB::msgid_of($mail)) : $n;
}

sub prio { $tk->ticket_hash($_[0])->{priority} }

sub notifies {
    my ($n) = @_;
    return [ grep { $_->{ticket} eq $n } map { +{ @{ $_->[1] } } } $r->xrange($NOTIFY, '-', '+') ];
}

sub by_trigger { [ grep { ($_->{by} // '') =~ /^trigger:/ } @{ $tk->history($_[0]) } ] }

subtest 'ticketctl init ships the default rule once, never over an admin\'s change' => sub {
    my $out = $tk->ctl('trigger', 'list');
    like $out, qr/name\s+dringend/, 'rule "dringend"';
    like $out, qr/set_priority\s+urgent/, 'sets priority urgent';
    like $out, qr/icase\s+1/, 'case-insensitive';
    unlike $out, qr/notify/, 'notifies nobody until an admin says who';
    $tk->ctl('trigger', 'set', 'dringend', '--notify', 'mailteam,@legal');
    $tk->ctl('init');
    $out = $tk->ctl('trigger', 'list');
    like $out, qr/notify\s+mailteam,\@legal/, 'init again keeps the admin\'s notify list';
    is scalar(() = $out =~ /^#/mg), 1, 'and adds no second default';
};

subtest 'invalid pattern: refused with PCRE2\'s message and offset, nothing saved' => sub {
    my $gen = $r->get(TK_KEY_TRIGGERS_GEN);
    my ($rc, $out, $err) = $tk->ctl_run('trigger', 'add', 'kaputt', '--subject', 'Frist(morgen');
    is $rc, 65, 'exit 65 (EX_DATAERR)';
    like $err, qr/trigger "kaputt": subject: invalid pattern: missing closing parenthesis at offset 12/,
        'message and offset';
    like $err, qr/\n  Frist\(morgen\n {14}\^/, 'a caret under the offset';
    unlike $tk->ctl('trigger', 'list'), qr/kaputt/, 'not saved';
    is $r->get(TK_KEY_TRIGGERS_GEN), $gen, 'generation unchanged: mailbridge recompiles nothing';
    ($rc, $out, $err) = $tk->ctl_run('trigger', 'set', 'dringend', '--body', '\p{Nope}');
    is $rc, 65, 'set: also refused';
    like $err, qr/body: invalid pattern: unknown property .* at offset 8/, 'set: message and offset';
    ($rc, $out, $err) = $tk->ctl_run('trigger', 'add', 'x', '--set-priority', 'sofort');
    is $rc, 65, 'an unknown priority is refused too';
};

feed_role();
# the group starts at "$": mail before it exists is not the role's
TK::wait_for('the feed role\'s consumer group', 60, sub {
    eval { grep { { @$_ }->{name} eq $GROUP } $r->xinfo('GROUPS', $FEED) } });

subtest 'default rule on German subjects' => sub {
    my %want = (
        'DRINGEND: Frist morgen'                         => 4,
        'Eilt!'                                          => 4,
        '=?UTF-8?Q?Fristverl=C3=A4ngerung?='             => 4,  # decided: matches
        '=?UTF-8?Q?Antrag_auf_FRISTVERL=C3=84NGERUNG?='  => 4,  # UCP case folding
        'Widerspruchsfrist endet Freitag'                => 4,
        'Befristung meines Arbeitsvertrags'              => 2,
        'Ausfristung'                                    => 2,
        'Er teilt mit, es sei nicht eilig'               => 2,
        'Hausdurchsuchung'                               => 2,
    );
    for my $s (sort keys %want) {
        my $n = arrive($s);
        is prio($n), $want{$s}, "'$s' -> priority $want{$s}";
        my $h = by_trigger($n);
        if ($want{$s} == 4) {
            is scalar @$h, 1, "'$s': one history entry by the trigger";
            is_deeply [ @{ $h->[0] }{qw(by field from to)} ],
                [ 'trigger:dringend', 'priority', 2, 4 ], "'$s': priority 2 -> 4 by trigger:dringend";
            my $nt = notifies($n);
            is scalar @$nt, 1, "'$s': one notification request";
            is_deeply [ @{ $nt->[0] }{qw(event to by reason)} ],
                [ 'trigger', 'mailteam,@legal', 'trigger:dringend', 'dringend' ], "'$s': to the configured set";
        } else {
            is scalar @$h, 0, "'$s': trigger did nothing";
            is scalar @{ notifies($n) }, 0, "'$s': no notification";
        }
    }
};

subtest 'a rule with a note adds an internal note by the trigger' => sub {
    $tk->ctl('trigger', 'add', 'raeumung', '--subject', "R\x{c3}\x{a4}umung", '--icase', '1',
        '--note', "Bitte die AG Zivilrecht fragen.\nFristen pr\x{c3}\x{bc}fen!");
    my $n = arrive('=?UTF-8?Q?R=C3=84UMUNGSKLAGE_erhalten?=');
    my @ids = @{ MB::article_ids($tk, $n) };
    is scalar @ids, 2, 'the mail and a note';
    my $a = MB::article($tk, $n, $ids[1]);
    is $a->{kind}, "note", "kind note";
    is $a->{author}, 'trigger:raeumung', 'author trigger:raeumung';
    is $a->{body}, "Bitte die AG Zivilrecht fragen.\nFristen pr\x{c3}\x{bc}fen!", 'the rule\'s text';
    is prio($n), 2, 'no priority change: the default rule did not match';
};

subtest 'loop protection: what a trigger changed never fires it again' => sub {
    $tk->ctl('trigger', 'add', 'schleife', '--on', 'both', '--subject', 'Schleife',
        '--set-state', 'open', '--notify', 'anna');
    my $n = arrive('Schleife im Postfach');
    settled();
    is $tk->ticket_hash($n)->{state}, 2, 'state open by the rule';
    my $h = by_trigger($n);
    is scalar @$h, 1, 'one change by the trigger';
    is scalar @{ notifies($n) }, 1, 'one notification, although the rule runs on update too';
    my %fired = $r->hgetall(sprintf 'tk:{t:%d}:triggers', $n);
    is scalar keys %fired, 1, 'fired on one feed entry';
    my @own = grep { ($_->[1] && { @{ $_->[1] } }->{ticket} // '') eq $n
        && { @{ $_->[1] } }->{by} eq 'trigger:schleife' } $r->xrange($FEED, '-', '+');
    is scalar @own, 1, 'its own change is in the feed (and was skipped)';
};

subtest 'on update: a customer\'s follow-up' => sub {
    $tk->ctl('trigger', 'add', 'nachfrage', '--on', 'update', '--subject', 'nachfrage',
        '--icase', '1', '--notify', '@legal');
    my ($n, $mid) = arrive('Nachfrage zu meinem Fall');
    is scalar @{ notifies($n) }, 0, 'not on create';
    arrive('Re: Nachfrage zu meinem Fall', in_reply_to => "<$mid>");
    my $nt = notifies($n);
    is scalar @$nt, 1, 'the follow-up fired it';
    is $nt->[0]{to}, '@legal', 'to @legal';
};

subtest 'replay after kill -9 before XACK: fires once' => sub {
    my $before = ($r->xrevrange($FEED, '+', '-', 'COUNT', 1))[0][0];
    my $n = arrive('Eilt sehr');
    is prio($n), 4, 'fired';
    my $hist = scalar @{ $tk->history($n) };
    my $notes = scalar @{ notifies($n) };
    # the role dies; its group position goes back as if the XACK of
    # everything since $before had been lost with it
    $tk->stop_proc('feed', 'KILL');
    $r->xgroup('SETID', $FEED, $GROUP, $before);
    feed_role();
    settled();
    like TK::read_file($tk->log_file('feed')), qr/triggers: \d+ rules loaded/, 'a new life';
    is scalar @{ $tk->history($n) }, $hist, 'no second history entry';
    is scalar @{ notifies($n) }, $notes, 'no second notification';
    is prio($n), 4, 'still urgent';
};

subtest 'a rule changed while the role runs is recompiled' => sub {
    $tk->ctl('trigger', 'set', 'dringend', '--active', '0');
    my $n = arrive('Dringend!!');
    is prio($n), 2, 'inactive rule: no change';
    $tk->ctl('trigger', 'set', 'dringend', '--active', '1');
    $n = arrive('Dringend!!');
    is prio($n), 4, 'active again';
    $tk->ctl('trigger', 'del', 'dringend');
    $tk->ctl('init');
    unlike $tk->ctl('trigger', 'list'), qr/dringend/, 'deleted stays deleted after init';
};

if (@VG) {
    is $tk->stop_proc('feed', 'TERM', 60) >> 8, 0, 'valgrind: no errors, no leaks in the feed role';
    unlike TK::read_file($tk->log_file('feed')), qr/==\d+==/, 'valgrind said nothing';
}

subtest 'web: /admin/triggers for admins (list, create, edit, delete; errors at the field)' => sub {
    my $w = TK->new;
    $w->add_group('legal');
    my $apw = $w->add_user('root', rights => 'legal:full', admin => 1, lang => 'en');
    my $gpw = $w->add_user('agentin', rights => 'legal:full', lang => 'en');
    my $wr = $w->redis;
    my $agent = $w->login_client('agentin', $gpw);
    is $agent->get('/admin/triggers')->{status}, 404, 'an agent: no such page';
    is $agent->post_csrf('/admin/triggers/delete', [ id => 1 ])->{status}, 404, 'nor its actions';
    ok $wr->exists('tk:trigger:1'), 'nothing deleted';

    my $admin = $w->login_client('root', $apw);
    my $page = $admin->get('/admin/triggers');
    is $page->{status}, 200, 'admin: the page';
    my $row = $page->dom->at('table#triggers tr[data-id="1"]');
    ok $row, 'the default rule is listed';
    is $row && $row->at('td.name a')->text, 'dringend', 'by name';
    like $row && $row->at('td.actions')->text, qr/set_priority=urgent/, 'its action';

    my $gen = $wr->get(TK_KEY_TRIGGERS_GEN);
    my %new = (id => '', name => 'kaputt', on => 'both', active => 1, icase => 1,
        subject => 'Frist(morgen', set_priority => 'high');
    my $form = sub { my %h = (%new, @_); [ %h ] };    # later keys win
    is $admin->post('/admin/triggers/save', [ %new ])->{status}, 403, 'no CSRF token: refused';
    my $res = $admin->post_csrf('/admin/triggers/save', [ %new ]);
    is $res->{status}, 422, 'invalid pattern: 422';
    my $e = $res->dom->at('#error-subject');
    ok $e, 'the error next to the subject field';
    like $e && $e->text, qr/missing closing parenthesis at offset 12/, 'PCRE2\'s message and offset';
    is $e && $e->attr('data-offset'), 12, 'data-offset';
    is $res->dom->at('form#trigger-form input[name=subject]')->attr('value'), 'Frist(morgen', 'the form keeps what was typed';
    is $wr->get(TK_KEY_TRIGGERS_GEN), $gen, 'nothing saved';
    $res = $admin->post_csrf('/admin/triggers/save', $form->(subject => 'ok', body => '[z-a]'));
    my $be = $res->dom->at('#error-body');
    like $be && $be->text, qr/range out of order in character class at offset 3/, 'a body pattern: at its field'
        or diag $res->{status}, ': ', join ' | ', map { $_->text } $res->dom->find('.field-error');
    $res = $admin->post_csrf('/admin/triggers/save', $form->(subject => 'ok', set_priority => 'sofort'));
    is $res->{status}, 422, 'a bad value: 422';
    like $res->dom->at('#error-rule')->text, qr/set_priority: unknown value "sofort"/, 'says which';

    $res = $admin->post_csrf('/admin/triggers/save', $form->(name => "R\x{e4}umung",
        subject => "R\x{e4}umung", notify => 'anna,@legal'));
    is $res->{status}, 303, 'a valid rule: saved';
    like $res->location, qr{/admin/triggers$}, 'back to the list';
    my ($id) = grep { $_ ne '1' } $wr->zrange(TK_KEY_TRIGGERS, 0, -1);
    my %h = $wr->hgetall("tk:trigger:$id");
    is_deeply [ @h{qw(name on active icase subject set_priority notify)} ],
        [ "R\x{c3}\x{a4}umung", 'both', 1, 1, "R\x{c3}\x{a4}umung", 'high', 'anna,@legal' ], 'stored';
    ok !exists $h{body}, 'empty fields are not stored';
    ok $wr->get(TK_KEY_TRIGGERS_GEN) > $gen, 'generation moved: mailbridge recompiles';
    my ($rc, $out) = $w->ctl_run('trigger', 'test', '--subject', "R\x{c3}\x{a4}umungsklage", '--on', 'update');
    like $out, qr/match: #$id/, 'ticketctl sees it match';

    $page = $admin->get("/admin/triggers?edit=$id");
    is $page->dom->at('form#trigger-form input[name=id]')->attr('value'), $id, 'edit: the form is the rule';
    is $page->dom->at('form#trigger-form input[name=notify]')->attr('value'), 'anna,@legal', 'with its values';
    $res = $admin->post_csrf('/admin/triggers/save', $form->(id => $id, name => 'raeumung',
        subject => "R\x{e4}umung", active => ''));
    is $res->{status}, 303, 'edit saved';
    %h = $wr->hgetall("tk:trigger:$id");
    is $h{active}, 0, 'unchecked: inactive';
    ok !exists $h{notify}, 'a cleared field is removed';
    is $h{name}, 'raeumung', 'renamed';

    $res = $admin->post_csrf('/admin/triggers/delete', [ id => $id ]);
    is $res->{status}, 303, 'deleted';
    ok !$wr->exists("tk:trigger:$id"), 'hash gone';
    is_deeply [ $wr->zrange(TK_KEY_TRIGGERS, 0, -1) ], [ 1 ], 'only the default is left';
};

done_testing;
