package TK;

# TK.pm -- the end-to-end test harness: starts Redis (with RediSearch) and
# nginx with the built module on free loopback ports in a temp dir under
# /tmp, and gives tests a ticketctl wrapper, HTTP clients with a cookie
# jar, a small HTML DOM, a Redis client and the mail servers (Dovecot,
# smtp-sink) the mailbridge tests use.
#
#   use FindBin; use lib "$FindBin::Bin/lib"; use TK;
#   my $tk = TK->new(redis_timeout => '1s');
#   my $pw = $tk->add_user('anna', rights => 'ALSO:full');
#   my $c  = $tk->client;
#   is $c->login('anna', $pw)->{status}, 303;
#   my $dom = $c->get('/')->dom;
#
# Everything started is stopped by pid when the test ends (END block);
# with TK_KEEP=1 the temp dir of a failed test is kept and its path shown.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp ();
use HTTP::Tiny;
use JSON::PP ();
use Net::EmptyPort qw(empty_port wait_port);
use POSIX ();
use Redis;
use Test::More ();
use Time::HiRes qw(sleep time);

# The schema's names (TK_KEY_*, TK_F_*, tk_key_ticket($n), ...), generated
# from redis-schema/tk_schema.h into build/TKSchema.pm by make; "use TK"
# exports them to the test too.
BEGIN { unshift @INC, abs_path(dirname(abs_path(__FILE__)) . '/../../build') }
use TKSchema;

sub import { TKSchema->export_to_level(1, @_) }

our $ROOT  = abs_path(dirname(abs_path(__FILE__)) . '/../..');
# TK_BUILD: binaries of another build dir (make asan: build-asan)
our $BUILD = $ENV{TK_BUILD} ? abs_path($ENV{TK_BUILD}) : "$ROOT/build";
our $REDISEARCH = '/usr/lib/redis/modules/redisearch.so';

our @INSTANCES;

# make asan (TK_NGINX_PRELOAD set): nginx runs an ASan module with libasan
# preloaded, mailbridge and ticketctl are ASan builds; they start, stop
# and answer several times slower.  Every limit of this file and every
# TK::wait_for of the tests is SLOW times longer then (they wait on
# conditions: a passing test is no slower).  TK::limit(S) for others.
our $SLOW = $ENV{TK_NGINX_PRELOAD} ? 4 : 1;
sub limit { $_[0] * $SLOW }

# ---- servers -------------------------------------------------------------

# Options: redis_timeout ('1s'), workers (2), nginx => 0 (do not start),
# redis_extra => "redis.conf lines" (appended: they override ours),
# init => 0 (no "ticketctl init"), location/http/server/main => extra
# directives for scripts/nginx-conf.sh.
sub new {
    my ($class, %opt) = @_;

    my @need = ("$BUILD/ngx_http_ticket_module.so");
    push @need, "$BUILD/ticketctl" if $opt{init} // 1;
    for my $f (@need) {
        die "$f is missing: build first (make all, or make test)\n" unless -e $f;
    }

    my $self = bless {
        opt   => \%opt,
        procs => {},
        json  => JSON::PP->new->utf8->canonical,
    }, $class;

    $self->{dir} = File::Temp::tempdir('tk-test-XXXXXX', DIR => '/tmp');
    # nginx workers run as nobody when we are root: they must traverse it
    chmod 0755, $self->{dir};
    push @INSTANCES, $self;

    $self->start_redis;
    $self->ctl('init') if $opt{init} // 1;
    $self->start_nginx if $opt{nginx} // 1;
    return $self;
}

sub dir        { $_[0]{dir} }
sub port       { $_[0]{port} }
sub base       { "http://127.0.0.1:$_[0]{port}" }
sub url        { $_[0]->base . $_[1] }
sub redis_sock { "$_[0]{dir}/redis/redis.sock" }
sub redis_url  { 'unix:' . $_[0]->redis_sock }
sub json       { $_[0]{json} }

# Start a program in the background, its output in $self->dir/NAME.log.
# Returns the pid; stop_proc(NAME) ends it.  For mailbridge and friends.
sub spawn {
    my ($self, $name, @cmd) = @_;
    my $env = ref $cmd[0] eq 'HASH' ? shift @cmd : {};
    my $log = "$self->{dir}/$name.log";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        $ENV{$_} = $env->{$_} for keys %$env;
        exec @cmd or POSIX::_exit(127);
    }
    $self->{procs}{$name} = { pid => $pid, log => $log };
    return $pid;
}

sub pid { my ($self, $name) = @_; $self->{procs}{$name} ? $self->{procs}{$name}{pid} : undef }
sub log_file { my ($self, $name) = @_; "$self->{dir}/$name.log" }

# Is the process still there (and not a zombie)?
sub alive {
    my ($self, $name) = @_;
    my $p = $self->{procs}{$name} or return 0;
    return waitpid($p->{pid}, POSIX::WNOHANG()) == 0;
}

