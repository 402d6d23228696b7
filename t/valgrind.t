# nginx with the module under valgrind (one process, master_process off):
# login, overview, ticket page, API, an HTML mail's page and files, the
# quarantine, a client that goes away while Redis is busy, a reply that
# arrives in two parts (with the client gone, or Redis timing out, in
# between), a Redis timeout; then QUIT.  No invalid reads or writes, no
# definite leaks.  nginx talks to Redis through a small proxy that can
# hold back half of an answer: hiredis builds replies straight into the
# request pool, so a request that dies mid-reply must not be written to.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Net::EmptyPort qw(empty_port wait_port);
use Time::HiRes qw(sleep time);
use TK;

plan skip_all => 'valgrind is not installed (make deps)' unless -x '/usr/bin/valgrind';
plan skip_all => 'valgrind and ASan do not mix (make asan)' if $ENV{TK_NGINX_PRELOAD};

my $tk = TK->new(nginx => 0);
$tk->standard_groups;
my $pw = $tk->add_user('vera', rights => 'ALSO:full');
my $n = $tk->add_ticket(title => 'Under valgrind', group => 'ALSO',
    customer => 'Val Grind <vg@example.org>', body => 'checking memory');
$tk->add_ticket(title => "Second one $_", group => 'legal') for 1 .. 5;
my $token = $tk->add_token('vera');
my $admin_pw = $tk->add_user('adam', rights => 'ALSO:read', admin => 1);

# an HTML mail with an inline image and an attachment, and a quarantined
# one, through mailbridge (when it is built)
require "$FindBin::Bin/mail_lib.pl";
my ($mn, $ma);
if (TK::mailbridge_bin()) {
    MB::write_conf($tk);
    my $id = "vg.$$\@example.net";
    my $mail = join "\r\n", 'From: a@example.net', 'To: also@example.org',
        'Subject: HTML', "Message-ID: <$id>", 'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="B"', '', '--B',
        'Content-Type: text/html', '',
        '<p>x<img src="cid:i@x"><img src="https://example.com/t.gif" alt=a></p>',
        '--B', 'Content-Type: image/png', 'Content-ID: <i@x>', '', 'PNGDATA',
        '--B', 'Content-Type: application/pdf; name="\xc3\xa4.pdf"', '', "%PDF\0x",
        '--B--', '';
    MB::deliver($tk, $mail, '--recipient', 'also@example.org');
    MB::deliver($tk, "\0junk\n");
    ($mn, undef, $ma) = MB::stored($tk, $id);
}

my $d = $tk->dir;

# The proxy: forwards both ways; when $d/hold exists ("SECONDS [PREFIX]"),
# it passes on the first half of Redis's next answer (that starts with
# PREFIX), waits, then the rest, and logs "held back N of M bytes".
my $PROXY = <<'PERL';
use strict; use warnings; use IO::Socket::UNIX; use IO::Select; use Socket;
my ($listen, $upstream, $hold) = @ARGV;
$SIG{PIPE} = 'IGNORE';
$| = 1;
unlink $listen;
my $srv = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $listen, Listen => 64)
    or die "listen $listen: $!";
chmod 0777, $listen;
my $sel = IO::Select->new($srv);
my (%peer, %redis);
sub drop {
    my ($s) = @_;
    for my $x ($s, delete $peer{$s} // ()) {
        $sel->remove($x); delete $peer{$x}; delete $redis{$x}; close $x;
    }
}
sub put {
    my ($s, $buf) = @_;
    while (length $buf) {
        my $n = syswrite($s, $buf) or return 0;
        substr($buf, 0, $n) = '';
    }
    return 1;
}
while (1) {
    for my $s ($sel->can_read) {
        if ($s == $srv) {
            my $c = $srv->accept or next;
            my $r = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $upstream);
            if (!$r) { close $c; next }
            @peer{$c, $r} = ($r, $c);
            $redis{$r} = 1;
            $sel->add($c, $r);
            next;
        }
        next unless $peer{$s};
        my $n = sysread($s, my $buf, 1 << 20);
        if (!$n) { drop($s); next }
        my $to = $peer{$s};
        if ($redis{$s} && length $buf > 1 && open my $f, '<', $hold) {
            my ($secs, $prefix) = split ' ', scalar(<$f>) // '', 2;
            $prefix //= '';
            chomp $prefix;
            close $f;
            if (substr($buf, 0, length $prefix) ne $prefix) {
                drop($s) unless put($to, $buf);
                next;
            }
            unlink $hold;
            my $half = int(length($buf) / 2);
            put($to, substr($buf, 0, $half, ''));
            print "held back ", length $buf, " of ", length($buf) + $half, " bytes\n";
            select undef, undef, undef, $secs;
        }
        drop($s) unless put($to, $buf);
    }
}
PERL
$tk->spawn('redis-proxy', $^X, '-e', $PROXY, "$d/proxy.sock", $tk->redis_sock, "$d/hold");
TK::wait_for('the redis proxy', 10, sub { -S "$d/proxy.sock" });

