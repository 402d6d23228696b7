# mailbridge deliver: exit codes, what a stored mail looks like,
# duplicates, mails without From/Message-ID, oversized mail, quarantine,
# and the config file permission check.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
require "$FindBin::Bin/mail_lib.pl";

# The raw mail as stored: gzip (SCHEMA.md) unless it did not shrink.
sub raw_of {
    my ($key) = @_;
    my $v = $main::tk->redis->get($key);
    return $v unless defined $v && substr($v, 0, 2) eq "\x1f\x8b";
    gunzip(\$v => \my $out) or die "gunzip $key: $GunzipError\n";
    return $out;
}

our $tk = MB::setup(extra => "max_size = 64k\n");

subtest 'a first mail becomes a new ticket in the recipient\'s group' => sub {
    my $mail = MB::mail(subject => '=?UTF-8?Q?Polizei_hat_mein_Handy_beschlagnahmt?=',
        to => 'ALSO <also@example.org>');
    my ($rc, $out, $err) = MB::deliver($tk, $mail, '--recipient', 'also@example.org');
    is $rc, 0, 'exit 0' or diag $err;
    my ($n, $a) = MB::stored($tk, MB::msgid_of($mail));
    ok $n, 'Message-ID indexed';
    my $t = MB::ticket($tk, $n);
    is $t->{title}, 'Polizei hat mein Handy beschlagnahmt', 'title = decoded subject';
    is $t->{group}, 'ALSO', 'group from --recipient';
    is $t->{state}, 1, 'state new';
    is $t->{priority}, 2, 'priority normal';
    is $t->{owner}, '', 'unassigned';
    is $t->{customer_email}, 'anna@example.net', 'customer address';
    is $t->{customer_name}, 'Anna Aktiv', 'customer name';
    is $tk->redis->hget(TK_KEY_CUSTOMER_BY_EMAIL, 'anna@example.net'), $t->{customer},
        'customer indexed by address';
    is $a->{kind}, 'in', 'article kind in';
    like $a->{body}, qr/^Hallo,\nbitte helft mir\.$/, 'body text, LF line ends';
    is $a->{author}, '', 'no author';
    ok $tk->redis->exists(tk_key_raw($n, $a->{id})), 'raw mail kept';
    is raw_of(tk_key_raw($n, $a->{id})), $mail, 'raw mail byte-exact';
    ok $tk->redis->sismember(tk_key_participants($n), 'anna@example.net'), 'customer is a participant';
    is_deeply $tk->index_counts, $tk->expected_counts, 'overview counts consistent';
};

subtest 'the raw mail is stored gzip-compressed, readable with gunzip' => sub {
    my $text = "Die Polizei hat bei der Demo meine Personalien aufgenommen.\r\n" x 80;
    my $mail = MB::mail(subject => 'Komprimiert', body => $text);
    my ($rc, undef, $err) = MB::deliver($tk, $mail);
    is $rc, 0, 'exit 0' or diag $err;
    my ($n, $a) = MB::stored($tk, MB::msgid_of($mail));
    my $stored = $tk->redis->get(tk_key_raw($n, $a->{id}));
    is substr($stored, 0, 2), "\x1f\x8b", 'gzip magic';
    ok length($stored) < length($mail) / 4, 'much smaller than the mail ('
        . length($stored) . ' of ' . length($mail) . ' bytes)';
    ok gunzip(\$stored => \my $plain), 'gunzip reads it' or diag $GunzipError;
    is $plain, $mail, 'gunzip gives the mail byte for byte';
    is $a->{size}, length($mail), 'size is the uncompressed size';
};

subtest '--group wins, the address map and default_group apply otherwise' => sub {
    my $m1 = MB::mail(to => 'also@example.org');
    is((MB::deliver($tk, $m1, '--group', 'legal'))[0], 0, 'delivered');
    is MB::ticket($tk, (MB::stored($tk, MB::msgid_of($m1)))[0])->{group}, 'legal', '--group';
    my $m2 = MB::mail(to => 'also@example.org');
    is((MB::deliver($tk, $m2))[0], 0, 'delivered');
    is MB::ticket($tk, (MB::stored($tk, MB::msgid_of($m2)))[0])->{group}, 'ALSO', 'To: mapped';
    my $m4 = MB::mail(to => 'also+dringend@example.org');
    is((MB::deliver($tk, $m4, '--recipient', 'also+dringend@example.org'))[0], 0, 'delivered');
    is MB::ticket($tk, (MB::stored($tk, MB::msgid_of($m4)))[0])->{group}, 'ALSO', 'address extension: also+x@';
    my $m3 = MB::mail(to => 'someone@else.example');
    is((MB::deliver($tk, $m3))[0], 0, 'delivered');
    is MB::ticket($tk, (MB::stored($tk, MB::msgid_of($m3)))[0])->{group}, 'legal', 'default_group';
};