# Signal, wait up to $wait seconds, then KILL.  Returns the wait status.
sub stop_proc {
    my ($self, $name, $sig, $wait) = @_;
    my $p = delete $self->{procs}{$name} or return;
    $sig  //= 'TERM';
    $wait //= 10;
    kill $sig, $p->{pid};
    my $deadline = time + limit($wait);
    while (time < $deadline) {
        my $r = waitpid($p->{pid}, POSIX::WNOHANG());
        return $? if $r == $p->{pid} || $r == -1;
        sleep 0.05;
    }
    kill 'KILL', $p->{pid};
    waitpid($p->{pid}, 0);
    return $?;
}

sub wait_for {
    my ($what, $timeout, $cond) = @_;
    $timeout = limit($timeout);
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.05;
    }
    die "timed out after ${timeout}s waiting for $what\n";
}

# Redis with RediSearch, AOF on, only a unix socket.  Data stays in
# dir/redis, so stop_redis + start_redis keeps everything.
sub start_redis {
    my ($self) = @_;
    my $d = "$self->{dir}/redis";
    make_path($d);
    chmod 0755, $d;
    unlink $self->redis_sock;
    # redis_extra: lines after ours (later directives win), e.g. stress/:
    # "appendfsync always", "dir /mnt/small-tmpfs"
    my $extra = $self->{opt}{redis_extra} // '';
    write_file("$d/redis.conf", <<"EOF") unless -e "$d/redis.conf";
port 0
unixsocket $d/redis.sock
unixsocketperm 777
dir $d
appendonly yes
appendfsync everysec
save ""
daemonize no
loglevel notice
enable-debug-command local
include "$ROOT/redis-schema/redis.conf"
$extra
EOF
    $self->spawn('redis', 'redis-server', "$d/redis.conf");
    wait_for('redis to answer PING', 10, sub {
        return 0 unless -S $self->redis_sock;
        my $r = eval { Redis->new(sock => $self->redis_sock) } or return 0;
        my $ok = eval { $r->ping } ? 1 : 0;
        $r->quit;
        return $ok;
    });
    delete $self->{redis};
}

sub stop_redis {
    my ($self) = @_;
    delete $self->{redis};
    my $st = $self->stop_proc('redis', 'TERM', 10);
    unlink $self->redis_sock;
    return $st;
}

# A connected Redis.pm client (reconnects after a restart).  FT.* and
# other commands with odd names: $tk->redis->__std_cmd('FT.SEARCH', ...).
sub redis {
    my ($self) = @_;
    $self->{redis} //= Redis->new(sock => $self->redis_sock,
        reconnect => 5, every => 100_000);
    return $self->{redis};
}

# nginx.conf text from scripts/nginx-conf.sh for this instance; %o as
# new()'s options plus port, prefix.
sub nginx_conf {
    my ($self, %o) = @_;
    my @args = (
        '--prefix', $o{prefix} // "$self->{dir}/nginx",
        '--port', $o{port} // $self->{port},
        '--static', $self->static_dir,
        '--workers', $o{workers} // $self->{opt}{workers} // 2,
        '--redis-timeout', $o{redis_timeout} // $self->{opt}{redis_timeout} // '1s',
    );
    push @args, '--redis', $o{redis} // $self->redis_url unless $o{no_redis};
    push @args, '--no-redis' if $o{no_redis};
    push @args, '--module', $o{module} if $o{module};
    push @args, '--module', "$BUILD/ngx_http_ticket_module.so"
        if !$o{module} && $ENV{TK_BUILD};
    push @args, '--user', 'nobody nogroup' if $> == 0;
    for my $level (qw(main http server location)) {
        my $v = $o{$level} // $self->{opt}{$level};
        next unless defined $v;
        push @args, "--$level", $_ for ref $v ? @$v : ($v);
    }
    my ($rc, $out, $err) = run_cmd("$ROOT/scripts/nginx-conf.sh", @args);
    die "nginx-conf.sh failed: $err" if $rc;
    return $out;
}

# static/ copied into the temp dir: nobody-owned workers must read it.
sub static_dir {
    my ($self) = @_;
    my $s = "$self->{dir}/static";
    unless (-d $s) {
        make_path($s);
        system('cp', '-r', "$ROOT/static/.", $s) if -d "$ROOT/static";
        system('chmod', '-R', 'a+rX', $s);
    }
    return $s;
}

sub start_nginx {
    my ($self, %o) = @_;
    my $n = "$self->{dir}/nginx";
    make_path("$n/conf", "$n/logs", "$n/tmp");
    $self->{port} //= empty_port();
    write_file("$n/conf/nginx.conf", $self->nginx_conf(%o));
    $self->run_nginx;
}

