# Overviews at 100 k tickets (ticketctl gen): paging deep into "all",
# sorting, and a personal overview with three conditions, checked against
# the per-state partitions of the index read here directly (the pages
# read the class partitions and the list rows: a different path), and
# against the ticket hashes for the groups (rights); a customer's tickets
# and a created range (issue 12: the customer's set, the crt partitions
# by the number range a search over the rows finds).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use TK;

my $N = $ENV{TK_SCALE_TICKETS} // 100_000;
my $tk = TK->new;
my $t0 = time;
$tk->ctl_stdin("bench-password\n", 'gen', '--tickets', $N, '--no-fulltext', '--password-stdin');
note sprintf 'gen %d tickets: %d s', $N, time - $t0;
my $r = $tk->redis;

# the agent with the fewest groups: rights matter
my ($who) = map { $_->[0] } sort { $a->[1] <=> $b->[1] || $a->[0] cmp $b->[0] }
    map { [ $_, scalar(split /,/, $r->hget(tk_key_user($_), 'rights') // '') ] }
    grep { ($r->hget(tk_key_user($_), 'role') // '') ne 'admin' } $r->smembers(TK_KEY_USERS);
my $c = $tk->login_client($who, 'bench-password');
my $rights = $r->hget(tk_key_user($who), 'rights') // '';
my %mine = map { (split /:/)[0] => 1 } split /,/, $rights;
$mine{$_} = 1 for $r->smembers(TK_KEY_GROUPS_ALL);
my @groups = sort keys %mine;
note "$who reads @groups";
my @others = grep { !$mine{$_} } $r->smembers(TK_KEY_GROUPS);
ok @others, "there are groups $who cannot read (@others)";

sub rows { map { $_->attr('data-number') } $_[0]->dom->find('table#tickets tr[data-number]') }
sub total { my $t = $_[0]->dom->at('#total'); $t ? $t->text : undef }

# every ticket number anna may see, from the per-state "*" partitions
my @visible;
for my $g (@groups) {
    for my $s (1 .. 6) {
        push @visible, $r->zrange(tk_key_index($g, $s, '*', 'crt'), 0, -1);
    }
}
@visible = sort { $b <=> $a } @visible;
cmp_ok scalar @visible, '>', $N / 4, scalar(@visible) . ' visible tickets';

subtest 'paging "all" by number at 100 k' => sub {
    my $p1 = $c->get('/overview/all?sort=number&dir=desc');
    is $p1->{status}, 200, 'page 1';
    is total($p1), scalar @visible, 'total: every visible ticket';
    is_deeply [ rows($p1) ], [ @visible[0 .. 49] ], 'page 1: the 50 newest';
    my $p2 = $c->get('/overview/all?sort=number&dir=desc&page=2');
    is_deeply [ rows($p2) ], [ @visible[50 .. 99] ], 'page 2';
    my $deep = int(@visible / 50) < 200 ? int(@visible / 50) : 200;
    my $pd = $c->get("/overview/all?sort=number&dir=desc&page=$deep");
    is_deeply [ rows($pd) ], [ @visible[($deep - 1) * 50 .. $deep * 50 - 1] ], "page $deep";
    my $pa = $c->get('/overview/all?sort=number&dir=asc&page=3');
    my @asc = reverse @visible;
    is_deeply [ rows($pa) ], [ @asc[100 .. 149] ], 'ascending, page 3';
    # rights: the groups of the rows, from the ticket hashes
    my %bad;
    for my $n (rows($p1), rows($pd)) {
        my $g = $r->hget(tk_key_ticket($n), 'group');
        $bad{$g}++ unless $mine{$g};
    }
    is_deeply \%bad, {}, "no row of a group $who cannot read";
};

subtest 'a personal overview with three conditions' => sub {
    # a state, a priority, unassigned: the combination with the most
    # tickets (more than two pages) -- as "save as new overview" stores it
    my ($best, $bs, $bp) = (0, 1, 2);
    for my $s (1 .. 5) {
        for my $p (1 .. 4) {
            my $n = 0;
            $n += $r->zcount(tk_key_index($_, $s, '-', 'pri'), $p * 1e10, ($p + 1) * 1e10 - 1) for @groups;
            ($best, $bs, $bp) = ($n, $s, $p) if $n > $best;
        }
    }
    note "state $bs, priority $bp, unassigned: $best";
    my $res = $c->submit("/overview/all?state=$bs&priority=$bp&owner=nobody", 'form#overview-save',
        name => 'Drei Bedingungen');
    is $res->{status}, 303, 'saved';
    my ($id) = ($res->{headers}{location} // '') =~ m{overview/(\d+)$};
    my %upd;
    for my $g (@groups) {
        my @m = $r->zrangebyscore(tk_key_index($g, $bs, '-', 'pri'), $bp * 1e10, ($bp + 1) * 1e10 - 1, 'WITHSCORES');
        while (my ($n, $score) = splice @m, 0, 2) { $upd{$n} = $score - $bp * 1e10 }
    }
    my @want = sort { $upd{$b} <=> $upd{$a} || $b <=> $a } keys %upd;
    cmp_ok scalar @want, '>', 50, scalar(@want) . ' match';
    my $p1 = $c->get("/overview/$id");
    my $W = scalar @want;
    is total($p1), $W, 'total';
    my $count = $p1->dom->at(qq{nav#overviews a[data-overview="$id"] .count});
    is $count ? $count->text : undef, $W, 'sidebar count';
    my @got = rows($p1);
    is scalar @got, 50, '50 rows';
    my @top = @want[0 .. ($#want < 49 ? $#want : 49)];
    is_deeply [ map { $upd{$_} } @got ], [ map { $upd{$_} } @top ], 'page 1 by updated, newest first';
    my @p2 = rows($c->get("/overview/$id?page=2"));
    is_deeply [ map { $upd{$_} } @p2 ], [ map { $upd{$_} } grep { defined } @want[50 .. 50 + $#p2] ], 'page 2';
    my $token = $tk->add_token($who);
    my $api = $c->api(GET => "/api/v1/overviews/$id/tickets", $token);
    is_deeply [ map { $_->{number} } @{ $api->json->{tickets} } ], \@got, 'the API lists the same page';
    is $api->json->{total}, $W, 'and the same total';
};

subtest 'a customer (her set) and a created range (crt partitions) at 100 k' => sub {
    # the customer of the newest ticket, her tickets from her set
    my $cust = $r->hget(tk_key_ticket($N), 'customer');
    my @hers = grep { $mine{ $r->hget(tk_key_ticket($_), 'group') // '' } }
        $r->zrevrange(tk_key_cust_tickets($cust), 0, -1);
    my $res = $c->get("/overview/all?customer=$cust&sort=number");
    is $res->{status}, 200, "customer $cust: 200";
    is total($res), scalar @hers, 'her visible tickets: ' . scalar @hers;
    is_deeply [ rows($res) ], [ grep { defined } (sort { $b <=> $a } @hers)[0 .. 49] ], 'newest first';

    # a tenth of the numbers: their created times bound the range
    my ($lo, $hi) = (int($N * 0.45), int($N * 0.55));
    my $created = sub { (split /\x1f/, $r->hget(TK_KEY_INDEX_ROWS, $_[0]) // '')[8] };
    my ($from, $to) = ($created->($lo), $created->($hi));
    my @vis_in = grep { $_ >= $lo - 50 && $_ <= $hi + 50 } @visible;
    my %c = map { $_ => $created->($_) } @vis_in;
    my @exact = grep { $c{$_} >= $from && $c{$_} <= $to } @vis_in;
    my $q = "created_from=" . POSIX::strftime('%Y-%m-%dT%H:%M', localtime($from))
          . "&created_to=" . POSIX::strftime('%Y-%m-%dT%H:%M', localtime($to));
    $res = $c->get("/overview/all?$q&sort=number&dir=desc");
    is $res->{status}, 200, 'created range: 200';
    my $t = total($res) // 0;
    # gen spreads created by up to an hour against the numbers: the
    # bounds may be off by the few tickets of that hour
    cmp_ok abs($t - @exact), '<=', @exact / 50, "total $t ~ " . scalar(@exact) . ' created in the range';
    my @p = rows($res);
    is scalar @p, 50, 'a full page';
    ok !(grep { $c{$_} < $from - 3600 || $c{$_} > $to + 3600 } @p), 'every row created in the range (+- an hour)';
    is_deeply \@p, [ sort { $b <=> $a } @p ], 'by number, newest first';
    my @deep = rows($c->get("/overview/all?$q&sort=number&dir=desc&page=10"));
    ok @deep && !(grep { !exists $c{$_} } @deep), 'page 10: in the range too';
};

done_testing;
