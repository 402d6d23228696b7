# The UI's languages (docs/i18n.md): every page in the user's language
# from the one catalogue, German for a language we lack, the profile's
# picker offers the catalogue's languages, error pages before sign-in
# follow Accept-Language, no English leftovers on a German page (and no
# German on an English one), times in Europe/Berlin whatever the server's
# zone.  Accept-Language on the sign-in page: t/login.t.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX qw(strftime tzset);
use Encode qw(decode);
use TK;
use TKCatalogue;

my %cat = %{ TKCatalogue::catalogue() };
ok keys %cat > 300, 'catalogue read: ' . scalar(keys %cat) . ' entries';
my %only = map { $_ => TKCatalogue::only_texts(\%cat, $_) } qw(de en);

# The words of page in lang that belong to the other language.
sub leftovers {
    my ($res, $lang) = @_;
    my $other = $lang eq 'de' ? 'en' : 'de';
    my $text = $res->dom->text;
    # attribute texts count too (aria-label, placeholder, title)
    $text .= ' ' . join ' ', map { $_->attr('aria-label') // (), $_->attr('placeholder') // (),
                                   $_->attr('title') // () } $res->dom->find("*");
    $text = decode('UTF-8', $text) unless utf8::is_utf8($text);
    $text =~ s/\s+/ /g;
    return grep { index($text, $_) >= 0 } @{ $only{$other} };
}

my $tk = TK->new;
$tk->standard_groups;
my $de_pw = $tk->add_user('dana', name => 'Dana Deutsch', rights => 'ALSO:full', admin => 1);
my $en_pw = $tk->add_user('emil', name => 'Emil English', rights => 'ALSO:full', admin => 1, lang => 'en');
my $xx_pw = $tk->add_user('xena', rights => 'ALSO:full');
my $r = $tk->redis;
$r->hset(tk_key_user('xena'), TK_F_LANG, 'xx');   # a language we do not have

my $n = $tk->add_ticket(group => 'ALSO', title => 'Mietvertrag', owner => 'dana',
                        body => 'Hallo, eine Frage.');

my %client = (de => $tk->login_client('dana', $de_pw), en => $tk->login_client('emil', $en_pw));

my @pages = ('/', '/overview/all', "/t/$n", '/profile', '/admin/keys', '/search?q=Mietvertrag',
             '/admin', '/admin/users', '/admin/users/new', '/admin/users/dana', '/admin/groups',
             '/admin/groups/ALSO', '/admin/quarantine', '/admin/outbox', '/admin/mail',
             '/admin/triggers', '/t/999999');

subtest 'every page in the user\'s language, without the other\'s words' => sub {
    for my $lang (qw(de en)) {
        for my $path (@pages) {
            my $res = $client{$lang}->get($path);
            like $res->{status}, qr/^(200|404)$/, "$lang $path: $res->{status}";
            my ($html_lang) = ($res->{content} // '') =~ /<html lang="([^"]+)"/;
            is $html_lang, $lang, "  <html lang=\"$lang\">";
            my @left = leftovers($res, $lang);
            is "@left", '', '  no text of the other language' or diag join "\n", @left;
        }
    }
};

sub txt { my $t = shift // ''; utf8::is_utf8($t) ? $t : decode('UTF-8', $t) }

subtest 'some words, to show the check above can see them' => sub {
    my $res = $client{de}->get('/');
    like txt($res->dom->at('nav.main')->text), qr/Übersicht.*Profil/s, 'German menu';
    like $res->dom->at('#logout button')->text, qr/^Abmelden$/, 'German sign-out';
    $res = $client{en}->get('/');
    like $res->dom->at('nav.main')->text, qr/Overview.*Profile/s, 'English menu';
    ok scalar(leftovers($client{de}->get('/'), 'en')) > 0, 'a German page seen as English has leftovers';
};

subtest 'a profile language we do not have is German' => sub {
    my $c = $tk->login_client('xena', $xx_pw);
    my $res = $c->get('/');
    my ($l) = ($res->{content} // '') =~ /<html lang="([^"]+)"/;
    is $l, 'de', 'lang="de"';
    is $res->dom->at('#logout button')->text, 'Abmelden', 'German words';
};

subtest 'the profile offers the catalogue\'s languages and switches' => sub {
    my $c = $tk->login_client('xena', $xx_pw);
    my $res = $c->get('/profile');
    my @opts = map { [ $_->attr('value'), $_->text ] } $res->dom->find("#p-lang option");
    is_deeply \@opts, [ [ 'de', 'Deutsch' ], [ 'en', 'English' ] ], 'one option per language, named in itself';
    $res = $c->post_csrf('/profile', [ name => 'Xena', email => 'xena@example.org', lang => 'en' ]);
    like $res->{status}, qr/^30[23]$/, 'saved';
    $res = $c->get('/profile');
    is $res->dom->at('#logout button')->text, 'Sign out', 'now English';
    is $res->dom->at('#p-lang option[selected]')->attr('value'), 'en', 'en selected';
    $res = $c->post_csrf('/profile', [ name => 'Xena', email => 'xena@example.org', lang => 'fr' ]);
    is $res->{status}, 400, 'a language we lack is refused';
    like $res->dom->at('.flash.error')->text, qr/Language/, '  with the message in English';
    is $r->hget(tk_key_user('xena'), TK_F_LANG), 'en', '  and nothing changed';
};

subtest 'error pages before sign-in follow Accept-Language, German by default' => sub {
    # GET /logout: 405, whether signed in or not
    my %want = ('' => 'de', 'en-US,en;q=0.9' => 'en', 'fr' => 'de');
    for my $al (sort keys %want) {
        my $res = $tk->client->get('/logout', headers => { length $al ? ('accept-language' => $al) : () });
        is $res->{status}, 405, "GET /logout '$al': 405";
        my $h1 = $res->dom->at('h1');
        is txt($h1 ? $h1->text : ''), "405 $cat{'status.s405'}{ $want{$al} }", "  heading in $want{$al}";
    }
};

subtest 'times are Europe/Berlin, not the server\'s zone' => sub {
    is $ENV{TZ} // '', '', 'the test runs nginx without a TZ (the server zone is UTC here)'
        or note 'TZ is set; the check still holds';
    my $res = $client{de}->get('/overview/all');
    my $t = $res->dom->at("tr[data-number=\"$n\"] td.created time") or return fail 'no time';
    my ($iso, $full) = ($t->attr('datetime'), $t->attr('title'));
    my ($y, $mo, $d, $h, $mi, $s) = $iso =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)/
        or return fail "datetime $iso";
    require Time::Local;
    my $epoch = Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y);
    local $ENV{TZ} = 'Europe/Berlin';
    tzset();
    my $berlin = strftime('%Y-%m-%d %H:%M', localtime $epoch);
    delete $ENV{TZ};
    tzset();
    like $full, qr/^\Q$berlin\E/, "title \"$full\" is Berlin time of $iso";
    isnt substr($berlin, 11, 2), sprintf('%02d', $h), 'Berlin is not UTC (sanity)';
};

subtest 'short dates in the language\'s format (catalogue date.*_fmt)' => sub {
    # a ticket from 2 January of this year, 09:05 Berlin (unless today is
    # that day: then the 3rd), and one from an earlier year
    my @now = localtime;
    my $day = ($now[4] == 0 && $now[3] <= 3) ? 5 : 2;
    local $ENV{TZ} = 'Europe/Berlin';
    tzset();
    require Time::Local;
    my $this = Time::Local::timelocal(0, 5, 9, $day, 0, $now[5] + 1900);
    my $old = Time::Local::timelocal(0, 5, 9, 24, 10, 2019);
    delete $ENV{TZ};
    tzset();
    my $a = $tk->add_ticket(group => 'ALSO', title => 'Alt dieses Jahr');
    my $b = $tk->add_ticket(group => 'ALSO', title => 'Ganz alt');
    $r->hset(tk_key_ticket($a), TK_F_CREATED, $this);
    $r->hset(tk_key_ticket($b), TK_F_CREATED, $old);
    $r->hdel(TK_KEY_INDEX_ROWS, $a, $b);            # raw HSETs: the list rows go
    $r->incr(TK_KEY_INDEX_GEN);                     # the page cache must not answer
    my %want = (de => [ sprintf('%02d.01. 09:05', $day), '2019-11-24' ],
                en => [ "$day Jan 09:05", '2019-11-24' ]);
    for my $lang (qw(de en)) {
        my $res = $client{$lang}->get('/overview/all');
        my @got = map { my $t = $res->dom->at("tr[data-number=\"$_\"] td.created time"); $t ? $t->text : '' } $a, $b;
        is_deeply \@got, $want{$lang}, "$lang: @{ $want{$lang} }";
    }
};

done_testing;
