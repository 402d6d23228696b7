package SMTPTest;

# SMTPTest.pm -- a small SMTP server for the outbound-mail tests: answers
# what the test tells it (250, 4xx, 5xx per command) and records every
# mail it accepted.
#
#   my $s = SMTPTest->start($tk);               # forked, free port
#   $s->set(rcpt => '550 5.1.1 <x@y>: Recipient address rejected');
#   $s->set(kill_after_data => $pid);           # kill -9 PID after the 250
#   my @m = $s->mails;                          # [{from, rcpt => [...], data}]
#   $s->stop; $s->restart;                      # same port
#   SMTPTest->start($tk, name => 'smtps', implicit_tls => 1, cert => C, key => K)
#
# The behaviour is a file re-read at every command, so a test changes it
# while mailbridge is connected.  Keys: greeting, ehlo, mail, rcpt, data
# (the reply to DATA), data_end (the reply to the final dot),
# reject_rcpt (a regex: the rcpt reply applies only to matching
# addresses, others get 250), kill_after_data (a pid: KILLed once the
# mail is recorded, before the 250 is written -- once),
# stall_after_data (seconds to wait before answering the dot),
# close_after_data (drop the connection after each mail, without 421),
# starttls (offer STARTTLS; needs cert/key), auth ("user:password": offer AUTH PLAIN and accept only that; the user
# name tried last is in DIR/auth).
# Accepted mails go to DIR/NNNN.eml (data, dot-unstuffed) and DIR/NNNN.env
# ("MAIL FROM:<a>\nRCPT TO:<b>\n..."); connections are counted in
# DIR/connections.

use strict;
use warnings;
use IO::Socket::INET;
use MIME::Base64 ();
use Net::EmptyPort qw(empty_port wait_port);
use POSIX ();
use File::Path qw(make_path);

sub start {
    my ($class, $tk, %o) = @_;
    my $name = $o{name} // 'smtptest';
    my $self = bless { tk => $tk, name => $name, dir => $tk->dir . "/$name",
        port => $o{port} // empty_port(), cert => $o{cert}, key => $o{key},
        implicit_tls => $o{implicit_tls} }, $class;
    make_path($self->{dir});
    $self->_write_behaviour({}) unless -e "$self->{dir}/behaviour";
    $self->_spawn;
    return $self;
}

sub port { $_[0]{port} }
sub dir  { $_[0]{dir} }
sub url  { ($_[0]{implicit_tls} ? 'smtps' : 'smtp') . "://127.0.0.1:$_[0]{port}" }

sub set {
    my ($self, %kv) = @_;
    my $b = $self->behaviour;
    for my $k (keys %kv) {
        if (defined $kv{$k}) { $b->{$k} = $kv{$k} } else { delete $b->{$k} }
    }
    $self->_write_behaviour($b);
}

sub reset { $_[0]->_write_behaviour({}) }

sub behaviour {
    my ($self) = @_;
    my %b;
    open my $fh, '<', "$self->{dir}/behaviour" or return {};
    while (<$fh>) { chomp; $b{$1} = $2 if /^(\w+)=(.*)$/ }
    return \%b;
}

sub _write_behaviour {
    my ($self, $b) = @_;
    my $tmp = "$self->{dir}/behaviour.tmp";
    open my $fh, '>', $tmp or die "$tmp: $!";
    print $fh map { "$_=$b->{$_}\n" } sort keys %$b;
    close $fh;
    rename $tmp, "$self->{dir}/behaviour" or die "rename: $!";
}

sub mails {
    my ($self) = @_;
    my @m;
    for my $env (sort glob("$self->{dir}/*.env")) {
        (my $eml = $env) =~ s/\.env$/.eml/;
        my $e = TK::read_file($env);
        my ($from) = $e =~ /^MAIL FROM:<([^>]*)>/m;
        my @rcpt = $e =~ /^RCPT TO:<([^>]*)>/mg;
        push @m, { from => $from, rcpt => \@rcpt, data => TK::read_file($eml), file => $eml,
                   tls => $e =~ /^TLS: yes$/m ? 1 : 0 };
    }
    return @m;
}

sub connections { my $c = TK::read_file("$_[0]{dir}/connections"); $c =~ tr/\n// }

sub stop {
    my ($self) = @_;
    $self->{tk}->stop_proc($self->{name}, 'KILL', 5);
}

sub restart { my ($self) = @_; $self->stop; $self->_spawn; $self }

sub _spawn {
    my ($self) = @_;
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $self->{port},
        Listen => 5, ReuseAddr => 1) or die "SMTPTest listen $self->{port}: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{TERM} = sub { POSIX::_exit(0) };
        eval { $self->_serve($listen) };
        POSIX::_exit(0);
    }
    close $listen;
    $self->{tk}{procs}{ $self->{name} } = { pid => $pid, log => "$self->{dir}/log" };
    wait_port({ port => $self->{port}, max_wait => 10 }) or die "SMTPTest did not start";
}

