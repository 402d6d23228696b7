# ticketctl end to end: a throwaway Redis with RediSearch, every
# subcommand, its exit codes (sysexits) and what it leaves in Redis.
# Self-contained (own Redis start/stop); needs build/ticketctl.
use strict;
use warnings;
use Test::More;
use Encode ();
use File::Temp qw(tempdir);
use File::Spec;
use FindBin;
use POSIX qw(WNOHANG);
use Net::EmptyPort qw(empty_port);
use Redis;
use lib "$FindBin::Bin/../build";
use TKSchema;    # the schema's names: build/TKSchema.pm from tk_schema.h

my $ROOT = File::Spec->rel2abs("$FindBin::Bin/..");
my $CTL = ($ENV{TK_BUILD} // "$ROOT/build") . "/ticketctl";
my $REDISEARCH = '/usr/lib/redis/modules/redisearch.so';

plan skip_all => "$CTL not built (make all)" unless -x $CTL;
plan skip_all => 'redis-server or RediSearch missing'
    unless -f $REDISEARCH && grep { -x "$_/redis-server" } split /:/, $ENV{PATH};

# ---- a Redis of our own --------------------------------------------------

my $dir = tempdir('ticketctl-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $port = empty_port();
my $sock = "$dir/redis.sock";
my $redis_pid = start_redis();
my $ADDR = "unix:$sock";
my $r = Redis->new(sock => $sock, reconnect => 2);

END { stop_redis() }

sub start_redis {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/redis.out";
        open STDERR, '>&', \*STDOUT;
        exec 'redis-server', '--port', $port, '--bind', '127.0.0.1',
            '--dir', $dir, '--save', '', '--appendonly', 'no',
            '--unixsocket', $sock, '--unixsocketperm', '700',
            '--loadmodule', $REDISEARCH;
        exit 127;
    }
    for (1 .. 100) {
        last if -S $sock;
        select undef, undef, undef, 0.05;
    }
    die "redis-server did not start: " . slurp("$dir/redis.out") unless -S $sock;
    return $pid;
}

sub stop_redis {
    return unless $redis_pid;
    kill 'TERM', $redis_pid;
    waitpid $redis_pid, 0;
    $redis_pid = undef;
}

sub slurp { open my $f, '<', $_[0] or return ''; local $/; return scalar(<$f>) // '' }

# ---- running ticketctl ---------------------------------------------------

# ctl([stdin], ARGS...) -> (exit code, stdout, stderr); --redis prepended
# unless the first argument is an option already.
sub ctl {
    my $in = ref $_[0] eq 'SCALAR' ? ${ shift() } : '';
    my @args = @_;
    unshift @args, '--redis', $ADDR unless @args && $args[0] =~ /^--redis/;
    open my $fin, '>', "$dir/in" or die;
    print $fin $in;
    close $fin;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', "$dir/in";
        open STDOUT, '>', "$dir/out";
        open STDERR, '>', "$dir/err";
        exec $CTL, @args;
        exit 127;
    }
    waitpid $pid, 0;
    return ($? >> 8, slurp("$dir/out"), slurp("$dir/err"));
}

sub ctl_ok {
    my ($name, @args) = @_;
    my ($rc, $out, $err) = ctl(@args);
    is $rc, 0, $name or diag "stderr: $err\nstdout: $out";
    return $out;
}

sub ctl_exit {
    my ($code, $match, $name, @args) = @_;
    my ($rc, $out, $err) = ctl(@args);
    is $rc, $code, "$name: exit $code" or diag "stderr: $err\nstdout: $out";
    like $err, $match, "$name: says why" if $match;
    return $err;
}

sub ft { my @r = $r->__std_cmd(@_); return @r }

# Sum of the counts hash over "*" / owner partitions, and a check that
# every partition's sort sets have exactly that many members.
sub check_index {
    my ($name) = @_;
    my %c = $r->hgetall(TK_KEY_INDEX_COUNTS);
    my ($any, $owners, $bad) = (0, 0, 0);
    for my $f (keys %c) {
        next unless $c{$f};
        my ($g, $s, $o) = $f =~ /^(.+):(\d):(.+)$/ or do { $bad++; next };
        $o eq '*' ? ($any += $c{$f}) : ($owners += $c{$f});
        my @sorts = qw(upd crt pri ttl cst);
        push @sorts, 'own' if $o eq '*';
        for my $by (@sorts) {
            my $z = $r->zcard(tk_key_index($g, $s, $o, $by));
            $bad++, diag "$name: ZCARD $g:$s:$o:$by = $z, counts say $c{$f}"
                if $z != $c{$f};
        }
    }
    is $bad, 0, "$name: every sort set matches its count";
    return ($any, $owners);
}

sub ticket_total {
    my $n = 0;
    my $cursor = 0;
    do {
        my ($next, $keys) = $r->scan($cursor, 'MATCH', TK_PATTERN_TICKET_KEYS, 'COUNT', 1000,
            'TYPE', 'hash');
        $n += grep { /^tk:\{t:\d+\}$/ } @$keys;
        $cursor = $next;
    } while ($cursor);
    return $n;
}

sub counts_snapshot {
    my %c = $r->hgetall(TK_KEY_INDEX_COUNTS);
    delete $c{$_} for grep { !$c{$_} } keys %c;
    return \%c;
}

# ---- usage and availability ----------------------------------------------

ctl_exit(64, qr/usage/, 'no command', '--redis', $ADDR);
ctl_exit(64, qr/unknown command "frobnicate"/, 'unknown command', 'frobnicate');
ctl_exit(64, qr/unknown option "--bogus"/, 'unknown global option', '--bogus');
ctl_exit(69, qr{Redis at unix:\Q$dir\E/nope\.sock: }, 'Redis socket missing',
    '--redis', "unix:$dir/nope.sock", 'init');
my $closed = empty_port();
ctl_exit(69, qr/Redis at 127\.0\.0\.1:$closed: Connection refused/,
    'Redis port closed', '--redis', "127.0.0.1:$closed", 'user', 'list');
ctl_exit(64, qr/invalid Redis address "nowhere"/, 'bad address', '--redis', 'nowhere', 'init');
ctl_exit(64, qr/invalid Redis address/, 'bad port', '--redis', 'localhost:99999', 'init');
ctl_exit(69, qr/ticketctl init/, 'not initialised yet', 'user', 'list');
{
    local $ENV{TICKET_REDIS} = "unix:$dir/nope2.sock";
    my ($rc, undef, $err) = ctl('--redis=' . "unix:$dir/nope3.sock", 'init');
    like $err, qr/nope3\.sock/, '--redis= wins over $TICKET_REDIS';
    ($rc, undef, $err) = ctl('--redis', $ADDR, 'init');
    is $rc, 0, 'init works with --redis while TICKET_REDIS points elsewhere';
}

# ---- init -----------------------------------------------------------------

$r->flushall;
my $out = ctl_ok('init on an empty Redis', 'init');
like $out, qr/schema version 4 set/, 'init sets the schema version';
like $out, qr/tk:ft:articles created/, 'init creates the full-text index';
is $r->get(TK_KEY_SCHEMA), '4', 'tk:schema = 4';
my %info = ft('FT.INFO', TK_KEY_FT_ARTICLES);
is $info{index_name}, TK_KEY_FT_ARTICLES, 'RediSearch index exists';
$out = ctl_ok('init again', 'init');
like $out, qr/schema version 4 ok.*tk:ft:articles ok/s, 'init is idempotent';

$r->set(TK_KEY_SCHEMA, '99');
ctl_exit(65, qr/schema version "99"/, 'init refuses another schema', 'init');
ctl_exit(69, qr/needs schema 4/, 'other commands refuse it too', 'group', 'list');
$r->set(TK_KEY_SCHEMA, '4');

# ---- migration: schema 1 kept the history as lists of JSON strings ----------

$r->set(TK_KEY_SCHEMA, '1');
ctl_exit(69, qr/needs schema 4 \(an older one: stop nginx and mailbridge, then "ticketctl init"/,
    'schema 1: commands refuse it and say what to do', 'group', 'list');
$r->rpush(tk_key_history(9001),
    '{"time":1795236093,"by":"system","field":"created","from":null,"to":null}',
    '{"time":1795236100,"by":"franka","field":"title","from":"Alt \"zitiert\" \\\\ <b>","to":"Neu\u2028Zeile \u00fcber \ud83d\ude00 und Jörg"}',
    '{"time":1795236200,"by":"franka","field":"owner","from":"","to":"franka"}');
$r->rpush(tk_key_history(9002), '{"time":1795236300,"by":"system","field":"created","from":null,"to":null}');
$r->xadd(tk_key_history(9003), '*', time => 1, by => 'x', field => 'created');
$out = ctl_ok('init migrates schema 1', 'init');
like $out, qr/history of 2 tickets converted to streams \(4 entries\)/, 'says what it converted';
like $out, qr/schema version 1 -> 4/, 'and the new version';
is $r->get(TK_KEY_SCHEMA), '4', 'tk:schema = 4';
is $r->type(tk_key_history(9001)), 'stream', 'the list is a stream now';
my @m = map { $_->[1] } $r->xrange(tk_key_history(9001), '-', '+');
is_deeply \@m, [
    [ time => 1795236093, by => 'system', field => 'created' ],
    [ time => 1795236100, by => 'franka', field => 'title', from => 'Alt "zitiert" \\ <b>',
      to => "Neu\xe2\x80\xa8Zeile \xc3\xbcber \xf0\x9f\x98\x80 und Jörg" ],
    [ time => 1795236200, by => 'franka', field => 'owner', from => '', to => 'franka' ],
], 'every entry, in order, decoded (null: no field; "" stays "")';
is $r->xlen(tk_key_history(9002)), 1, 'the other ticket too';
is $r->xlen(tk_key_history(9003)), 1, 'a stream already: left alone';
like ctl_ok('init after the migration', 'init'), qr/schema version 4 ok/, 'then init is as always';

# ---- migration 2 -> 3: the overview index gains class partitions, rows,
# per-priority counts; init rebuilds it
{
    ctl_ok('group add Umbau', 'group', 'add', 'Umbau');
    my ($n) = ctl_ok('ticket before the migration', 'ticket', 'create', '--group', 'Umbau',
        '--title', 'Vor dem Umbau', '--customer', 'kim@example.net') =~ /(\d+)/;
    $r->del(TK_KEY_INDEX_ROWS, TK_KEY_INDEX_COUNTS_PRI, tk_key_index_class('Umbau', 'all', '*', 'upd'));
    $r->set(TK_KEY_SCHEMA, '2');
    my $o = ctl_ok('init migrates schema 2', 'init');
    like $o, qr/schema version 2 -> 4/, 'says so';
    ok defined $r->hget(TK_KEY_INDEX_ROWS, $n), 'the list row is back';
    ok defined $r->zscore(tk_key_index_class('Umbau', 'all', '*', 'upd'), $n), 'and the class partition';
    is $r->get(TK_KEY_SCHEMA), '4', 'tk:schema = 4';
    # 3 -> 4: the counts' packed vectors (tk:{ix}:cv:*) come back
    my $cv = TK_PFX_INDEX_COUNTV . 'Umbau';
    my $want = $r->get($cv);
    ok defined $want && length $want, 'the group has a counts vector';
    is unpack('l>', substr($want // '', 4 * (TK_COUNTV_ANY * TK_COUNTV_SLOTS + 1), 4)), 1,
        '  one new ticket, any owner';
    is unpack('l>', substr($want // '', 4 * (TK_COUNTV_NONE * TK_COUNTV_SLOTS + 1), 4)), 1,
        '  one new ticket, nobody\'s';
    $r->del($cv);
    $r->set(TK_KEY_SCHEMA, '3');
    like ctl_ok('init migrates schema 3', 'init'), qr/schema version 3 -> 4/, 'says so';
    is $r->get($cv), $want, 'the vector is rebuilt as it was';
    # leave no ticket behind for the counts further down
    $r->flushall;
    ctl_ok('init again', 'init');
}

$r->set(TK_KEY_SCHEMA, '1');
$r->rpush(tk_key_history(9004), '{"time":1,"by":"a","field":"state","from":"1","to":"2"}', 'kaputt');
ctl_exit(65, qr/entry 1 of tk:\{t:9004\}:history is not a history entry of schema 1/,
    'an entry it cannot read: refused, named', 'init');
is $r->type(tk_key_history(9004)), 'list', '  nothing of that ticket converted';
is $r->get(TK_KEY_SCHEMA), '1', '  and the schema stays 1';
$r->del(map { tk_key_history($_) } 9001 .. 9004);
$r->set(TK_KEY_SCHEMA, '4');

# ---- groups ---------------------------------------------------------------

ctl_ok('group add', 'group', 'add', 'Testgruppe', '--email', 'test@example.org',
    '--signature', "-- \nGrüße");
ctl_ok('group add all-agents', 'group', 'add', 'legal', '--all-agents',
    '--email', 'legal@example.org');
is_deeply [sort $r->smembers(TK_KEY_GROUPS)], [qw(Testgruppe legal)], 'tk:groups';
is_deeply [$r->smembers(TK_KEY_GROUPS_ALL)], ['legal'], 'all-agents set';
my %g = $r->hgetall(tk_key_group('Testgruppe'));
is $g{email}, 'test@example.org', 'group email stored';
is $g{signature}, "-- \nGrüße", 'group signature stored verbatim';
is $g{all_agents}, '0', 'not all agents';
ctl_exit(65, qr/group "Testgruppe" exists/, 'group add twice', 'group', 'add', 'Testgruppe');
ctl_exit(65, qr/invalid group name "a:b"/, 'group name with colon', 'group', 'add', 'a:b');
ctl_exit(65, qr/invalid group name/, 'group name with space', 'group', 'add', 'a b');
ctl_exit(65, qr/invalid group name/, 'group name with brace', 'group', 'add', 'a{b');
ctl_exit(65, qr/invalid email/, 'group with bad email', 'group', 'add', 'X', '--email', 'nope');
ctl_exit(64, qr/usage/, 'group add without name', 'group', 'add');
# the terminal column where word starts in line: what a terminal shows
# (combining marks take none, wide characters two), not bytes
sub term_col {
    my ($line, $word) = @_;
    my $l = Encode::decode('UTF-8', $line // '');
    my $i = index $l, Encode::decode('UTF-8', $word);
    return -1 if $i < 0;
    my $pre = substr $l, 0, $i;
    return length($pre) - (() = $pre =~ /\p{Mn}/g) + (() = $pre =~ /\p{East_Asian_Width=Wide}/g);
}

$out = ctl_ok('group list', 'group', 'list');
like $out, qr/^Testgruppe\s+test\@example\.org\s+members/m, 'group list shows Testgruppe';
ctl_ok('group with umlauts', 'group', 'add', 'Bündnisgrün', '--email', 'bündnis@example.org');
$out = ctl_ok('group list with umlauts', 'group', 'list');
my %gl = map { /^(\S+)/ ? ($1 => $_) : () } split /\n/, $out;
my %acc = map { term_col($gl{$_}, $_ eq 'GROUP' ? 'ACCESS' : 'members') => 1 } qw(GROUP Testgruppe Bündnisgrün);
is_deeply [ keys %acc ], [ term_col($gl{GROUP}, 'ACCESS') ],
    'group list: ACCESS in the same terminal column on every line' or diag $out;
like $out, qr/^legal\s+legal\@example\.org\s+all agents/m, 'group list shows legal';

# ---- users ----------------------------------------------------------------

ctl_ok('user add', \"supersecret\n", 'user', 'add', 'alice', '--name', 'Alice A.',
    '--email', 'alice@example.org', '--groups', 'Testgruppe:full,legal:read',
    '--lang', 'en', '--password-stdin');
my %u = $r->hgetall(tk_key_user('alice'));
is $u{login}, 'alice', 'login stored';
is $u{name}, 'Alice A.', 'name stored';
is $u{role}, 'agent', 'role agent';
is $u{rights}, 'Testgruppe:full,legal:read', 'rights stored';
is $u{lang}, 'en', 'lang stored';
is $u{disabled}, '0', 'enabled';
like $u{password}, qr/^\$y\$/, 'yescrypt hash';
is crypt('supersecret', $u{password}), $u{password}, 'hash verifies the password';
ok $r->sismember(TK_KEY_USERS, 'alice'), 'in tk:users';

ctl_exit(65, qr/user "alice" exists/, 'user add twice', \"supersecret\n",
    'user', 'add', 'alice', '--name', 'A', '--email', 'a@example.org', '--password-stdin');
ctl_exit(65, qr/invalid login "Alice"/, 'upper-case login', \"supersecret\n",
    'user', 'add', 'Alice', '--name', 'A', '--email', 'a@example.org', '--password-stdin');
ctl_exit(65, qr/invalid login "a:b"/, 'login with colon', \"supersecret\n",
    'user', 'add', 'a:b', '--name', 'A', '--email', 'a@example.org', '--password-stdin');
ctl_exit(65, qr/password too short/, 'short password', \"short\n",
    'user', 'add', 'bob', '--name', 'B', '--email', 'b@example.org', '--password-stdin');
ctl_exit(65, qr/no password on stdin/, 'empty stdin', \'',
    'user', 'add', 'bob', '--name', 'B', '--email', 'b@example.org', '--password-stdin');
ctl_exit(65, qr/unknown group "Nope"/, 'unknown group in rights', \"supersecret\n",
    'user', 'add', 'bob', '--name', 'B', '--email', 'b@example.org',
    '--groups', 'Nope:full', '--password-stdin');
ctl_exit(65, qr/invalid rights entry "Testgruppe:write"/, 'bad right word', \"supersecret\n",
    'user', 'add', 'bob', '--name', 'B', '--email', 'b@example.org',
    '--groups', 'Testgruppe:write', '--password-stdin');
ctl_exit(65, qr/invalid email address "bob"/, 'bad email', \"supersecret\n",
    'user', 'add', 'bob', '--name', 'B', '--email', 'bob', '--password-stdin');
ctl_exit(65, qr/invalid language "fr"/, 'bad language', \"supersecret\n",
    'user', 'add', 'bob', '--name', 'B', '--email', 'b@example.org', '--lang', 'fr',
    '--password-stdin');
ctl_exit(64, qr/--password-stdin/, 'user add without --password-stdin',
    'user', 'add', 'bob', '--name', 'B', '--email', 'b@example.org');
ctl_exit(64, qr/usage/, 'user add without --name', \"supersecret\n",
    'user', 'add', 'bob', '--email', 'b@example.org', '--password-stdin');
ok !$r->exists(tk_key_user('bob')), 'no half-created user after failures';

ctl_ok('second user, admin', \"anothersecret\n", 'user', 'add', 'bob', '--name', 'Bob',
    '--email', 'bob@example.org', '--admin', '--password-stdin');
is $r->hget(tk_key_user('bob'), 'role'), 'admin', '--admin gives the admin role';
is $r->hget(tk_key_user('bob'), 'lang'), 'de', 'German by default';

$out = ctl_ok('user list', 'user', 'list');
like $out, qr/^alice\s+Alice A\.\s+alice\@example\.org\s+agent\s+en\s+active\s+Testgruppe:full/m,
    'user list shows alice';
like $out, qr/^bob\s+Bob\s+bob\@example\.org\s+admin/m, 'user list shows bob';
ctl_ok('user with umlauts', \"umlautsecret1\n", 'user', 'add', 'joerg', '--name', 'Jörg Müller-Lüdenscheid',
    '--email', 'jörg@example.org', '--password-stdin');
ctl_ok('user with a combining accent and a wide character', \"umlautsecret2\n", 'user', 'add', 'zoe',
    '--name', "Zoe\xcc\x88 \xe6\x9d\x8e", '--email', 'zoe@example.org', '--password-stdin');
$out = ctl_ok('user list with umlauts', 'user', 'list');
my %ul = map { /^(\S+)/ ? ($1 => $_) : () } split /\n/, $out;
my %role = (LOGIN => 'ROLE', alice => 'agent', bob => 'admin', joerg => 'agent', zoe => 'agent');
my %email = (LOGIN => 'EMAIL', alice => 'alice@', bob => 'bob@', joerg => 'jörg@', zoe => 'zoe@');
for my $col ([ EMAIL => \%email ], [ ROLE => \%role ]) {
    my %at = map { term_col($ul{$_}, $col->[1]{$_}) => 1 } sort keys %role;
    is_deeply [ keys %at ], [ term_col($ul{LOGIN}, $col->[0]) ],
        "user list: $col->[0] starts in the same terminal column on every line"
        or diag $out;
}

my $old = $r->hget(tk_key_user('alice'), 'password');
ctl_ok('user passwd', \"evenbettersecret\n", 'user', 'passwd', 'alice', '--password-stdin');
my $new = $r->hget(tk_key_user('alice'), 'password');
isnt $new, $old, 'hash changed';
is crypt('evenbettersecret', $new), $new, 'new password verifies';
ctl_exit(65, qr/password too short/, 'passwd too short', \"x\n",
    'user', 'passwd', 'alice', '--password-stdin');
ctl_exit(65, qr/no user "carol"/, 'passwd of unknown user', \"evenbettersecret\n",
    'user', 'passwd', 'carol', '--password-stdin');
ok !$r->exists(tk_key_user('carol')), 'passwd does not create a user';

ctl_ok('user disable', 'user', 'disable', 'alice');
is $r->hget(tk_key_user('alice'), 'disabled'), '1', 'disabled = 1';
like ctl_ok('user list after disable', 'user', 'list'), qr/^alice.*disabled/m, 'list says disabled';
ctl_ok('user enable', 'user', 'enable', 'alice');
is $r->hget(tk_key_user('alice'), 'disabled'), '0', 'disabled = 0';
ctl_exit(65, qr/no user "carol"/, 'disable unknown user', 'user', 'disable', 'carol');

ctl_ok('user set', 'user', 'set', 'alice', '--name', 'Alice B.', '--groups',
    'Testgruppe:read', '--admin');
%u = $r->hgetall(tk_key_user('alice'));
is_deeply [@u{qw(name rights role)}], ['Alice B.', 'Testgruppe:read', 'admin'], 'user set changes fields';
ctl_ok('user set --no-admin', 'user', 'set', 'alice', '--no-admin');
is $r->hget(tk_key_user('alice'), 'role'), 'agent', 'back to agent';
ctl_exit(64, qr/at least one change/, 'user set without changes', 'user', 'set', 'alice');
ctl_exit(64, qr/unknown user command "frob"/, 'unknown user command', 'user', 'frob');

# ---- tokens ---------------------------------------------------------------

$out = ctl_ok('token add', 'token', 'add', 'alice');
my ($token) = $out =~ /^([0-9a-f]{64})$/m;
ok $token, 'prints 64 hex digits';
is $r->hget(tk_key_token($token), 'login'), 'alice', 'token hash names the user';
ok $r->hget(tk_key_token($token), 'created') > 1e9, 'token has a creation time';
ok $r->sismember(tk_key_user_tokens('alice'), $token), 'token in the user\'s set';
my ($rc2, $out2) = ctl('token', 'add', 'alice');
isnt +($out2 =~ /([0-9a-f]{64})/)[0], $token, 'tokens differ';
ctl_exit(65, qr/no user "carol"/, 'token for unknown user', 'token', 'add', 'carol');
ctl_ok('token revoke', 'token', 'revoke', $token);
ok !$r->exists(tk_key_token($token)), 'token gone';
ok !$r->sismember(tk_key_user_tokens('alice'), $token), 'token not in the user\'s set';
ctl_exit(65, qr/unknown token/, 'revoke twice', 'token', 'revoke', $token);
ctl_exit(65, qr/invalid token/, 'revoke garbage', 'token', 'revoke', 'xyz');

# ---- tickets --------------------------------------------------------------

$out = ctl_ok('ticket create', 'ticket', 'create', '--group', 'Testgruppe',
    '--title', 'Gewahrsam nach Demo', '--customer', 'Ana@Example.NET', '--name', 'Ana',
    '--body', 'Hallo, mein Freund ist in Gewahrsam.');
my ($t1) = $out =~ /ticket (\d+) created/;
ok $t1, 'prints the number';
my %t = $r->hgetall(tk_key_ticket($t1));
is_deeply [@t{qw(number title group owner state priority customer_name customer_email articles)}],
    [$t1, 'Gewahrsam nach Demo', 'Testgruppe', '', 1, 2, 'Ana', 'Ana@Example.NET', 1],
    'ticket hash';
ok abs($t{created} - time) < 60, 'created is now (Unix seconds)';
is $t{updated}, $t{created}, 'updated = created';
is $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'ana@example.net'), $t{customer}, 'customer by lower-cased email';
is $r->hget(tk_key_customer($t{customer}), 'name'), 'Ana', 'customer hash';
is $r->zscore(tk_key_index('Testgruppe', 1, '-', 'upd'), $t1), $t{updated}, 'in the unassigned partition';
is $r->zscore(tk_key_index('Testgruppe', 1, '*', 'crt'), $t1), $t1, 'in the any-owner partition';
is $r->zscore(tk_key_index('Testgruppe', 1, '*', 'pri'), $t1), 2e10 + $t{updated}, 'priority score';
is $r->zscore(tk_key_index('Testgruppe', 1, '*', 'ttl'), "gewahrsam nach demo\x1f" . sprintf('%020d', $t1)),
    0, 'title lex member';
is $r->zcard(tk_key_index('Testgruppe', 1, '-', 'own')), 0, 'no owner set in owner partitions';
is $r->hget(TK_KEY_INDEX_COUNTS, 'Testgruppe:1:-'), 1, 'count of the unassigned partition';
is $r->hget(TK_KEY_INDEX_COUNTS, 'Testgruppe:1:*'), 1, 'count of the any-owner partition';
my @arts = $r->lrange(tk_key_ticket_arts($t1), 0, -1);
is scalar @arts, 1, 'one article';
my %a = $r->hgetall(tk_key_article($t1, $arts[0]));
is_deeply [@a{qw(kind ticket from to body)}],
    ['in', $t1, '"Ana" <Ana@Example.NET>', 'test@example.org', 'Hallo, mein Freund ist in Gewahrsam.'],
    'inbound article';
is_deeply [sort $r->smembers(tk_key_participants($t1))], ['ana@example.net', 'test@example.org'],
    'participants lower-cased';
my @hist = $r->xrange(tk_key_history($t1), '-', '+');
like $hist[0][0], qr/^\d+-\d+$/, 'history is a stream';
is_deeply [ @{ $hist[0][1] }[0, 2 .. 5] ], [qw(time by system field created)],
    'history entry: time, by, field; no from/to for the creation';
like $hist[0][1][1], qr/^\d{10}$/, 'history time in Unix seconds';
my @hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, 'Gewahrsam', 'NOCONTENT');
is $hits[0], 1, 'full text finds the article';
is $hits[1], tk_key_article($t1, $arts[0]), 'document id is the article key';
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, '@group:{Testgruppe} @ticket:[' . "$t1 $t1]", 'NOCONTENT');
is $hits[0], 1, 'full text filters by group tag and ticket number';

$out = ctl_ok('ticket create with owner, state, priority', 'ticket', 'create',
    '--group', 'Testgruppe', '--title', 'Bußgeldbescheid', '--customer', 'ana@example.net',
    '--owner', 'alice', '--state', 'open', '--priority', 'urgent');
my ($t2) = $out =~ /ticket (\d+) created/;
%t = $r->hgetall(tk_key_ticket($t2));
is_deeply [@t{qw(owner state priority articles)}], ['alice', 2, 4, 0], 'owner, state, priority, no article';
is $t{customer}, $r->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'ana@example.net'), 'same customer reused';
is $r->hget(TK_KEY_INDEX_COUNTS, 'Testgruppe:2:alice'), 1, 'owner partition counted';
is $r->zscore(tk_key_index('Testgruppe', 2, '*', 'own'), "alice\x1f" . sprintf('%020d', $t2)), 0,
    'owner lex member in the any-owner partition';
is $r->zscore(tk_key_index('Testgruppe', 2, 'alice', 'pri'), $t2), 4e10 + $t{updated}, 'urgent priority score';

ctl_exit(65, qr/invalid state "bogus"/, 'bad state', 'ticket', 'create', '--group', 'Testgruppe',
    '--title', 'x', '--customer', 'a@example.org', '--state', 'bogus');
ctl_exit(65, qr/invalid priority "9"/, 'bad priority', 'ticket', 'create', '--group', 'Testgruppe',
    '--title', 'x', '--customer', 'a@example.org', '--priority', '9');
ctl_exit(65, qr/unknown group "Nope"/, 'unknown group', 'ticket', 'create', '--group', 'Nope',
    '--title', 'x', '--customer', 'a@example.org');
ctl_exit(65, qr/unknown owner "carol"/, 'unknown owner', 'ticket', 'create', '--group', 'Testgruppe',
    '--title', 'x', '--customer', 'a@example.org', '--owner', 'carol');
ctl_exit(65, qr/invalid customer address/, 'bad customer', 'ticket', 'create', '--group', 'Testgruppe',
    '--title', 'x', '--customer', 'nobody');
ctl_exit(64, qr/--title/, 'missing title', 'ticket', 'create', '--group', 'Testgruppe',
    '--customer', 'a@example.org');

# an update through the shared write path: index moves, counts, history
my $upd_before = $r->hget(tk_key_ticket($t1), 'updated');
sleep 1;
$out = ctl_ok('ticket update', 'ticket', 'update', $t1, '--state', 'open', '--owner', 'alice',
    '--title', 'Gewahrsam (Kessel)');
like $out, qr/ticket $t1 updated/, 'update reports';
%t = $r->hgetall(tk_key_ticket($t1));
is_deeply [@t{qw(state owner title)}], [2, 'alice', 'Gewahrsam (Kessel)'], 'ticket hash changed';
ok $t{updated} > $upd_before, 'updated moved on';
ok !defined $r->zscore(tk_key_index('Testgruppe', 1, '-', 'upd'), $t1), 'out of the old partition';
ok !defined $r->zscore(tk_key_index('Testgruppe', 1, '*', 'ttl'), "gewahrsam nach demo\x1f" . sprintf('%020d', $t1)),
    'old title member removed';
is $r->zscore(tk_key_index('Testgruppe', 2, 'alice', 'ttl'), "gewahrsam (kessel)\x1f" . sprintf('%020d', $t1)), 0,
    'new title member in the new partition';
is $r->hget(TK_KEY_INDEX_COUNTS, 'Testgruppe:1:-'), 0, 'old partition count down';
is $r->hget(TK_KEY_INDEX_COUNTS, 'Testgruppe:2:alice'), 2, 'new partition count up';
@hist = map { +{ @{ $_->[1] } } } $r->xrange(tk_key_history($t1), '-', '+');
is scalar @hist, 4, 'three history entries for three changed fields';
is_deeply [ @{ $hist[1] }{qw(by field from to)} ],
    ['ticketctl', 'title', 'Gewahrsam nach Demo', 'Gewahrsam (Kessel)'], 'title history';
is_deeply [ @{ $hist[2] }{qw(field from to)} ], ['owner', '', 'alice'], 'owner history';
is_deeply [ @{ $hist[3] }{qw(field from to)} ], ['state', '1', '2'], 'state history';
$out = ctl_ok('ticket update without change', 'ticket', 'update', $t1, '--state', '2');
like $out, qr/unchanged/, 'nothing to change';
is $r->xlen(tk_key_history($t1)), 4, 'no history for no change';
ctl_ok('ticket update unassign', 'ticket', 'update', $t1, '--owner', '', '--state', 'new',
    '--title', 'Gewahrsam nach Demo');
is $r->hget(TK_KEY_INDEX_COUNTS, 'Testgruppe:1:-'), 1, 'back in the unassigned partition';
ctl_exit(65, qr/no ticket 99999/, 'update unknown ticket', 'ticket', 'update', 99999, '--state', 'open');
ok !$r->exists(tk_key_ticket(99999)), 'update does not create a ticket';
ctl_exit(65, qr/unknown owner "carol"/, 'update to unknown owner', 'ticket', 'update', $t1, '--owner', 'carol');
ctl_exit(64, qr/at least one change/, 'update without changes', 'ticket', 'update', $t1);

$out = ctl_ok('ticket list', 'ticket', 'list');
like $out, qr/^$t2\s+open\s+urgent\s+Testgruppe\s+alice\s+ana\@example\.net/m, 'list shows the second ticket';
like $out, qr/^$t1\s+new\s+normal\s+Testgruppe\s+-\s+/m, 'list shows the first ticket';
$out = ctl_ok('ticket list --state open', 'ticket', 'list', '--state', 'open');
ok $out =~ /^$t2\s/m && $out !~ /^$t1\s/m, '--state filters';
$out = ctl_ok('ticket list --group legal', 'ticket', 'list', '--group', 'legal', '--limit', '5');
unlike $out, qr/^\d+\s/m, 'no tickets in legal';
ctl_exit(65, qr/unknown group "Nope"/, 'list unknown group', 'ticket', 'list', '--group', 'Nope');
ctl_exit(64, qr/invalid --limit/, 'bad limit', 'ticket', 'list', '--limit', '0');

my ($any, $owners) = check_index('after ticket create');
is $any, 2, 'counts: two tickets in "*" partitions';
is $owners, 2, 'counts: two tickets in owner partitions';

# ---- reindex --------------------------------------------------------------

my $before = counts_snapshot();
$r->del(tk_key_index('Testgruppe', 1, '-', 'upd'));
$r->hset(TK_KEY_INDEX_COUNTS, 'Testgruppe:6:*', 7);
$r->zadd(tk_key_index('Gone', 1, '*', 'upd'), 1, 999);
# not derived from the tickets, so never dropped: mail still to be sent
$r->xadd(TK_KEY_OUTBOX, '*', ticket => $t1, article => 1, kind => 'out');
my $gen = $r->incrby(TK_KEY_INDEX_GEN, 1000);    # > 0, so a drop would show
$out = ctl_ok('reindex', 'reindex');
is $r->xlen(TK_KEY_OUTBOX), 1, 'reindex keeps the outbox';
cmp_ok $r->get(TK_KEY_INDEX_GEN) // 0, '>=', $gen, 'reindex never lowers the generation';
$r->del(TK_KEY_OUTBOX);
like $out, qr/reindexed 2 tickets/, 'reindex reports the tickets';
is_deeply counts_snapshot(), $before, 'reindex restores the counts';
is $r->zscore(tk_key_index('Testgruppe', 1, '-', 'upd'), $t1), $r->hget(tk_key_ticket($t1), 'updated'),
    'reindex restores a deleted set';
ok !$r->exists(tk_key_index('Gone', 1, '*', 'upd')), 'reindex drops stale sets';
check_index('after reindex');

# an unassigned ticket flagged auto belongs to the owner partition "!"
# (and the old mailbridge list tk:{ix}:auto is derived data: dropped)
$r->hset(tk_key_ticket($t1), 'flags', 'auto');
$r->zadd(TK_KEY_INDEX_AUTO_OLD, 1, $t1);
ctl_ok('reindex with an auto ticket', 'reindex');
is $r->hget(TK_KEY_INDEX_COUNTS, 'Testgruppe:1:!'), 1, 'reindex: counted under "!"';
ok !$r->hget(TK_KEY_INDEX_COUNTS, 'Testgruppe:1:-'), 'reindex: not under "-"';
ok defined $r->zscore(tk_key_index('Testgruppe', 1, '!', 'upd'), $t1), 'reindex: in the "!" sets';
ok !$r->exists(TK_KEY_INDEX_AUTO_OLD), 'reindex drops tk:{ix}:auto';
check_index('after reindex with auto');
$r->hset(tk_key_ticket($t1), 'flags', '');
ctl_ok('reindex without', 'reindex');
is_deeply counts_snapshot(), $before, 'flag gone, reindexed: counts as before';

# ---- demo -----------------------------------------------------------------

$r->flushall;
ctl_ok('init before demo', 'init');
$out = ctl_ok('demo', 'demo');
my ($admin_pw) = $out =~ /^login: admin  password: (\S+)$/m;
ok $admin_pw && length $admin_pw == 16, 'demo prints the admin password (16 chars)';
like $out, qr/^login: franka  password: \S+$/m, 'demo prints the agents\' passwords';
my $admin_hash = $r->hget(tk_key_user('admin'), 'password');
is crypt($admin_pw, $admin_hash), $admin_hash, 'admin password works';
is $r->hget(tk_key_user('admin'), 'role'), 'admin', 'admin role';
my @groups = sort $r->smembers(TK_KEY_GROUPS);
is_deeply \@groups, [sort qw(legal ALSO Bildung Standardmails Verfassungsrecht Verwaltungsrecht Zivilrecht)],
    'the collective\'s groups';
is_deeply [$r->smembers(TK_KEY_GROUPS_ALL)], ['legal'], 'legal is for all agents';
is $r->hget(tk_key_group('ALSO'), 'email'), 'also@example.org', 'group addresses';
like $r->hget(tk_key_user('admin'), 'rights'), qr/(^|,)Zivilrecht:full(,|$)/, 'admin has full rights';
is ticket_total(), 12, 'twelve demo tickets';
($any, $owners) = check_index('after demo');
is $any, 12, 'demo counts: 12 in "*" partitions';
is $owners, 12, 'demo counts: 12 in owner partitions';
my %states = map { $r->hget(tk_key_ticket($_), 'state') => 1 } 1 .. 12;
ok keys %states >= 5, 'demo tickets in several states';
my @notes = grep { $r->hget(tk_key_article($_->[0], $_->[1]), 'kind') eq 'note' }
    map { my $n = $_; map { [$n, $_] } $r->lrange(tk_key_ticket_arts($n), 0, -1) } 1 .. 12;
ok @notes >= 1, 'demo has internal notes';
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, 'Hausdurchsuchung', 'NOCONTENT');
ok $hits[0] >= 1, 'demo mails are searchable';

$out = ctl_ok('demo again', 'demo');
like $out, qr/admin account exists: admin \(password unchanged\)/, 'admin kept';
unlike $out, qr/password: /, 'no new passwords';
is $r->hget(tk_key_user('admin'), 'password'), $admin_hash, 'admin hash unchanged';
is ticket_total(), 12, 'no second set of demo tickets';

# ---- gen ------------------------------------------------------------------

my $t0 = time;
my ($grc, $gout, $gerr) = ctl('gen', '--tickets', 2000, '--articles', 1, '--seed', 7);
is $grc, 0, 'gen 2000 tickets' or diag $gerr;
like $gout, qr/^login: anna  password: bench-password$/m, 'gen prints the bench login';
like $gout, qr/generated 2000 tickets/, 'gen reports';
note "gen took " . (time - $t0) . " s";
is ticket_total(), 2012, 'ticket hashes: 12 demo + 2000';
($any, $owners) = check_index('after gen');
is $any, 2012, 'counts hash sums to the ticket count ("*")';
is $owners, 2012, 'counts hash sums to the ticket count (owners)';
my $c = counts_snapshot();
my ($nclosed, $nopen) = (0, 0);
for (keys %$c) { next unless /:\*$/; /:6:\*$/ ? ($nclosed += $c->{$_}) : ($nopen += $c->{$_}) }
ok $nclosed > 0.85 * 2012, "most tickets closed ($nclosed)";
ok $nopen > 20, "some open ($nopen)";
my ($nu) = grep { /^anna$/ } $r->smembers(TK_KEY_USERS);
ok $nu, 'bench agents created';
my $anna = $r->hget(tk_key_user('anna'), 'password');
is crypt('bench-password', $anna), $anna, 'bench password works';
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, 'Gewahrsam', 'NOCONTENT', 'LIMIT', 0, 1);
ok $hits[0] > 50, "gen bodies are searchable ($hits[0] hits)";
my %ga = $r->hgetall(tk_key_article(2000, ($r->lrange(tk_key_ticket_arts(2000), 0, 0))[0]));
ok length($ga{body}) >= 5000, 'gen bodies are about 5 KB';

# the stop word list (TK_FT_STOPWORDS) and German stemming
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, 'und', 'NOCONTENT', 'LIMIT', 0, 1);
is $hits[0], 0, 'a stop word ("und") is not indexed';
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, 'nicht', 'NOCONTENT', 'LIMIT', 0, 1);
ok $hits[0] > 50, "a negation is not a stop word (\"nicht\": $hits[0] hits)";
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, 'Personalie', 'NOCONTENT', 'LIMIT', 0, 1);
ok $hits[0] > 50, "German stemming: \"Personalie\" finds \"Personalien\" ($hits[0] hits)";
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, 'an die Polizei', 'NOCONTENT', 'LIMIT', 0, 1);
ok $hits[0] > 50, "stop words in a query are dropped, not an error ($hits[0] hits)";
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, '"polizei ungefähr"', 'NOCONTENT', 'LIMIT', 0, 1);
ok $hits[0] > 50, "a phrase matches across left-out stop words (\"Polizei hat uns nach ungefähr\")";

