# mailbridge's timers role: SLA escalations and reminders.  Due times in
# the sorted sets tk:{ix}:due:escalation / :reminder follow the change
# feed (creation, priority, first outbound reply); timers due in the past
# fire at start, near-future ones at their time without polling, a
# restart loses none, two roles racing over 1000 due tickets fire each
# exactly once; a reached reminder writes history, a notification request
# and the "reminders due" set; a customer's reply reopens a closed or
# waiting ticket (an auto-reply does not); the ticket's JSON and page show
# the escalation.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX qw(strftime);
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = TK->new;
$tk->standard_groups;
MB::write_conf($tk);
my $r = $tk->redis;
my $DUE_E = TK_KEY_DUE_ESCALATION;
my $DUE_R = TK_KEY_DUE_REMINDER;
my $NOTIFY = TK_KEY_NOTIFY;
my $FEED = TK_KEY_FEED;

sub start_timers {
    my ($name) = @_;
    $name //= 'timers';
    $tk->spawn($name, MB::bin(), '-c', MB::conf($tk), 'timers');
    return $tk->pid($name);
}

sub field { $r->hget(tk_key_ticket($_[0]), $_[1]) // '' }

# The due sets are sharded by ticket number (SCHEMA.md): ticket N's due
# time is in shard N / TK_DUE_SHARD; the index holds a lower bound of
# each shard's earliest due time.
sub shard_key {
    my ($index, $n) = @_;
    my $k = int($n / TK_DUE_SHARD);
    return $index eq $DUE_E ? tk_key_due_escalation_shard($k) : tk_key_due_reminder_shard($k);
}
sub due_score { my ($index, $n) = @_; return $r->zscore(shard_key($index, $n), $n) }

sub notifications {
    my ($n, $event) = @_;
    return scalar grep {
        my %f = @{ $_->[1] };
        $f{ticket} == $n && (!$event || $f{event} eq $event)
    } $r->xrange($NOTIFY, '-', '+');
}

sub history_count {
    my ($n, $field) = @_;
    return scalar grep { my %f = @{ $_->[1] }; $f{field} eq $field }
        $r->xrange(tk_key_history($n), '-', '+');
}

# The timers consumer group has read and acknowledged everything up to now.
sub feed_done {
    my @last = $r->xrevrange($FEED, '+', '-', 'COUNT', 1);
    return 1 unless @last;
    for my $g ($r->xinfo('GROUPS', $FEED)) {
        my %g = @$g;
        next unless $g{name} eq TK_TIMERS_GROUP;
        return $g{pending} == 0 && $g{'last-delivered-id'} eq $last[0][0];
    }
    return 0;
}

sub wait_feed { TK::wait_for('the timers role to catch up with the feed', 10, \&feed_done) }

sub cpu_ticks {
    my ($pid) = @_;
    my @f = split ' ', TK::read_file("/proc/$pid/stat");
    return $f[13] + $f[14];
}

$tk->ctl('sla', 'set', 'first_response:urgent', '2');
is $r->hget(TK_KEY_SLA, 'first_response:4'), 2, 'ticketctl sla set writes seconds';
is $r->hget(TK_KEY_SLA, 'first_response:2'), 5 * 86400, 'init wrote the default: normal 5 days';
is $r->hget(TK_KEY_SLA, 'first_response:1'), 0, '... low never';

subtest 'ticketctl sla / calendar refuse nonsense and show what counts' => sub {
    my ($rc, $out, $err) = $tk->ctl_run('sla', 'set', 'first_response:asap', '1h');
    isnt $rc, 0, 'a bad priority is refused';
    ($rc) = $tk->ctl_run('sla', 'set', 'first_response:high', 'soon');
    isnt $rc, 0, 'a bad duration is refused';
    ($rc) = $tk->ctl_run('calendar', 'set', 'office', 'tz', 'Europe/Berln');
    isnt $rc, 0, 'an unknown time zone is refused';
    ($rc) = $tk->ctl_run('calendar', 'set', 'office', 'mon', '9-17');
    isnt $rc, 0, 'bad hours are refused';
    is $r->exists(tk_key_calendar('office')), 0, 'nothing written';
    $out = $tk->ctl('sla', 'show');
    like $out, qr/^urgent\s+2s\s/m, 'show: urgent 2 s';
    like $out, qr/^normal\s+5d\s/m, 'show: normal 5 days';
    like $out, qr/^low\s+never\s/m, 'show: low never';
};

my ($past, $pid);

subtest 'a timer that came due while the role was down fires at start' => sub {
    $past = $tk->add_ticket(group => 'legal', title => 'Eilt', priority => 'urgent');
    sleep 2.5;
    $pid = start_timers();
    TK::wait_for('the escalation', 10, sub { field($past, 'escalated') ne '' });
    is field($past, 'escalation_at'), field($past, 'created') + 2, 'escalation_at = created + 2 s';
    is history_count($past, 'escalated'), 1, 'one history entry "escalated"';
    is notifications($past, 'escalated'), 1, 'one notification request';
    ok defined $r->zscore(tk_key_esc_group('legal'), $past), 'in "escalated in group legal"';
    ok defined $r->zscore(tk_key_esc_owner('-'), $past), 'in the unassigned escalated set';
    ok !defined due_score($DUE_E, $past), 'no longer due';
    my ($e) = grep { my %f = @{ $_->[1] }; $f{ticket} == $past && ($f{changed} // '') =~ /\bescalated\b/ }
        $r->xrange($FEED, '-', '+');
    ok $e, 'a feed entry names the change';
    my %e = @{ $e->[1] // [] };
    is $e{by}, 'mailbridge', '... by mailbridge';
    is $e{rev}, field($past, 'rev'), '... with the ticket\'s rev after it (bumped: no stale cached page)';
};

subtest 'a near-future timer fires at its time, and the role idles in between' => sub {
    $tk->ctl('sla', 'set', 'first_response:urgent', '3');
    my $n = $tk->add_ticket(group => 'legal', title => 'Bald', priority => 'urgent');
    TK::wait_for('its due time', 10, sub { field($n, 'escalation_at') ne '' });
    my $at = field($n, 'escalation_at');
    is $at, field($n, 'created') + 3, 'due 3 s after creation (the new SLA)';
    is due_score($DUE_E, $n), $at, 'in the due set with its time as score';
    my $seen;
    TK::wait_for('the escalation', 10, sub { field($n, 'escalated') ne '' and $seen = time });
    cmp_ok $seen, '>=', $at - 0.05, 'not before its time';
    cmp_ok $seen, '<=', $at + 0.25, 'within 200 ms of its time';

    # nothing due for 5 days now: the role sleeps in one blocking call
    sleep 0.5;
    my $t0 = cpu_ticks($pid);
    sleep 3;
    my $used = cpu_ticks($pid) - $t0;
    cmp_ok $used, '<=', 2, "no CPU while idle ($used ticks in 3 s)";
};

subtest 'a change of priority recomputes; low takes the escalation back' => sub {
    my $n = $tk->add_ticket(group => 'legal', title => 'Normal');
    TK::wait_for('its due time', 10, sub { field($n, 'escalation_at') ne '' });
    is field($n, 'escalation_at'), field($n, 'created') + 5 * 86400, 'normal: 5 days (all day)';
    $tk->ctl('ticket', 'update', $n, '--priority', 'urgent');
    TK::wait_for('the escalation', 10, sub { field($n, 'escalated') ne '' });
    is field($n, 'escalation_at'), field($n, 'created') + 3, 'urgent: created + 3 s';
    $tk->ctl('ticket', 'update', $n, '--priority', 'low');
    TK::wait_for('the recompute', 10, sub { field($n, 'escalation_at') eq '' });
    is field($n, 'escalated'), '', 'low never escalates: the escalation is taken back';
    ok !defined due_score($DUE_E, $n), 'not due';
    ok !defined $r->zscore(tk_key_esc_group('legal'), $n), 'out of the escalated overview';
    is history_count($n, 'escalated'), 2, 'history: escalated, and taken back';
};

subtest 'a bound left early by a moved timer wakes the role once, then it sleeps' => sub {
    my $n = $tk->add_ticket(group => 'legal', title => 'Doch nicht eilig', priority => 'urgent');
    TK::wait_for('its due time', 10, sub { field($n, 'escalation_at') ne '' });
    my $at = field($n, 'escalation_at');
    my $shard = int($n / TK_DUE_SHARD);
    cmp_ok $r->zscore($DUE_E, $shard), '<=', $at, 'the shard\'s bound is not later than the timer';
    is $r->object('ENCODING', shard_key($DUE_E, $n)), 'listpack', 'the shard is a listpack (SCHEMA.md "Memory")';
    $tk->ctl('ticket', 'update', $n, '--priority', 'normal');
    TK::wait_for('the recompute', 10, sub { (due_score($DUE_E, $n) // 0) > $at });
    SKIP: {
        skip 'the machine was too slow to look before the early bound came', 1 if time >= $at - 0.3;
        cmp_ok $r->zscore($DUE_E, $shard), '<=', $at, 'the bound stays early (ZADD LT only)';
    }
    TK::wait_for('the bound to be set right', 10, sub { ($r->zscore($DUE_E, $shard) // 0) > $at });
    my (undef, $min) = $r->zrange(shard_key($DUE_E, $n), 0, 0, 'WITHSCORES');
    is $r->zscore($DUE_E, $shard), $min, 'the bound is the shard\'s earliest due time now';
    is field($n, 'escalated'), '', 'nothing fired';
    sleep 0.5;
    my $t0 = cpu_ticks($pid);
    sleep 2;
    my $used = cpu_ticks($pid) - $t0;
    cmp_ok $used, '<=', 2, "asleep again ($used ticks in 2 s)";
};

# An outbound article the way the shared write path writes one
# (tk_article_write: hash, list, counter, feed entry "article").
sub outbound {
    my ($n, $kind) = @_;
    my $a = $r->incr(TK_KEY_SEQ_ARTICLE);
    my $rev = $r->hincrby(tk_key_ticket($n), 'rev', 1);
    $r->hset(tk_key_article($n, $a), id => $a, ticket => $n, kind => $kind,
        from => 'legal@example.org', to => 'kundin@example.org', body => 'Antwort',
        author => 'sanne', time => int time);
    $r->rpush(tk_key_ticket_arts($n), $a);
    $r->xadd($FEED, '*', ticket => $n, rev => $rev, event => 'article', src => 'web',
        by => 'sanne', group => 'legal', kind => $kind, article => $a);
}

subtest 'the first outbound reply satisfies first response; a note does not' => sub {
    my $n = $tk->add_ticket(group => 'legal', title => 'Antwort kommt');
    TK::wait_for('its due time', 10, sub { field($n, 'escalation_at') ne '' });
    outbound($n, 'note');
    wait_feed();
    isnt field($n, 'escalation_at'), '', 'a note: still due';
    is field($n, 'first_response'), '', 'no first response';
    outbound($n, 'out');
    TK::wait_for('first response', 10, sub { field($n, 'first_response') ne '' });
    is field($n, 'escalation_at'), '', 'answered: no escalation time';
    ok !defined due_score($DUE_E, $n), 'the first-response timer is gone';
};

subtest 'update time: a customer mail after the first response starts it, an answer stops it, an auto-reply never' => sub {
    $tk->ctl('sla', 'set', 'update:high', '2');
    my $n = $tk->add_ticket(group => 'legal', title => 'Nachfrage', priority => 'high',
        body => 'Erste Mail');
    TK::wait_for('its due time', 10, sub { field($n, 'escalation_at') ne '' });
    outbound($n, 'out');
    TK::wait_for('first response', 10, sub { field($n, 'first_response') ne '' });
    is field($n, 'escalation_at'), '', 'answered: nothing due';

    my ($rc) = TK::run_cmd({ stdin => "From: kundin\@example.org\r\nTo: legal\@example.org\r\n"
        . "Subject: Abwesenheitsnotiz [Ticket#$n]\r\nAuto-Submitted: auto-replied\r\n"
        . "Message-ID: <auto-upd-$n\@example.org>\r\n\r\nbin weg\r\n" },
        MB::bin(), '-c', MB::conf($tk), 'deliver');
    is $rc, 0, 'auto-reply delivered';
    wait_feed();
    is field($n, 'update_from'), '', 'an auto-reply does not start the update time';
    is field($n, 'escalation_at'), '', 'nothing due';

    ($rc) = MB::deliver($tk, MB::mail(subject => "Re: [Ticket#$n] Nachfrage", from => 'kundin@example.org'));
    is $rc, 0, 'customer mail delivered';
    TK::wait_for('the update time', 10, sub { field($n, 'update_from') ne '' });
    is field($n, 'escalation_at'), field($n, 'update_from') + 2, 'due 2 s after the customer mail';
    TK::wait_for('the escalation', 10, sub { field($n, 'escalated') ne '' });
    outbound($n, 'out');
    TK::wait_for('the answer to count', 10, sub { field($n, 'update_from') eq '' });
    is field($n, 'escalation_at'), '', 'answered again: nothing due';
    is field($n, 'escalated'), '', 'the escalation is taken back';
    my $rescans = () = TK::read_file($tk->log_file('timers')) =~ /recomputing every ticket/g;
    $tk->ctl('sla', 'set', 'update:high', '0');
    TK::wait_for('the role to see the new SLA', 15, sub {
        my $now = () = TK::read_file($tk->log_file('timers')) =~ /recomputing every ticket/g;
        $now > $rescans;
    });
};

subtest 'restarted while timers are due: each fires once after the restart' => sub {
    is $tk->stop_proc('timers', 'TERM', 10) >> 8, 0, 'the role stops on TERM with 0';
    my @n = map { $tk->add_ticket(group => 'ALSO', title => "Neustart $_", priority => 'urgent') } 1 .. 3;
    sleep 3.5;
    is field($n[0], 'escalated'), '', 'nothing fired while it was down';
    my $rescans = () = TK::read_file($tk->log_file('timers')) =~ /recomputing every ticket/g;
    $pid = start_timers();
    TK::wait_for('the escalations', 10, sub { !grep { field($_, 'escalated') eq '' } @n });
    my $now = () = TK::read_file($tk->log_file('timers')) =~ /recomputing every ticket/g;
    is $now, $rescans, 'the configuration did not change: no recompute of every ticket';
    is notifications($_, 'escalated'), 1, "ticket $_: one notification" for @n;
    is history_count($_, 'escalated'), 1, "ticket $_: one history entry" for @n;
};

subtest 'due sets of an older mailbridge (unsharded) are rebuilt at start' => sub {
    $tk->stop_proc('timers', 'TERM', 10);
    my $n = $tk->add_ticket(group => 'legal', title => 'Aus alter Zeit', priority => 'urgent');
    # what it left: member = ticket number in the index key itself, and a
    # digest without the format prefix
    $r->zadd($DUE_E, time + 2, $n, time + 3600, 99_999);
    $r->set(TK_KEY_DUE_CONFIG, '0123456789abcdef');
    $pid = start_timers();
    TK::wait_for('the escalation', 10, sub { field($n, 'escalated') ne '' });
    like TK::read_file($tk->log_file('timers')), qr/due sets of another format/, 'logged';
    ok !defined $r->zscore($DUE_E, 99_999), 'the old entries are gone';
    like $r->get(TK_KEY_DUE_CONFIG), qr/^s128:[0-9a-f]{16}$/, 'the digest names the format';
    is history_count($n, 'escalated'), 1, 'fired once';
};

subtest 'two timers roles racing over 1000 due tickets fire each exactly once' => sub {
    $tk->stop_proc('timers', 'TERM', 10);
    my $now = int time;
    my $first = $r->incrby(TK_KEY_SEQ_TICKET, 1000) - 999;
    my @n = ($first .. $first + 999);
    for my $n (@n) {
        $r->hset(tk_key_ticket($n), number => $n, title => "Rennen $n", group => 'legal',
            owner => '', state => 1, priority => 4, created => $now - 100,
            updated => $now - 100, escalation_at => $now - 97, flags => '', rev => 1,
            sub {});
        # as tk_timer_due_add writes it: the shard, and its bound LT
        $r->zadd(shard_key($DUE_E, $n), $now - 97, $n, sub {});
        $r->zadd($DUE_E, 'LT', $now - 97, int($n / TK_DUE_SHARD), sub {});
    }
    $r->wait_all_responses;
    my $before = $r->xlen($NOTIFY);
    start_timers('timers-a');
    start_timers('timers-b');
    TK::wait_for('every due ticket fired', 30, sub {
        !grep { defined due_score($DUE_E, $_) } @n[0, 499, 999] and $r->zcount($DUE_E, '-inf', $now) == 0
    });
    is scalar(grep { defined due_score($DUE_E, $_) } @n), 0, 'no due entry left in the shards';
    sleep 0.5;
    my %seen;
    for my $e ($r->xrange($NOTIFY, '-', '+')) {
        my %f = @{ $e->[1] };
        $seen{ $f{ticket} }++ if $f{ticket} >= $first;
    }
    is scalar(keys %seen), 1000, 'every ticket has a notification request';
    is scalar(grep { $_ != 1 } values %seen), 0, 'none has two';
    is $r->xlen($NOTIFY) - $before, 1000, '1000 requests in all';
    my $twice = grep { history_count($_, 'escalated') != 1 } @n;
    is $twice, 0, 'one history entry "escalated" each';
    ok $tk->alive('timers-a') && $tk->alive('timers-b'), 'both roles still run';
    my @fired = map { my $l = TK::read_file($tk->log_file($_)); my $s = 0; $s += $1 while $l =~ /(\d+) escalation timer\(s\) fired/g; $s } qw(timers-a timers-b);
    is $fired[0] + $fired[1], 1000, "the two logs count 1000 fires ($fired[0] + $fired[1])";
    $tk->stop_proc('timers-b', 'TERM', 10);
    $r->del(map { tk_key_ticket($_) } @n);
};

subtest 'a new calendar for the group moves the due times' => sub {
    $pid = start_timers() unless $tk->alive('timers');
    my $n = $tk->add_ticket(group => 'Zivilrecht', title => 'Kalender');
    TK::wait_for('its due time', 10, sub { field($n, 'escalation_at') ne '' });
    my $created = field($n, 'created');
    is field($n, 'escalation_at'), $created + 5 * 86400, 'every day all day: 5 days';
    # office hours: 8 h a day, Monday to Friday -> 15 working days later at the earliest
    $tk->ctl('calendar', 'set', 'office', $_, '09:00-17:00') for qw(mon tue wed thu fri);
    $tk->ctl('calendar', 'set', 'office', $_, '-') for qw(sat sun);
    $tk->ctl('calendar', 'group', 'Zivilrecht', 'office');
    TK::wait_for('the recompute', 15, sub { field($n, 'escalation_at') ne $created + 5 * 86400 });
    cmp_ok field($n, 'escalation_at'), '>=', $created + 18 * 86400, 'office hours: three weeks later';
    is due_score($DUE_E, $n), field($n, 'escalation_at'), 'the due set follows';
    $tk->ctl('calendar', 'set', 'office', $_, '00:00-24:00') for qw(mon tue wed thu fri sat sun);
};

my $pw = $tk->add_user('sanne', name => 'Sanne S', rights => 'legal:full', lang => 'en');
my $web = $tk->login_client('sanne', $pw);

subtest 'waiting with reminder: the date is required; when reached: history, notification, "reminders due"' => sub {
    my $n = $tk->add_ticket(group => 'legal', title => 'Erinnern', owner => 'sanne', priority => 'low',
        body => 'Erste Mail');
    my $res = $web->submit("/t/$n", 'form#ticket-update', state => 4, pending_until => '');
    is $res->{status}, 422, 'state 4 without a date: refused';
    like $res->{content}, qr/needs a reminder date/, 'with the reason';
    is field($n, 'state'), 1, 'nothing changed';

    my $when = strftime('%Y-%m-%dT%H:%M', localtime(time - 120));
    $res = $web->submit("/t/$n", 'form#ticket-update', state => 4, pending_until => $when);
    is $res->{status}, 303, 'state 4 with a date (already reached)';
    TK::wait_for('the reminder', 10, sub { field($n, 'reminded') ne '' });
    is field($n, 'reminded'), field($n, 'pending_until'), 'reminded = the reminder date';
    is history_count($n, 'reminded'), 1, 'history entry';
    is notifications($n, 'reminder'), 1, 'notification request';
    ok defined $r->zscore(tk_key_remdue_owner('sanne'), $n), 'in sanne\'s reminders due';
    ok !defined due_score($DUE_R, $n), 'no longer due';

    # the customer answers: in progress again, out of "reminders due"
    my ($rc) = MB::deliver($tk, MB::mail(subject => "Re: [Ticket#$n] Erinnern",
        from => 'kundin@example.org'));
    is $rc, 0, 'reply delivered';
    is field($n, 'state'), 2, 'reopened: in progress';
    TK::wait_for('the reminder to go', 10, sub { !defined $r->zscore(tk_key_remdue_owner('sanne'), $n) });
    is field($n, 'reminded'), '', 'reminded cleared';
};

subtest 'a customer reply reopens closed and waiting tickets, an auto-reply never' => sub {
    for my $state (3, 5, 6) {
        my $n = $tk->add_ticket(group => 'legal', title => "Zu $state", state => $state,
            body => 'Erste Mail');
        my ($rc) = TK::run_cmd({ stdin => "From: kundin\@example.org\r\nTo: legal\@example.org\r\n"
            . "Subject: Abwesenheitsnotiz [Ticket#$n]\r\nAuto-Submitted: auto-replied\r\n"
            . "Message-ID: <auto-$n\@example.org>\r\n\r\nbin weg\r\n" },
            MB::bin(), '-c', MB::conf($tk), 'deliver');
        is $rc, 0, "auto-reply to state $state delivered";
        is field($n, 'state'), $state, "state $state: the auto-reply does not reopen";
        ($rc) = MB::deliver($tk, MB::mail(subject => "Re: [Ticket#$n]", from => 'kundin@example.org'));
        is field($n, 'state'), 2, "state $state: the customer's reply reopens";
    }
};

subtest 'the JSON and the page show the escalation' => sub {
    my $token = $tk->add_token('sanne');
    my $res = $web->api(GET => "/api/v1/tickets/$past", $token);
    is $res->{status}, 200, 'API answers';
    my $j = $res->json;
    like $j->{escalation_at} // '', qr/^\d{4}-\d\d-\d\dT/, 'escalation_at is a time';
    like $j->{escalated} // '', qr/^\d{4}-\d\d-\d\dT/, 'escalated is the time it escalated';
    my $n = $tk->add_ticket(group => 'legal', title => 'Niedrig', priority => 'low');
    wait_feed();
    $j = $web->api(GET => "/api/v1/tickets/$n", $token)->json;
    ok exists $j->{escalation_at} && !defined $j->{escalation_at}, 'low: escalation_at null';
    ok !defined $j->{escalated}, 'escalated null';

    my $page = $web->get("/t/$past");
    my $esc = $page->dom->at('#escalation');
    ok $esc && $esc->has_class('esc-over'), 'escalated: red (esc-over)';
    like $page->{content}, qr/escalated</, 'says escalated';

    # 5 days with less than 20 % left: warning colour
    my $w = $tk->add_ticket(group => 'legal', title => 'Warnung');
    wait_feed();
    $r->hset(tk_key_ticket($w), created => time - 5 * 86400 + 3600);
    $r->hset(tk_key_ticket($w), escalation_at => int(time) + 3600);
    $page = $web->get("/t/$w");
    $esc = $page->dom->at('#escalation');
    ok $esc && $esc->has_class('esc-warn'), '< 20 % left: warning (esc-warn)';
    $r->hset(tk_key_ticket($w), created => int time - 60);
    $esc = $web->get("/t/$w")->dom->at('#escalation');
    ok $esc && $esc->has_class('esc-ok'), 'plenty left: esc-ok';
};

subtest 'test_clock_offset shifts the clock, and says so' => sub {
    $tk->stop_proc($_, 'TERM', 10) for grep { $tk->alive($_) } qw(timers timers-a);
    my $n = $tk->add_ticket(group => 'legal', title => 'In fünf Tagen');
    MB::write_conf($tk, extra => "test_clock_offset = 432010\n");
    my ($rc, $out, $err) = MB::mailbridge($tk, 'check');
    like $err, qr/WARNING: test_clock_offset/, 'mailbridge check warns';
    start_timers('shifted');
    TK::wait_for('the 5-day escalation, 5 days early', 15, sub { field($n, 'escalated') ne '' });
    like TK::read_file($tk->log_file('shifted')), qr/clock is SHIFTED/, 'the role logs it';
    is field($n, 'escalation_at'), field($n, 'created') + 5 * 86400, 'due in 5 days, as ever';
};

$tk->stop_all;
done_testing;
