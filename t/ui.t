# The UI in a real browser (headless Chromium via playwright-core, t/ui/):
# login, overview and ticket page at 1280x800 and on a 390x844 phone, and
# a ticket with a hostile HTML mail (delivered by mailbridge) whose
# scripts must not run.  Screenshots go to build/artifacts/ (make
# screenshots copies them to docs/img/).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TK;
use TKUI;
require "$FindBin::Bin/mail_lib.pl";

TKUI::need_browser();

my $tk = TK->new;
$tk->standard_groups;
my $pw = $tk->add_user('uta', name => 'Uta Oberfläche', rights => 'ALSO:full');
my $title = 'Räumungsklage: Frist läuft am Freitag ab, bitte dringend prüfen (Mandantin ruft täglich an)';
my $n = $tk->add_ticket(title => $title, group => 'ALSO', priority => 4,
    customer => 'Maria Musterfrau-Langername <maria.musterfrau-langername@example.org>',
    body => "Sehr geehrte Damen und Herren,\n\nanbei das Schreiben. " . ('Lange Zeile ohne Umbruch ' x 20)
        . "\nhttps://example.org/ein/sehr/langer/pfad/der/nicht/umbricht/" . ('x' x 120));
$tk->add_ticket(title => "Anfrage $_ zum Mietrecht", group => $_ % 2 ? 'ALSO' : 'legal',
    customer => "Kunde $_ <k$_\@example.org>") for 1 .. 12;
# a change by uta, for the history; and sanne's ticket in legal, which
# uta tries to move to ALSO, where sanne has no right
my $uc = $tk->login_client('uta', $pw);
$uc->submit("/t/$n", 'form#ticket-update', state => 2) ;
$tk->add_user('sanne', name => 'Sanne Weber');
my $move = $tk->add_ticket(title => 'Mietminderung wegen Schimmel', group => 'legal', owner => 'sanne',
    customer => 'Karl Klein <karl@example.org>', body => "Guten Tag,\n\nim Bad ist wieder Schimmel.");

# an HTML mail trying everything: script, handler, javascript: link,
# a tracker image; with an inline logo and a PDF
my $mail_n;
if (TK::mailbridge_bin()) {
    MB::write_conf($tk);
    my $png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    my $id = "ui.$$\@example.net";
    my $mail = join "\r\n", 'From: Nora Newsletter <nora@example.net>', 'To: also@example.org',
        'Subject: Einladung zur Verhandlung', "Message-ID: <$id>", 'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="M"', '',
        '--M', 'Content-Type: multipart/related; boundary="R"', '',
        '--R', 'Content-Type: text/html; charset=utf-8', '',
        '<html><head><title>x</title><script>window.tkPwned = "head"</script></head><body>',
        '<h2>Einladung</h2><p>Die Verhandlung ist am <b>3. Dezember</b>.</p>',
        '<script>window.tkPwned = "script"; document.title = "pwned"</script>',
        '<img src="x" onerror="window.tkPwned = \'onerror\'; document.title = \'pwned\'">',
        '<svg><script>window.tkPwned = "svg"</script></svg>',
        '<p><a href="javascript:window.tkPwned=1">Link</a> <img src="cid:logo@example.net" alt="logo" width="32" height="32"></p>',
        '<p><img src="https://tracker.example.com/p.gif" alt="tracker"></p>',
        '<table><tr><td>' . ('breite Tabelle ' x 30) . '</td></tr></table>',
        '</body></html>',
        '--R', 'Content-Type: image/png', 'Content-Transfer-Encoding: base64',
        'Content-ID: <logo@example.net>', '', $png, '--R--',
        '--M', 'Content-Type: application/pdf', 'Content-Transfer-Encoding: base64',
        "Content-Disposition: attachment; filename*=UTF-8''Ladung%20%C3%BCber%20Termin.pdf", '',
        'JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDw+PgplbmRvYmoKJSVFT0YK', '--M--', '';
    my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'also@example.org');
    die "deliver: $rc $err" if $rc;
    ($mail_n) = MB::stored($tk, $id);
}

my $out = TKUI::artifacts('*.png');

local $ENV{BASE} = $tk->base;
local $ENV{LOGIN} = 'uta';
local $ENV{PASSWORD} = $pw;
local $ENV{TICKET} = $n;
local $ENV{OUT} = $out;
local $ENV{MAIL_TICKET} = $mail_n if $mail_n;
local $ENV{MOVE_TICKET} = $move;
local $ENV{MOVE_TO} = 'ALSO';
# decoded as bytes, like the string literals of this file
my $r = TKUI::run_script('ui.js');
note "Chromium $r->{browser}";