# what agents search for: a file reference, a person's name
like $ga{body}, qr{Js 2000/2\d\b}, 'an incoming article cites its ticket\'s file reference';
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, '"js 2000"', 'NOCONTENT');
is_deeply [@hits[0, 1]], [1, tk_key_article(2000, ($r->lrange(tk_key_ticket_arts(2000), 0, 0))[0])],
    'the file reference finds exactly its ticket';
my $cname = $r->hget(tk_key_ticket(2000), 'customer_name');
my $cid = $r->hget(tk_key_ticket(2000), 'customer');
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, Encode::encode('UTF-8', lc Encode::decode('UTF-8', $cname)),
    'NOCONTENT', 'LIMIT', 0, 100);
my @other = grep { /^tk:\{t:(\d+)\}/ && $r->hget(tk_key_ticket($1), 'customer') != $cid } @hits[1 .. $#hits];
ok $hits[0] >= 1 && $hits[0] <= 20, "a customer's full name has a few hits ($cname: $hits[0])";
is scalar @other, 0, 'all of them tickets of that customer';

$before = counts_snapshot();
ctl_ok('reindex after gen', 'reindex');
is_deeply counts_snapshot(), $before, 'reindex reproduces the counts of gen';
check_index('after reindex of gen');

($grc, $gout, $gerr) = ctl('gen', '--tickets', 10, '--articles', 20, '--no-fulltext');
is $grc, 0, 'gen can add to existing data' or diag $gerr;
like $gout, qr/bench agents exist/, 'existing bench agents kept';
is $r->llen(tk_key_ticket_arts(2022)), 20, 'twenty articles on a ticket';
is $r->hget(tk_key_ticket(2022), 'articles'), 20, 'article counter';
# an index of an older definition (STOPWORDS 0) is rebuilt by reindex --fulltext
my $akey = tk_key_article(2000, ($r->lrange(tk_key_ticket_arts(2000), 0, 0))[0]);
my %abefore = $r->hgetall($akey);
ft('FT.DROP', TK_KEY_FT_ARTICLES, 'KEEPDOCS');
ft('FT.CREATE', TK_KEY_FT_ARTICLES, 'STOPWORDS', 0, 'SCHEMA', 'ticket', 'NUMERIC', 'SORTABLE',
   'group', 'TAG', 'kind', 'TAG', 'subject', 'TEXT', 'WEIGHT', '5.0', 'body', 'TEXT',
   'from', 'TEXT', 'attachments', 'TEXT', 'time', 'NUMERIC', 'SORTABLE');
ft('FT.ADD', TK_KEY_FT_ARTICLES, $akey, '1.0', 'NOSAVE', 'FIELDS', 'body', 'und gewahrsam', 'ticket', 2000);
is((ft('FT.SEARCH', TK_KEY_FT_ARTICLES, 'und', 'NOCONTENT'))[0], 1, 'old index: "und" indexed');
$out = ctl_ok('reindex --fulltext', 'reindex', '--fulltext');
my $narticles = grep { /:a:\d+$/ } $r->keys(TK_PATTERN_ARTICLES);
like $out, qr/full-text index tk:ft:articles rebuilt: $narticles articles/, 'every article hash';
my %fi = ft('FT.INFO', TK_KEY_FT_ARTICLES);
is $fi{num_docs}, $narticles, 'one document per article';
is((ft('FT.SEARCH', TK_KEY_FT_ARTICLES, 'und', 'NOCONTENT'))[0], 0, 'new definition: stop words left out');
is((ft('FT.SEARCH', TK_KEY_FT_ARTICLES, '"js 2000"', 'NOCONTENT'))[0], 1, 'the file reference again');
my $g2000 = $r->hget(tk_key_ticket(2000), 'group');
@hits = ft('FT.SEARCH', TK_KEY_FT_ARTICLES, "\@group:{$g2000} \@ticket:[2000 2000]", 'NOCONTENT');
is_deeply [@hits], [1, $akey], "the ticket's group tag and number again";
is_deeply {$r->hgetall($akey)}, \%abefore, 'the article hash itself untouched (KEEPDOCS, NOSAVE)';
ctl_exit(64, qr/reindex/, 'reindex with an unknown option', 'reindex', '--full');

ctl_exit(64, qr/--tickets/, 'gen without --tickets', 'gen');
ctl_exit(64, qr/invalid --tickets/, 'gen with bad count', 'gen', '--tickets', 'x');

stop_redis();
ctl_exit(69, qr/Redis at unix:/, 'Redis gone', 'user', 'list');

done_testing;