# The connection upgraded to TLS (IO::Socket::SSL), or undef when the
# client gave up (e.g. it did not trust the certificate).
sub _tls {
    my ($self, $c) = @_;
    require IO::Socket::SSL;
    my $ok = IO::Socket::SSL->start_SSL($c, SSL_server => 1,
        SSL_cert_file => $self->{cert}, SSL_key_file => $self->{key});
    return $ok ? $c : undef;
}

sub _serve {
    my ($self, $listen) = @_;
    my $d = $self->{dir};
    while (my $c = $listen->accept) {
        open my $cf, '>>', "$d/connections"; print $cf time, "\n"; close $cf;
        $c->autoflush(1);
        my $tls = 0;
        if ($self->{implicit_tls}) {
            $c = $self->_tls($c) or next;
            $tls = 1;
        }
        my $b = $self->behaviour;
        my $say = sub { print $c "$_[0]\r\n" };
        $say->($b->{greeting} // '220 smtptest.example ESMTP');
        my ($from, @rcpt);
        while (defined(my $line = <$c>)) {
            $line =~ s/\r?\n$//;
            $b = $self->behaviour;
            if ($line =~ /^(EHLO|HELO)\b/i) {
                if ($b->{ehlo}) { $say->($b->{ehlo}); next }
                print $c "250-smtptest.example\r\n250-8BITMIME\r\n",
                    ($b->{starttls} && !$tls ? "250-STARTTLS\r\n" : ''),
                    ($b->{auth} ? "250-AUTH PLAIN\r\n" : ''), "250 SIZE 52428800\r\n";
            } elsif ($line =~ /^STARTTLS$/i && $b->{starttls} && !$tls) {
                $say->('220 2.0.0 Ready to start TLS');
                $c = $self->_tls($c) or last;
                $tls = 1;
            } elsif ($line =~ /^AUTH PLAIN\s*(\S*)$/i) {
                my $resp = $1;
                if ($resp eq '') { $say->('334 '); $resp = <$c> // ''; $resp =~ s/\r?\n$//; }
                my (undef, $user, $pass) = split /\0/, MIME::Base64::decode_base64($resp), 3;
                TK::write_file("$d/auth", "$user\n");
                $say->("$user:$pass" eq $b->{auth} ? '235 2.7.0 Authentication successful'
                                                   : '535 5.7.8 Error: authentication failed');
            } elsif ($line =~ /^MAIL FROM:\s*<([^>]*)>/i) {
                my $addr = $1;
                my $r = $b->{mail} // '250 2.1.0 Ok';
                ($from, @rcpt) = ($addr) if $r =~ /^2/;
                $say->($r);
            } elsif ($line =~ /^RCPT TO:\s*<([^>]*)>/i) {
                my $addr = $1;
                my $r = $b->{rcpt} // '250 2.1.5 Ok';
                $r = '250 2.1.5 Ok' if $b->{reject_rcpt} && $addr !~ /$b->{reject_rcpt}/;
                push @rcpt, $addr if $r =~ /^2/;
                $say->($r);
            } elsif ($line =~ /^DATA$/i) {
                my $r = $b->{data} // '354 End data with <CR><LF>.<CR><LF>';
                $say->($r);
                next unless $r =~ /^3/;
                my $data = '';
                while (defined(my $l = <$c>)) {
                    last if $l =~ /^\.\r?\n$/;
                    $l =~ s/^\.\././;
                    $data .= $l;
                }
                $b = $self->behaviour;
                select(undef, undef, undef, $b->{stall_after_data}) if $b->{stall_after_data};   # fractions too
                my $end = $b->{data_end} // '250 2.0.0 Ok: queued as SMTPTEST' . int(rand 1e6);
                # kill_after_data: the mail is taken (recorded), then the
                # sender dies before it can read the 250 -- the crash
                # between the server's accept and the ack, without a race
                my $kill = $end =~ /^2/ ? $b->{kill_after_data} : undef;
                if ($end =~ /^2/) {
                    my $n = sprintf '%04d', 1 + scalar(() = glob("$d/*.env"));
                    TK::write_file("$d/$n.eml", $data);
                    TK::write_file("$d/$n.env", "MAIL FROM:<$from>\n" . join('', map { "RCPT TO:<$_>\n" } @rcpt)
                        . "TLS: " . ($tls ? 'yes' : 'no') . "\n");
                }
                if ($kill) {
                    kill 'KILL', $kill;
                    $self->set(kill_after_data => undef);
                }
                $say->($end);
                ($from, @rcpt) = ();
                last if $b->{close_after_data};     # an idle timeout, say
            } elsif ($line =~ /^RSET$/i) {
                ($from, @rcpt) = ();
                $say->('250 2.0.0 Ok');
            } elsif ($line =~ /^NOOP$/i) {
                $say->('250 2.0.0 Ok');
            } elsif ($line =~ /^QUIT$/i) {
                $say->('221 2.0.0 Bye');
                last;
            } else {
                $say->('502 5.5.2 Error: command not recognized');
            }
        }
        close $c;
    }
}

1;
