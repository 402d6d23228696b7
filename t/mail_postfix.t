# The Postfix pipe(8) setup of docs/mailbridge.md, for real: a private
# Postfix instance hands mail for legal@example.org to "mailbridge
# deliver"; with Redis down the mail is deferred (exit 75) and delivered
# once Redis is back -- never bounced.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Uncompress::Gunzip ();
use Net::SMTP;
use Net::EmptyPort qw(empty_port);
use File::Path qw(make_path);
use TK;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'needs root and Postfix (postfix, pipe)'
    unless $> == 0 && -x '/usr/sbin/postfix' && -x '/usr/lib/postfix/sbin/pipe'
        && getpwnam('postfix') && getpwnam('nobody');

my $tk = MB::setup();
my $P = $tk->dir . '/postfix';
my $port = empty_port();
make_path("$P/etc", "$P/spool", "$P/data");
chown scalar(getpwnam('postfix')), -1, "$P/data";

# mailbridge runs as nobody: its config must be nobody's, mode 600
my $conf = MB::write_conf($tk, path => "$P/mailbridge.conf");
chown scalar(getpwnam('nobody')), -1, $conf;
my $bin = MB::bin();

TK::write_file("$P/etc/main.cf", <<"CF");
compatibility_level = 3.6
queue_directory = $P/spool
data_directory = $P/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.example.test
mydestination =
relay_domains = example.org
transport_maps = inline:{ legal\@example.org=mailbridge: , also\@example.org=mailbridge: }
mailbridge_destination_recipient_limit = 1
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
local_recipient_maps =
maillog_file = $P/maillog
maillog_file_prefixes = /tmp
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
CF

# Debian's master.cf without chroot, smtpd on our port, plus mailbridge
my $master = join '', map { s/^smtp(\s+)inet/127.0.0.1:$port$1inet/r }
    grep { !/^#/ && /\S/ } split /^/, TK::read_file('/etc/postfix/master.cf');
$master =~ s/^(\S+\s+\S+\s+\S+\s+\S+\s+)y(\s)/$1n$2/mg;
$master .= "postlog   unix-dgram n  -       n       -       1       postlogd\n" unless $master =~ /^postlog/m;
$master .= <<"CF";
mailbridge unix  -       n       n       -       2       pipe
  flags=Rq user=nobody null_sender=
  argv=$bin -c $conf deliver --recipient \${recipient} --sender \${sender}
CF
TK::write_file("$P/etc/master.cf", $master);

my ($rc, $out, $err) = TK::run_cmd('/usr/sbin/postfix', '-c', "$P/etc", 'start');
is $rc, 0, 'postfix started' or diag $err, TK::read_file("$P/maillog");
END { TK::run_cmd('/usr/sbin/postfix', '-c', "$P/etc", 'stop') if $P && -e "$P/spool/pid/master.pid" }

sub send_mail {
    my ($from, $to, $mail) = @_;
    my $smtp = Net::SMTP->new("127.0.0.1:$port", Hello => 'client.test', Timeout => 10)
        or die "smtp: $@";
    $smtp->mail($from) or die 'MAIL FROM: ' . $smtp->message;
    $smtp->to($to) or die 'RCPT TO: ' . $smtp->message;
    $smtp->data($mail) or die 'DATA: ' . $smtp->message;
    $smtp->quit;
}

subtest 'SMTP -> Postfix -> pipe -> mailbridge deliver -> ticket' => sub {
    my $mail = MB::mail(to => 'ALSO <also@example.org>', subject => 'Ueber Postfix');
    send_mail('anna@example.net', 'also@example.org', $mail);
    TK::wait_for('the ticket', 20, sub { MB::where($tk, MB::msgid_of($mail)) });
    my ($n, $a) = MB::stored($tk, MB::msgid_of($mail));
    is MB::ticket($tk, $n)->{group}, 'ALSO', 'group from ${recipient}';
    # Postfix logs "sent" when the pipe's mailbridge has exited, which
    # may be after the ticket is there (an ASan build exits slowly)
    eval { TK::wait_for('Postfix: sent', 20, sub { TK::read_file("$P/maillog") =~ /relay=mailbridge.*status=sent/ }) };
    like TK::read_file("$P/maillog"), qr/relay=mailbridge.*status=sent/, 'Postfix: sent';
    my $raw = $tk->redis->get(tk_key_raw($n, $a->{id}));
    IO::Uncompress::Gunzip::gunzip(\(my $gz = $raw) => \$raw) if substr($raw, 0, 2) eq "\x1f\x8b";
    like $raw, qr/^Return-Path: <anna\@example\.net>/,
        'flags=R: Return-Path kept in the raw mail';
};

subtest 'null sender (${sender} empty): auto' => sub {
    my $mail = MB::mail(subject => 'Benachrichtigung', from => 'system@example.net');
    send_mail('', 'legal@example.org', $mail);
    TK::wait_for('the ticket', 20, sub { MB::where($tk, MB::msgid_of($mail)) });
    my ($n) = MB::stored($tk, MB::msgid_of($mail));
    like MB::ticket($tk, $n)->{flags}, qr/\bauto\b/, 'flag auto';
};

subtest 'Redis down: deferred (not bounced), delivered when it is back' => sub {
    $tk->stop_redis;
    my $mail = MB::mail(subject => 'Waehrend der Wartung');
    send_mail('anna@example.net', 'legal@example.org', $mail);
    TK::wait_for('a deferral', 20, sub { TK::read_file("$P/maillog") =~ /relay=mailbridge.*status=deferred/ });
    unlike TK::read_file("$P/maillog"), qr/status=bounced/, 'nothing bounced';
    $tk->start_redis;
    TK::run_cmd('/usr/sbin/postqueue', '-c', "$P/etc", '-f');
    TK::wait_for('the ticket', 30, sub { MB::where($tk, MB::msgid_of($mail)) });
    pass 'stored after the retry';
};

done_testing;
