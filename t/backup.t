#!/usr/bin/perl
# ticketctl backup / restore / migrate against real Redis servers: a
# backup restored onto a fresh Redis holds every key of the moment it was
# taken (tickets, articles, attachments, users, the full-text index
# answers), not what was written after; both restore paths (snapshot,
# AOF copy); the keyring comes back byte for byte; nothing is ever
# written over data.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path);
use TK;
require "$FindBin::Bin/mail_lib.pl";

my $tk = MB::setup();
my $d = $tk->dir;
$tk->add_user('franka', admin => 1, rights => 'legal:full');
$tk->add_user('lou', rights => 'ALSO:read');

# ---- data: mails (one with an attachment), a user, tokens ----------------
my $boundary = 'b-' . $$;
my $att_mail = MB::mail(subject => 'Anhang: Bescheid',
    'Content-Type' => "multipart/mixed; boundary=\"$boundary\"",
    'MIME-Version' => '1.0',
    body => "--$boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
          . "Der Bescheid anbei.\r\n--$boundary\r\n"
          . "Content-Type: application/pdf; name=\"bescheid.pdf\"\r\n"
          . "Content-Disposition: attachment; filename=\"bescheid.pdf\"\r\n"
          . "Content-Transfer-Encoding: base64\r\n\r\n"
          . "JVBERi0xLjQKJcfsj6IKYmVzY2hlaWQ=\r\n--$boundary--\r\n");
my ($rc) = MB::deliver($tk, $att_mail, '--recipient', 'legal@example.org');
is $rc, 0, 'a mail with an attachment delivered';
for my $i (1 .. 20) {
    ($rc) = MB::deliver($tk, MB::mail(subject => "Hausdurchsuchung $i",
        body => "Polizei war da, Nummer $i.\r\n"), '--recipient',
        $i % 2 ? 'legal@example.org' : 'also@example.org');
    die "deliver $i: $rc" if $rc;
}
$tk->add_token('franka');

my $keyring = "$d/gnupg";
make_path("$keyring/private-keys-v1.d");
TK::write_file("$keyring/pubring.kbx", "not really a keyring\n" x 50);
TK::write_file("$keyring/private-keys-v1.d/ABC.key", "secret\n");
chmod 0700, $keyring;
chmod 0600, "$keyring/private-keys-v1.d/ABC.key";

my $r = $tk->redis;
my %before = snapshot($r);
my $fts = ft_count($r, 'polizei');
ok scalar(keys %before) > 60, scalar(keys %before) . ' keys to back up';
is $fts, 20, 'the full-text index finds the 20 mails';

# ---- backup ---------------------------------------------------------------
my ($c, $out, $err) = $tk->ctl_run('backup', "$d/bk", '--keyring', $keyring);
is $c, 0, 'backup exits 0' or diag $err;
like $out, qr/backup in \Q$d\E\/bk: \d+ keys, dump\.rdb \d+ bytes, the AOF, the keyring/,
    'backup says what it took';
ok -s "$d/bk/dump.rdb", 'dump.rdb copied';
ok -e "$d/bk/appendonlydir/appendonly.aof.manifest", 'the AOF manifest copied';
my $manifest = TK::read_file("$d/bk/MANIFEST");
like $manifest, qr/^schema ${\ TK_SCHEMA_VERSION}$/m, 'the manifest names the schema';
like $manifest, qr/^keys \d+$/m, 'and the number of keys';
is((stat "$d/bk")[2] & 0777, 0700, 'the backup directory is private (0700)');

# after the backup: must not be in what is restored
($rc) = MB::deliver($tk, MB::mail(subject => 'Nach dem Backup'), '--recipient', 'legal@example.org');
is $rc, 0, 'a mail after the backup';
my %after = snapshot($r);
isnt scalar(keys %after), scalar(keys %before), 'the live Redis moved on';

($c, undef, $err) = $tk->ctl_run('backup', "$d/bk");
is $c, 73, 'backup into a non-empty directory: refused (EX_CANTCREAT)';
like $err, qr/exists and is not empty/, 'and says why';

# ---- restore: the snapshot as the base of a fresh AOF ----------------------
($c, $out, $err) = $tk->ctl_run('restore', "$d/bk", '--data-dir', "$d/r1",
    '--keyring', "$d/gnupg-restored");
