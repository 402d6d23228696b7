# "Go to ticket" in every page's head: agents quote numbers on the
# phone.  GET /go?n=... takes 123, #123, Ticket#123, [Ticket#123] (blanks
# around), goes to a ticket the user may see, and answers a ticket of
# another group exactly like a missing one.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;
my $pw = $tk->add_user('gina', name => 'Gina G', rights => 'ALSO:full');
my $mine = $tk->add_ticket(title => 'Sichtbar', group => 'ALSO');
my $legal = $tk->add_ticket(title => 'Alle AGs', group => 'legal');
my $foreign = $tk->add_ticket(title => 'Fremde AG', group => 'Zivilrecht');
my $c = $tk->login_client('gina', $pw);

sub go {
    my ($n) = @_;
    return $c->get('/go?' . HTTP::Tiny->new->www_form_urlencode([ n => $n ]));
}

subtest 'every page has the one box (search or number), usable without JavaScript' => sub {
    for my $path ('/', "/t/$mine", '/profile') {
        my $d = $c->get($path)->dom;
        my $f = $d->at('header form#search');
        ok $f, "$path: form#search in the header" or next;
        is lc($f->attr('method') // ''), 'get', '  method get';
        is $f->attr('action'), '/search', '  action /search';
        ok $f->at('input[name=q]'), '  field q';
        ok $f->at('label[for=search-q]'), '  labelled';
        ok $f->at('button[type=submit]'), '  a button';
    }
    ok !$tk->client->get('/login')->dom->at('form#search'), 'not on the login page';
    for my $in ("[Ticket#$mine]", " #$mine ", "Ticket#$mine") {
        my $res = $c->get('/search?' . HTTP::Tiny->new->www_form_urlencode([ q => $in ]));
        is $res->{status}, 303, "the box with '$in': 303";
        like $res->location // '', qr{/t/$mine$}, '  to the ticket';
    }
};

subtest 'the ways agents say a number' => sub {
    for my $in ("$mine", "#$mine", "Ticket#$mine", "[Ticket#$mine]", "  $mine ", " [Ticket#$mine] ",
        "ticket $mine", "TICKET# $mine", "#$legal")
    {
        my $res = go($in);
        my $want = $in =~ /$legal/ ? $legal : $mine;
        is $res->{status}, 303, "'$in': 303";
        like $res->location // '', qr{/t/$want$}, "  to /t/$want";
    }
};

subtest 'a ticket of another group looks exactly like a missing one' => sub {
    my ($f, $m) = (go($foreign), go(999999));
    is $f->{status}, 303, 'foreign: 303';
    is $m->{status}, 303, 'missing: 303';
    like $f->location // '', qr{/\?goto=$foreign$}, 'foreign: to the overview';
    like $m->location // '', qr{/\?goto=999999$}, 'missing: to the overview';
    my ($pf, $pm) = map { $c->get("/?goto=$_") } $foreign, 999999;
    is $pf->{status}, 200, 'the overview opens';
    is $pf->page, 'overview', '  it is the overview';
    my ($nf, $nm) = map { $_->dom->at('#notice') ? $_->dom->at('#notice')->text : '' } $pf, $pm;
    is $nf, "Ticket #$foreign gibt es nicht, oder du hast keinen Zugriff darauf.", 'notice for the foreign one';
    (my $gen = $nm) =~ s/999999/$foreign/;
    is $gen, $nf, 'the same words for a missing one';
    ok !(grep { $_->attr('data-number') == $foreign } $pf->dom->find('table#tickets tr[data-number]')),
        'and nothing of the foreign ticket shows';
};

subtest 'no number, nothing typed, junk in the URL' => sub {
    for my $in ('abc', '12a', '#', 'Ticket#', '[Ticket#0]', '0', "1\n2") {
        my $res = go($in);
        like $res->location // '', qr{/\?goto=none$}, "'$in': back with a hint";
    }
    like $c->get('/?goto=none')->dom->at('#notice')->text, qr/keine Ticketnummer/, 'the hint';
    my $res = go('  ');
    is $res->{status}, 303, 'empty: 303';
    like $res->location // '', qr{/$}, '  to the overview, no notice';
    ok !$c->get('/?goto=%3Cb%3E')->dom->at('#notice'), 'anything but a number or "none": no notice';
    ok !$c->get('/')->dom->at('#notice'), 'no notice without goto';
    is $c->post('/go', [ n => $mine, csrf => $c->csrf ])->{status}, 405, 'POST: 405';
};

subtest 'signed out: to the login page' => sub {
    my $res = $tk->client->get("/go?n=$mine");
    like $res->{status}, qr/^30[23]$/, 'redirect';
    like $res->location // '', qr{/login}, 'to /login';
};

subtest 'in English for English users' => sub {
    my $epw = $tk->add_user('ed', rights => 'ALSO:full', lang => 'en');
    my $e = $tk->login_client('ed', $epw);
    is $e->get('/?goto=999999')->dom->at('#notice')->text,
        'There is no ticket #999999, or you have no access to it.', 'notice';
};

done_testing;