# nginx on the config in dir/nginx/conf/nginx.conf as it is (a test may
# have rewritten it after stop_nginx), up when it listens.
sub run_nginx {
    my ($self) = @_;
    my $n = "$self->{dir}/nginx";
    # TK_NGINX_PRELOAD: libasan for an ASan-built module (make asan)
    my @env = $ENV{TK_NGINX_PRELOAD} ? ({ LD_PRELOAD => $ENV{TK_NGINX_PRELOAD} }) : ();
    $self->spawn('nginx', @env, 'nginx', '-p', $n, '-c', "$n/conf/nginx.conf",
        '-g', 'daemon off;');
    unless (wait_port({ port => $self->{port}, max_wait => limit(10) })) {
        die "nginx did not start:\n" . tail("$self->{dir}/nginx.log", 20)
            . tail("$n/logs/error.log", 20);
    }
    wait_for('nginx.pid', 5, sub { -s "$n/logs/nginx.pid" });
}

sub stop_nginx {
    my ($self) = @_;
    $self->stop_proc('nginx', 'QUIT', 10);
}

# nginx -t on a config text; returns (exit code, output).
sub nginx_test {
    my ($self, $conf) = @_;
    my $n = "$self->{dir}/nginx-t";
    make_path("$n/conf", "$n/logs", "$n/tmp");
    write_file("$n/conf/nginx.conf", $conf);
    local $ENV{LD_PRELOAD} = $ENV{TK_NGINX_PRELOAD} if $ENV{TK_NGINX_PRELOAD};
    my ($rc, $out, $err) = run_cmd('nginx', '-p', $n, '-c', "$n/conf/nginx.conf", '-t');
    return ($rc, $out . $err);
}