for my $view (qw(desktop mobile)) {
    my $v = $r->{views}{$view};
    my $width = $view eq 'mobile' ? 390 : 1280;
    subtest "$view ($width px)" => sub {
        is $v->{login}{page}, 'login', 'login page';
        is $v->{login}{lang}, 'de', 'a German browser: <html lang="de">';
        is $v->{login}{h1}, 'Anmelden', '  "Anmelden"';
        is $v->{loginEn}{lang}, 'en', 'an English browser: lang="en"';
        is $v->{loginEn}{h1}, 'Sign in', '  "Sign in"';
        is $v->{overview}{page}, 'overview', 'after login: overview';
        is $v->{overview}{url}, '/', 'at /';
        is $v->{overview}{rows}, $mail_n ? 14 : 13, 'a row per unassigned ticket';
        like $v->{overview}{user} // '', qr/Uta Oberfläche/, 'user menu shows the name';
        ok $v->{overview}{stylesheets} >= 1, 'a stylesheet is loaded';
        is $v->{ticket}{page}, 'ticket', 'ticket page';
        is $v->{ticket}{url}, "/t/$n", "at /t/$n";
        is $v->{ticket}{title}, $title, 'h1#title';
        ok $v->{clicked}, 'reached through a link in its overview row';
        is $v->{goto}{url}, "/t/$n", 'go to "[Ticket#N]" from the head opens it';
        cmp_ok $v->{overview}{gotoRight}, '<=', $width, 'the go-to field fits the screen';
        cmp_ok $v->{overview}{gotoWidth}, '>=', 100, '  and wide enough for "Ticket-Nr." or a number';
        cmp_ok $v->{overview}{headerHeight}, '<=', $view eq 'mobile' ? 110 : 60, '  the top bar stays compact';
        my ($h) = grep { $_->{text} =~ /Status/ } @{ $v->{ticket}{history} };
        is $h && $h->{text}, 'Uta Oberfläche hat den Status von „neu“ auf „in Bearbeitung“ geändert',
            'history names uta by her display name';
        is_deeply $h && $h->{titles}, ['uta'], '  her login as the tooltip';
        my $i = $v->{invalid};
        is $v->{ownerAfterMove}, '', 'group ALSO chosen: the owner choice falls back to nobody (sanne may not work there)';
        is $i->{status}, 422, 'moving sanne\'s ticket to ALSO: the form again (422)';
        is $i->{page}, 'ticket', '  the ticket page';
        is $i->{messages}, 1, '  one message';
        is $i->{id}, 'f-owner-error', '  at the owner';
        is $i->{text}, 'Sanne Weber hat keinen Zugriff auf ALSO: „Zuständig“ leeren oder jemand anderen wählen.',
            '  saying who, where and what to do';
        ok $i->{visible}, '  visible';
        ok defined $i->{gap} && $i->{gap} >= 0 && $i->{gap} <= 16, '  right under the owner field'
            or diag "gap $i->{gap}";
        ok $i->{sameColumn}, '  in its column';
        ok !$i->{banner}, '  no error banner';
        is_deeply [ $i->{group}, $i->{owner} ], [ 'ALSO', 'sanne' ], '  the form as submitted';
        cmp_ok $i->{scrollWidth}, '<=', $width, '  no horizontal scrolling';
        ok -s "$out/ticket-error-$view.png", "ticket-error-$view.png saved";
        for my $p (qw(login overview ticket)) {
            cmp_ok $v->{$p}{scrollWidth}, '<=', $width, "$p: no horizontal scrolling";
            ok -s "$out/$p-$view.png", "$p-$view.png saved";
        }
        is_deeply $v->{errors}, [], 'no script errors, CSP violations or failed loads';
        is_deeply $v->{foreign}, [], 'nothing requested from elsewhere';
        SKIP: {
            skip 'build/mailbridge is not built', 15 unless $mail_n;
            my $m = $v->{mail};
            is $m->{page}, 'ticket', 'HTML mail: ticket page';
            ok $m->{htmlBody}, 'shown as HTML';
            is $m->{pwned}, undef, 'no script of the mail ran';
            like $m->{title}, qr/^Einladung zur Verhandlung/, 'title untouched';
            is_deeply $m->{violations}, [], 'no CSP violations (nothing even tried)';
            is $m->{files}, 2, 'both attachments listed';
            ok((grep { $_ eq 'Ladung über Termin.pdf' } @{ $m->{fileNames} }), 'PDF under its name');
            ok $m->{rawLink}, '.eml link';
            ok $m->{loadImages}, '"load images" link';
            ok $m->{logoLoaded}, 'the inline image (cid:) loaded';
            is $m->{trackerSrc}, undef, 'the tracker has no src';
            is $m->{trackerAlt}, '', '  and no alt text to show as a broken image';
            ok $m->{trackerBox} && $m->{trackerBox}[0] >= 20 && $m->{trackerBox}[1] >= 20,
                '  a placeholder box instead' or diag explain $m->{trackerBox};
            isnt $m->{trackerBg} // 'rgba(0, 0, 0, 0)', 'rgba(0, 0, 0, 0)', '  with a neutral background';
            cmp_ok $m->{scrollWidth}, '<=', $width, 'no horizontal scrolling';
        }
        ok -s "$out/mail-$view.png", "mail-$view.png saved" if $mail_n;
    };
}

done_testing;
