#!/usr/bin/perl
# i18n_extract.t -- scripts/i18n-extract.pl (docs/i18n.md) turns the old
# "{% if de %}A{% else %}B{% end %}" and 'de ? "A" : "B"' pairs into
# catalogue entries and references, reuses an entry whose texts match,
# leaves what it cannot convert, and a second run changes nothing; the
# result compiles with build/tplc.  No servers.

use strict;
use warnings;
use utf8;
use File::Temp qw(tempdir);
use Test::More;

my $tool = 'scripts/i18n-extract.pl';
my $tplc = 'build/tplc';
plan skip_all => "$tplc not built (make all)" unless -x $tplc;

my $dir = tempdir(CLEANUP => 1);

sub put { my ($f, $t) = @_; open my $o, '>:utf8', "$dir/$f" or die; print $o $t; close $o }
sub get { my $f = shift; open my $i, '<:utf8', "$dir/$f" or die; local $/; <$i> }
sub run_tool {
    my $out = `perl $tool --catalogue=$dir/messages.txt $dir/page.html $dir/ngx_http_ticket_x.c 2>&1`;
    is($?, 0, 'tool exits 0') or diag $out;
    return $out;
}

put('messages.txt', "\@languages de en\n\n[common.save]\nde = Speichern\nen = Save\n");
put('page.html', <<'EOF');
<button>{% if de %}Speichern{% else %}Save{% end %}</button>
<p>{% if de %} Die neuesten {{ shown }} von {{ total }} {% else %} The newest {{ shown }} of {{ total }} {% end %}</p>
<a title="{% if not de %}Back{% else %}Zurück{% end %}">{% if de %}<b>Neu</b>{% else %}<b>New</b>{% end %}</a>
<i>{% if de %}AG {% else %}Group{% end %}</i>
<u>{% if de %}{{ a | url }}{% else %}x{% end %}</u>
{% t common.save %}
EOF
put('ngx_http_ticket_x.c', <<'EOF');
static void
f(ngx_http_ticket_ctx_t *ctx)
{
    ngx_flag_t   de, keep;

    de = ngx_http_ticket_lang_de(ctx);

    z = de ? "Nur hier" : "Only here";
}

static void
g(ngx_http_ticket_ctx_t *ctx)
{
    ngx_flag_t   de;

    de = ngx_http_ticket_lang_de(ctx);
    s = de ? "Diese Priorit\xc3\xa4t gibt es nicht "
             "(1 bis 4)." : "No such priority (1 to 4).";
    t = de ? "%V hat %ui" : "%ui has %V";
    u = de ? de_labels[i] : en_labels[i];
    if (tpl->de) {
        ngx_str_set(&title, "Verwaltung");

    } else {
        ngx_str_set(&title, "Administration");
    }
    v = ngx_http_ticket_page_de(r, ctx) ? "Anmelden" : "Sign in";
#define x_msg(ctx, en, de)  (ngx_http_ticket_lang_de(ctx) ? (de) : (en))
    w = x_msg(ctx, "Too long.",
              "Zu lang.");
}
EOF

my $out = run_tool();
like($out, qr/10 strings converted, 9 new catalogue entries, 2 files changed/, 'counts');
like($out, qr/left as is \(a \{\{ \}\} with a filter inside\)/, 'a filter is reported');
like($out, qr/left as is \(different conversions\)/, 'conversions that differ are reported');

my $page = get('page.html');
like($page, qr{<button>\{% t common\.save %\}</button>}, 'an existing entry is reused');
like($page, qr{<p> \{% t page\.the_newest_shown_of_total %\} </p>}, 'shared blanks stay outside, {{ }} become params');
like($page, qr{title="\{% t page\.back %\}"}, '{% if not de %} is swapped');
like($page, qr{\{% t page\.new_html %\}}, 'markup makes an _html key');
like($page, qr{\{% if de %\}\{\{ a \| url \}\}}, 'the filter pair is left');

my $cat = get('messages.txt');
like($cat, qr/\[page\.the_newest_shown_of_total\]\nde = Die neuesten \{shown\} von \{total\}\nen = The newest \{shown\} of \{total\}\n/, 'entry with params');
like($cat, qr/\[page\.group\]\nde = "AG "\nen = Group\n/, 'blanks at the end are quoted');
like($cat, qr/\[x\.no_such_priority_1_to_4\]\nde = Diese Priorität gibt es nicht \(1 bis 4\)\.\n/, 'C literals are decoded (\\x, concatenation)');

my $c = get('ngx_http_ticket_x.c');
like($c, qr/s = ngx_http_ticket_msg\(ctx, TK_MSG_X_NO_SUCH_PRIORITY_1_TO_4\);/, 'C ternary replaced');
like($c, qr/u = de \? de_labels\[i\]/, 'non-literal ternary left');
like($c, qr/\{\n    ngx_flag_t   keep;\n\n    z = ngx_http_ticket_msg/, 'a de flag nothing reads any more is dropped');
like($c, qr/g\(ngx_http_ticket_ctx_t \*ctx\)\n\{\n    ngx_flag_t   de;\n\n    de = ngx_http_ticket_lang_de/, '  one still read stays');
like($c, qr/\n    title\.data = \(u_char \*\) ngx_http_ticket_msg\(ctx, TK_MSG_X_ADMINISTRATION\);\n    title\.len = ngx_strlen\(title\.data\);\n/, 'if/else page title replaced');
like($c, qr/w = ngx_http_ticket_msg\(ctx, TK_MSG_X_TOO_LONG\);/, "a file's en/de macro");
like(get('messages.txt'), qr/\[x\.too_long\]\nde = Zu lang\.\nen = Too long\.\n/, 'its English comes first');
like($c, qr/v = ngx_http_ticket_page_msg\(r, ctx, TK_MSG_X_SIGN_IN\);/, 'page_de: the page language');

# rerun: nothing to do, nothing touched
my @before = map { get($_) } qw(messages.txt page.html ngx_http_ticket_x.c);
$out = run_tool();
like($out, qr/0 strings converted, 0 new catalogue entries, 0 files changed/, 'second run is a no-op');
is_deeply([map { get($_) } qw(messages.txt page.html ngx_http_ticket_x.c)], \@before, 'files unchanged');

# a string added the old way after the conversion: only it is converted
put('page.html', get('page.html') . "<em>{% if de %}Neu{% else %}New{% end %}</em>\n");
$out = run_tool();
like($out, qr/1 strings converted, 1 new catalogue entries/, 'partly converted file');

# the result is a valid catalogue for the template compiler
(my $tpl = get('page.html')) =~ s/<u>.*?<\/u>\n//s;
put('page.html', $tpl);
my $err = `$tplc -m $dir/messages.txt -o $dir/out $dir/page.html 2>&1`;
is($?, 0, 'tplc compiles the converted template') or diag $err;

done_testing;