sub error_log { tail("$_[0]{dir}/nginx/logs/error.log", $_[1] // 30) }

# ---- ticketctl -----------------------------------------------------------

# Run build/ticketctl against this instance's Redis; dies unless it exits
# 0 and returns stdout.  ctl_run returns (exit code, stdout, stderr).
sub ctl {
    my ($self, @args) = @_;
    my ($rc, $out, $err) = $self->ctl_run(@args);
    die "ticketctl @args: exit $rc\n$err$out" if $rc;
    return $out;
}

sub ctl_run {
    my ($self, @args) = @_;
    local $ENV{TICKET_REDIS} = $self->redis_url;
    return run_cmd("$BUILD/ticketctl", '--redis', $self->redis_url, @args);
}

sub random_password { join '', map { ('a'..'z', 'A'..'Z', 2..9)[rand 58] } 1 .. 16 }

# Creates a user; returns the password.  %o: password, name, email,
# rights ("ALSO:full,legal:read", ticketctl's --groups), admin (1), lang.
sub add_user {
    my ($self, $login, %o) = @_;
    my $pw = $o{password} // random_password();
    my @a = ('user', 'add', $login, '--password-stdin');
    push @a, '--name', $o{name} // ucfirst($login) . ' Test';
    push @a, '--email', $o{email} // "$login\@example.org";
    push @a, '--groups', $o{rights} if defined $o{rights};
    push @a, '--admin' if $o{admin};
    push @a, '--lang', $o{lang} if $o{lang};
    $self->ctl_stdin("$pw\n", @a);
    return $pw;
}

sub disable_user { $_[0]->ctl('user', 'disable', $_[1]) }

# The groups most tests use: ALSO and Zivilrecht (per-user rights) and
# legal, which every agent may read and change (all-agents).
sub standard_groups {
    my ($self) = @_;
    $self->add_group('ALSO');
    $self->add_group('legal', all_agents => 1);
    $self->add_group('Zivilrecht');
}

# %o: all_agents (1), email
sub add_group {
    my ($self, $name, %o) = @_;
    my @a = ('group', 'add', $name);
    push @a, '--email', $o{email} if $o{email};
    push @a, '--all-agents' if $o{all_agents};
    $self->ctl(@a);
}

# A ticket through ticketctl; returns its number.  %o: title, group,
# owner, state (name or 1..6), priority (name or 1..4), customer
# ("Name <mail>" or "mail"), body.
sub add_ticket {
    my ($self, %o) = @_;
    my @a = ('ticket', 'create', '--title', $o{title} // 'Test ticket',
        '--group', $o{group} // die 'add_ticket: group');
    my $cust = $o{customer} // 'Kundin Test <kundin@example.org>';
    if ($cust =~ /^\s*(.*?)\s*<([^>]+)>\s*$/) {
        push @a, '--customer', $2;
        push @a, '--name', $1 if length $1;
    } else {
        push @a, '--customer', $cust;
    }
    for my $k (qw(owner state priority body)) {
        push @a, "--$k", $o{$k} if defined $o{$k} && length $o{$k};
    }
    my $out = $self->ctl(@a);
    $out =~ /(\d+)/ or die "ticketctl ticket create printed no number: $out";
    return $1;
}

# A new API token for login; returns the token.
sub add_token {
    my ($self, $login) = @_;
    my $out = $self->ctl('token', 'add', $login);
    $out =~ /([A-Za-z0-9_-]{20,})/ or die "ticketctl token add printed no token: $out";
    return $1;
}

sub ctl_stdin {
    my ($self, $in, @args) = @_;
    local $ENV{TICKET_REDIS} = $self->redis_url;
    my ($rc, $out, $err) = run_cmd({ stdin => $in }, "$BUILD/ticketctl",
        '--redis', $self->redis_url, @args);
    die "ticketctl @args: exit $rc\n$err$out" if $rc;
    return $out;
}

# ---- data from Redis -----------------------------------------------------

sub ticket_hash {
    my ($self, $n) = @_;
    my %h = $self->redis->hgetall(tk_key_ticket($n));
    $h{owner} //= '' if %h;
    return \%h;
}

# The index counts recomputed from the tickets themselves, in the form
# of tk:{ix}:counts ("GROUP:STATE:OWNER" and "GROUP:STATE:*"; "-" for no
# owner, "!" for no owner and the flag auto); zero entries left out.
sub expected_counts {
    my ($self) = @_;
    my %c;
    for my $t (values %{ $self->all_tickets }) {
        my $o = length $t->{owner} ? $t->{owner}
              : ($t->{flags} // '') =~ /(?:^|,)auto(?:,|$)/ ? '!' : '-';
        $c{"$t->{group}:$t->{state}:$o"}++;
        $c{"$t->{group}:$t->{state}:*"}++;
    }
    return \%c;
}

# tk:{ix}:counts without its zeros.  The packed vectors (tk:{ix}:cv:*)
# must say the same: a field where they differ comes back as
# "vector FIELD" => what the vector holds, so is_deeply against the
# expected counts shows it.
sub index_counts {
    my ($self) = @_;
    my %h = $self->redis->hgetall(TK_KEY_INDEX_COUNTS);
    delete $h{$_} for grep { !$h{$_} } keys %h;
    my $v = $self->index_countv;
    for my $f (keys %h, keys %$v) {
        my ($a, $b) = ($h{$f} // 0, $v->{$f} // 0);
        $h{"vector $f"} = $b if $a != $b;
    }
    return \%h;
}

# The counts vectors as "GROUP:STATE:OWNER" => count (no zeros).
sub index_countv {
    my ($self) = @_;
    my $r = $self->redis;
    my %c;
    my @kind = ('*', '-', '!');
    for my $key ($r->keys(TK_PFX_INDEX_COUNTV . '*')) {
        my $rest = substr $key, length TK_PFX_INDEX_COUNTV;
        my ($g, $login) = split /:/, $rest, 2;
        my @n = unpack 'l>*', $r->get($key) // '';
        for my $slot (0 .. $#n) {
            next unless $n[$slot];
            my ($o, $s) = defined $login ? ($login, $slot)
                : ($kind[int($slot / TK_COUNTV_SLOTS)] // "?$slot",
                   $slot % TK_COUNTV_SLOTS);
            $c{"$g:$s:$o"} = $n[$slot];
        }
    }
    return \%c;
}

# The ticket's history stream as hashes (time by field from to; from/to
# undef where the entry has none), oldest first.
sub history {
    my ($self, $n) = @_;
    return [ map { +{ from => undef, to => undef, @{ $_->[1] } } }
        $self->redis->xrange(tk_key_history($n), '-', '+') ];
}

# Every ticket as a hash (number => {field => value}).
sub all_tickets {
    my ($self) = @_;
    my $r = $self->redis;
    my $max = $r->get(TK_KEY_SEQ_TICKET) // 0;
    my %t;
    for my $n (1 .. $max) {
        my %h = $r->hgetall(tk_key_ticket($n));
        next unless %h;
        $h{$_} //= '' for qw(owner customer_name customer_email title group);
        $t{$n} = \%h;
    }
    return \%t;
}

# ---- HTTP ----------------------------------------------------------------

# multipart/form-data as a browser sends a form with files: field =>
# value, or field => { filename, type, data } for a file.
sub multipart {
    my ($boundary, @fields) = @_;
    my $body = '';
    while (my ($name, $v) = splice @fields, 0, 2) {
        $body .= "--$boundary\r\n";
        if (ref $v) {
            $body .= qq{Content-Disposition: form-data; name="$name"; filename="$v->{filename}"\r\n}
                . "Content-Type: $v->{type}\r\n\r\n$v->{data}\r\n";
        } else {
            $body .= qq{Content-Disposition: form-data; name="$name"\r\n\r\n$v\r\n};
        }
    }
    return $body . "--$boundary--\r\n";
}

sub client { TK::Client->new($_[0]) }

# A logged-in client (dies if login does not give 303).
sub login_client {
    my ($self, $login, $pw) = @_;
    my $c = $self->client;
    my $res = $c->login($login, $pw);
    die "login $login: status $res->{status}\n" unless $res->{status} == 303;
    return $c;
}

# ---- mail servers (for t/mail*.t) ---------------------------------------

# Dovecot IMAP on a free port.  %o: users => {login => password}.
# Returns {port, dir, maildir => sub(login)}; mail uid is nobody.
sub start_dovecot {
    my ($self, %o) = @_;
    my $users = $o{users} // { agent => 'secret' };
    my $d = "$self->{dir}/dovecot";
    make_path("$d/run", "$d/mail", "$d/state");
    system('chown', 'nobody:nogroup', "$d/mail") if $> == 0;
    my $port = empty_port();
    write_file("$d/users", join '', map { "$_:{PLAIN}$users->{$_}\n" } sort keys %$users);
    my ($uid, $gid) = $> == 0 ? ('nobody', 'nogroup') : (scalar getpwuid($>), scalar getgrgid($)));
    write_file("$d/dovecot.conf", <<"EOF");
protocols = imap
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot-internal.log
ssl = no
disable_plaintext_auth = no
mail_location = maildir:$d/mail/%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$d/mail/%u
}
service imap-login {
  inet_listener imap {
    port = $port
  }
}
EOF
    $self->spawn('dovecot', 'dovecot', '-F', '-c', "$d/dovecot.conf");
    wait_port({ port => $port, max_wait => 10 })
        or die "dovecot did not start:\n" . tail("$self->{dir}/dovecot.log", 20)
            . tail("$d/dovecot-internal.log", 20);
    $self->{dovecot} = {
        port    => $port,
        dir     => $d,
        maildir => sub { "$d/mail/$_[0]/Maildir" },
    };
    return $self->{dovecot};
}

# smtp-sink on a free port, one file per message in {out}.
# Returns {port, out, messages => sub { list of file contents }}.
sub start_smtp_sink {
    my ($self) = @_;
    my $d = "$self->{dir}/smtp";
    make_path("$d/out");
    my $user = $> == 0 ? 'nobody' : scalar getpwuid($>);
    system('chown', $user, "$d/out") if $> == 0;
    my $port = empty_port();
    $self->spawn('smtp-sink', '/usr/sbin/smtp-sink', '-u', $user,
        '-d', "$d/out/%Y%m%d%H%M%S.", "127.0.0.1:$port", '100');
    wait_port({ port => $port, max_wait => 10 })
        or die "smtp-sink did not start:\n" . tail("$self->{dir}/smtp-sink.log", 20);
    $self->{smtp} = {
        port     => $port,
        out      => "$d/out",
        messages => sub {
            map { read_file($_) } sort glob("$d/out/*");
        },
    };
    return $self->{smtp};
}

# Path of build/mailbridge, or undef when it is not built.
sub mailbridge_bin { -x "$BUILD/mailbridge" ? "$BUILD/mailbridge" : undef }

# ---- teardown ------------------------------------------------------------

sub stop_all {
    my ($self) = @_;
    return if $self->{stopped}++;
    delete $self->{redis};
    # nginx first (it talks to Redis), Redis last
    my @names = sort { ($a eq 'redis') <=> ($b eq 'redis') } keys %{ $self->{procs} };
    for my $name (@names) {
        $self->stop_proc($name, $name eq 'nginx' ? 'QUIT' : 'TERM', 10);
    }
}

sub DESTROY { }

END {
    my $exit = $?;
    my $passing = Test::More->builder->is_passing;
    for my $self (@INSTANCES) {
        if (!$passing) {
            Test::More::diag("nginx error.log (tail):\n" . $self->error_log(40))
                if -e "$self->{dir}/nginx/logs/error.log";
        }
        $self->stop_all;
        if (!$passing && $ENV{TK_KEEP}) {
            Test::More::diag("TK_KEEP=1: kept $self->{dir}");
        } else {
            remove_tree($self->{dir});
        }
    }
    $? = $exit;
}

# ---- small helpers -------------------------------------------------------

sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh or die "$path: $!";
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh>;
}

sub tail {
    my ($path, $n) = @_;
    my @l = split /\n/, read_file($path);
    @l = @l[-$n .. -1] if @l > $n;
    return join '', map { "  $_\n" } @l;
}

# Run a command, optionally with {stdin => TEXT}; returns (exit code,
# stdout, stderr) without a shell.
sub run_cmd {
    my $o = ref $_[0] eq 'HASH' ? shift : {};
    my @cmd = @_;
    my $tmp = File::Temp->newdir('tk-cmd-XXXXXX', TMPDIR => 1);
    my ($in, $out, $err) = map { "$tmp/$_" } qw(in out err);
    write_file($in, $o->{stdin} // '');
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', $in;
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        exec @cmd or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $rc = $? == -1 ? 127 : ($? & 127 ? 128 + ($? & 127) : $? >> 8);
    return ($rc, read_file($out), read_file($err));
}

# ===========================================================================
package TK::Client;

# An HTTP client with a cookie jar.  Never follows redirects: tests assert
# on them.  Every response is HTTP::Tiny's hash blessed into TK::Response
# (->dom, ->json, ->cookie(NAME) for Set-Cookie attributes).

use strict;
use warnings;

sub new {
    my ($class, $tk) = @_;
    return bless {
        tk   => $tk,
        jar  => {},
        http => HTTP::Tiny->new(max_redirect => 0, timeout => TK::limit(30),
            agent => 'tk-e2e/1'),
    }, $class;
}

sub jar    { $_[0]{jar} }
sub cookie { $_[0]{jar}{ $_[1] } }
sub csrf   { $_[0]{csrf} }

# request(METHOD, PATH, form => [k, v, ...] | {..}, headers => {..},
# content => '...', no_cookies => 1)
sub request {
    my ($self, $method, $path, %o) = @_;
    my %h = %{ $o{headers} // {} };
    if (%{ $self->{jar} } && !$o{no_cookies}) {
        $h{cookie} = join '; ', map { "$_=$self->{jar}{$_}" } sort keys %{ $self->{jar} };
    }
    my $content = $o{content};
    if ($o{form}) {
        my @pairs = ref $o{form} eq 'HASH' ? %{ $o{form} } : @{ $o{form} };
        $content = $self->{http}->www_form_urlencode(\@pairs);
        $h{'content-type'} = 'application/x-www-form-urlencoded';
    }
    my $url = $path =~ m{^https?://} ? $path : $self->{tk}->url($path);
    my $res = $self->{http}->request($method, $url,
        { headers => \%h, defined $content ? (content => $content) : () });
    bless $res, 'TK::Response';
    $res->{path} = $path;
    $self->absorb_cookies($res);
    if (($res->{headers}{'content-type'} // '') =~ m{text/html}) {
        my $meta = $res->dom->at('meta[name=csrf]');
        $self->{csrf} = $meta ? $meta->attr('content') : undef;
    }
    return $res;
}

sub get  { my ($self, $path, %o) = @_; $self->request('GET', $path, %o) }
sub post { my ($self, $path, $form, %o) = @_; $self->request('POST', $path, form => $form, %o) }

# POST with the csrf token of the last page seen.
sub post_csrf {
    my ($self, $path, $form, %o) = @_;
    my @pairs = ref $form eq 'HASH' ? %$form : @{ $form // [] };
    return $self->post($path, [ csrf => $self->{csrf} // '', @pairs ], %o);
}

sub absorb_cookies {
    my ($self, $res) = @_;
    my $sc = $res->{headers}{'set-cookie'} // [];
    my @sc = ref $sc ? @$sc : ($sc);
    $res->{set_cookies} = {};
    for my $line (@sc) {
        my ($nv, @attrs) = split /;\s*/, $line;
        my ($name, $value) = split /=/, $nv, 2;
        my %a;
        for (@attrs) {
            my ($k, $v) = split /=/, $_, 2;
            $a{ lc $k } = $v // 1;
        }
        $res->{set_cookies}{$name} = { value => $value, attrs => \%a, line => $line };
        my $expired = (defined $a{'max-age'} && $a{'max-age'} <= 0)
            || (defined $a{expires} && $a{expires} =~ /1970/)
            || !length($value // '');
        if ($expired) { delete $self->{jar}{$name} }
        else          { $self->{jar}{$name} = $value }
    }
}

# GET /login, take the csrf field of form#login, POST it back.
sub login {
    my ($self, $login, $password, %o) = @_;
    my $page = $self->get('/login');
    my $field = $page->dom->at('form#login input[name=csrf]');
    my $csrf = $field ? $field->attr('value') : '';
    return $self->post('/login',
        [ login => $login, password => $password, csrf => $o{csrf} // $csrf ]);
}

sub logout {
    my ($self) = @_;
    $self->get('/') unless defined $self->{csrf};
    return $self->post('/logout', [ csrf => $self->{csrf} // '' ]);
}

# The fields a browser would submit for a form of a page: inputs with
# their value, selects with their selected option (or the first),
# textareas; then %set overrides.  Returns (action path, [pairs]).
sub form_values {
    my ($self, $res, $sel, %set) = @_;
    my $form = $res->dom->at($sel) or die "no form '$sel' on $res->{path}\n";
    my (@pairs, %seen);
    for my $el ($form->find('input, select, textarea')) {
        my $name = $el->attr('name') // next;
        my $type = lc($el->attr('type') // '');
        next if $type eq 'submit' || $type eq 'button';
        next if ($type eq 'checkbox' || $type eq 'radio') && !defined $el->attr('checked');
        my $v;
        if ($el->tag eq 'select') {
            my @opt = $el->find('option');
            my ($o) = grep { defined $_->attr('selected') } @opt;
            $o //= $opt[0];
            $v = $o ? $o->attr('value') // $o->text : '';
        } elsif ($el->tag eq 'textarea') {
            $v = $el->raw_text;
        } else {
            $v = $el->attr('value') // '';
        }
        push @pairs, [ $name, $v ];
    }
    for my $p (@pairs) {
        $p->[1] = $set{ $p->[0] } if exists $set{ $p->[0] };
        $seen{ $p->[0] } = 1;
    }
    push @pairs, map { [ $_, $set{$_} ] } grep { !$seen{$_} } sort keys %set;
    my $action = $form->attr('action') // '';
    $action = $res->{path} if $action eq '';
    $action =~ s{^https?://[^/]+}{};
    return ($action, [ map { @$_ } @pairs ]);
}

# GET path, fill in form sel with %set, POST it.
sub submit {
    my ($self, $path, $sel, %set) = @_;
    my $page = $self->get($path);
    die "GET $path: $page->{status}\n" unless $page->{status} == 200;
    my ($action, $pairs) = $self->form_values($page, $sel, %set);
    return $self->post($action, $pairs);
}

# API requests with a bearer token; JSON bodies.
sub api {
    my ($self, $method, $path, $token, %o) = @_;
    my %h = %{ $o{headers} // {} };
    $h{authorization} = "Bearer $token" if defined $token;
    $h{accept} //= 'application/json';
    # headers given are merged above, not put in place of these
    my %rest = %o;
    delete $rest{headers};
    return $self->request($method, $path, headers => \%h, no_cookies => 1, %rest);
}

# ===========================================================================
package TK::Response;

use strict;
use warnings;

sub dom { $_[0]{_dom} //= TK::DOM->parse($_[0]{content} // '') }

sub json {
    my ($self) = @_;
    return $self->{_json} //= eval { JSON::PP->new->utf8->decode($self->{content}) };
}

sub header { $_[0]{headers}{ lc $_[1] } }

# Set-Cookie of this response: {value, attrs => {httponly, samesite, ...}}
sub cookie { $_[0]{set_cookies}{ $_[1] } }

# The session cookie this response set: [name, {value, attrs}] of the
# first cookie that is not the CSRF cookie, or ().
sub session_cookie {
    my ($self) = @_;
    for my $name (sort keys %{ $self->{set_cookies} // {} }) {
        next if $name =~ /csrf/i;
        my $c = $self->{set_cookies}{$name};
        return ($name, $c) if length($c->{value} // '');
    }
    return;
}

sub page { my $b = $_[0]->dom->at('body'); $b ? $b->attr('data-page') // '' : '' }

# path of the Location header ("/t/5"), without scheme/host
sub location {
    my $l = $_[0]{headers}{location} // return undef;
    $l =~ s{^https?://[^/]+}{};
    return $l;
}

# ===========================================================================
package TK::DOM;

# Just enough HTML parsing for the page contracts in t/README.md: a tree
# of elements, CSS selectors made of tag#id.class[attr][attr=value]
# compounds joined by descendant (space) or child (>) combinators.

use strict;
use warnings;

my %VOID = map { $_ => 1 } qw(area base br col embed hr img input link meta
    param source track wbr);
# an open element of these kinds ends when a sibling of the same kind opens
my %AUTOCLOSE = (li => ['li'], tr => ['tr', 'td', 'th'], td => ['td', 'th'],
    th => ['td', 'th'], option => ['option'], p => ['p']);

sub new_node {
    my ($tag, $attrs, $parent) = @_;
    return bless { tag => $tag, attrs => $attrs, children => [],
        parent => $parent }, 'TK::DOM';
}

sub parse {
    my ($class, $html) = @_;
    my $root = new_node('#root', {}, undef);
    my $cur = $root;
    pos($html) = 0;
    while (pos($html) < length $html) {
        if ($html =~ /\G<!--.*?-->/gcs or $html =~ /\G<![^>]*>/gc) {
            next;
        }
        if ($html =~ m{\G</\s*([a-zA-Z][a-zA-Z0-9-]*)\s*>}gc) {
            my $tag = lc $1;
            my $n = $cur;
            $n = $n->{parent} while $n && $n->{tag} ne $tag && $n->{tag} ne '#root';
            $cur = $n->{parent} if $n && $n->{tag} eq $tag;
            next;
        }
        if ($html =~ m{\G<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s/>"'=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*(/?)>}gc) {
            my ($tag, $attr_text, $self_close) = (lc $1, $2, $3);
            my %attrs;
            while ($attr_text =~ m{([^\s/>"'=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?}g) {
                my $v = $2 // $3 // $4 // '';
                $attrs{ lc $1 } = decode_entities($v);
            }
            if (my $closes = $AUTOCLOSE{$tag}) {
                my %c = map { $_ => 1 } @$closes;
                $cur = $cur->{parent} while $c{ $cur->{tag} } && $cur->{parent};
            }
            my $node = new_node($tag, \%attrs, $cur);
            push @{ $cur->{children} }, $node;
            if ($tag eq 'script' || $tag eq 'style' || $tag eq 'textarea' || $tag eq 'title') {
                if ($html =~ m{\G(.*?)</$tag\s*>}gcis) {
                    my $text = $1;
                    # HTML drops a newline right after <textarea>
                    $text =~ s/^\r?\n// if $tag eq 'textarea';
                    push @{ $node->{children} },
                        $tag eq 'script' || $tag eq 'style' ? $text : decode_entities($text);
                }
                next;
            }
            $cur = $node unless $VOID{$tag} || $self_close;
            next;
        }
        if ($html =~ /\G([^<]+)/gc or $html =~ /\G(<)/gc) {
            push @{ $cur->{children} }, decode_entities($1);
        }
    }
    return $root;
}

sub decode_entities {
    my ($s) = @_;
    my %e = (amp => '&', lt => '<', gt => '>', quot => '"', apos => "'", nbsp => "\x{a0}");
    $s =~ s/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/
        substr($1, 0, 2) eq '#x' ? chr(hex substr($1, 2))
        : substr($1, 0, 1) eq '#' ? chr(substr($1, 1))
        : exists $e{$1} ? $e{$1} : "&$1;"/ge;
    return $s;
}

sub tag      { $_[0]{tag} }
sub attr     { $_[0]{attrs}{ $_[1] } }
sub attrs    { $_[0]{attrs} }
sub parent   { $_[0]{parent} }
sub elements { grep { ref } @{ $_[0]{children} } }

sub has_class {
    my ($self, $c) = @_;
    return scalar grep { $_ eq $c } split ' ', $self->{attrs}{class} // '';
}

# All text below this node, whitespace collapsed and trimmed.
sub text {
    my ($self) = @_;
    my $t = join '', map { ref $_ ? $_->raw_text : $_ } @{ $self->{children} };
    $t =~ s/\s+/ /g;
    $t =~ s/^ | $//g;
    return $t;
}

sub raw_text {
    my ($self) = @_;
    return join '', map { ref $_ ? $_->raw_text : $_ } @{ $self->{children} };
}

sub descendants {
    my ($self) = @_;
    my @out;
    for my $c ($self->elements) {
        push @out, $c, $c->descendants;
    }
    return @out;
}

sub parse_compound {
    my ($s) = @_;
    my %c = (classes => [], attrs => []);
    $c{tag} = lc $1 if $s =~ s/^([a-zA-Z][a-zA-Z0-9-]*|\*)//;
    delete $c{tag} if ($c{tag} // '') eq '*';
    while (length $s) {
        if ($s =~ s/^#([\w-]+)//) { $c{id} = $1 }
        elsif ($s =~ s/^\.([\w-]+)//) { push @{ $c{classes} }, $1 }
        elsif ($s =~ s/^\[\s*([\w-]+)\s*(?:([~^\$*]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\]]*?)))?\s*\]//) {
            push @{ $c{attrs} }, [ lc $1, $2, $3 // $4 // $5 ];
        }
        else { die "TK::DOM: cannot parse selector part '$s'" }
    }
    return \%c;
}

sub matches {
    my ($node, $c) = @_;
    return 0 if $c->{tag} && $node->{tag} ne $c->{tag};
    return 0 if defined $c->{id} && ($node->{attrs}{id} // '') ne $c->{id};
    for my $cl (@{ $c->{classes} }) { return 0 unless $node->has_class($cl) }
    for my $a (@{ $c->{attrs} }) {
        my ($name, $op, $want) = @$a;
        my $v = $node->{attrs}{$name};
        return 0 unless defined $v;
        next unless $op;
        return 0 if $op eq '=' && $v ne $want;
        return 0 if $op eq '~=' && !grep { $_ eq $want } split ' ', $v;
        return 0 if $op eq '^=' && index($v, $want) != 0;
        return 0 if $op eq '*=' && index($v, $want) < 0;
        return 0 if $op eq '$=' && substr($v, -length $want) ne $want;
    }
    return 1;
}

# find('table#tickets tr[data-number]') -> list of nodes, document order.
# A selector list "a, b" returns the union in document order.
sub find {
    my ($self, $sel) = @_;
    if ($sel =~ /,/) {
        my %want = map { $_ => 1 } map { $self->find($_) } split /\s*,\s*/, $sel;
        return grep { $want{$_} } $self->descendants;
    }
    $sel =~ s/^\s+|\s+$//g;
    $sel =~ s/\s*>\s*/ > /g;
    my @parts = split /\s+/, $sel;
    my @set = ($self);
    my $child = 0;
    for my $p (@parts) {
        if ($p eq '>') { $child = 1; next }
        my $c = parse_compound($p);
        my (%seen, @next);
        for my $n (@set) {
            for my $d ($child ? $n->elements : $n->descendants) {
                push @next, $d if !$seen{$d}++ && matches($d, $c);
            }
        }
        @set = @next;
        $child = 0;
    }
    return @set;
}

sub at { my @n = $_[0]->find($_[1]); return $n[0] }

1;
