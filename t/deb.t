#!/usr/bin/perl
# make deb: both Debian packages build from the repository's tracked
# files, lintian reports no error or warning, and they hold what an
# operator relies on: the module with Debian's nginx ABI dependency and
# its load_module snippet, the static files, the example site; the
# programs, the hardened unit, the Redis instance's config (conffiles),
# man pages.  Installing them in a fresh Debian 12 root and delivering a
# mail is "make deb-check" (scripts/deb-install-check.sh), which needs a
# chroot: run before a release, not in every make test.
use strict;
use warnings;
use FindBin;
use Test::More;

my $ROOT = "$FindBin::Bin/..";
# make asan runs the suite against build-asan: the packages are built from
# the sources, not from that build, and would only be built twice
plan skip_all => 'packages are not built under ASan (make asan)' if $ENV{TK_NGINX_PRELOAD};
plan skip_all => 'make deb needs root (it installs debhelper and lintian) or both installed'
    unless $> == 0 || (-x '/usr/bin/dh' && -x '/usr/bin/lintian');

my $out = `cd $ROOT && scripts/deb.sh 2>&1`;
is $?, 0, 'scripts/deb.sh: built, lintian without errors or warnings' or diag $out;
my ($mod) = glob "$ROOT/build/deb/libnginx-mod-http-ticket_*_*.deb";
my ($mb)  = glob "$ROOT/build/deb/ticket-mailbridge_*_*.deb";
ok $mod && $mb, 'both packages' or BAIL_OUT('no packages');

sub field { my ($deb, $f) = @_; my $v = `dpkg-deb -f $deb $f`; chomp $v; $v }
sub files { my ($deb) = @_; map { m{^\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\.(/\S*)} ? $1 : () } `dpkg-deb -c $deb` }

# ---- the module ---------------------------------------------------------
my $dep = field($mod, 'Depends');
like $dep, qr/\bnginx-abi-1\.22\.1-7\b/, "the module depends on Debian's nginx ABI ($dep)";
like $dep, qr/\blibhiredis0\.14\b/, 'and on hiredis by name';
my %mf = map { $_ => 1 } files($mod);
ok $mf{'/usr/lib/nginx/modules/ngx_http_ticket_module.so'}, 'the module .so';
ok $mf{'/usr/share/nginx/modules-available/mod-http-ticket.conf'}, 'its load_module snippet';
ok $mf{'/usr/share/ticket/static/ticket.css'} && $mf{'/usr/share/ticket/static/ticket.js'}, 'the static files';
ok $mf{'/usr/share/doc/libnginx-mod-http-ticket/examples/ticket-site.conf'}, 'an example site';
my $postinst = `dpkg-deb --ctrl-tarfile $mod | tar -xOf - ./postinst`;
like $postinst, qr{ln -sf /usr/share/nginx/modules-available/\$from\s*\\\s*/etc/nginx/modules-enabled/\$to}s,
    'postinst enables the module (dh_nginx)';
like $postinst, qr/adduser --quiet www-data redis/, "and lets nginx's workers reach the Redis socket";

# ---- mailbridge, ticketctl -------------------------------------------------
$dep = field($mb, 'Depends');
like $dep, qr/\bredis-server \(>= 5:7\.0\)/, 'ticket-mailbridge depends on redis-server';
like $dep, qr/\bredis-redisearch\b/, 'and RediSearch';
like $dep, qr/\blibgmime-3\.0-0\b.*\blibgpgme11\b/, 'and the libraries by name';
my %bf = map { $_ => 1 } files($mb);
ok $bf{$_}, $_ for qw(/usr/bin/mailbridge /usr/bin/ticketctl
    /lib/systemd/system/ticket-mailbridge.service /etc/redis/redis-ticket.conf
    /etc/ticket/mailbridge.conf /usr/share/ticket/redis/redis.conf
    /usr/share/man/man1/mailbridge.1.gz /usr/share/man/man1/ticketctl.1.gz);
my $conffiles = `dpkg-deb --ctrl-tarfile $mb | tar -xOf - ./conffiles`;
like $conffiles, qr{^/etc/redis/redis-ticket\.conf$}m, 'the Redis config is a conffile';
like $conffiles, qr{^/etc/ticket/mailbridge\.conf$}m, 'the mailbridge config is a conffile';

my $unit = `dpkg-deb --fsys-tarfile $mb | tar -xOf - ./lib/systemd/system/ticket-mailbridge.service`;
like $unit, qr/^$_$/m, "unit: $_" for ('User=ticket', 'ProtectSystem=strict',
    'NoNewPrivileges=yes', 'StateDirectory=ticket', 'PrivateTmp=yes',
    'CapabilityBoundingSet=', 'ExecStart=/usr/bin/mailbridge -c /etc/ticket/mailbridge.conf run');
my $rconf = `dpkg-deb --fsys-tarfile $mb | tar -xOf - ./etc/redis/redis-ticket.conf`;
like $rconf, qr/^appendonly yes$/m, 'the Redis instance runs with AOF';
like $rconf, qr/^appendfsync always$/m, 'fsynced before it answers';
like $rconf, qr{^unixsocket /run/redis-ticket/redis-server\.sock$}m, 'on the socket redis-server@ticket provides';
like $rconf, qr{^include /usr/share/ticket/redis/redis\.conf$}m, 'loading RediSearch through the schema settings';
my $site = `dpkg-deb --fsys-tarfile $mod | tar -xOf - ./usr/share/doc/libnginx-mod-http-ticket/examples/ticket-site.conf`;
like $site, qr{ticket_redis unix:/run/redis-ticket/redis-server\.sock;}, 'the example site uses that socket';

my $bin = `dpkg-deb --fsys-tarfile $mb | tar -xOf - ./usr/bin/ticketctl | strings | grep redis-server.sock`;
like $bin, qr{unix:/run/redis-ticket/redis-server\.sock}, "the packaged ticketctl's default Redis is the instance";

done_testing;
