# mailbridge run over TLS: Dovecot with a self-signed certificate for
# 127.0.0.1, once with STARTTLS on the IMAP port (tls = starttls) and once
# with implicit TLS (imaps://).  The certificate is verified against
# ca_file; a server without STARTTLS is refused when TLS is required.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Net::EmptyPort qw(empty_port wait_port);
use File::Path qw(make_path);
use TK;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'needs openssl and dovecot' unless -x '/usr/bin/openssl' && -x '/usr/sbin/dovecot';

my $tk = MB::setup();
my $d = $tk->dir . '/dovecot-tls';
make_path("$d/run", "$d/mail", "$d/state");
system('chown', 'nobody:nogroup', "$d/mail") if $> == 0;
my ($uid, $gid) = $> == 0 ? ('nobody', 'nogroup') : (scalar getpwuid($>), scalar getgrgid($)));

my ($rc, undef, $err) = TK::run_cmd('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
    '-keyout', "$d/key.pem", '-out', "$d/cert.pem", '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1');
is $rc, 0, 'self-signed certificate' or diag $err;

my ($imap, $imaps, $plain) = (empty_port(), empty_port(), empty_port());
TK::write_file("$d/users", "agent:{PLAIN}secret\n");
TK::write_file("$d/dovecot.conf", <<"CONF");
protocols = imap
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot-internal.log
ssl = yes
ssl_cert = <$d/cert.pem
ssl_key = <$d/key.pem
disable_plaintext_auth = yes
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
    port = $imap
  }
  inet_listener imaps {
    port = $imaps
    ssl = yes
  }
}
CONF
$tk->spawn('dovecot-tls', 'dovecot', '-F', '-c', "$d/dovecot.conf");
wait_port({ port => $_, max_wait => 10 }) or die "dovecot: " . TK::read_file("$d/dovecot-internal.log")
    for $imap, $imaps;

# a delivery straight into the maildir (no TLS client in core Perl);
# owned by the mail uid, written in tmp/ and renamed, as an MDA does
my $seq = 0;
sub append {
    my ($mail) = @_;
    my $md = "$d/mail/agent/Maildir";
    make_path("$md/tmp", "$md/new", "$md/cur");
    system('chown', '-R', "$uid:$gid", "$d/mail/agent") if $> == 0;
    my $name = time . ".M" . ++$seq . "P$$.test";
    TK::write_file("$md/tmp/$name", $mail);
    system('chown', "$uid:$gid", "$md/tmp/$name") if $> == 0;
    rename "$md/tmp/$name", "$md/new/$name" or die "rename: $!";
}

sub conf {
    my ($url, %o) = @_;
    MB::write_conf($tk, extra => join '',
        "mailbox.tls.url = $url\n", "mailbox.tls.user = agent\n", "mailbox.tls.password = secret\n",
        "mailbox.tls.poll = 1\n", "mailbox.tls.ca_file = $d/cert.pem\n",
        map { "mailbox.tls.$_ = $o{$_}\n" } sort keys %o);
}

for my $case ([ 'STARTTLS', "imap://127.0.0.1:$imap/INBOX", tls => 'starttls' ],
              [ 'imaps', "imaps://127.0.0.1:$imaps/INBOX" ]) {
    my ($name, $url, %o) = @$case;
    subtest "$name, certificate verified" => sub {
        conf($url, %o);
        my $mail = MB::mail(subject => "Ueber $name");
        append($mail);
        my ($rc, undef, $err) = MB::mailbridge($tk, 'run', '--once');
        is $rc, 0, 'exit 0' or diag $err;
        ok MB::where($tk, MB::msgid_of($mail)), 'stored';
    };
}

subtest 'a certificate that does not verify: nothing fetched' => sub {
    MB::write_conf($tk, extra => "mailbox.tls.url = imaps://127.0.0.1:$imaps/INBOX\n"
        . "mailbox.tls.user = agent\nmailbox.tls.password = secret\n");
    my $mail = MB::mail(subject => 'Falsches Zertifikat');
    append($mail);
    my ($rc, undef, $err) = MB::mailbridge($tk, 'run', '--once');
    is $rc, 75, 'exit 75';
    like $err, qr/certificate|SSL/i, 'says why';
    ok !MB::where($tk, MB::msgid_of($mail)), 'not stored';
};

subtest 'TLS required, server without STARTTLS: refused, password not sent' => sub {
    my $plain = $tk->start_dovecot;
    MB::write_conf($tk, extra => "mailbox.p.url = imap://127.0.0.1:$plain->{port}/INBOX\n"
        . "mailbox.p.user = agent\nmailbox.p.password = secret\nmailbox.p.tls = starttls\n");
    my ($rc, undef, $err) = MB::mailbridge($tk, 'run', '--once');
    is $rc, 75, 'exit 75';
    like $err, qr/STARTTLS|SSL|TLS/i, 'says why';
    unlike TK::read_file("$plain->{dir}/dovecot-internal.log"), qr/Login: user=<agent>/, 'no login happened';
};

done_testing;
