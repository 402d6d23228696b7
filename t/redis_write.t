# Writes to Redis that do not fit the socket at once.  nginx queues a
# batch's commands and writes them at the end of the event loop's pass
# (ngx_http_ticket_adapter.c); only when the socket buffer is full does it
# wait for the socket to be writable.  A note with attachments of several
# megabytes is such a write: it must arrive whole, byte for byte, while
# other requests share the same Redis connection.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use TK;

my $tk = TK->new(workers => 1);
$tk->standard_groups;
my $pw = $tk->add_user('rudi', rights => 'ALSO:full');
my $n = $tk->add_ticket(title => 'Akte mit grossen Anlagen', group => 'ALSO');
my $c = $tk->login_client('rudi', $pw);
my $r = $tk->redis;


# bytes no two places of which look alike, so a lost or repeated piece shows
sub noise {
    my ($len, $seed) = @_;
    my $s = '';
    my $x = $seed;
    while (length $s < $len) {
        $x = ($x * 1103515245 + 12345) % 2**31;
        $s .= pack 'N', $x;
    }
    return substr $s, 0, $len;
}

my $page = $c->get("/t/$n");
is $page->{status}, 200, 'ticket page';
my ($action, $pairs) = $c->form_values($page, 'form#compose', type => 'note',
    body => 'Zwei Scans vom Bescheid.');
my @files = (noise(5 * 1024 * 1024, 7), noise(3 * 1024 * 1024 + 17, 11));

# meanwhile a second process reads overviews over the same worker's
# Redis connection
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    my $bad = 0;
    for (1 .. 40) {
        my $res = $c->get('/overview/all');
        $bad++ unless $res->{status} == 200 && $res->{content} =~ /Akte mit grossen/;
    }
    # no destructors: they would stop the parent's servers
    POSIX::_exit($bad ? 1 : 0);
}

my $res = $c->request('POST', $action,
    content => TK::multipart('Bx', @$pairs,
        attachment => { filename => 'scan1.bin', type => 'application/octet-stream', data => $files[0] },
        attachment => { filename => 'scan2.bin', type => 'application/octet-stream', data => $files[1] }),
    headers => { 'content-type' => 'multipart/form-data; boundary=Bx' });
is $res->{status}, 303, 'the note with 8 MB of attachments: 303';
waitpid $pid, 0;
is $? >> 8, 0, 'the overviews read meanwhile: all 200 and complete';

my ($id) = reverse $r->lrange("tk:{t:$n}:articles", 0, -1);
for my $k (1, 2) {
    my $data = $r->hget("tk:{t:$n}:a:$id:att:$k", 'data') // '';
    is length $data, length $files[$k - 1], "attachment $k: every byte in Redis";
    ok $data eq $files[$k - 1], "attachment $k: the same bytes";
    my $dl = $c->get("/t/$n/a/$id/att/$k");
    is $dl->{status}, 200, "attachment $k: downloaded";
    ok $dl->{content} eq $files[$k - 1], "attachment $k: as uploaded";
}

# and the connection is in order after it: a page and a write
is $c->get("/t/$n")->{status}, 200, 'the ticket page after it';
($action, $pairs) = $c->form_values($c->get("/t/$n"), 'form#compose', type => 'note', body => 'Danach.');
my $small = $c->post($action, $pairs);
is $small->{status}, 303, "a small note after it" or diag join "\n", $small->{content} =~ m{<(?:p|div)[^>]*class="[^"]*(?:error|alert|flash)[^"]*"[^>]*>(.*?)</(?:p|div)>}sg;

done_testing;
