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
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Time::HiRes qw(time sleep);
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'gpg is not installed' unless -x '/usr/bin/gpg';

our $tk = MB::setup();
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

done_testing;