is $c, 0, 'restore exits 0' or diag $err;
my $r1 = start_redis_on("$d/r1", 'r1');
my %restored = snapshot($r1);
is_deeply [sort keys %restored], [sort keys %before], 'every key of the backup moment, nothing later';
my @diff = grep { $restored{$_} ne $before{$_} } grep { exists $restored{$_} } keys %before;
is_deeply \@diff, [], 'every value equal (hashes, lists, sets, sorted sets, streams)';
is ft_count($r1, 'polizei'), $fts, 'the full-text index answers as before';
my ($n) = grep { ($r1->hget(tk_key_ticket($_), 'title') // '') eq 'Anhang: Bescheid' } 1 .. 30;
ok $n, 'the ticket with the attachment is there';
my $aid = ($r1->lrange(tk_key_ticket_arts($n), 0, -1))[0];
is $r1->hget(tk_key_attachment($n, $aid, 1), "name"), 'bescheid.pdf', 'its attachment too';
ok $r1->exists(tk_key_user('franka')) && $r1->exists(tk_key_user('lou')), 'the users';
is(TK::read_file("$d/gnupg-restored/private-keys-v1.d/ABC.key"), "secret\n", 'the keyring, byte for byte');
is((stat "$d/gnupg-restored/private-keys-v1.d/ABC.key")[2] & 0777, 0600, 'with its modes');
{
    local $tk->{dir} = $d;
    my ($ic, $io) = TK::run_cmd("$TK::BUILD/ticketctl", '--redis', "unix:$d/r1/redis.sock", 'init');
    is $ic, 0, 'ticketctl init on the restored Redis';
    like $io, qr/schema version ${\ TK_SCHEMA_VERSION} ok/, 'finds the schema of the backup';
}

# ---- restore --aof: the AOF copy as it is ---------------------------------
($c, $out, $err) = $tk->ctl_run('restore', "$d/bk", '--data-dir', "$d/r2", '--aof');
is $c, 0, 'restore --aof exits 0' or diag $err;
my $r2 = start_redis_on("$d/r2", 'r2');
my %restored2 = snapshot($r2);
is_deeply [sort keys %restored2], [sort keys %before], 'the AOF copy holds the same keys';
is ft_count($r2, 'polizei'), $fts, 'and its full-text index answers';

# ---- never over data -------------------------------------------------------
$tk->stop_proc('r1');
my $size = -s "$d/r1/appendonlydir/appendonly.aof.1.base.rdb";
($c, undef, $err) = $tk->ctl_run('restore', "$d/bk", '--data-dir', "$d/r1");
is $c, 73, 'restore into a data directory with data: refused';
like $err, qr/holds data already/, 'and says why';
is -s "$d/r1/appendonlydir/appendonly.aof.1.base.rdb", $size, 'nothing was written';
($c, undef, $err) = $tk->ctl_run('restore', "$d/nope", '--data-dir', "$d/r3");
is $c, 66, 'restore of a directory that is no backup: EX_NOINPUT';
ok !-e "$d/r3", 'and creates nothing';

# ---- migrate -------------------------------------------------------------
($c, $out) = $tk->ctl_run('migrate');
is $c, 0, 'migrate on the current schema exits 0';
like $out, qr/schema version ${\ TK_SCHEMA_VERSION}: up to date/, 'and says there is nothing to do';
$r->del(TK_KEY_SCHEMA);
($c, undef, $err) = $tk->ctl_run('migrate');
is $c, 65, 'migrate without a schema version: refused';
like $err, qr/nothing to migrate.*ticketctl init/, 'pointing to init';
# an older schema: migrate brings it up (the overview index rebuilt)
$r->set(TK_KEY_SCHEMA, TK_SCHEMA_VERSION - 1);
$r->del(TK_KEY_INDEX_ROWS);
($c, $out, $err) = $tk->ctl_run('migrate');
is $c, 0, 'migrate from the schema before this one' or diag $err;
is $r->get(TK_KEY_SCHEMA), TK_SCHEMA_VERSION, 'the schema version is the current one';
ok $r->hlen(TK_KEY_INDEX_ROWS) > 0, 'and what it brings is there (list rows rebuilt)';

done_testing;

# ---- helpers ---------------------------------------------------------------

# key -> a canonical text of its value; RediSearch's own keys by type name
sub snapshot {
    my ($redis) = @_;
    my %s;
    my $cursor = 0;
    do {
        my ($next, $keys) = $redis->scan($cursor, 'COUNT', 1000);
        $cursor = $next;
        for my $k (@$keys) {
            my $t = $redis->type($k);
            my $v;
            if    ($t eq 'string') { $v = $redis->get($k) }
            elsif ($t eq 'hash')   { my %h = $redis->hgetall($k); $v = join "\0", map { "$_=$h{$_}" } sort keys %h }
            elsif ($t eq 'list')   { $v = join "\0", $redis->lrange($k, 0, -1) }
            elsif ($t eq 'set')    { $v = join "\0", sort $redis->smembers($k) }
            elsif ($t eq 'zset')   { $v = join "\0", $redis->zrange($k, 0, -1, 'WITHSCORES') }
            elsif ($t eq 'stream') { $v = join "\0", map { join ',', $_->[0], @{ $_->[1] } } $redis->xrange($k, '-', '+') }
            else                   { $v = "module:$t" }
            $s{$k} = "$t:$v";
        }
    } while ($cursor ne '0');
    return %s;
}

sub ft_count {
    my ($redis, $q) = @_;
    my @res = $redis->__std_cmd('FT.SEARCH', TK_KEY_FT_ARTICLES, $q, 'LIMIT', 0, 1);
    return $res[0];
}

# A second redis-server like the test's own, on another data directory.
sub start_redis_on {
    my ($dir, $name) = @_;
    chmod 0755, $dir;
    TK::write_file("$dir.conf", <<"EOF");
port 0
unixsocket $dir/redis.sock
unixsocketperm 777
dir $dir
appendonly yes
save ""
daemonize no
include "$TK::ROOT/redis-schema/redis.conf"
EOF
    $tk->spawn($name, 'redis-server', "$dir.conf");
    my $client;
    TK::wait_for("redis $name", 20, sub {
        return 0 unless -S "$dir/redis.sock";
        $client = eval { Redis->new(sock => "$dir/redis.sock") } or return 0;
        my $loading = eval { ($client->info('persistence'))->{loading} } // 1;
        return $loading eq '0';
    });
    return $client;
}
