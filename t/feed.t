# The change feed tk:{ix}:feed: every committed change -- from a web
# form, ticketctl, a mail through mailbridge -- appends exactly one entry
# naming the source, who and what changed, with the ticket's rev after the
# change; a change that is refused or changes nothing, and every read,
# appends none.  A bounce's "bounced" flag moves the ticket's rev.  A
# consumer group reads the feed the way SCHEMA.md describes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = TK->new;
$tk->standard_groups;                 # ALSO, legal (all agents), Zivilrecht
my $pw = $tk->add_user('sanne', name => 'Sanne S', rights => 'ALSO:full', lang => 'en');
my $web = $tk->login_client('sanne', $pw);
my $r = $tk->redis;
my $FEED = 'tk:{ix}:feed';
my $me = getpwuid($<);
$me = $ENV{SUDO_USER} if length($ENV{SUDO_USER} // '');

# The entries $code appended, oldest first: [{id => ..., field => value}]
sub appended {
    my ($code) = @_;
    my @last = $r->xrevrange($FEED, '+', '-', 'COUNT', 1);
    my $from = @last ? "($last[0][0]" : '-';
    $code->();
    return [ map { { id => $_->[0], @{ $_->[1] } } } $r->xrange($FEED, $from, '+') ];
}

sub rev_of { $r->hget("tk:{t:$_[0]}", 'rev') }

sub one_entry_ok {
    my ($entries, $want, $what) = @_;
    is scalar @$entries, 1, "$what: exactly one entry" or diag explain $entries;
    my $e = $entries->[0] // {};
    for my $k (sort keys %$want) {
        is $e->{$k}, $want->{$k}, "$what: $k";
    }
    return $e;
}

my $n;

subtest 'ticketctl ticket create: one entry "created" with its first article' => sub {
    my $e = appended(sub {
        $n = $tk->add_ticket(group => 'ALSO', title => 'Akte Feed', body => 'Hallo');
    });
    my $got = one_entry_ok($e, { ticket => $n, event => 'created', src => 'cli',
        by => $me, group => 'ALSO', kind => 'in' }, 'create');
    is $got->{rev}, rev_of($n), 'rev is the ticket\'s rev after the change';
    is $got->{article}, $r->lindex("tk:{t:$n}:articles", 0), 'the article it brought';
};

subtest 'ticketctl ticket update: one entry with the changed fields' => sub {
    my $e = appended(sub { $tk->ctl('ticket', 'update', $n, '--state', 'open', '--priority', 'high') });
    my $got = one_entry_ok($e, { ticket => $n, event => 'update', src => 'cli', by => $me,
        changed => 'state,priority', state => 2, 'state.from' => 1,
        priority => 3, 'priority.from' => 2 }, 'update');
    is $got->{rev}, rev_of($n), 'rev after the change';
    ok !exists $got->{title}, 'unchanged fields are not in it';

    $e = appended(sub { $tk->ctl('ticket', 'update', $n, '--state', 'open') });
    is scalar @$e, 0, 'an update that changes nothing: no entry';
};

# A proxy in front of Redis that holds back the first answer starting
# with "+OK" (WATCH's) for a second once $d/hold exists: time for another
# writer to change the watched ticket (as in t/valgrind.t).
my $d = $tk->dir;
my $PROXY = <<'PERL';
use strict; use warnings; use IO::Socket::UNIX; use IO::Select; use Socket;
my ($listen, $upstream, $hold) = @ARGV;
$SIG{PIPE} = 'IGNORE';
$| = 1;
my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $listen, Listen => 16)
    or die "listen $listen: $!";
