# Inbound mail on the web: an HTML mail with an inline image, a remote
# image and a binary attachment, delivered by mailbridge, as an agent sees
# it -- attachments and the raw mail byte for byte with a file's headers,
# cid: images rewritten, remote images only on request (and the CSP with
# them), no access from other groups; the "newsletters / automatic"
# overview; the quarantine for admins.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(encode_base64 decode_base64);
use TK;
require "$FindBin::Bin/mail_lib.pl";

plan skip_all => 'build/mailbridge is not built' unless TK::mailbridge_bin();

my $tk = TK->new;
$tk->standard_groups;                 # ALSO, legal (all agents), Zivilrecht
MB::write_conf($tk);
my $anna_pw = $tk->add_user('anna', rights => 'ALSO:full', lang => 'en');
my $otto_pw = $tk->add_user('otto', rights => 'Zivilrecht:full');
my $root_pw = $tk->add_user('root', rights => 'ALSO:read', admin => 1);
my $anna = $tk->login_client('anna', $anna_pw);
my $otto = $tk->login_client('otto', $otto_pw);
my $root = $tk->login_client('root', $root_pw);

# ---- the mail --------------------------------------------------------------

# a real 1x1 PNG, so a browser can show it
my $png = decode_base64('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==');
# "PDF-ish": a header, NUL bytes and every byte value
my $pdf = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" . join('', map { chr } 0 .. 255) . "\0\0\0trailer\n%%EOF\n";
my $pdf_name = "Bescheid \xc3\x9cber Geb\xc3\xbchren.pdf";    # UTF-8 bytes
my $pdf_name_enc = 'Bescheid%20%C3%9Cber%20Geb%C3%BChren.pdf';

sub b64 { my $s = encode_base64($_[0]); $s =~ s/\n/\r\n/g; $s }

my $html = <<'HTML';
<html><head><title>x</title><script>window.tkPwned = 'head';</script></head>
<body><p>Hallo Rechtshilfe,</p>
<script>document.title = 'pwned'; window.tkPwned = 'script';</script>
<img src="x" onerror="window.tkPwned = 'onerror'; document.title = 'pwned'">
<p>Logo: <img src="cid:logo.1@example.net" alt="logo"></p>
<p>Tracker: <img src="https://tracker.example.com/pixel.gif?u=anna" alt="tracker"></p>
<p><a href="javascript:alert(1)">klick</a> <b onclick="window.tkPwned='click'">fett</b></p>
</body></html>
HTML
$html =~ s/\n/\r\n/g;

my $msgid = 'html.' . time . ".$$\@example.net";
my $mail = join "\r\n",
    'From: Anna Aktiv <anna@example.net>',
    'To: also@example.org',
    'Subject: Bescheid mit Anhang',
    'Date: Mon, 23 Nov 2026 10:00:00 +0100',
    "Message-ID: <$msgid>",
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="MIX"',
    '',
    '--MIX',
    'Content-Type: multipart/related; boundary="REL"',
    '',
    '--REL',
    'Content-Type: text/html; charset=utf-8',
    '',
    $html,
    '--REL',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    'Content-ID: <logo.1@example.net>',
    'Content-Disposition: inline; filename="logo.png"',
    '',
    b64($png) . '--REL--',
    '--MIX',
    'Content-Type: application/pdf',
    'Content-Transfer-Encoding: base64',
    "Content-Disposition: attachment; filename*=UTF-8''$pdf_name_enc",
    '',
    b64($pdf) . '--MIX--',
    '';

my ($rc, undef, $err) = MB::deliver($tk, $mail, '--recipient', 'also@example.org');
is $rc, 0, 'delivered' or diag $err;
my ($n, $art, $a) = MB::stored($tk, $msgid);
ok $n, "stored as ticket $n, article $a";
is $tk->ticket_hash($n)->{group}, 'ALSO', 'in ALSO';
is $art->{attachments}, 2, 'two parts stored';

# which part is which (mailbridge numbers them in MIME order)
my %k;
for my $k (1 .. 2) {
    my $att = MB::attachment($tk, $n, $a, $k);
    $k{ $att->{content_type} } = $k;
}
my ($kpng, $kpdf) = @k{qw(image/png application/pdf)};
ok $kpng && $kpdf, 'a PNG part and a PDF part';