subtest 'the same mail twice is stored once' => sub {
    my $mail = MB::mail(subject => 'Zweimal');
    my $before = MB::article_count($tk);
    is((MB::deliver($tk, $mail))[0], 0, 'first') for 1;
    my ($rc, $out, $err) = MB::deliver($tk, $mail);
    is $rc, 0, 'second delivery: exit 0';
    like $err, qr/duplicate/, 'logged as duplicate';
    is MB::article_count($tk), $before + 1, 'one article';
};

subtest 'without Message-ID: duplicates found by the raw bytes' => sub {
    my $mail = MB::mail(subject => 'Ohne ID', message_id => undef);
    my $tickets = MB::ticket_count($tk);
    is((MB::deliver($tk, $mail))[0], 0, 'first');
    is((MB::deliver($tk, $mail))[0], 0, 'second');
    is MB::ticket_count($tk), $tickets + 1, 'one ticket';
    my @raw = $tk->redis->keys(tk_key_rawhash('*'));
    ok scalar(@raw) >= 1, 'tk:raw:SHA256 dedup key';
    my $other = MB::mail(subject => 'Ohne ID', message_id => undef, body => "anders\r\n");
    is((MB::deliver($tk, $other))[0], 0, 'different bytes');
    is MB::ticket_count($tk), $tickets + 2, 'a second ticket';
};

subtest 'no From, no Date, no Message-ID: accepted' => sub {
    my $mail = "Subject: anonym\r\n\r\nnur Text\r\n";
    my $tickets = MB::ticket_count($tk);
    my ($rc, undef, $err) = MB::deliver($tk, $mail);
    is $rc, 0, 'exit 0' or diag $err;
    is MB::ticket_count($tk), $tickets + 1, 'a ticket';
    my $t = MB::ticket($tk, $tickets + 1);
    is $t->{title}, 'anonym', 'title';
    is $t->{customer_email}, '', 'no customer address';
    my $a = MB::article($tk, $tickets + 1, MB::article_ids($tk, $tickets + 1)->[0]);
    like $a->{flags}, qr/\bno-sender\b/, 'flag no-sender';
    is $a->{body}, 'nur Text', 'body';
};

subtest 'an mbox "From " line (procmail, .forward) is not part of the mail' => sub {
    my $mail = MB::mail(subject => 'Mit From-Zeile');
    my ($rc, undef, $err) = MB::deliver($tk, "From anna\@example.net  Mon Nov 23 10:00:00 2026\n$mail");
    is $rc, 0, 'exit 0' or diag $err;
    my ($n, $a) = MB::stored($tk, MB::msgid_of($mail));
    is raw_of(tk_key_raw($n, $a->{id})), $mail, 'raw mail without the From_ line';
    my $bounce = MB::mail(subject => 'Von MAILER-DAEMON');
    ($rc) = MB::deliver($tk, "From MAILER-DAEMON Mon Nov 23 10:00:00 2026\n$bounce");
    ($n) = MB::stored($tk, MB::msgid_of($bounce));
    like MB::ticket($tk, $n)->{flags}, qr/\bauto\b/, 'From MAILER-DAEMON: null sender, auto';
};

subtest 'no subject: "(no subject)"' => sub {
    my $mail = MB::mail(subject => undef);
    is((MB::deliver($tk, $mail))[0], 0, 'exit 0');
    my ($n) = MB::stored($tk, MB::msgid_of($mail));
    is MB::ticket($tk, $n)->{title}, '(no subject)', 'title';
};

