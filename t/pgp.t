# PGP in mailbridge (issue 10): throwaway key pairs per run (gpg --batch
# --quick-gen-key, no passphrase, temp GNUPGHOMEs); inbound PGP/MIME and
# inline PGP decrypted and marked, bad / unknown signatures, undecryptable
# mail stored with decrypt-failed; key metadata in Redis; the key request
# stream; the key admin page; mb_crypto_protect output decrypts for every
# recipient.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;
use TKUI;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Time::HiRes qw(time sleep);
use JSON::PP ();
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'gpg is not installed' unless -x '/usr/bin/gpg';

our $tk = TK->new;                     # Redis, nginx (the key page)
$tk->add_group($_) for qw(legal ALSO);
my $dir = $tk->dir;
my $home = "$dir/mb-gnupg";           # mailbridge's keyring
MB::write_conf($tk, extra => "gnupg_home = $home\n");

# ---- gpg helpers ----------------------------------------------------------

my %homes;                             # name -> GNUPGHOME
sub gpg {
    my ($name, $stdin, @args) = @_;
    my $h = $name eq 'mb' ? $home : $homes{$name};
    local $ENV{GNUPGHOME} = $h;
    return TK::run_cmd({ stdin => $stdin // '' }, 'gpg', '--batch', '--yes',
        '--pinentry-mode', 'loopback', '--passphrase', '', '--trust-model', 'always', @args);
}
sub newhome {
    my ($name) = @_;
    my $h = "$dir/gnupg-$name";
    mkdir $h, 0700 or die "$h: $!";
    $homes{$name} = $h;
}
sub genkey {
    my ($name, $uid, $expire) = @_;
    my ($rc, undef, $err) = gpg($name, '', '--quick-gen-key', $uid, 'future-default', 'default',
        $expire // 'never');
    die "keygen $uid: $err" if $rc;
    my ($addr) = $uid =~ /<([^>]+)>/;
    return fpr($name, $addr);
}
sub fpr {
    my ($name, $addr) = @_;
    my (undef, $out) = gpg($name, '', '--with-colons', '--list-keys', $addr);
    return $out =~ /^fpr:+([0-9A-F]{40}):/m ? $1 : undef;
}
sub export { (gpg($_[0], '', '--armor', '--export', $_[1]))[1] }
sub import_to { my ($name, $text) = @_; my ($rc, undef, $e) = gpg($name, $text, '--import'); die $e if $rc }

mkdir $home, 0700;
newhome($_) for qw(anna stranger);
my $legal = genkey('mb', 'Legal Gruppe <legal@example.org>');
my $anna = genkey('anna', 'Anna Aktiv <anna@example.net>');
my $stranger = genkey('stranger', 'Fremd <fremd@example.com>');
ok $legal && $anna && $stranger, 'throwaway keys created';
import_to('anna', export('mb', 'legal@example.org'));
import_to('mb', export('anna', 'anna@example.net'));

# gpg-agents started for the throwaway homes end with the test
END { for my $h ($home, values %homes) { system('gpgconf', '--homedir', $h, '--kill', 'gpg-agent') if $h && -d $h } }

sub crlf { (my $s = $_[0]) =~ s/\r?\n/\r\n/g; $s }

my $inner = crlf("Content-Type: text/plain; charset=UTF-8\n"
    . "Content-Transfer-Encoding: 8bit\n\n"
    . "Geheim: die Durchsuchung war am Dienstag. \xc3\xa4\xc3\xb6\xc3\xbc\n");

# PGP/MIME encrypted (+ signed by $signer when given) to legal@
sub pgpmime_encrypted {
    my ($from, $signer, $payload, %h) = @_;
    my @sign = $signer ? ('--sign', '--local-user', $signer) : ();
    my ($rc, $ct, $err) = gpg($from, $payload, '--armor', '--encrypt',
        '--recipient', $h{to_key} // 'legal@example.org', @sign);
    die "encrypt: $err" if $rc;
    return MB::mail(%{ $h{headers} // {} },
        'MIME-Version' => '1.0',
        'Content-Type' => 'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="ENC"',
        body => crlf("This is an OpenPGP/MIME encrypted message\n--ENC\n"
            . "Content-Type: application/pgp-encrypted\n\nVersion: 1\n\n--ENC\n"
            . "Content-Type: application/octet-stream; name=\"encrypted.asc\"\n\n"
            . $ct . "\n--ENC--\n"));
}

# PGP/MIME signed by $who; $tamper changes the content after signing
sub pgpmime_signed {
    my ($who, $addr, $tamper) = @_;
    my $part = crlf("Content-Type: text/plain; charset=UTF-8\n\nUnterschrieben von mir.\n");
    my ($rc, $sig, $err) = gpg($who, $part, '--armor', '--detach-sign', '--local-user', $addr);
    die "sign: $err" if $rc;
    $part =~ s/mir/dir/ if $tamper;
    return MB::mail(from => "Someone <$addr>",
        'MIME-Version' => '1.0',
        'Content-Type' => 'multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="SIG"',
        body => "--SIG\r\n$part\r\n--SIG\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n"
            . crlf($sig) . "\r\n--SIG--\r\n");
}

sub deliver_ok {
    my ($mail, $what) = @_;
    my ($rc, undef, $err) = MB::deliver($tk, $mail);
    is $rc, 0, "$what: exit 0" or diag $err;
    my ($n, $a) = MB::stored($tk, MB::msgid_of($mail));
    ok $a, "$what: stored" or return;
    return ($n, $a);
}
sub flags { my %f = map { $_ => 1 } split /,/, $_[0]{flags} // ''; \%f }
sub raw_of {
    my ($key) = @_;
    my $v = $tk->redis->get($key);
    return $v unless defined $v && substr($v, 0, 2) eq "\x1f\x8b";
    gunzip(\$v => \my $out) or die "gunzip $key: $GunzipError\n";
    return $out;
}

# ---- inbound -------------------------------------------------------------

subtest 'PGP/MIME encrypted + signed: decrypted, flagged, pgp_sig valid' => sub {
    my $mail = pgpmime_encrypted('anna', 'anna@example.net', $inner);
    my ($n, $a) = deliver_ok($mail, 'encrypted mail');
    like $a->{body}, qr/^Geheim: die Durchsuchung war am Dienstag\. \x{e4}\x{f6}\x{fc}|^Geheim: die Durchsuchung war am Dienstag\. \xc3\xa4/,
        'body is the decrypted text';
    my $f = flags($a);
    ok $f->{encrypted} && $f->{signed}, 'flags encrypted,signed';
    ok !$f->{'decrypt-failed'}, 'not decrypt-failed';
    like $a->{pgp_sig}, qr/^valid $anna Anna Aktiv <anna\@example\.net>$/, 'pgp_sig valid FPR UID';
    is $a->{attachments}, 0, 'no encrypted.asc attachment';
    is raw_of("tk:{t:$n}:a:$a->{id}:raw"), $mail, 'raw mail kept byte-exact (still encrypted)';
    my @hits = $tk->redis->__std_cmd('FT.SEARCH', 'tk:ft:articles', 'Durchsuchung', 'NOCONTENT');
    ok $hits[0] >= 1, 'decrypted text is in the full-text index';
};

subtest 'PGP/MIME encrypted with an attachment inside' => sub {
    my $payload = crlf("Content-Type: multipart/mixed; boundary=\"IN\"\n\n--IN\n"
        . "Content-Type: text/plain; charset=UTF-8\n\nSiehe Anhang.\n--IN\n"
        . "Content-Type: application/pdf; name=\"bescheid.pdf\"\n"
        . "Content-Disposition: attachment; filename=\"bescheid.pdf\"\n"
        . "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--IN--\n");
    my ($n, $a) = deliver_ok(pgpmime_encrypted('anna', undef, $payload), 'encrypted multipart');
    is $a->{body}, 'Siehe Anhang.', 'body from the decrypted entity';
    is $a->{attachments}, 1, 'one attachment';
    is $tk->redis->hget("tk:{t:$n}:a:$a->{id}:att:1", 'name'), 'bescheid.pdf', 'decrypted attachment';
    is $tk->redis->hget("tk:{t:$n}:a:$a->{id}:att:1", 'data'), "%PDF-1.4\n", 'attachment bytes';
    ok flags($a)->{encrypted} && !flags($a)->{signed}, 'encrypted, not signed';
    ok !defined $a->{pgp_sig}, 'no pgp_sig without a signature';
};

subtest 'inline PGP: encrypted+signed and clear-signed' => sub {
    my ($rc, $ct) = gpg('anna', "Inline geheim: Treffen um 8.\n", '--armor', '--encrypt',
        '--sign', '--local-user', 'anna@example.net', '--recipient', 'legal@example.org');
    my ($n, $a) = deliver_ok(MB::mail(body => crlf("Hallo,\n\n$ct\nGruss\n")), 'inline encrypted');
    like $a->{body}, qr/Inline geheim: Treffen um 8\./, 'decrypted inline text';
    unlike $a->{body}, qr/BEGIN PGP MESSAGE/, 'armour replaced';
    like $a->{body}, qr/^Hallo,.*Gruss$/s, 'text around the block kept';
    ok flags($a)->{encrypted} && flags($a)->{signed}, 'flags';
    like $a->{pgp_sig}, qr/^valid $anna /, 'pgp_sig valid';

    my (undef, $cs) = gpg('anna', "Klartext, aber unterschrieben.\n", '--clearsign',
        '--local-user', 'anna@example.net');
    (undef, $a) = deliver_ok(MB::mail(body => crlf($cs)), 'inline clear-signed');
    is $a->{body}, 'Klartext, aber unterschrieben.', 'signed text without armour';
    ok flags($a)->{signed} && !flags($a)->{encrypted}, 'flag signed';
    like $a->{pgp_sig}, qr/^valid $anna /, 'pgp_sig valid';

    (my $bad = $cs) =~ s/Klartext/Falschtext/;
    (undef, $a) = deliver_ok(MB::mail(body => crlf($bad)), 'inline tampered');
    like $a->{pgp_sig}, qr/^bad /, 'tampered clear-signed: bad';
};

subtest 'PGP/MIME signed: valid, bad, unknown key' => sub {
    my (undef, $a) = deliver_ok(pgpmime_signed('anna', 'anna@example.net'), 'signed');
    like $a->{pgp_sig}, qr/^valid $anna Anna Aktiv/, 'valid';
    is $a->{body}, 'Unterschrieben von mir.', 'body is the signed text';
    ok flags($a)->{signed}, 'flag signed';

    (undef, $a) = deliver_ok(pgpmime_signed('anna', 'anna@example.net', 1), 'tampered');
    like $a->{pgp_sig}, qr/^bad $anna/, 'tampered: bad';

    (undef, $a) = deliver_ok(pgpmime_signed('stranger', 'fremd@example.com'), 'unknown signer');
    like $a->{pgp_sig}, qr/^unknown-key [0-9A-F]{16,40}$/, 'unknown signer: unknown-key ID';
    like $stranger, qr/\Q@{[ (split ' ', $a->{pgp_sig})[1] ]}\E$/, 'the ID is the signer\'s';
};

subtest 'a compression bomb is not decrypted into memory' => sub {
    my $payload = "Content-Type: text/plain\r\n\r\n" . ("\0" x (80 << 20));
    my $mail = pgpmime_encrypted('anna', undef, $payload);
    ok length($mail) < 2 << 20, 'an 80 MB text in a ' . int(length($mail) / 1024) . ' KB mail';
    my ($n, $a) = deliver_ok($mail, 'bomb');
    ok flags($a)->{'decrypt-failed'}, 'decrypt-failed';
    like $a->{body}, qr/larger than max_size \(25 MB\)/, 'says why (max_size)';
};

subtest 'undecryptable mail: stored raw, decrypt-failed, never lost' => sub {
    import_to('stranger', export('anna', 'anna@example.net'));
    my $mail = pgpmime_encrypted('stranger', undef, $inner, to_key => 'anna@example.net');
    my ($n, $a) = deliver_ok($mail, 'not for us');
    my $f = flags($a);
    ok $f->{encrypted} && $f->{'decrypt-failed'}, 'flags encrypted,decrypt-failed';
    like $a->{body}, qr/konnte nicht entschl\S+sselt werden/, 'German notice';
    like $a->{body}, qr/could not be decrypted/, 'English notice';
    is raw_of("tk:{t:$n}:a:$a->{id}:raw"), $mail, 'raw intact';
    is $a->{attachments}, 1, 'encrypted part attached';
    is $tk->redis->zcard('tk:quarantine'), 0, 'not quarantined';
};

# ---- outbound: mailbridge pgp-protect = mb_crypto_protect ----------------

import_to('mb', export('stranger', 'fremd@example.com'));
import_to('stranger', export('mb', 'legal@example.org'));
my $out_mail = crlf("From: Legal Gruppe <legal\@example.org>\nTo: anna\@example.net\n"
    . "Cc: fremd\@example.com\nSubject: [Ticket#1] Antwort\nMessage-ID: <tk.1.2.x\@example.org>\n"
    . "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"
    . "Hallo Anna,\nhier die Antwort. \xc3\xa4\n");

sub protect {
    my (@args) = @_;
    return TK::run_cmd({ stdin => $out_mail }, MB::bin(), '-c', MB::conf($tk), 'pgp-protect', @args);
}
sub armour_of { $_[0] =~ /(-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----)/s ? $1 : '' }

subtest 'outbound: encrypted to every recipient and the group, signed' => sub {
    my ($rc, $out, $err) = protect('--sign', $legal, 'anna@example.net', 'fremd@example.com');
    is $rc, 0, 'pgp-protect exit 0' or diag $err;
    like $out, qr{^Content-Type: multipart/encrypted;.*protocol="application/pgp-encrypted"}ms, 'multipart/encrypted';
    like $out, qr{^Subject: \[Ticket#1\] Antwort}m, 'headers kept';
    unlike $out, qr/hier die Antwort/, 'no plaintext';
    my $ct = armour_of($out);
    for my $who (qw(anna stranger mb)) {
        my ($drc, $plain, $log) = gpg($who, $ct, '--status-fd', '2', '--decrypt');
        is $drc, 0, "$who decrypts it" or diag $log;
        like $plain, qr/^Content-Type: text\/plain; charset=UTF-8\r$/m, "$who: a MIME entity inside";
        like $log, qr/VALIDSIG $legal /, "$who: signature by the group key verifies" if $who ne 'mb';
    }
    my ($n, $a) = deliver_ok($out, 'the sent mail, delivered back');
    like $a->{body}, qr/^Hallo Anna,\nhier die Antwort\. /, 'mailbridge decrypts its own sent mail';
    like $a->{pgp_sig}, qr/^valid $legal Legal Gruppe/, 'and verifies the group signature';

    my ($r2, $o2, $e2) = protect('--count', 60, '--sign', $legal, 'anna@example.net', 'fremd@example.com');
    my ($rate) = $e2 =~ /([\d.]+) mails\/s/;
    ok $rate, "encrypt+sign rate measured: @{[ $rate // '?' ]} mails/s";
    diag "encrypt+sign (2 recipients + group): $rate mails/s" if $rate;
};

subtest 'outbound: sign only (multipart/signed)' => sub {
    my ($rc, $out, $err) = protect('--sign-only', '--sign', $legal);
    is $rc, 0, 'exit 0' or diag $err;
    like $out, qr{^Content-Type: multipart/signed;.*protocol="application/pgp-signature"}ms, 'multipart/signed';
    my (undef, $a) = deliver_ok($out, 'signed mail delivered back');
    like $a->{pgp_sig}, qr/^valid $legal /, 'signature verifies';
    like $a->{body}, qr/hier die Antwort/, 'text readable';
};

subtest 'outbound: a recipient without a usable key fails permanently' => sub {
    my ($rc, $out, $err) = protect('--sign', $legal, 'anna@example.net', 'nobody@example.com');
    is $rc, 65, 'exit EX_DATAERR (MB_CRYPTO_PERM)';
    like $err, qr/no usable key for nobody\@example\.com/, 'names the address';
    is $out, '', 'nothing written';
    ($rc, undef, $err) = protect('--sign', 'DEADBEEFDEADBEEFDEADBEEF', 'anna@example.net');
    is $rc, 65, 'unknown signing key: permanent';
    like $err, qr/no usable secret key/, 'says so';
};

# ---- key metadata and requests: mailbridge keys ---------------------------

my $R = $tk->redis;
$tk->spawn('keys', MB::bin(), '-c', MB::conf($tk), 'keys');
sub members { [ sort $R->smembers('tk:pgp:keys') ] }
TK::wait_for('key metadata', 10, sub { @{ members() } >= 3 });

my $seq = 0;
sub request {
    my (%f) = @_;
    my $id = $R->xadd('tk:pgp:requests', '*', login => $f{login} // 'anna', role => $f{role} // 'agent',
        map { $_ => $f{$_} } grep { !/^(login|role)$/ } sort keys %f);
    my %res;
    TK::wait_for("result of $id", 15, sub { %res = $R->hgetall("tk:pgp:result:$id"); %res });
    $res{ttl} = $R->ttl("tk:pgp:result:$id");
    return \%res;
}

subtest 'key metadata: the keyring in Redis' => sub {
    is_deeply members(), [ sort $legal, $anna, $stranger ], 'tk:pgp:keys';
    is $R->hget('tk:pgp:addr', 'legal@example.org'), "$legal 0", 'addr: group key, never expires';
    is $R->hget('tk:pgp:addr', 'anna@example.net'), "$anna 0", 'addr: anna';
    my %k = $R->hgetall("tk:pgp:key:$legal");
    is $k{fpr}, $legal, 'fpr';
    is $k{uids}, 'Legal Gruppe <legal@example.org>', 'uids';
    is $k{emails}, 'legal@example.org', 'emails';
    is_deeply [ @k{qw(expires revoked can_encrypt can_sign secret)} ], [ 0, 0, 1, 1, 1 ], 'flags of the group key';
    ok $k{created} > 1e9, 'created';
    is $R->hget("tk:pgp:key:$anna", 'secret'), 0, 'anna: public only';
};

subtest 'requests: agent import, secret refused, delete admin-only' => sub {
    newhome('bert');
    my $bert = genkey('bert', 'Bert B <bert@example.net>');
    my $res = request(op => 'import', text => export('bert', 'bert@example.net'));
    is $res->{status}, 'ok', 'agent imports a public key' or diag $res->{message};
    is $res->{fprs}, $bert, 'result names the fingerprint';
    ok $res->{ttl} > 86000 && $res->{ttl} <= 86400, 'result expires in a day';
    is $R->hget('tk:pgp:addr', 'bert@example.net'), "$bert 0", 'addr written after the import';
    ok((grep { $_ eq $bert } @{ members() }), 'in tk:pgp:keys');
    is $R->xlen('tk:pgp:requests'), 0, 'request acknowledged and removed';

    my (undef, $sec) = gpg('bert', '', '--armor', '--export-secret-keys', 'bert@example.net');
    like $sec, qr/PRIVATE KEY BLOCK/, 'a secret key export';
    gpg('mb', '', '--yes', '--delete-keys', $bert);
    TK::wait_for('bert gone after gpg on the server deleted it', 10,
        sub { !grep { $_ eq $bert } @{ members() } });
    ok !defined $R->hget('tk:pgp:addr', 'bert@example.net'), 'addr follows a change made by gpg directly';
    $res = request(op => 'import', text => $sec);
    is $res->{status}, 'error', 'agent: secret key refused';
    like $res->{message}, qr/only be imported by admins/, 'says why';
    ok !(grep { $_ eq $bert } @{ members() }), 'nothing imported';
    my (undef, $list) = gpg('mb', '', '--list-keys', 'bert@example.net');
    is $list, '', 'keyring unchanged';

    $res = request(op => 'import', text => "not a key\n");
    is $res->{status}, 'error', 'garbage: error';

    $res = request(op => 'delete', fpr => $stranger);
    is $res->{status}, 'error', 'agent cannot delete';
    ok((grep { $_ eq $stranger } @{ members() }), 'still there');
    $res = request(op => 'delete', fpr => $stranger, role => 'admin', login => 'admin');
    is $res->{status}, 'ok', 'admin deletes' or diag $res->{message};
    ok !(grep { $_ eq $stranger } @{ members() }), 'gone from tk:pgp:keys';
    ok !$R->exists("tk:pgp:key:$stranger"), 'key hash gone';
    ok !defined $R->hget('tk:pgp:addr', 'fremd@example.com'), 'address gone';
    my ($rc, undef, $err) = protect('anna@example.net', 'fremd@example.com');
    like $err, qr/no usable key for fremd\@example\.com/, 'and no longer used for sending';
};

subtest 'expired and revoked keys are never in tk:pgp:addr' => sub {
    newhome('old');
    my ($rc, undef, $err) = gpg('old', '', '--faked-system-time', '20200101T000000!',
        '--quick-gen-key', 'Alt <alt@example.net>', 'future-default', 'default', '1y');
    is $rc, 0, 'key that expired in 2021' or diag $err;
    my $old = fpr('old', 'alt@example.net');
    newhome('rev');
    my $rev = genkey('rev', 'Widerrufen <rev@example.net>');
    my $cert = TK::read_file("$homes{rev}/openpgp-revocs.d/$rev.rev");
    $cert =~ s/^:-----/-----/m;
    import_to('rev', $cert);
    my $res = request(op => 'import', text => export('old', 'alt@example.net') . export('rev', 'rev@example.net'),
        role => 'admin');
    is $res->{status}, 'ok', 'imported' or diag $res->{message};
    ok((grep { $_ eq $old } @{ members() }), 'expired key listed');
    ok((grep { $_ eq $rev } @{ members() }), 'revoked key listed');
    ok !defined $R->hget('tk:pgp:addr', 'alt@example.net'), 'expired key: not in addr';
    ok !defined $R->hget('tk:pgp:addr', 'rev@example.net'), 'revoked key: not in addr';
    is $R->hget("tk:pgp:key:$rev", 'revoked'), 1, 'revoked=1';
    is $R->hget("tk:pgp:key:$rev", 'can_encrypt'), 0, 'revoked: can_encrypt=0';
    ok $R->hget("tk:pgp:key:$old", 'expires') < time, 'expires in the past';
    ($rc, undef, $err) = protect('rev@example.net');
    like $err, qr/no usable key for rev\@example\.net/, 'revoked key not used for sending';
    ($rc, undef, $err) = protect('alt@example.net');
    like $err, qr/no usable key for alt\@example\.net/, 'expired key not used for sending';

    newhome('short');
    ($rc, undef, $err) = gpg('short', '', '--quick-gen-key', 'Kurz <kurz@example.net>',
        'future-default', 'default', 'seconds=4');
    my $short = fpr('short', 'kurz@example.net');
    $res = request(op => 'import', text => export('short', 'kurz@example.net'));
    my $v = $R->hget('tk:pgp:addr', 'kurz@example.net') // '';
    my ($f, $exp) = split ' ', $v;
    is $f, $short, 'a key expiring in 4 s is listed';
    ok $exp > time - 5 && $exp <= time + 5, 'with its expiry';
    TK::wait_for('the key to drop out when it expires', 15,
        sub { !defined $R->hget('tk:pgp:addr', 'kurz@example.net') });
    pass 'dropped from tk:pgp:addr when its time came';
};

subtest 'signatures by an expired and by a revoked key' => sub {
    # made in 2020 while the key was valid; it expired in 2021
    my ($rc, $cs, $err) = gpg('old', "Alte Unterschrift.\n", '--faked-system-time', '20200601T000000!',
        '--clearsign', '--local-user', 'alt@example.net');
    is $rc, 0, 'signed in 2020' or diag $err;
    my (undef, $a) = deliver_ok(MB::mail(body => crlf($cs)), 'expired signer');
    my $old = fpr('old', 'alt@example.net');
    like $a->{pgp_sig}, qr/^expired-key $old /, 'expired-key FPR';

    newhome('rev2');
    my $rev2 = genkey('rev2', 'Spaeter Widerrufen <rev2@example.net>');
    ($rc, $cs) = gpg('rev2', "Vor dem Widerruf.\n", '--clearsign', '--local-user', 'rev2@example.net');
    my $cert = TK::read_file("$homes{rev2}/openpgp-revocs.d/$rev2.rev");
    $cert =~ s/^:-----/-----/m;
    import_to('rev2', $cert);
    import_to('mb', export('rev2', 'rev2@example.net'));
    (undef, $a) = deliver_ok(MB::mail(body => crlf($cs)), 'revoked signer');
    like $a->{pgp_sig}, qr/^revoked-key $rev2 /, 'revoked-key FPR';
};

subtest 'import an attached key (application/pgp-keys) of an article' => sub {
    newhome('carla');
    my $carla = genkey('carla', 'Carla <carla@example.net>');
    my $key = export('carla', 'carla@example.net');
    my $mail = MB::mail(from => 'Carla <carla@example.net>', 'MIME-Version' => '1.0',
        'Content-Type' => 'multipart/mixed; boundary="K"',
        body => crlf("--K\nContent-Type: text/plain\n\nmein Schluessel\n--K\n"
            . "Content-Type: application/pgp-keys; name=\"carla.asc\"\n"
            . "Content-Disposition: attachment; filename=\"carla.asc\"\n\n$key\n--K--\n"));
    my ($n, $a) = deliver_ok($mail, 'mail with a key');
    is $R->hget("tk:{t:$n}:a:$a->{id}:att:1", 'content_type'), 'application/pgp-keys', 'attachment type';
    my $res = request(op => 'import-att', ticket => $n, article => $a->{id}, att => 1);
    is $res->{status}, 'ok', 'imported from the attachment' or diag $res->{message};
    is $res->{fprs}, $carla, 'its fingerprint';
    is $R->hget('tk:pgp:addr', 'carla@example.net'), "$carla 0", 'usable for carla@';
    $res = request(op => 'import-att', ticket => $n, article => $a->{id}, att => 7);
    is $res->{status}, 'error', 'no such attachment: error';
};

subtest 'the keys role stops on SIGTERM' => sub {
    my $t0 = time;
    my $st = $tk->stop_proc('keys', 'TERM', 8);
    is $st, 0, 'exit 0';
    ok time - $t0 < 4, 'within the BLOCK time (' . sprintf('%.1f', time - $t0) . ' s)';
    $tk->spawn('keys', MB::bin(), '-c', MB::conf($tk), 'keys');
};

# ---- the key page (nginx) -----------------------------------------------

my $anna_pw = $tk->add_user('agentin', rights => 'legal:full', lang => 'en');
my $otto_pw = $tk->add_user('otto', rights => 'ALSO:full', lang => 'en');
my $root_pw = $tk->add_user('root', rights => 'legal:full', admin => 1, lang => 'de');
my $agent = $tk->login_client('agentin', $anna_pw);
my $otto = $tk->login_client('otto', $otto_pw);
my $root = $tk->login_client('root', $root_pw);

# follow a request's redirect until mailbridge answered
sub outcome {
    my ($c, $res) = @_;
    my $loc = $res->location // return;
    $loc =~ s{^/}{};
    my $page;
    TK::wait_for("result page $loc", 15, sub {
        $page = $c->get("/$loc");
        my $r = $page->dom->at('#key-result');
        $r && $r->attr('data-status') ne 'pending';
    });
    return $page;
}
sub fprs_on { my ($page) = @_; [ map { $_->attr('data-fpr') } $page->dom->find('table#keys tr[data-fpr]') ] }

subtest 'key page: agents list and import, only admins delete' => sub {
    my $page = $agent->get('/admin/keys');
    is $page->{status}, 200, 'agent: 200';
    my %on = map { $_ => 1 } @{ fprs_on($page) };
    ok $on{$legal} && $on{$anna}, 'lists the keys';
    my $row = $page->dom->at("tr[data-fpr=$legal]");
    like $row->at('td.uids')->text, qr/Legal Gruppe <legal\@example\.org>/, 'user id';
    is $row->at('td.emails')->text, 'legal@example.org', 'addresses covered';
    like $row->at('td.expires')->text, qr/never/, 'expiry';
    like $row->at('td.status')->text, qr/valid.*secret key/, 'status, secret key';
    my $alt = $page->dom->at('tr[data-fpr] td.status');
    ok $page->dom->at('form#key-import textarea[name=key]'), 'import form';
    ok !$page->dom->at('form.key-delete'), 'no delete for agents';
    like $page->dom->at("tr.key-expired td.status")->text, qr/expired/, 'an expired key says so';

    my $res = $agent->post_csrf('/admin/keys/delete', [ fpr => $anna ]);
    is $res->{status}, 403, 'agent: delete refused with 403';
    ok((grep { $_ eq $anna } @{ members() }), 'key still there');
    $res = $agent->post('/admin/keys/import', [ key => export('anna', 'anna@example.net') ]);
    is $res->{status}, 403, 'import without CSRF token: 403';
    $res = $agent->post_csrf('/admin/keys/import', [ key => 'hello' ]);
    is $res->{status}, 400, 'not a key: 400';

    newhome('dora');
    my $dora = genkey('dora', 'Dora <dora@example.net>');
    $agent->get('/admin/keys');
    $res = $agent->post_csrf('/admin/keys/import', [ key => export('dora', 'dora@example.net') ]);
    is $res->{status}, 303, 'import: 303';
    like $res->location, qr{/admin/keys\?r=\d+-\d+$}, 'to the result';
    $page = outcome($agent, $res);
    is $page->dom->at('#key-result')->attr('data-status'), 'ok', 'result ok';
    like $page->dom->at('#key-result')->text, qr/$dora/, 'names the fingerprint';
    ok((grep { $_ eq $dora } @{ fprs_on($page) }), 'listed after the import');
    my (undef, $sec) = gpg('dora', '', '--armor', '--export-secret-keys', 'dora@example.net');
    $res = $agent->post_csrf('/admin/keys/import', [ key => $sec ]);
    is $res->{status}, 403, 'agent: secret key refused by the web';

    $page = $root->get('/admin/keys');
    is $page->{status}, 200, 'admin: 200';
    ok $page->dom->at("tr[data-fpr=$dora] form.key-delete"), 'admin: delete button';
    $res = $root->submit('/admin/keys', "tr[data-fpr=$dora] form.key-delete");
    is $res->{status}, 303, 'admin delete: 303';
    $page = outcome($root, $res);
    is $page->dom->at('#key-result')->attr('data-status'), 'ok', 'deleted';
    ok !(grep { $_ eq $dora } @{ fprs_on($page) }), 'no longer listed';
    ok !defined $R->hget('tk:pgp:addr', 'dora@example.net'), 'and not in tk:pgp:addr';

    $res = $root->post_csrf('/admin/keys/delete', [ fpr => 'xyz' ]);
    is $res->{status}, 400, 'bad fingerprint: 400';
    is $agent->get('/admin/keysx')->{status}, 404, 'no other admin pages for agents';
    is $agent->get('/admin/quarantine')->{status}, 404, 'quarantine still admin-only';
};

subtest 'ticket page: PGP status, import an attached key' => sub {
    my $mail = pgpmime_encrypted('anna', 'anna@example.net', $inner);
    my ($n, $a) = deliver_ok($mail, 'encrypted');
    my $page = $agent->get("/t/$n");
    my $p = $page->dom->at("article#a-$a->{id} p.pgp");
    ok $p, 'PGP line';
    is $p->attr('data-pgp'), 'valid', 'data-pgp valid';
    like $p->text, qr/Encrypted .* valid signature \($anna Anna Aktiv/, 'says encrypted, valid, signer';

    newhome('emil');
    my $emil = genkey('emil', 'Emil <emil@example.net>');
    my $key = export('emil', 'emil@example.net');
    $mail = MB::mail('MIME-Version' => '1.0', 'Content-Type' => 'multipart/mixed; boundary="K"',
        body => crlf("--K\nContent-Type: text/plain\n\nSchluessel anbei\n--K\n"
            . "Content-Type: application/pgp-keys; name=\"emil.asc\"\n"
            . "Content-Disposition: attachment; filename=\"emil.asc\"\n\n$key\n--K--\n"));
    ($n, $a) = deliver_ok($mail, 'key attached');
    $page = $agent->get("/t/$n");
    my $link = $page->dom->at("article#a-$a->{id} li.file a.import-key");
    ok $link, 'import-key link';
    (my $href = $link->attr('href')) =~ s{^https?://[^/]+}{};
    like $href, qr{/admin/keys\?import=$n/$a->{id}/1$}, 'to the key page';

    is $otto->get($href)->{status}, 404, 'a user who cannot see the ticket: 404';
    $otto->get('/admin/keys');
    is $otto->post_csrf('/admin/keys/import-att', [ ticket => $n, article => $a->{id}, att => 1 ])->{status},
        404, 'and cannot import from it';

    $page = $agent->get($href);
    ok $page->dom->at('form#key-import-att'), 'confirmation form';
    like $page->dom->at('form#key-import-att')->text, qr/emil\.asc/, 'names the file';
    my $res = $agent->submit($href, 'form#key-import-att');
    is $res->{status}, 303, 'confirmed: 303';
    $page = outcome($agent, $res);
    is $page->dom->at('#key-result')->attr('data-status'), 'ok', 'imported';
    ok((grep { $_ eq $emil } @{ fprs_on($page) }), 'listed');
};

subtest 'ticket page: a valid signature by someone else than From is flagged' => sub {
    my (undef, $cs) = gpg('anna', "Ich bin die Gruppe.\n", '--clearsign', '--local-user', 'anna@example.net');
    my ($n, $a) = deliver_ok(MB::mail(from => 'Legal Gruppe <legal@example.org>', body => crlf($cs)),
        'forged From');
    like $a->{pgp_sig}, qr/^valid $anna Anna Aktiv <anna\@example\.net>$/, 'pgp_sig names the real signer';
    my $p = $agent->get("/t/$n")->dom->at("article#a-$a->{id} p.pgp");
    is $p->attr('data-pgp'), 'valid-other', 'data-pgp valid-other';
    like $p->text, qr/NOT by the sender/, 'says so';
};

subtest 'in a browser: one click imports an attached key' => sub {
    my $why = TKUI::missing();
    plan skip_all => $why if $why;
    newhome('fritz');
    my $fritz = genkey('fritz', 'Fritz <fritz@example.net>');
    my ($rc, $ct) = gpg('anna', "Bitte meinen Schluessel importieren.\n", '--armor', '--encrypt',
        '--sign', '--local-user', 'anna@example.net', '--recipient', 'legal@example.org');
    my $mail = MB::mail(subject => 'Mein Schluessel', 'MIME-Version' => '1.0',
        'Content-Type' => 'multipart/mixed; boundary="K"',
        body => crlf("--K\nContent-Type: text/plain\n\n$ct\n--K\n"
            . "Content-Type: application/pgp-keys; name=\"fritz.asc\"\n"
            . "Content-Disposition: attachment; filename=\"fritz.asc\"\n\n"
            . export('fritz', 'fritz@example.net') . "\n--K--\n"));
    my ($n) = deliver_ok($mail, 'mail with a key');
    my $out = TKUI::artifacts();
    local $ENV{BASE} = $tk->base;
    local $ENV{LOGIN} = 'agentin';
    local $ENV{PASSWORD} = $anna_pw;
    local $ENV{TICKET} = $n;
    local $ENV{OUT} = $out;
    my $keyfile = "$dir/fritz.asc";
    TK::write_file($keyfile, export('fritz', 'fritz@example.net'));
    local $ENV{KEY_FILE} = $keyfile;
    my $r = TKUI::run_script('pgp.js', or_return => 1) or return;
    for my $view (qw(desktop mobile)) {
        my $v = $r->{views}{$view};
        is $v->{pgp}{status}, 'valid', "$view: PGP line says valid";
        like $v->{pgp}{text}, qr/Encrypted/, "$view: and encrypted";
        is_deeply $v->{ticketCsp}, [], "$view: no CSP violation on the ticket page";
        like $v->{keys}{url}, qr{^/admin/keys\?r=}, "$view: one click, on the result page";
        is $v->{keys}{status}, 'ok', "$view: imported";
        ok $v->{keys}{navCurrent}, "$view: the key page is current in the navigation";
        ok $v->{keys}{scrollWidth} <= $v->{keys}{clientWidth}, "$view: no horizontal scrolling"
            or diag "$v->{keys}{scrollWidth} > $v->{keys}{clientWidth}";
        is_deeply $v->{keys}{csp}, [], "$view: no CSP violation on the key page";
        is_deeply $v->{errors}, [], "$view: no page errors";
        like $v->{fileText} // '', qr/^-----BEGIN PGP PUBLIC KEY BLOCK-----/, "$view: a chosen key file fills the textarea";
    }
    ok((grep { $_ eq $fritz } @{ members() }), 'the key is in the keyring');
};

done_testing;