# another ALSO ticket: A must not be reachable through it
my $other = $tk->add_ticket(title => 'Anderes', group => 'ALSO');

# ---- the ticket page -------------------------------------------------------

subtest 'ticket page: attachments listed, .eml link, HTML safe' => sub {
    my $res = $anna->get("/t/$n");
    is $res->{status}, 200, 'status 200';
    my $d = $res->dom;
    my $article = $d->at("article#a-$a");
    ok $article, "article#a-$a";
    my @files = $article->find('.files li.file');
    is scalar @files, 2, 'two files listed';
    my ($f) = grep { $_->at('a.download')->text eq $pdf_name } @files;
    ok $f, 'the PDF under its UTF-8 name';
    is $f && $f->at('a.download')->attr('href'), "/t/$n/a/$a/att/$kpdf", 'download link';
    is $f && $f->at('.type')->text, 'application/pdf', 'its type';
    like $f ? $f->at('.size')->text : '', qr/^\d+ B$/, 'its size';
    my $raw = $article->at('a.raw-mail');
    ok $raw, '.eml link';
    is $raw && $raw->attr('href'), "/t/$n/a/$a/raw", 'to the raw mail';
    like $raw ? $raw->text : '', qr/raw message \(\.eml, \d+ KB\)/, 'says what it is';

    my $body = $article->at('.body-html');
    ok $body, 'HTML body';
    my $src = join '', map { $_->raw_text } $body->find('script');
    unlike $res->{content}, qr/tkPwned|onerror|onclick|javascript:/, 'no script, handler or javascript: URL';
    my @img = $body->find('img');
    my ($logo) = grep { ($_->attr('alt') // '') eq 'logo' } @img;
    my ($tracker) = grep { ($_->attr('data-src') // '') =~ /tracker/ } @img;
    is $logo && $logo->attr('src'), "/t/$n/a/$a/cid/logo.1\@example.net", 'cid: rewritten to the part URL';
    ok $tracker && !defined $tracker->attr('src'), 'remote image: no src';
    is $tracker && $tracker->attr('data-src'), 'https://tracker.example.com/pixel.gif?u=anna', 'only data-src';
    is $tracker && $tracker->attr('alt'), '', 'blocked: alt="" (a placeholder, not "tracker" as a broken image)';
    my $load = $article->at('a.load-images');
    is $load && $load->attr('href'), "/t/$n?images=$a#a-$a", 'a "load images" link';
    is $res->header('content-security-policy'),
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
        . "form-action 'self'; frame-ancestors 'none'; base-uri 'none'", 'the usual CSP';
};

subtest '?images=A: remote images load, CSP allows them for this response' => sub {
    my $res = $anna->get("/t/$n?images=$a");
    is $res->{status}, 200, 'status 200';
    my ($tracker) = grep { ($_->attr('alt') // '') eq 'tracker' } $res->dom->find("article#a-$a img");
    is $tracker && $tracker->attr('src'), 'https://tracker.example.com/pixel.gif?u=anna', 'src now, alt kept';
    ok $tracker && !defined $tracker->attr('data-src'), 'no data-src';
    my ($logo) = grep { ($_->attr('alt') // '') eq 'logo' } $res->dom->find("article#a-$a img");
    is $logo && $logo->attr('src'), "/t/$n/a/$a/cid/logo.1\@example.net", 'cid still rewritten';
    is $res->header('content-security-policy'),
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data: https: http:; "
        . "form-action 'self'; frame-ancestors 'none'; base-uri 'none'", 'img-src also https: http:';
    my $hide = $res->dom->at("article#a-$a a.load-images");
    is $hide && $hide->attr('href'), "/t/$n#a-$a", 'a link back';
    like $anna->get("/t/$n")->header('content-security-policy'), qr/img-src 'self' data:;/,
        'the next page has the strict CSP again';
    like $anna->get("/t/$n?images=999999")->header('content-security-policy'),
        qr/img-src 'self' data:;/, 'another article: strict';
    like $anna->get("/t/$n?images=x$a")->header('content-security-policy'),
        qr/img-src 'self' data:;/, 'garbage: strict';
};

subtest 'the render-time rewrite: only <img> src/data-src change' => sub {
    my $r = $tk->redis;
    my $key = tk_key_article($n, $a);
    my $orig = $r->hget($key, 'body_html');
    my $html = join "\n",
        q{<p title="&lt;img src=&quot;cid:t&quot;&gt;">text with cid:x and data-src="http://x"</p>},
        q{<IMG ALT="1" SRC="CID:a&amp;b c">},
        q{<img alt='2' src='cid:q&#39;"/'>},
        q{<img/src="cid:slash">},
        q{<img alt=3 data-src=https://x.example/a.png>},
        q{<img alt="4" data-src="//cdn.example/b.png" width="10">},
        q{<img alt="5" data-src="ftp://x.example/c.png">},
        q{<!-- <img src="cid:comment"> -->},
        q{<imgx src="cid:notimg"><image src="cid:alsonot">},
        q{<img alt="6" src="cid:trunc};
    $r->hset($key, 'body_html', $html);
    $r->hincrby(tk_key_ticket($n), 'rev', 1);     # as every writer does: the page cache
    my $body = sub {
        my $c = $anna->get($_[0])->{content};
        return $c =~ m{<div class="body body-html">(.*?)</div>\n}s ? $1 : '';
    };
    my $cid = "/t/$n/a/$a/cid/";
    my $want = join "\n",
        q{<p title="&lt;img src=&quot;cid:t&quot;&gt;">text with cid:x and data-src="http://x"</p>},
        qq{<img ALT="1" src="${cid}a%26b%20c">},
        qq{<img alt='2' src="${cid}q%27%22%2F">},
        qq{<img/src="${cid}slash">},
        q{<img alt="" data-src=https://x.example/a.png>},
        q{<img alt="" data-src="//cdn.example/b.png" width="10">},
        q{<img alt="5" data-src="ftp://x.example/c.png">},
        q{<!-- <img src="cid:comment"> -->},
        q{<imgx src="cid:notimg"><image src="cid:alsonot">},
        qq{<img alt="6" src="${cid}trunc"};
    is $body->("/t/$n"), $want, 'without images (blocked ones without their alt text)';
    ($want = $want) =~ s{<img alt="" data-src=https}{<img alt=3 src=https};
    $want =~ s{<img alt="" data-src=}{<img alt="4" src=};
    is $body->("/t/$n?images=$a"), $want, 'with images: http(s) and // become src, ftp stays';
    $r->hset($key, 'body_html', $orig);
    $r->hincrby(tk_key_ticket($n), 'rev', 1);
};

# ---- files -----------------------------------------------------------------

sub file_headers_ok {
    my ($res, $type, $disp, $name) = @_;
    is $res->{status}, 200, "$name: 200";
    is $res->header('content-type'), $type, "$name: Content-Type $type";
    is $res->header('content-disposition'), $disp, "$name: Content-Disposition";
    is $res->header('x-content-type-options'), 'nosniff', "$name: nosniff";
    is $res->header('content-security-policy'), "default-src 'none'; sandbox", "$name: sandboxing CSP";
    is $res->header('cache-control'), 'private, max-age=0', "$name: Cache-Control";
}

subtest 'attachment: byte-exact, a download' => sub {
    my $res = $anna->get("/t/$n/a/$a/att/$kpdf");
    file_headers_ok($res, 'application/octet-stream',
        qq{attachment; filename="Bescheid _ber Geb_hren.pdf"; filename*=UTF-8''$pdf_name_enc}, 'PDF');
    is length $res->{content}, length $pdf, 'length';
    ok $res->{content} eq $pdf, 'the bytes of the MIME part (NULs and all)';
    is $res->header('content-length'), length $pdf, 'Content-Length';
};

subtest 'inline image: by number and by Content-ID' => sub {
    for my $path ("/t/$n/a/$a/att/$kpng", "/t/$n/a/$a/cid/logo.1\@example.net",
                  "/t/$n/a/$a/cid/logo.1%40example.net")
    {
        my $res = $anna->get($path);
        file_headers_ok($res, 'image/png',
            q{inline; filename="logo.png"; filename*=UTF-8''logo.png}, $path);
        ok $res->{content} eq $png, "$path: the PNG";
    }
    is $anna->get("/t/$n/a/$a/cid/nope\@example.net")->{status}, 404, 'unknown Content-ID: 404';
    my $head = $anna->request('HEAD', "/t/$n/a/$a/att/$kpng");
    is $head->{status}, 200, 'HEAD: 200';
    is $head->header('content-length'), length $png, 'HEAD: length';
    is $anna->post("/t/$n/a/$a/att/$kpng", [])->{status}, 405, 'POST: 405';
};

subtest 'raw message: the delivered bytes' => sub {
    my $res = $anna->get("/t/$n/a/$a/raw");
    file_headers_ok($res, 'message/rfc822',
        qq{attachment; filename="ticket-$n-article-$a.eml"; filename*=UTF-8''ticket-$n-article-$a.eml},
        'raw');
    ok $res->{content} eq $mail, 'equal to what mailbridge was given';
    is substr($tk->redis->get(tk_key_raw($n, $a)), 0, 2), "\x1f\x8b",
        'stored gzip-compressed: the download inflated it';
};

subtest 'raw message stored before compression: served as it is' => sub {
    my $key = tk_key_raw($n, $a);
    my $gz = $tk->redis->get($key);
    $tk->redis->set($key, $mail);
    my $res = $anna->get("/t/$n/a/$a/raw");
    is $res->{status}, 200, '200';
    ok $res->{content} eq $mail, 'the stored bytes';
    is $res->header('content-length'), length $mail, 'length';
    $tk->redis->set($key, substr($gz, 0, 20) . ("\0" x 4));
    is $anna->get("/t/$n/a/$a/raw")->{status}, 500, 'broken gzip value: 500, not garbage';
    $tk->redis->set($key, $gz);
};

subtest 'types: only the allow-list is shown inline' => sub {
    my $r = $tk->redis;
    my $key = tk_key_attachment($n, $a, $kpdf);
    my %orig = $r->hgetall($key);
    my %cases = (
        'text/html'                    => [ 'application/octet-stream', 'attachment' ],
        'image/svg+xml'                => [ 'application/octet-stream', 'attachment' ],
        'text/plain'                   => [ 'text/plain; charset=utf-8', 'inline' ],
        'TEXT/Plain; charset=latin1'   => [ 'text/plain; charset=utf-8', 'inline' ],
        'image/jpeg'                   => [ 'image/jpeg', 'inline' ],
        'image/gif'                    => [ 'image/gif', 'inline' ],
        'image/webp'                   => [ 'image/webp', 'inline' ],
        ''                             => [ 'application/octet-stream', 'attachment' ],
    );
    for my $type (sort keys %cases) {
        $r->hset($key, 'content_type', $type);
        my $res = $anna->get("/t/$n/a/$a/att/$kpdf");
        is $res->header('content-type'), $cases{$type}[0], "'$type' sent as $cases{$type}[0]";
        like $res->header('content-disposition'), qr/^\Q$cases{$type}[1]\E;/, "'$type': $cases{$type}[1]";
    }
    my %names = (
        "../../etc/passwd"         => q{etcpasswd"; filename*=UTF-8''etcpasswd},
        "C:\\Users\\x\\a\"b.txt"   => q{C:Usersxa_b.txt"; filename*=UTF-8''C%3AUsersxa%22b.txt},
        "a\r\nSet-Cookie: x=1"     => q{aSet-Cookie: x=1"; filename*=UTF-8''aSet-Cookie%3A%20x%3D1},
        ".hidden"                  => q{hidden"; filename*=UTF-8''hidden},
        ''                         => q{download"; filename*=UTF-8''download},
        "100%.txt"                 => q{100_.txt"; filename*=UTF-8''100%25.txt},
    );
    for my $name (sort keys %names) {
        $r->hset($key, 'name', $name);
        $r->hset($key, 'content_type', 'application/pdf');
        my $res = $anna->get("/t/$n/a/$a/att/$kpdf");
        is $res->header('content-disposition'), qq{attachment; filename="$names{$name}},
            "name '" . ($name =~ s/[\r\n]/?/gr) . "' cleaned";
    }
    $r->hset($key, %orig);
};

subtest 'no access from elsewhere: the 404 of a missing ticket' => sub {
    my $missing = $otto->get('/t/999999');
    is $missing->{status}, 404, 'missing ticket: 404';
    my @paths = ("/t/$n", "/t/$n/a/$a/att/$kpdf", "/t/$n/a/$a/att/$kpng",
                 "/t/$n/a/$a/cid/logo.1\@example.net", "/t/$n/a/$a/raw");
    for my $p (@paths) {
        my $res = $otto->get($p);
        is $res->{status}, 404, "other group: $p 404";
        is $res->{content}, $missing->{content}, "$p: the same page";
    }
    for my $p ("/t/$other/a/$a/att/$kpdf", "/t/$other/a/$a/raw",
               "/t/$other/a/$a/cid/logo.1\@example.net", "/t/$n/a/$a/att/3",
               "/t/$n/a/$a/att/0", "/t/$n/a/99999/raw", "/t/$n/a/$a/att/1x",
               "/t/$n/a/$a", "/t/$n/a/$a/", "/t/$n/a/$a/raw/x", "/t/99999/a/$a/raw")
    {
        my $res = $anna->get($p);
        is $res->{status}, 404, "$p: 404";
    }
    my $anon = $tk->client->get("/t/$n/a/$a/raw");
    is $anon->{status}, 303, 'not signed in: to the login';
    is $tk->client->api('GET', "/api/v1/tickets/$n/a/$a/raw", $tk->add_token('anna'))->{status},
        404, 'no API route for files';
};

# ---- newsletters / automatic ---------------------------------------------

sub rows {
    my ($c, $ov) = @_;
    return map { $_->attr('data-number') } $c->get("/overview/$ov")->dom->find('table#tickets tr[data-number]');
}

sub count {
    my ($c, $ov) = @_;
    my $a = $c->get('/overview/all')->dom->at(qq{nav#overviews a[data-overview="$ov"] .count});
    return $a ? $a->text : undef;
}

subtest 'auto-generated mail: in "auto", not in "unassigned"' => sub {
    my $before_un = count($anna, 'unassigned');
    my $before_auto = count($anna, 'auto');
    my $m = MB::mail(subject => 'Newsletter Dezember', from => 'news@verein.example',
        'List-Id' => '<news.verein.example>', 'List-Unsubscribe' => '<mailto:off@verein.example>');
    my ($rc) = MB::deliver($tk, $m, '--recipient', 'legal@example.org');
    is $rc, 0, 'delivered';
    my ($t) = MB::stored($tk, MB::msgid_of($m));
    like $tk->ticket_hash($t)->{flags}, qr/\bauto\b/, 'ticket flag auto';
    ok((grep { $_ == $t } rows($anna, 'auto')), 'listed in /overview/auto');
    ok(!(grep { $_ == $t } rows($anna, 'unassigned')), 'not in /overview/unassigned');
    ok((grep { $_ == $t } rows($anna, 'open')), 'still in "open"');
    ok((grep { $_ == $t } rows($anna, 'group-legal')), 'and in its group');
    is count($anna, 'auto'), $before_auto + 1, 'auto count +1';
    is count($anna, 'unassigned'), $before_un, 'unassigned count unchanged';
    is $tk->redis->hget(TK_KEY_INDEX_COUNTS, "legal:1:!"), 1, 'counts field legal:1:!';
    ok !$tk->redis->exists(TK_KEY_INDEX_AUTO_OLD), 'no second list of auto tickets';
    my $page = $anna->get('/overview/auto');
    like $page->dom->at('h1.overview-title')->text, qr{Newsletters / automatic}, 'heading';
    is_deeply $tk->index_counts, $tk->expected_counts, 'index counts consistent';
    my $token = $tk->add_token('anna');
    my $api = sub {
        my $res = $tk->client->api('GET', "/api/v1/tickets?$_[0]", $token);
        return map { $_->{number} } @{ ($res->json // {})->{tickets} // [] };
    };
    ok((grep { $_ == $t } $api->('overview=auto')), 'API: overview=auto lists it');
    ok(!(grep { $_ == $t } $api->('overview=unassigned')), 'API: not unassigned');

    # taking it on moves it out of "auto"; giving it back returns it there
    is $anna->submit("/t/$t", 'form#ticket-update', owner => 'anna')->{status}, 303, 'assigned';
    ok(!(grep { $_ == $t } rows($anna, 'auto')), 'assigned: no longer in "auto"');
    ok((grep { $_ == $t } rows($anna, 'my')), 'in "my"');
    is $anna->submit("/t/$t", 'form#ticket-update', owner => '')->{status}, 303, 'unassigned';
    ok((grep { $_ == $t } rows($anna, 'auto')), 'back in "auto"');
    ok(!(grep { $_ == $t } rows($anna, 'unassigned')), 'not in "unassigned"');
    is_deeply $tk->index_counts, $tk->expected_counts, 'index counts still consistent';
};

subtest 'German label' => sub {
    my $pw = $tk->add_user('gerd', rights => 'ALSO:full', lang => 'de');
    my $c = $tk->login_client('gerd', $pw);
    my $a = $c->get('/overview/auto')->dom->at('nav#overviews a[data-overview="auto"] .label');
    is $a && $a->text, 'Newsletter / automatisch', 'Newsletter / automatisch';
};

# ---- quarantine ------------------------------------------------------------

subtest 'quarantine: admins only, raw bytes as received' => sub {
    my $junk = "\x00\x01\x02\xff\xfe binary junk, no header at all \x00\n";
    my ($rc) = MB::deliver($tk, $junk);
    is $rc, 0, 'junk delivered (exit 0)';
    my @q = $tk->redis->zrange(TK_KEY_QUARANTINE, 0, -1);
    ok @q >= 1, 'quarantined';
    my ($id) = grep { ($tk->redis->hget(tk_key_quarantine($_), 'raw') // '') eq $junk } @q;
    ok $id, 'our junk among them';
    $id //= '0' x 64;

    for my $p ('/admin/quarantine', "/admin/quarantine/$id/raw", '/admin', '/admin/x') {
        my $res = $anna->get($p);
        is $res->{status}, 404, "agent: $p 404";
    }
    ok !$anna->get('/')->dom->at('#nav-quarantine'), 'no link for agents';

    my $home = $root->get('/');
    my $link = $home->dom->at('#nav-quarantine');
    ok $link, 'admin: link in the header';
    is $link && $link->attr('href'), '/admin/quarantine', 'to the quarantine';
    is $link && $link->at('.count') && $link->at('.count')->text, scalar(@q), 'with the number of entries';

    my $res = $root->get('/admin/quarantine');
    is $res->{status}, 200, 'admin: 200';
    is $res->page, 'admin', 'data-page="admin"';
    my $row = $res->dom->at(qq{table#quarantine tr[data-id="$id"]});
    ok $row, 'the entry is listed';
    is $row && $row->at('td.source')->text, 'deliver', 'source';
    ok $row && length $row->at('td.reason')->text, 'a reason';
    like $row ? $row->at('td.size')->text : '', qr/^\d+ B$/, 'size';
    like $row ? $row->at('td.time')->text : '', qr/^\d{4}-\d\d-\d\d \d\d:\d\d$/, 'time';
    is $res->dom->at('#total')->text, scalar(@q), 'total';
    my $href = $row ? $row->at('a.raw')->attr('href') : '';
    is $href, "/admin/quarantine/$id/raw", 'download link';

    my $raw = $root->get($href);
    file_headers_ok($raw, 'message/rfc822',
        qq{attachment; filename="quarantine-$id.eml"; filename*=UTF-8''quarantine-$id.eml}, 'quarantined');
    ok $raw->{content} eq $junk, 'byte for byte';
    is $root->get('/admin/quarantine/' . ('a' x 64) . '/raw')->{status}, 404, 'unknown id: 404';
    is $root->get('/admin/quarantine/xyz/raw')->{status}, 404, 'not an id: 404';
};

done_testing;