subtest 'oversized mail: a ticket that says so, headers only' => sub {
    my $big = "x" x 100 . "\r\n";
    my $mail = MB::mail(subject => 'Riesig', body => $big x 2000);   # ~200 KB > 64k
    my ($rc, undef, $err) = MB::deliver($tk, $mail);
    is $rc, 0, 'exit 0' or diag $err;
    my ($n, $a) = MB::stored($tk, MB::msgid_of($mail));
    ok $n, 'stored';
    like $a->{flags}, qr/\boversized\b/, 'flag oversized';
    like $a->{body}, qr/larger|more than the limit/, 'the article says so';
    is $a->{size}, length($mail), 'real size recorded';
    my $raw = raw_of(tk_key_raw($n, $a->{id}));
    ok length($raw) < 1000, 'only the headers kept';
    like $raw, qr/^Subject: Riesig/m, 'headers kept';
};

subtest 'nothing parseable: quarantined, exit 0' => sub {
    my ($rc, undef, $err) = MB::deliver($tk, '');
    is $rc, 0, 'empty input: exit 0';
    my @q = $tk->redis->zrange(TK_KEY_QUARANTINE, 0, -1);
    is scalar(@q), 1, 'one quarantined entry';
    my %h = $tk->redis->hgetall(tk_key_quarantine($q[0]));
    like $h{reason}, qr/empty/, 'reason';
    ok $h{time} > 0, 'time';
    is $h{source}, 'deliver', 'source';
};

subtest 'Redis unreachable: exit 75, nothing lost' => sub {
    my $path = $tk->dir . '/down.conf';
    TK::write_file($path, "redis = unix:" . $tk->dir . "/nowhere.sock\nredis_timeout = 500\n");
    chmod 0600, $path;
    my ($rc, undef, $err) = TK::run_cmd({ stdin => MB::mail() }, MB::bin(), '-c', $path, 'deliver');
    is $rc, 75, 'EX_TEMPFAIL';
    like $err, qr/not stored/, 'says so';
};

subtest 'Redis stopped: 75; started again: 0' => sub {
    my $mail = MB::mail(subject => 'Während Redis schläft');
    $tk->stop_redis;
    my ($rc) = MB::deliver($tk, $mail);
    is $rc, 75, 'EX_TEMPFAIL while down';
    $tk->start_redis;
    ($rc) = MB::deliver($tk, $mail);
    is $rc, 0, 'stored after the restart';
    ok MB::where($tk, MB::msgid_of($mail)), 'indexed';
};

subtest 'config with a password readable by others' => sub {
    my $path = $tk->dir . '/open.conf';
    TK::write_file($path, "redis = " . $tk->redis_url . "\n"
        . "mailbox.x.url = imap://127.0.0.1:1/INBOX\nmailbox.x.user = u\n"
        . "mailbox.x.password = geheim\n");
    chmod 0644, $path;
    my ($rc, undef, $err) = TK::run_cmd(MB::bin(), '-c', $path, 'check');
    is $rc, 78, 'check: EX_CONFIG';
    like $err, qr/readable by group or others/, 'says why';
    ($rc) = TK::run_cmd(MB::bin(), '-c', $path, 'run', '--once');
    is $rc, 78, 'run: EX_CONFIG';
    ($rc, undef, $err) = TK::run_cmd({ stdin => MB::mail() }, MB::bin(), '-c', $path, 'deliver');
    is $rc, 75, 'deliver: EX_TEMPFAIL (Postfix bounces on 78)';
    chmod 0600, $path;
    ($rc, undef, $err) = TK::run_cmd(MB::bin(), '-c', $path, 'check');
    is $rc, 0, 'chmod 600: check passes' or diag $err;
};

subtest 'bad config and usage: never exit 1' => sub {
    my $path = $tk->dir . '/bad.conf';
    TK::write_file($path, "no_such_key = 1\n");
    chmod 0600, $path;
    my ($rc, undef, $err) = TK::run_cmd(MB::bin(), '-c', $path, 'check');
    is $rc, 78, 'unknown key: EX_CONFIG';
    like $err, qr/unknown key "no_such_key"/, 'names the key';
    ($rc) = TK::run_cmd({ stdin => MB::mail() }, MB::bin(), '-c', $path, 'deliver');
    is $rc, 75, 'deliver with a bad config: 75';
    ($rc) = TK::run_cmd({ stdin => MB::mail() }, MB::bin(), '-c', MB::conf($tk), 'deliver', '--bogus');
    is $rc, 75, 'deliver with a bad option: 75';
    ($rc) = TK::run_cmd(MB::bin(), 'nothing');
    is $rc, 64, 'usage: EX_USAGE';
};

done_testing;