my $sel = IO::Select->new($srv);
my (%peer, %redis);
while (1) {
    for my $s ($sel->can_read) {
        if ($s == $srv) {
            my $c = $srv->accept or next;
            my $r = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $upstream)
                or do { close $c; next };
            @peer{$c, $r} = ($r, $c);
            $redis{$r} = 1;
            $sel->add($c, $r);
            next;
        }
        my $to = $peer{$s} or next;
        my $n = sysread($s, my $buf, 1 << 20);
        if (!$n) { $sel->remove($_), close $_ for $s, $to; delete @peer{$s, $to}; next }
        if ($redis{$s} && substr($buf, 0, 3) eq '+OK' && -e $hold) {
            unlink $hold;
            print "held\n";
            select undef, undef, undef, 1;
        }
        syswrite($to, $buf);
    }
}
PERL
$tk->spawn('feed-proxy', $^X, '-e', $PROXY, "$d/proxy.sock", $tk->redis_sock, "$d/hold");
TK::wait_for('the redis proxy', 10, sub { -S "$d/proxy.sock" });

subtest 'a WATCH conflict: the failed EXEC leaves no entry, the retry one' => sub {
    my $rev = rev_of($n);
    TK::write_file("$d/hold", "1\n");
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        # another writer while ticketctl holds WATCH's answer
        eval {
            TK::wait_for('the held answer', 30, sub {
                (TK::read_file($tk->log_file('feed-proxy')) // '') =~ /^held/m });
            Redis->new(sock => $tk->redis_sock)->hincrby("tk:{t:$n}", 'rev', 1);
        };
        POSIX::_exit($@ ? 1 : 0);
    }
    my $watch = sub { ($r->info('commandstats')->{cmdstat_watch} // '') =~ /calls=(\d+)/ ? $1 : 0 };
    my $watched = $watch->();
    my $e = appended(sub {
        my ($rc, $out, $err) = TK::run_cmd("$TK::BUILD/ticketctl", '--redis', "unix:$d/proxy.sock",
            'ticket', 'update', $n, '--priority', 'low');
        is $rc, 0, 'updated' or diag "$out$err";
    });
    waitpid $pid, 0;
    is $?, 0, 'the other write came in between';
    is $watch->() - $watched, 2, 'WATCH twice: the first EXEC failed';
    my $got = one_entry_ok($e, { event => 'update', changed => 'priority', priority => 1 },
        'after the retry');
    is $got->{rev}, $rev + 2, 'rev counts the other write and this one';
    is $got->{rev}, rev_of($n), '... and is the ticket\'s';
};

subtest 'web: the update form makes one entry, src web, by the login' => sub {
    my $e = appended(sub {
        my $res = $web->submit("/t/$n", 'form#ticket-update', state => 3, owner => 'sanne');
        is $res->{status}, 303, 'saved';
    });
    my $got = one_entry_ok($e, { ticket => $n, event => 'update', src => 'web', by => 'sanne',
        group => 'ALSO', changed => 'owner,state', owner => 'sanne', 'owner.from' => '',
        state => 3, 'state.from' => 2 }, 'form');
    is $got->{rev}, rev_of($n), 'rev after the change';

    $e = appended(sub {
        my $res = $web->submit("/t/$n", 'form#rename', title => 'Akte Feed neu');
        is $res->{status}, 303, 'renamed';
    });
    one_entry_ok($e, { event => 'update', src => 'web', by => 'sanne', changed => 'title',
        title => 'Akte Feed neu', 'title.from' => 'Akte Feed' }, 'rename');
};

subtest 'web: a refused or empty change makes no entry' => sub {
    my $e = appended(sub {
        my $res = $web->post_csrf("/t/$n/update", { state => 9 });
        is $res->{status}, 422, 'invalid state refused (the form again, 422)';
        $res = $web->post_csrf("/t/$n/update", { owner => 'niemand' });
        is $res->{status}, 422, 'unknown owner refused inside the transaction';
        $res = $web->post_csrf("/t/$n/update", { group => 'Zivilrecht' });
        is $res->{status}, 422, 'group without the right refused (the form again, 422)';
        $res = $web->post("/t/$n/update", { state => 6 });
        is $res->{status}, 403, 'no CSRF token: refused (the form again, 422)';
        $res = $web->post_csrf("/t/$n/update", { state => 3 });
        is $res->{status}, 303, 'the state it already has: back to the page';
    });
    is scalar @$e, 0, 'no entry' or diag explain $e;
    is $tk->ticket_hash($n)->{state}, 3, 'and nothing changed';
};

subtest 'reads append nothing: pages, API, cached pages' => sub {
    my $token = $tk->add_token('sanne');
    my $e = appended(sub {
        $web->get("/t/$n") for 1 .. 2;
        $web->get('/overview/all');
        my $res = $web->api('GET', "/api/v1/tickets/$n", $token);
        is $res->{status}, 200, 'API read';
        $web->api('GET', '/api/v1/tickets', $token);
    });
    is scalar @$e, 0, 'no entry';
};

SKIP: {
    skip 'build/mailbridge is not built', 4 unless TK::mailbridge_bin();
    MB::write_conf($tk);

    my ($mn, $first);

    subtest 'mailbridge deliver: a new mail is one entry "created", by the sender' => sub {
        $first = MB::mail(subject => 'Vorladung', to => 'also@example.org',
            from => 'Ana Beispiel <Ana@Example.NET>');
        my $e = appended(sub {
            my ($rc, undef, $err) = MB::deliver($tk, $first);
            is $rc, 0, 'stored' or diag $err;
        });
        my ($t, $a, $aid) = MB::stored($tk, MB::msgid_of($first));
        $mn = $t;
        my $got = one_entry_ok($e, { ticket => $mn, event => 'created', src => 'mail',
            by => 'ana@example.net', group => 'ALSO', article => $aid, kind => 'in' }, 'new mail');
        is $got->{rev}, rev_of($mn), 'rev after the change';

        $e = appended(sub { MB::deliver($tk, $first) });
        is scalar @$e, 0, 'the same mail again (duplicate): no entry';
    };

    subtest 'mailbridge deliver: a reply that reopens is one entry "article" with the state' => sub {
        $tk->ctl('ticket', 'update', $mn, '--state', 'closed');
        my $reply = MB::mail(subject => 'Re: Vorladung', to => 'also@example.org',
            from => 'ana@example.net', in_reply_to => '<' . MB::msgid_of($first) . '>');
        my $e = appended(sub {
            my ($rc, undef, $err) = MB::deliver($tk, $reply);
            is $rc, 0, 'stored' or diag $err;
        });
        my (undef, undef, $aid) = MB::stored($tk, MB::msgid_of($reply));
        my $got = one_entry_ok($e, { ticket => $mn, event => 'article', src => 'mail',
            by => 'ana@example.net', article => $aid, kind => 'in', changed => 'state',
            state => 2, 'state.from' => 6 }, 'reply');
        is $got->{rev}, rev_of($mn), 'rev after the change';
    };

    subtest 'mailbridge import: mails of one batch into one ticket, each its entry and rev' => sub {
        my $d = $tk->dir;
        my @m = (MB::mail(subject => 'Archiv', date => 'Tue, 03 Mar 2020 12:00:00 +0100'));
        for my $i (1 .. 3) {
            push @m, MB::mail(subject => 'Re: Archiv', in_reply_to => '<' . MB::msgid_of($m[-1]) . '>',
                date => "Tue, 03 Mar 2020 12:0$i:00 +0100");
        }
        TK::write_file("$d/feed.mbox", join '', map { (my $x = $_) =~ s/\r\n/\n/g;
            "From anna\@example.net Tue Mar  3 12:00:00 2020\n$x\n" } @m);
        my $e = appended(sub {
            my ($rc, $out, $err) = MB::mailbridge($tk, 'import', '--no-progress', "$d/feed.mbox");
            is $rc, 0, 'imported' or diag "$out$err";
        });
        my ($t) = MB::stored($tk, MB::msgid_of($m[0]));
        is scalar @$e, 4, 'four mails, four entries';
        is_deeply [ map { $_->{event} } @$e ], [qw(created article article article)], 'created, then articles';
        is_deeply [ map { $_->{ticket} } @$e ], [ ($t) x 4 ], 'all of one ticket';
        is_deeply [ map { $_->{rev} } @$e ], [ 2, 4, 6, 8 ], 'rev counts every write of the batch';
        is $e->[-1]{rev}, rev_of($t), 'the last is the ticket\'s rev';
    };

    subtest 'a bounce: its article, and the bounced flag bumps rev with an entry of its own' => sub {
        my $t = $tk->add_ticket(title => 'Antwort raus', group => 'legal', body => 'x');
        my $out = 90000 + $t;
        my $mid = "out-feed\@example.org";
        $r->hset("tk:{t:$t}:a:$out", id => $out, ticket => $t, kind => 'out',
            message_id => $mid, flags => 'signed');
        $r->set("tk:mid:$mid", "$t:$out");
        my $rev = rev_of($t);
        my $dsn = MB::mail(from => 'Mail Delivery System <MAILER-DAEMON@mx.example.org>',
            subject => 'Undelivered Mail Returned to Sender', 'MIME-Version' => '1.0',
            'Content-Type' => 'multipart/report; report-type=delivery-status; boundary="B"',
            body => "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry\r\n"
                . "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
                . "Final-Recipient: rfc822; dora\@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
                . "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <$mid>\r\n\r\n--B--\r\n");
        my $e = appended(sub {
            my ($rc, undef, $err) = MB::deliver($tk, $dsn);
            is $rc, 0, 'stored' or diag $err;
        });
        is MB::article($tk, $t, $out)->{flags}, 'signed,bounced', 'outbound article flagged';
        # the follow-up (updated) and the bounce article were +2 before;
        # the flag on the outbound article is one more write
        is rev_of($t), $rev + 3, 'rev: the follow-up, its article, and the flag';
        is scalar @$e, 2, 'two entries' or diag explain $e;
        is $e->[0]{event}, 'article', 'the bounce as an article';
        is $e->[0]{by}, 'mailer-daemon@mx.example.org', '... from its sender';
        is_deeply { map { $_ => $e->[1]{$_} } qw(ticket event src by article flag) },
            { ticket => $t, event => 'flag', src => 'mail', by => 'mailbridge',
              article => $out, flag => 'bounced' }, 'the flag: by mailbridge';
    };
}

subtest 'a consumer group reads from where it was created, acks, and resumes' => sub {
    $r->xgroup('CREATE', $FEED, 'feedtest', '$', 'MKSTREAM');
    $tk->ctl('ticket', 'update', $n, '--priority', 'urgent');
    my $got = $r->xreadgroup('GROUP', 'feedtest', 'c1', 'COUNT', 10, 'STREAMS', $FEED, '>');
    my $entries = $got->[0][1];
    is scalar @$entries, 1, 'the one change since the group was created';
    my %e = @{ $entries->[0][1] };
    is $e{changed}, 'priority', 'the change';
    my ($g) = grep { { @$_ }->{name} eq 'feedtest' } $r->xinfo('GROUPS', $FEED);
    is { @$g }->{pending}, 1, 'pending until acked';
    is $r->xack($FEED, 'feedtest', $entries->[0][0]), 1, 'XACK';
    ($g) = grep { { @$_ }->{name} eq 'feedtest' } $r->xinfo('GROUPS', $FEED);
    is { @$g }->{pending}, 0, 'nothing pending';
    $got = $r->xreadgroup('GROUP', 'feedtest', 'c1', 'COUNT', 10, 'STREAMS', $FEED, '>');
    ok !$got || !@{ $got->[0][1] }, 'nothing new';
};

subtest 'the stream is trimmed (MAXLEN ~), entries are small' => sub {
    my %info = $r->xinfo('STREAM', $FEED);
    ok $info{length} > 0, "XINFO STREAM: $info{length} entries";
    my $bytes = $r->memory('USAGE', $FEED);
    ok $bytes / $info{length} < 1024, sprintf('%.0f bytes per entry', $bytes / $info{length});
};

done_testing;
