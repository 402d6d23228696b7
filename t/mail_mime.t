# mailbridge parsing: charsets (declared, missing, lying, unknown) to
# UTF-8, encoded headers, HTML sanitising against an XSS vector list,
# attachments and inline images byte-exact, forwarded mails, broken MIME.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode decode encode_utf8 decode_utf8);
use MIME::Base64 qw(encode_base64);
use TK;
require "$FindBin::Bin/mail_lib.pl";

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

my $tk = MB::setup();

# deliver, return (ticket, article hash with decoded strings)
sub store {
    my ($mail, $what) = @_;
    my ($rc, undef, $err) = MB::deliver($tk, $mail);
    is $rc, 0, "$what: exit 0" or diag $err;
    my ($n, $a) = MB::stored($tk, MB::msgid_of($mail));
    ok $n, "$what: stored" or return;
    my %d = map { $_ => (defined $a->{$_} ? decode_utf8($a->{$_}, Encode::FB_CROAK) : undef) }
        grep { $_ ne 'raw' } keys %$a;
    return ($n, \%d);
}

sub text_mail {
    my ($charset, $bytes, %h) = @_;
    my $ct = defined $charset ? "text/plain; charset=$charset" : 'text/plain';
    return MB::mail(%h, 'MIME-Version' => '1.0', 'Content-Type' => $ct,
        'Content-Transfer-Encoding' => $h{cte} // '8bit', body => $bytes);
}

subtest 'body charsets to UTF-8' => sub {
    my @cases = (
        [ 'utf-8',        'Grüße aus der Straße – 😀', 0 ],
        [ 'iso-8859-1',   'Grüße, Ärger, Öl',          0 ],
        [ 'iso-8859-15',  'Kaution: 500 €',            0 ],
        [ 'windows-1252', '„Zitat“ – 20 € …',          0 ],
        [ 'koi8-r',       'Привет, товарищ',           0 ],
        [ 'shift_jis',    'こんにちは、弁護士です',        0 ],
        [ 'iso-2022-jp',  'こんにちは',                  0 ],
        [ 'big5',         '你好',                      0 ],
    );
    for my $c (@cases) {
        my ($cs, $text) = @$c;
        my $mail = text_mail($cs, encode($cs, "$text\r\n"), subject => "charset $cs");
        my (undef, $a) = store($mail, $cs);
        is $a->{body}, $text, "$cs decoded";
        unlike $a->{flags} // '', qr/charset-guessed/, "$cs: no guess";
    }
};

subtest 'missing, lying, unknown and broken charsets: best effort, flagged' => sub {
    my @cases = (
        # name, declared charset, bytes, expected text
        [ 'no charset, UTF-8 bytes',      undef,          encode_utf8('Grüße'), 'Grüße' ],
        [ 'no charset, latin1 bytes',     undef,          encode('latin1', 'Grüße'), 'Grüße' ],
        [ 'latin1 label, UTF-8 bytes',    'iso-8859-1',   encode_utf8('Grüße €'), 'Grüße €' ],
        [ 'us-ascii label, 8-bit UTF-8',  'us-ascii',     encode_utf8('Ärger'), 'Ärger' ],
        [ 'UTF-8 label, cp1252 bytes',    'utf-8',        encode('cp1252', '„Grüße“'), '„Grüße“' ],
        [ 'unknown charset',              'x-martian-7',  encode('latin1', 'Grüße'), 'Grüße' ],
        [ 'UTF-8 with one broken byte',   'utf-8',        encode_utf8('Grüße ') . "\xff" . encode_utf8(' Straße'), 'Grüße ÿ Straße' ],
    );
    for my $c (@cases) {
        my ($name, $cs, $bytes, $want) = @$c;
        my $mail = text_mail($cs, "$bytes\r\n", subject => $name);
        my (undef, $a) = store($mail, $name);
        ok defined $a->{body}, "$name: valid UTF-8";
        is $a->{body}, $want, "$name: text" if defined $want;
        like $a->{flags}, qr/charset-guessed/, "$name: flagged";
    }
};

subtest 'quoted-printable and base64 bodies' => sub {
    my (undef, $a) = store(text_mail('iso-8859-1', "Gr=FC=DFe, =\r\nStra=DFe\r\n", cte => 'quoted-printable',
        subject => 'qp'), 'qp');
    is $a->{body}, 'Grüße, Straße', 'quoted-printable';
    (undef, $a) = store(text_mail('utf-8', encode_base64(encode_utf8("Ärger mit der Polizei\n")),
        cte => 'base64', subject => 'b64'), 'base64');
    is $a->{body}, 'Ärger mit der Polizei', 'base64';
};

subtest 'encoded headers' => sub {
    my @cases = (
        [ '=?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=', 'Grüße aus Köln' ],
        [ '=?UTF-8?B?w4RyZ2VyIG1pdCBkZXIgUG9saXplaQ==?=', 'Ärger mit der Polizei' ],
        [ '=?KOI8-R?B?8NLJ18XU?=', 'Привет' ],
        [ '=?utf-8?q?Teil_1?= =?utf-8?q?_und_Teil_2?=', 'Teil 1 und Teil 2' ],
        [ encode_utf8('Rohes UTF-8: Grüße'), 'Rohes UTF-8: Grüße' ],
        [ encode('latin1', 'Rohes Latin-1: Grüße'), 'Rohes Latin-1: Grüße' ],
        [ '=?x-unknown?Q?Hallo?= Welt', undef ],
    );
    for my $c (@cases) {
        my ($raw, $want) = @$c;
        my $mail = MB::mail(subject => $raw, from => '=?ISO-8859-1?Q?J=FCrgen_M=FCller?= <jm@example.net>');
        my ($n, $a) = store($mail, "subject $raw");
        is $a->{subject}, $want, "subject: $want" if defined $want;
        ok defined $a->{subject}, 'subject is UTF-8';
        like $a->{from}, qr/Jürgen Müller <jm\@example\.net>/, 'from decoded';
        is decode_utf8(MB::ticket($tk, $n)->{customer_name}), 'Jürgen Müller', 'customer name decoded';
    }
};

# ---- HTML --------------------------------------------------------------

my @xss = (
    '<script>alert(1)</script>',
    '<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>',
    '<IMG SRC="javascript:alert(\'XSS\');">',
    '<IMG SRC=javascript:alert(\'XSS\')>',
    '<IMG SRC=JaVaScRiPt:alert(\'XSS\')>',
    '<IMG SRC=`javascript:alert("RSnake says, \'XSS\'")`>',
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    '<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>',
    '<IMG SRC="jav&#x09;ascript:alert(\'XSS\');">',
    '<IMG SRC="jav&#x0A;ascript:alert(\'XSS\');">',
    '<IMG SRC=" &#14;  javascript:alert(\'XSS\');">',
    '<a href="javascript:alert(1)">klick</a>',
    '<a href="  JAVASCRIPT:alert(1)">klick</a>',
    '<a href="java&#x09;script:alert(1)">klick</a>',
    '<a href="vbscript:msgbox(1)">klick</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">klick</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    '<img src=x onerror=alert(1)>',
    '<body onload=alert(1)>',
    '<div onmouseover="alert(1)">hover</div>',
    '<svg/onload=alert(1)>',
    '<svg><script>alert(1)</script></svg>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<iframe src="http://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="http://evil.example/x.swf"></object>',
    '<embed src="http://evil.example/x.swf">',
    '<form action="http://evil.example/"><input name="pw" type="password"><button>OK</button></form>',
    '<input type="image" src="javascript:alert(1)">',
    '<style>body{background:url("javascript:alert(1)")}</style>',
    '<div style="background-image: url(javascript:alert(1))">x</div>',
    '<div style="width: expression(alert(1));">x</div>',
    '<p STYLE="behavior: url(x.htc);">x</p>',
    '<link rel="stylesheet" href="http://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1);">',
    '<base href="javascript:alert(1)//">',
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    '<td background="http://tracker.example/bg.gif">x</td>',
    '<img srcset="http://tracker.example/a.png 1x">',
    '<video poster="http://tracker.example/p.png"><source src="x"></video>',
    '<a href="http://ok.example/" onclick="alert(1)">ok</a>',
    '<img src="http://tracker.example/pixel.gif" width="1" height="1">',
    '<!--[if gte IE 4]><script>alert(1)</script><![endif]-->',
    '<scr<script>ipt>alert(1)</scr</script>ipt>',
    '<<script>alert(1);//<</script>',
    '<a href="#" formaction="javascript:alert(1)">x</a>',
    '<details open ontoggle=alert(1)>',
    '<marquee onstart=alert(1)>x</marquee>',
    '<isindex action=javascript:alert(1) type=image>',
    '<object type="text/x-scriptlet" data="http://evil.example/x.sct"></object>',
    '<xss style="xss:expression(alert(1))">',
    '<a href="&#1;javascript:alert(1)">x</a>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<template><script>alert(1)</script></template>',
    '<img src=x:alert(alt) onerror=eval(src) alt=0>',
);

sub html_mail {
    my ($html, %h) = @_;
    return MB::mail(%h, 'MIME-Version' => '1.0', 'Content-Type' => 'text/html; charset=utf-8',
        body => encode_utf8($html));
}

# What is left in the sanitised HTML, checked as markup: every tag and
# attribute on the allow-list, href only http(s)/mailto, src only cid:,
# nothing script-like inside a tag.  (Text and escaped attribute values
# may say "onerror=" -- as text, that is harmless.)
my %ok_tag = map { $_ => 1 } qw(a abbr acronym address b bdi bdo big blockquote br
    caption center cite code col colgroup dd del dfn div dl dt em font h1 h2 h3 h4 h5 h6
    hr i img ins kbd li mark ol p pre q s samp small span strike strong sub sup table
    tbody td tfoot th thead tr tt u ul var wbr);
my %ok_attr = map { $_ => 1 } qw(title dir lang align valign width height colspan rowspan
    cellpadding cellspacing border bgcolor color face size start alt summary span nowrap
    abbr scope headers datetime reversed value clear hspace vspace noshade type
    href rel target src data-src);

sub unsafe {
    my ($html) = @_;
    my @bad;
    while ($html =~ /<(\/?)([^\s>\/]*)([^>]*)>/g) {
        my ($close, $name, $rest) = ($1, lc $2, $3);
        push @bad, "tag <$name>" unless $ok_tag{$name};
        next if $close;
        (my $flat = lc $rest) =~ s/\s+//g;
        push @bad, "script in <$name>" if $flat =~ /javascript:|vbscript:|data:|expression\(/;
        while ($rest =~ /\s*([^\s=]+)(?:="([^"]*)")?/g) {
            my ($attr, $v) = (lc $1, $2 // '');
            push @bad, "attribute $attr" unless $ok_attr{$attr};
            push @bad, "href $v" if $attr eq 'href' && $v !~ m{^(https?://|mailto:)};
            push @bad, "src $v" if $attr eq 'src' && $v !~ /^cid:/;
            push @bad, "unescaped value $v" if $v =~ /[<>]/;
        }
    }
    push @bad, 'stray <' if $html =~ /<(?![a-z\/])/i;
    return @bad;
}

subtest 'the checker itself catches unsafe markup' => sub {
    ok scalar unsafe($_), "caught: $_" for (
        '<img src=x onerror=alert(1)>', '<script>x</script>', '<a href="javascript:x">',
        '<img src="http://x/y.png">', '<div style="x">', '<iframe>', '<p title="a<b">');
    ok !unsafe('<p title="&lt;img onerror=x&gt;">ok</p>'), 'escaped text is fine';
};

subtest 'HTML: no XSS vector survives' => sub {
    for my $i (0 .. $#xss) {
        my $mail = html_mail("<html><body><p>Vorher $i</p>$xss[$i]<p>Nachher $i</p></body></html>",
            subject => "xss $i");
        my (undef, $a) = store($mail, "vector $i");
        my @bad = unsafe($a->{body_html});
        ok !@bad, "vector $i: $xss[$i]" or diag "left: @bad\n$a->{body_html}";
        like $a->{body_html}, qr/Vorher $i/, "vector $i: text before kept";
        like $a->{body}, qr/Nachher $i/, "vector $i: derived text";
    }
    my $all = join "\n", @xss;
    my (undef, $a) = store(html_mail("<div>$all</div>", subject => 'all vectors'), 'all vectors');
    ok !unsafe($a->{body_html}), 'all vectors at once' or diag $a->{body_html};
};

subtest 'HTML: remote images wait for a click, links are safe' => sub {
    my $html = '<p>Siehe <a href="https://anwalt.example/info">Infos</a>.</p>'
        . '<img src="https://tracker.example/pixel.gif" alt="logo">'
        . '<img src="//cdn.example/x.png">'
        . '<table border="1"><tr><td colspan="2">Zelle</td></tr></table>';
    my (undef, $a) = store(html_mail($html, subject => 'remote'), 'remote');
    my $h = $a->{body_html};
    like $h, qr/<img data-src="https:\/\/tracker\.example\/pixel\.gif"|<img alt="logo" data-src="https:\/\/tracker\.example\/pixel\.gif"/, 'remote image -> data-src';
    unlike $h, qr/\ssrc=/, 'no src left';
    like $h, qr/<a href="https:\/\/anwalt\.example\/info" rel="noopener noreferrer nofollow" target="_blank">Infos<\/a>/, 'link kept, rel/target';
    like $h, qr/<td colspan="2">Zelle<\/td>/, 'tables kept';
    like $a->{flags}, qr/\bhtml\b/, 'flag html';
    like $a->{body}, qr/Siehe Infos <https:\/\/anwalt\.example\/info>\./, 'derived text shows the link';
    like $a->{body}, qr/Zelle/, 'derived text has the table';
};

subtest 'multipart/alternative: text/plain preferred' => sub {
    my $mail = MB::mail(subject => 'alternative', 'MIME-Version' => '1.0',
        'Content-Type' => 'multipart/alternative; boundary="alt"',
        body => "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNur Text\r\n"
            . "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p><b>Fett</b></p>\r\n--alt--\r\n");
    my (undef, $a) = store($mail, 'alternative');
    is $a->{body}, 'Nur Text', 'text body';
    is $a->{body_html}, '', 'no HTML kept';
};

# ---- attachments ------------------------------------------------------------

my $binary = join '', map { chr } (0 .. 255, reverse 0 .. 255);
$binary x= 40;                                       # 20 KB, every byte value
my $png = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR" . ("\0\x01" x 50);

subtest 'attachments and inline images round-trip byte-exact' => sub {
    my $mail = MB::mail(subject => 'Beweisfotos', 'MIME-Version' => '1.0',
        'Content-Type' => 'multipart/mixed; boundary="mix"',
        body => "--mix\r\nContent-Type: multipart/related; boundary=\"rel\"\r\n\r\n"
            . "--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Foto:</p><img src=\"cid:foto1\@example.net\">\r\n"
            . "--rel\r\nContent-Type: image/png\r\nContent-ID: <foto1\@example.net>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            . encode_base64($png, "\r\n") . "--rel--\r\n"
            . "--mix\r\nContent-Type: application/octet-stream\r\n"
            . "Content-Disposition: attachment; filename*=UTF-8''%C3%84rger%20Beweis.bin\r\n"
            . "Content-Transfer-Encoding: base64\r\n\r\n" . encode_base64($binary, "\r\n")
            . "--mix\r\nContent-Type: text/plain; name=\"notiz.txt\"\r\nContent-Disposition: attachment; filename=\"../../etc/notiz.txt\"\r\n\r\nText im Anhang\r\n"
            . "--mix--\r\n");
    my ($n, $a) = store($mail, 'attachments');
    is $a->{attachments}, 3, 'three attachments';
    my $img = MB::attachment($tk, $n, $a->{id}, 1);
    is $img->{data}, $png, 'inline image byte-exact';
    is $img->{content_type}, 'image/png', 'content type';
    is $img->{content_id}, 'foto1@example.net', 'content id';
    is $img->{disposition}, 'inline', 'inline';
    is $img->{size}, length($png), 'size';
    like $a->{body_html}, qr/<img src="cid:foto1\@example\.net">/, 'cid: reference kept (inert)';
    my $bin = MB::attachment($tk, $n, $a->{id}, 2);
    is length($bin->{data}), length($binary), 'binary length';
    ok $bin->{data} eq $binary, 'binary byte-exact';
    is decode_utf8($bin->{name}), 'Ärger Beweis.bin', 'RFC 2231 file name';
    is $bin->{disposition}, 'attachment', 'attachment';
    my $txt = MB::attachment($tk, $n, $a->{id}, 3);
    is $txt->{name}, 'notiz.txt', 'no directories in the name';
    # the CRLF before a boundary belongs to the boundary (RFC 2046)
    is $txt->{data}, "Text im Anhang", 'text attachment not taken as body';
    like $a->{attachment_names}, qr/Ärger Beweis\.bin/, 'names for the full-text index';
    my @r = $tk->redis->__std_cmd('FT.SEARCH', TK_KEY_FT_ARTICLES, 'Beweis', 'NOCONTENT');
    ok $r[0] >= 1, 'full-text search finds the attachment name';
};

subtest 'forwarded mail (message/rfc822): text searchable, attachments extracted' => sub {
    my $inner = "From: Polizei <poststelle\@polizei.example>\r\nSubject: Vorladung\r\n"
        . "Date: Fri, 20 Nov 2026 09:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        . "Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n"
        . "--in\r\nContent-Type: text/plain\r\n\r\nSie werden vorgeladen.\r\n"
        . "--in\r\nContent-Type: application/pdf; name=\"vorladung.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        . encode_base64("%PDF-1.4 fake", "\r\n") . "--in--\r\n";
    my $mail = MB::mail(subject => 'Fwd: Vorladung', 'MIME-Version' => '1.0',
        'Content-Type' => 'multipart/mixed; boundary="out"',
        body => "--out\r\nContent-Type: text/plain\r\n\r\nSiehe unten.\r\n"
            . "--out\r\nContent-Type: message/rfc822\r\n\r\n$inner\r\n--out--\r\n");
    my ($n, $a) = store($mail, 'forward');
    like $a->{body}, qr/Siehe unten\..*Forwarded message.*Subject: Vorladung.*Sie werden vorgeladen\./s,
        'inner text in the body';
    is $a->{attachments}, 1, 'inner attachment';
    is MB::attachment($tk, $n, $a->{id}, 1)->{data}, '%PDF-1.4 fake', 'inner attachment content';
};

subtest 'broken MIME is accepted' => sub {
    my @cases = (
        [ 'no closing boundary', 'multipart/mixed; boundary="x"',
          "--x\r\nContent-Type: text/plain\r\n\r\nText ohne Ende\r\n" ],
        [ 'boundary never used', 'multipart/mixed; boundary="nope"',
          "Nur ein Text ohne Teile\r\n" ],
        [ 'no boundary parameter', 'multipart/mixed', "irgendwas\r\n" ],
        [ 'bad base64', 'text/plain', "!!!not base64@@@\r\n", 'base64' ],
        [ 'unknown type', 'foo/bar', "data\r\n" ],
        [ 'garbage content type', ';;;===', "Text\r\n" ],
        [ 'deep nesting', 'multipart/mixed; boundary="d0"',
          join('', map { "--d$_\r\nContent-Type: multipart/mixed; boundary=\"d" . ($_ + 1) . "\"\r\n\r\n" } 0 .. 59)
            . "--d60\r\nContent-Type: text/plain\r\n\r\ntief\r\n" ],
    );
    for my $c (@cases) {
        my ($name, $ct, $body, $cte) = @$c;
        my $mail = MB::mail(subject => $name, 'MIME-Version' => '1.0', 'Content-Type' => $ct,
            ($cte ? ('Content-Transfer-Encoding' => $cte) : ()), body => $body);
        my ($n) = store($mail, $name);
        ok $n, "$name: stored";
    }
    my $bin = join '', map { chr(int rand 256) } 1 .. 5000;
    my ($rc, undef, $err) = MB::deliver($tk, $bin);
    is $rc, 0, 'random bytes: exit 0 (stored or quarantined)' or diag $err;
};

done_testing;