# The next answer from Redis (that starts with $prefix) arrives in two
# parts, $seconds apart.
sub hold_next_answer {
    my ($seconds, $prefix) = @_;
    TK::write_file("$d/hold", "$seconds " . ($prefix // '') . "\n");
}

sub held_back { scalar(() = TK::read_file($tk->log_file('redis-proxy')) =~ /^held back/mg) }

my $port = empty_port();
$tk->{port} = $port;
my $prefix = "$d/vg";
mkdir $prefix;
mkdir "$prefix/conf";
TK::write_file("$prefix/conf/nginx.conf",
    $tk->nginx_conf(prefix => $prefix, port => $port, workers => 1, redis_timeout => '3s',
        redis => "unix:$d/proxy.sock",
        # casework: the public request form
        server => 'location = /form { ticket; ticket_cookie_secure off; ticket_form on; ticket_form_group ALSO; }'));
# nginx core's two exit-time leaks (TOOLCHAIN.md section 2)
TK::write_file("$d/ngx.supp", <<'SUPP');
{
 env
 Memcheck:Leak
 match-leak-kinds: definite
 fun:malloc
 fun:ngx_alloc
 fun:ngx_set_environment
}
{
 epoll
 Memcheck:Leak
 match-leak-kinds: definite,indirect
 fun:malloc
 fun:ngx_alloc
 obj:/usr/sbin/nginx
 fun:ngx_single_process_cycle
}
SUPP

my $vglog = "$d/vg.log";
$tk->spawn('valgrind', 'valgrind', '--leak-check=full', '--keep-debuginfo=yes',
    '--errors-for-leak-kinds=definite', '--error-exitcode=9',
    "--suppressions=$d/ngx.supp", "--log-file=$vglog",
    split(' ', $ENV{TK_VALGRIND_OPTS} // ''),    # e.g. --track-origins=yes
    'nginx', '-p', $prefix, '-c', "$prefix/conf/nginx.conf",
    '-g', 'daemon off; master_process off; timer_resolution 100ms;');
ok wait_port({ port => $port, max_wait => 60 }), 'nginx under valgrind listens'
    or BAIL_OUT("nginx did not start under valgrind:\n" . TK::tail($vglog, 30));

sub slow_client {
    my $c = $tk->client;
    $c->{http}->timeout(60);
    return $c;
}

my $c = slow_client();

subtest 'requests' => sub {
    isnt $c->login('vera', 'wrong')->{status}, 303, 'failed login';
    is $c->login('vera', $pw)->{status}, 303, 'login';
    is $c->get('/')->{status}, 200, 'overview';
    is $c->get('/overview/all?sort=title&dir=desc')->{status}, 200, 'sorted overview';
    # saved overviews, the ad hoc filters and the set overviews
    my $sv = $c->submit('/overview/all?owner=nobody&priority=2&state=1&columns=number,title',
        'form#overview-save', name => 'Unter valgrind');
    is $sv->{status}, 303, 'save as new overview';
    my ($sid) = ($sv->{headers}{location} // '') =~ m{overview/(\d+)$};
    is $c->get("/overview/$sid?from=2020-01-01&to=2099-12-31")->{status}, 200, 'the saved overview';
    is $c->get('/overview/escalated')->{status}, 200, 'a set overview';
    is $c->get('/overview/all?tag=frist')->{status}, 200, 'a tag';
    is $c->api(GET => "/api/v1/overviews/$sid/tickets", $token)->{status}, 200, 'API overview';
    is $c->api(GET => '/api/v1/overviews', $token)->{status}, 200, 'API overviews';
    is $c->submit("/overview/$sid", 'form#overview-delete')->{status}, 303, 'delete it';
    is $c->get("/t/$n")->{status}, 200, 'ticket page';
    is $c->submit("/t/$n", 'form#ticket-update', state => 2)->{status}, 303, 'update';
    is $c->submit("/t/$n", 'form#rename', title => 'Renamed under valgrind')->{status}, 303, 'rename';
    is $c->get('/t/424242')->{status}, 404, 'status 404';
    is $c->post('/logout', [])->{status} >= 400, 1, 'logout without csrf refused';
    is $c->api(GET => '/api/v1/tickets', $token)->{status}, 200, 'API list';
    is $c->api(GET => "/api/v1/tickets/$n", $token)->{status}, 200, 'API ticket';
    is $c->api(GET => '/api/v1/me', 'bad')->{status}, 401, 'API 401';
    is $c->get('/search?q=memory+%22checking+memory%22+Grin*&sort=date')->{status}, 200, 'search';
    is $c->get("/search?q=%23$n")->{status}, 303, 'search: a ticket number';
    is $c->api(GET => '/api/v1/search?q=Valgrind', $token)->{status}, 200, 'API search';
};

subtest 'an HTML mail: page, files, quarantine' => sub {
    plan skip_all => 'build/mailbridge is not built' unless $mn;
    is $c->get("/t/$mn")->{status}, 200, 'ticket page';
    is $c->get("/t/$mn?images=$ma")->{status}, 200, 'with remote images';
    is $c->get("/t/$mn/a/$ma/att/$_")->{status}, 200, "attachment $_" for 1 .. 2;
    is $c->get("/t/$mn/a/$ma/cid/i\@x")->{status}, 200, 'by Content-ID';
    is $c->get("/t/$mn/a/$ma/cid/nope")->{status}, 404, 'unknown Content-ID';
    is $c->get("/t/$mn/a/$ma/raw")->{status}, 200, 'raw mail';
    is $c->get("/t/$mn/a/$ma/att/9")->{status}, 404, 'no such part';
    my $a = slow_client();
    is $a->login('adam', $admin_pw)->{status}, 303, 'admin login';
    my $q = $a->get('/admin/quarantine');
    is $q->{status}, 200, 'quarantine';
    my $link = $q->dom->at('table#quarantine a.raw');
    is $link && $a->get($link->attr('href'))->{status}, 200, 'quarantined mail';
};

subtest 'the composer: reply, note, errors, conflict, security line, API' => sub {
    $tk->redis->hset('tk:{g:ALSO}', 'email', 'also@example.org', 'signature', 'Gruss');
    $tk->redis->hset('tk:pgp:addr', 'vg@example.org', 'ABCDEF 0');
    my ($action, $pairs) = $c->form_values($c->get("/t/$n"), 'form#compose', body => 'Hallo', state => 2);
    is $c->post($action, $pairs)->{status}, 303, 'reply sent';
    is $c->submit("/t/$n", 'form#compose', type => 'note', body => 'Notiz', state => 2)->{status}, 303, 'note';
    is $c->submit("/t/$n", 'form#compose', subject => "a\r\nb")->{status}, 400, 'CR/LF: the form again';
    is $c->post($action, $pairs)->{status}, 409, 'stale form: the conflict page';
    is $c->get("/t/$n/security?to=vg%40example.org&cc=x%40example.net")->{status}, 200, 'security line';
    is $c->get("/t/$n?reply=1&to=all")->{status}, 200, 'reply all';
    is $c->get("/t/$n/complete?q=vg")->{status}, 200, 'address suggestions';
    my ($a2, $p2) = $c->form_values($c->get("/t/$n"), 'form#compose', body => 'Datei', state => 2);
    my %p = @$p2;
    my $mp = join('', map { "--VG\r\nContent-Disposition: form-data; name=\"$_\"\r\n\r\n$p{$_}\r\n" } sort keys %p)
        . "--VG\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"../a.pdf\"\r\n"
        . "Content-Type: application/pdf\r\n\r\n%PDF\0x\r\n--VG--\r\n";
    is $c->request('POST', $a2, content => $mp, headers => { 'content-type' => 'multipart/form-data; boundary=VG' })->{status},
        303, 'reply with an attachment (multipart)';
    is $c->request('POST', $a2, content => "--VG\r\nbroken", headers => { 'content-type' => 'multipart/form-data; boundary=VG' })->{status},
        400, 'malformed multipart';
    is $c->api(POST => "/api/v1/tickets/$n/articles", $token,
        content => '{"type":"reply","to":"vg@example.org","subject":"s","body":"b","state":"open"}')->{status}, 201, 'API reply';
    is $c->api(POST => "/api/v1/tickets/$n/articles", $token, content => '{"type":"x"}')->{status},
        400, 'API 400';
    # issue 13: tags, merge, split, customer page
    $c->get("/t/$n");
    is $c->post_csrf("/t/$n/tags", [ add => 'Eilt, Miete' ])->{status}, 303, 'tags added';
    is $c->post_csrf("/t/$n/tags", [ add => 'x{y}' ])->{status}, 422, 'bad tag: 422';
    $c->get("/t/$n");
    is $c->post_csrf("/t/$n/tags", [ remove => 'eilt' ])->{status}, 303, 'tag removed';
    is $c->api(GET => "/api/v1/tickets/$n/tags", $token)->{status}, 200, 'API tags';
    is $c->api(POST => "/api/v1/tickets/$n/tags", $token, content => '{"tags":["a1","b2"]}')->{status}, 200, 'API tags add';
    is $c->api(DELETE => "/api/v1/tickets/$n/tags?tag=a1", $token)->{status}, 200, 'API tags delete';
    is $c->get('/search?tag=miete')->{status}, 200, 'search by tag';
    is $c->api(POST => '/api/v1/tickets/' . ($n + 1) . '/merge', $token, content => "{\"into\":$n}")->{status},
        200, 'API merge';
    my @arts = $tk->redis->lrange(tk_key_ticket_arts($n), 0, -1);
    is $c->get("/t/$n/a/$arts[-1]/split")->{status}, 200, 'split confirmation';
    is $c->post_csrf("/t/$n/a/$arts[-1]/split", [ rev => $tk->ticket_hash($n)->{rev} ])->{status}, 303, 'split';
    my $cust = $tk->ticket_hash($n)->{customer};
    is $c->get("/customers/$cust")->{status}, 200, 'customer page';
    is $c->post_csrf("/customers/$cust", [ name => 'Val', email => 'bad' ])->{status}, 422, 'customer: 422';
    $c->get("/customers/$cust");
    is $c->post_csrf("/customers/$cust", [ name => 'Val', email => 'vg@example.org', organisation => 'VG e.V.' ])->{status},
        303, 'customer saved';
};

subtest 'the new outbound ticket: page, send, errors, API' => sub {
    is $c->get('/new')->{status}, 200, 'the page';
    is $c->submit('/new', 'form#compose', group => 'ALSO', to => 'Vera <vg@example.org>', cc => 'x@example.net',
        subject => 'Neu', body => 'Hallo', state => 3)->{status}, 303, 'sent';
    is $c->submit('/new', 'form#compose', group => 'ALSO', to => 'vg@example.org', subject => "a\r\nb",
        body => 'x')->{status}, 422, 'CR/LF: the form again';
    is $c->submit('/new', 'form#compose', group => 'Nope', to => 'vg@example.org', subject => 's',
        body => 'x')->{status}, 422, 'unknown group';
    is $c->get('/new/security?group=ALSO&to=vg%40example.org')->{status}, 200, 'security line';
    is $c->get('/new/complete?q=vg')->{status}, 200, 'address suggestions';
    is $c->api(POST => '/api/v1/tickets', $token, content => '{"group":"ALSO","customer":{"name":"N","email":'
        . '"n@example.net"},"subject":"s","body":"b"}')->{status}, 201, 'API: created';
    is $c->api(POST => '/api/v1/tickets', $token, content => '{"group":"ALSO","to":""}')->{status},
        422, 'API 422';
};

sub redis_sleep {
    my ($seconds) = @_;
    my $pid = fork // die;
    if ($pid == 0) {
        my $r = Redis->new(sock => $tk->redis_sock);
        eval { $r->__std_cmd('DEBUG', 'SLEEP', $seconds) };
        POSIX::_exit(0);
    }
    sleep 0.3;
    return $pid;
}

subtest 'API writes, admin API, profile tokens' => sub {
    # (TK::Client::api's headers option replaces its own: name the token)
    my $json = { 'content-type' => 'application/json', authorization => "Bearer $token" };
    is $c->api(PATCH => "/api/v1/tickets/$n", $token, headers => { %$json, 'if-match' => '"1"' },
        content => '{"priority":"high"}')->{status}, 409, 'PATCH: stale If-Match';
    is $c->api(PATCH => "/api/v1/tickets/$n", $token, headers => $json,
        content => '{"priority":"high","title":"PATCH & valgrind","owner":null}')->{status}, 200, 'PATCH';
    is $c->api(PATCH => "/api/v1/tickets/$n", $token, headers => $json,
        content => '{"state":"bogus"}')->{status}, 422, 'PATCH: 422';
    my $at = $tk->add_token('adam');
    is $c->api(GET => "/api/v1/admin/$_", $at)->{status}, 200, "admin API: $_"
        for qw(users groups outbox mail quarantine users/vera);
    is $c->api(PATCH => '/api/v1/admin/users/vera', $at,
        headers => { %$json, authorization => "Bearer $at" },
        content => '{"name":"Vera V"}')->{status}, 200, 'admin API: PATCH a user';
    is $c->api(GET => '/api/v1/admin/users', $token)->{status}, 404, 'admin API: 404 for an agent';
    $c->get('/profile');
    my $res = $c->post_csrf('/profile/tokens', [ label => 'vg' ]);
    is $res->{status}, 200, 'profile: a new token';
    my $new = $res->dom->at('#new-token');
    is $c->get('/profile')->{status}, 200, 'profile: tokens listed';
    is $c->post_csrf('/profile/tokens/revoke', [ id => substr($new ? $new->text : '0' x 8, 0, 8) ])->{status},
        303, 'profile: revoked';
};

# casework: text modules, templates, data protection requests, the form
subtest 'text modules, templates, data protection, request form' => sub {
    my $a = slow_client();
    is $a->login('adam', $admin_pw)->{status}, 303, 'admin login';
    $a->get('/admin/text-modules');
    is $a->post_csrf('/admin/text-modules/save', { keyword => 'vg', name => 'Valgrind',
        body => 'Hallo {{customer.name}} in {{ticket.number}}' })->{status}, 303, 'shared module saved';
    is $a->post_csrf('/admin/text-modules/save', { keyword => 'vg', name => 'twice', body => 'x' })->{status}, 422,
        'a keyword twice: 422';
    $a->get('/admin/templates');
    is $a->post_csrf('/admin/templates/save', { name => 'VG', state => 'open', subject => 'S {{customer.name}}',
        body => 'B {{agent.name}}' })->{status}, 303, 'template saved';
    is $a->get('/admin/customers?address=vg@example.org')->{status}, 200, 'data protection page';
    is $a->post_csrf('/admin/customers/erase', { address => 'vg@example.org', mode => 'delete', confirm => 'no@example.org' })->{status},
        422, 'erasure not confirmed';
    is $c->get('/text-modules')->{status}, 200, 'own modules page';
    is $c->get("/text-modules.json?q=v&ticket=$n")->{status}, 200, 'suggestions';
    is $c->api(GET => "/api/v1/text_modules?q=va&ticket=$n", $token)->{status}, 200, 'API text modules';
    is $c->api(GET => '/api/v1/templates', $token)->{status}, 200, 'API templates';
    is $c->get("/t/$n?template=1")->{status}, 200, 'ticket page with a template';
    my $res = $c->api(POST => "/api/v1/tickets/$n/articles", $token,
        content => '{"type":"note","body":"::vg und ::nix"}');
    is $res->{status}, 201, 'a note with ::vg';
    is $c->api(GET => '/api/v1/customers/vg@example.org/export', $token)->{status}, 404, 'export: agents 404';
    my $f = $tk->client;
    my $page = $f->get('/form');
    is $page->{status}, 200, 'request form';
    my ($tok) = $page->{content} =~ /name="token" value="([0-9a-f]+)"/;
    my $B = 'vgB';
    my $body = join '', map { "--$B\r\nContent-Disposition: form-data; name=\"$_->[0]\"\r\n\r\n$_->[1]\r\n" }
        [ token => $tok ], [ name => 'Val' ], [ email => 'val@example.org' ], [ subject => 'S' ], [ message => 'M' ];
    $body .= "--$B\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nx\r\n--$B--\r\n";
    $res = $f->request('POST', '/form', content => $body, headers => { 'content-type' => "multipart/form-data; boundary=$B" });
    is $res->{status}, 200, 'request sent';
    $res = $f->request('POST', '/form', content => $body, headers => { 'content-type' => "multipart/form-data; boundary=$B" });
    is $res->{status}, 403, 'token used again: 403';
};

subtest 'a client goes away while its Redis reply is pending' => sub {
    my $cookie = join '; ', map { "$_=$c->{jar}{$_}" } keys %{ $c->jar };
    my $pid = redis_sleep(2);
    for my $path ('/', "/t/$n") {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
            or die "connect: $!";
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nCookie: $cookie\r\n\r\n";
        sleep 0.3;
        close $s;
    }
    waitpid $pid, 0;
    sleep 0.5;
    is $c->get('/')->{status}, 200, 'served normally afterwards';
};

subtest 'a reply that arrives in two parts is read whole' => sub {
    my $before = held_back();
    hold_next_answer(0.5);
    my $res = $c->get("/t/$n");
    is $res->{status}, 200, 'ticket page';
    like $res->{content}, qr/Renamed under valgrind/, 'with its data';
    is held_back(), $before + 1, 'the proxy split an answer';
};

subtest 'a client goes away with its reply half read' => sub {
    my $cookie = join '; ', map { "$_=$c->{jar}{$_}" } keys %{ $c->jar };
    my $before = held_back();
    hold_next_answer(2);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "connect: $!";
    print $s "GET /overview/all HTTP/1.1\r\nHost: localhost\r\nCookie: $cookie\r\n\r\n";
    TK::wait_for('the split', 10, sub { held_back() > $before });
    sleep 0.5;
    close $s;
    sleep 2;
    TK::wait_for('499 in the access log', 10, sub {
        TK::read_file("$prefix/logs/access.log") =~ m{"GET /overview/all HTTP/1.1" 499 } });
    pass 'nginx saw the client go before the reply was in';
    is $c->get('/')->{status}, 200, 'served normally afterwards';
};

subtest 'a ticket that changes between WATCH and EXEC: done again, saved' => sub {
    my $r = $tk->redis;
    my $watches = sub { ($r->info('commandstats')->{cmdstat_watch} // '') =~ /calls=(\d+)/ ? $1 : 0 };
    my $watched = $watches->();
    my $rev = $tk->ticket_hash($n)->{rev} // 0;
    my ($action, $pairs) = $c->form_values($c->get("/t/$n"), 'form#ticket-update', state => 3);
    my $before = held_back();
    hold_next_answer(1, '+OK');    # WATCH's, at the head of the reads
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        # another writer, while nginx has WATCH's answer but not all reads
        eval {
            TK::wait_for('the held answer', 30, sub { held_back() > $before });
            Redis->new(sock => $tk->redis_sock)->hincrby(tk_key_ticket($n), 'rev', 1);
        };
        POSIX::_exit($@ ? 1 : 0);
    }
    is $c->post($action, $pairs)->{status}, 303, 'saved';
    waitpid $pid, 0;
    is $?, 0, 'the other write happened while the answer was held';
    is $watches->() - $watched, 2, 'WATCH twice: EXEC saw the change, the update ran again';
    my $t = $tk->ticket_hash($n);
    is $t->{state}, 3, 'state 3';
    is $t->{rev}, $rev + 2, 'both writes counted in rev';
};

subtest 'Redis stops in the middle of a reply: 503 at the timeout' => sub {
    my $before = held_back();
    hold_next_answer(4);
    is $c->get("/t/$n")->{status}, 503, 'status 503';
    is held_back(), $before + 1, 'the proxy split an answer';
    TK::wait_for('recovery', 30, sub { $c->get('/')->{status} == 200 });
    pass 'recovered';
};

subtest 'Redis slower than ticket_redis_timeout: 503' => sub {
    my $pid = redis_sleep(5);
    is $c->get('/')->{status}, 503, 'status 503';
    waitpid $pid, 0;
    TK::wait_for('recovery', 30, sub { $c->get('/')->{status} == 200 });
    pass 'recovered';
};

subtest 'Redis restarted: 503, then served again' => sub {
    $tk->stop_redis;
    is $c->get('/')->{status}, 503, '503 while down';
    $tk->start_redis;
    TK::wait_for('recovery', 30, sub { $c->get('/')->{status} == 200 });
    pass 'recovered';
};

subtest 'QUIT: clean exit, no memory errors, no definite leaks' => sub {
    my $st = $tk->stop_proc('valgrind', 'QUIT', 60);
    my $log = TK::read_file($vglog);
    is $st >> 8, 0, 'valgrind exit 0 (9 would mean errors or definite leaks)'
        or diag TK::tail($vglog, 60);
    like $log, qr/ERROR SUMMARY: 0 errors/, 'ERROR SUMMARY: 0 errors';
    unlike $log, qr/Invalid (read|write|free)/, 'no invalid reads/writes/frees';
    unlike $log, qr/uninitialised/, 'no use of uninitialised values';
    unlike $log, qr/definitely lost: [1-9]/, 'no definite leaks';
};

done_testing;
