# mail_lib.pl -- helpers shared by the t/mail*.t tests (mailbridge):
# a config for the test's Redis, "deliver" with a mail on stdin, mails
# built from headers, and the stored articles read back.
#
#   use FindBin; use lib "$FindBin::Bin/lib"; use TK;
#   require "$FindBin::Bin/mail_lib.pl";
#   my $tk = MB::setup();                 # TK without nginx, init'ed
#   my ($rc) = MB::deliver($tk, MB::mail(subject => 'x'), '--recipient', 'legal@example.org');

package MB;

use strict;
use warnings;
use Test::More ();
use TK;

my $seq = 0;

sub bin { TK::mailbridge_bin() // die "build/mailbridge is missing: make build/mailbridge\n" }

# A TK instance (Redis + ticketctl init, no nginx), groups, a config.
sub setup {
    my (%o) = @_;
    my $tk = TK->new(nginx => 0);
    $tk->add_group($_) for qw(legal ALSO);
    write_conf($tk, %o);
    return $tk;
}

# mb.conf in the test dir; %o: extra => "key = value\n...", mode
sub write_conf {
    my ($tk, %o) = @_;
    my $path = $o{path} // $tk->dir . '/mb.conf';
    TK::write_file($path, join '',
        'redis = ', $tk->redis_url, "\n",
        "redis_timeout = 2000\n",
        "log_level = ", $o{log_level} // 'info', "\n",
        "default_group = legal\n",
        "address.legal\@example.org = legal\n",
        "address.also\@example.org = ALSO\n",
        $o{extra} // '');
    chmod $o{mode} // 0600, $path;
    $tk->{mb_conf} = $path;
    return $path;
}

sub conf { $_[0]{mb_conf} }

# (exit code, stdout, stderr)
sub deliver {
    my ($tk, $mail, @args) = @_;
    return TK::run_cmd({ stdin => $mail }, bin(), '-c', conf($tk), 'deliver', @args);
}

sub mailbridge {
    my ($tk, @args) = @_;
    return TK::run_cmd(bin(), '-c', conf($tk), @args);
}

# A mail from header pairs; defaults: From, To, Subject, Date, Message-ID
# (unique), text body.  Pass a header as undef to leave it out.
sub mail {
    my (%h) = @_;
    my $body = delete $h{body} // "Hallo,\r\nbitte helft mir.\r\n";
    my @order = qw(from to cc subject date message_id in_reply_to references);
    my %def = (
        from       => 'Anna Aktiv <anna@example.net>',
        to         => 'legal@example.org',
        subject    => 'Hausdurchsuchung',
        date       => 'Mon, 23 Nov 2026 10:00:00 +0100',
        message_id => '<' . time . '.' . $$ . '.' . ++$seq . '@example.net>',
    );
    my %name = (message_id => 'Message-ID', in_reply_to => 'In-Reply-To',
                references => 'References');
    my $head = '';
    for my $k (@order) {
        my $v = exists $h{$k} ? delete $h{$k} : $def{$k};
        next unless defined $v;
        $head .= ($name{$k} // ucfirst $k) . ": $v\r\n";
    }
    for my $k (sort keys %h) {       # extra headers as given
        $head .= "$k: $h{$k}\r\n" if defined $h{$k};
    }
    return "${head}\r\n$body";
}

# ---- reading back ------------------------------------------------------

sub msgid_of {
    my ($mail) = @_;
    return $mail =~ /^Message-ID:\s*<([^>]+)>/mi ? $1 : undef;
}

# "N:A" for a Message-ID, or undef
sub where {
    my ($tk, $id) = @_;
    return $tk->redis->get(tk_key_msgid($id));
}

sub ticket  { $_[0]->ticket_hash($_[1]) }

sub article {
    my ($tk, $n, $a) = @_;
    my %h = $tk->redis->hgetall(tk_key_article($n, $a));
    return \%h;
}

sub article_ids {
    my ($tk, $n) = @_;
    return [ $tk->redis->lrange(tk_key_ticket_arts($n), 0, -1) ];
}

# The article a Message-ID was stored as: (ticket, article hash)
sub stored {
    my ($tk, $id) = @_;
    my $w = where($tk, $id) or return;
    my ($n, $a) = split /:/, $w;
    return ($n, article($tk, $n, $a), $a);
}

sub attachment {
    my ($tk, $n, $a, $k) = @_;
    my %h = $tk->redis->hgetall(tk_key_attachment($n, $a, $k));
    return \%h;
}

sub ticket_count { $_[0]->redis->get(TK_KEY_SEQ_TICKET) // 0 }
sub article_count { $_[0]->redis->get(TK_KEY_SEQ_ARTICLE) // 0 }

1;
