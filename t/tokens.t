# API tokens: made, listed and revoked on the profile page and with
# ticketctl; a token is shown once, listed by its first digits only; a
# revoked token is refused at once; nobody revokes another's token; the
# forms need the CSRF token.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;

my $tk = TK->new;
$tk->standard_groups;
my $pw = $tk->add_user('tina', rights => 'ALSO:full');
my $pw2 = $tk->add_user('udo', rights => 'ALSO:full');
my $web = $tk->login_client('tina', $pw);
my $api = $tk->client;

sub me { $api->api(GET => '/api/v1/me', $_[0])->{status} }

my $token;
subtest 'profile: a new token, shown once' => sub {
    my $page = $web->get('/profile');
    is $page->{status}, 200, 'profile 200';
    ok $page->dom->at('section#tokens form#token-new'), 'form#token-new';
    my $res = $web->post_csrf('/profile/tokens', [ label => 'Kalender-Skript' ]);
    is $res->{status}, 200, 'made: 200 (no redirect, no token in a URL)';
    my $code = $res->dom->at('#new-token');
    ok $code, '#new-token shown';
    $token = $code ? $code->text : '';
    like $token, qr/^[0-9a-f]{64}$/, '64 hex digits';
    is me($token), 200, 'the token works';
    is $api->api(GET => '/api/v1/me', $token)->json->{login}, 'tina', 'as tina';
    my $again = $web->get('/profile');
    unlike $again->{content}, qr/$token/, 'the list never shows it whole';
    my $row = $again->dom->at('#token-list tr[data-token]');
    ok $row, 'listed';
    is $row->attr('data-token'), substr($token, 0, 8), 'by its first 8 digits';
    like $row->text, qr/Kalender-Skript/, 'with its label';
};

subtest 'profile: CSRF and bad input change nothing' => sub {
    my $n = $tk->redis->scard(tk_key_user_tokens('tina'));
    my $res = $web->post('/profile/tokens', [ label => 'x' ]);
    is $res->{status}, 403, 'without csrf: 403';
    $res = $web->post('/profile/tokens/revoke', [ csrf => 'f' x 64, id => substr($token, 0, 8) ]);
    is $res->{status}, 403, 'wrong csrf: 403';
    $web->get('/profile');
    $res = $web->post_csrf('/profile/tokens', [ label => "two\nlines" ]);
    is $res->{status}, 400, 'control characters in the label: 400';
    is $tk->redis->scard(tk_key_user_tokens('tina')), $n, 'no token made';
    is me($token), 200, 'token still works';
};

subtest 'revoke: only your own, and at once' => sub {
    my $other = $tk->login_client('udo', $pw2);
    $other->get('/profile');
    my $res = $other->post_csrf('/profile/tokens/revoke', [ id => substr($token, 0, 8) ]);
    is $res->{status}, 303, 'udo: same answer as revoked';
    is me($token), 200, 'but tina\'s token still works';
    $web->get('/profile');
    $res = $web->post_csrf('/profile/tokens/revoke', [ id => substr($token, 0, 8) ]);
    is $res->{status}, 303, 'tina revokes: 303';
    like $res->header('location'), qr/saved=revoked/, 'back to the profile';
    is me($token), 401, 'revoked token: 401 at once';
    ok !$tk->redis->exists(tk_key_token($token)), 'hash gone';
    ok !$web->get('/profile')->dom->at('#token-list tr[data-token]'), 'no longer listed';
};

subtest 'ticketctl token add/list/revoke' => sub {
    my $t = $tk->add_token('tina');
    is me($t), 200, 'ticketctl token works';
    my $list = $tk->ctl('token', 'list', 'tina');
    like $list, qr/^\Q${\ substr($t, 0, 8)}\E\.\.\./m, 'listed by first digits';
    unlike $list, qr/$t/, 'not whole';
    like $web->get('/profile')->dom->at('#token-list')->text, qr/ticketctl/, 'on the profile page too';
    $tk->ctl('token', 'revoke', $t);
    is me($t), 401, 'revoked: 401';
    is $tk->ctl('token', 'list', 'tina'), '', 'list empty';
};

done_testing;
