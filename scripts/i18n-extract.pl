#!/usr/bin/perl
# i18n-extract.pl -- moves UI strings written twice, German and English,
# into the one message catalogue (ngx_ticket_module/messages.txt,
# docs/i18n.md) and leaves a reference to the entry in their place:
#
#   templates:  {% if de %}Speichern{% else %}Save{% end %}
#               -> {% t profile.save %}        ({{ x }} inside -> {x})
#   C:          de ? "Gespeichert." : "Saved."
#               -> ngx_http_ticket_msg(ctx, TK_MSG_PROFILE_SAVED)
#
# Rerunnable and idempotent: a text pair already in the catalogue (under
# any key) is reused, converted places are left alone, so it can run on
# partly converted files, e.g. after merging branches that added strings
# the old way.  New entries are appended to the catalogue.  What it cannot
# convert (a pair with blocks or filters inside, a C ternary that is not
# two string literals) it names on stderr and leaves as it is.
#
#   scripts/i18n-extract.pl                 # all templates and module C files
#   scripts/i18n-extract.pl FILE...         # only these
#   scripts/i18n-extract.pl --dry-run ...   # report, change nothing
#
# Exit 0; 1 on a usage or I/O error.

use strict;
use warnings;
use utf8;
use Encode qw(decode encode);

my $CAT = 'ngx_ticket_module/messages.txt';
my $dry = 0;
my @files;

for my $a (@ARGV) {
    if ($a eq '--dry-run') { $dry = 1 }
    elsif ($a =~ /^--catalogue=(.+)$/) { $CAT = $1 }
    elsif ($a =~ /^-/) { die "usage: $0 [--dry-run] [--catalogue=FILE] [FILE...]\n" }
    else { push @files, $a }
}

@files = (sort(glob('ngx_ticket_module/templates/*.html')),
          sort(glob('ngx_ticket_module/*.c'))) unless @files;

# ---- the catalogue --------------------------------------------------------

open(my $fh, '<:raw', $CAT) or die "$CAT: $!\n";
my $cat_text = do { local $/; <$fh> };
close $fh;
$cat_text = decode('UTF-8', $cat_text);

my ($langs) = $cat_text =~ /^\s*\@languages\s+(.+?)\s*$/m
    or die "$CAT: no \@languages line\n";
my @langs = split ' ', $langs;
my ($L0, $L1) = ('de', 'en');       # the two columns of the old pattern
die "$CAT: needs the languages de and en\n"
    unless grep({ $_ eq $L0 } @langs) && grep({ $_ eq $L1 } @langs);

my (%by_pair, %keys, %cnames, $cur, %entry);

sub cname { my $k = uc shift; $k =~ tr/./_/; "TK_MSG_$k" }

sub unquote {
    my $v = shift;
    $v = $1 if $v =~ /^"(.*)"$/s;
    $v =~ s/\\(n|t|\\)/$1 eq 'n' ? "\n" : $1 eq 't' ? "\t" : "\\"/ge;
    return $v;
}

sub flush_entry {
    return unless defined $cur;
    $keys{$cur} = 1;
    $cnames{cname($cur)} = 1;
    if (defined $entry{$L0} && defined $entry{$L1}) {
        $by_pair{"$entry{$L0}\0$entry{$L1}"} //= $cur;
    }
    undef $cur;
    %entry = ();
}

for my $line (split /\n/, $cat_text) {
    if ($line =~ /^\s*\[([a-z0-9_.]+)\]\s*$/) {
        flush_entry();
        $cur = $1;
    } elsif (defined $cur && $line =~ /^\s*([a-z]{2})\s*=\s*(.*?)\s*$/) {
        $entry{$1} = unquote($2);
    }
}
flush_entry();

my @new;                            # [key, de, en, origin]

sub slug {
    my $t = lc shift;
    $t =~ s/\{([a-z0-9_.]+)\}/ $1 /g;
    $t =~ s/<[^>]*>/ /g;
    $t =~ s/&[a-z]+;/ /g;
    $t =~ tr/äöüß/aous/;
    $t =~ s/[^a-z0-9]+/_/g;
    $t =~ s/^_+|_+$//g;
    my @w = split /_/, $t;
    my $s = '';
    for my $w (@w) {
        last if length($s) + length($w) > 28 && length $s;
        $s .= ($s eq '' ? '' : '_') . $w;
    }
    $s = 'text' if $s eq '';
    $s = "n$s" if $s =~ /^[0-9]/;
    $s .= '_text' if $s =~ /(^|_)(one|other|html)$/;   # suffixes with a meaning
    return $s;
}

# The key for a text pair: the existing one, or a new "prefix.slug".
my ($counting, %pair_files) = (0);

sub key_for {
    my ($de, $en, $prefix, $html, $origin) = @_;
    my $pair = "$de\0$en";
    if ($counting) {
        $pair_files{$pair}{$origin} = 1;
        return 'x';
    }
    return $by_pair{$pair} if exists $by_pair{$pair};

    # a text several files use is "common.", not one file's
    $prefix = 'common' if keys %{ $pair_files{$pair} || {} } > 1;

    my $base = "$prefix." . slug($en) . ($html ? '_html' : '');
    my ($key, $n) = ($base, 1);
    while ($keys{$key} || $cnames{cname($key)}) {
        $n++;
        $key = $base;
        $key =~ s/(_html)?$/"_$n" . ($1 \/\/ '')/e;
    }

    $keys{$key} = 1;
    $cnames{cname($key)} = 1;
    $by_pair{$pair} = $key;
    push @new, [$key, $de, $en, $origin];
    return $key;
}

# ---- templates ------------------------------------------------------------

my $converted = 0;

sub convert_template {
    my ($file, $src) = @_;
    (my $prefix = $file) =~ s{.*/}{};
    $prefix =~ s/\.html$//;

    my $re = qr{
        \{%-?\s*if\s+(not\s+)?de\s*-?%\}
        ((?:(?!\{[%\#]).)*?)
        \{%-?\s*else\s*-?%\}
        ((?:(?!\{[%\#]).)*?)
        \{%-?\s*end\s*-?%\}
    }xs;

    $src =~ s{$re}{
        my ($whole, $neg, $a, $b) = ($&, $1, $2, $3);
        ($a, $b) = ($b, $a) if $neg;
        template_pair($file, $prefix, $whole, $a, $b);
    }ge;

    return $src;
}

sub template_pair {
    my ($file, $prefix, $whole, $de, $en) = @_;

    # blanks both texts share stay in the template
    my ($lead) = ($de =~ /^(\s*)/);
    my ($lead2) = ($en =~ /^(\s*)/);
    $lead = '' unless $lead eq $lead2;
    my ($trail) = ($de =~ /(\s*)$/);
    my ($trail2) = ($en =~ /(\s*)$/);
    $trail = '' unless $trail eq $trail2;
    $trail = '' if length($lead) + length($trail) > length($de)
                   || length($lead) + length($trail) > length($en);
    for ($de, $en) {
        $_ = substr($_, length $lead, length($_) - length($lead) - length($trail));
    }

    my (%na, %nb);
    for my $t ($de, $en) {
        my $names = $t eq $de ? \%na : \%nb;
        if ($t =~ /\{\{(?!\s*[a-z_][a-z0-9_.]*\s*\}\})/) {
            warn "$file: left as is (a {{ }} with a filter inside): "
                 . short($whole) . "\n";
            return $whole;
        }
        $t =~ s/\{\{\s*([a-z_][a-z0-9_.]*)\s*\}\}/$names->{$1} = 1; "{$1}"/ge;
    }
    if (join(',', sort keys %na) ne join(',', sort keys %nb)) {
        warn "$file: left as is (the languages use different values): "
             . short($whole) . "\n";
        return $whole;
    }

    my $html = "$de$en" =~ /[<&]/ ? 1 : 0;
    my $key = key_for($de, $en, $prefix, $html, $file);
    $converted++;
    return "$lead\{% t $key %\}$trail";
}

# ---- C --------------------------------------------------------------------

my $LIT = qr{"(?:[^"\\\n]|\\.)*"};
my $LITS = qr{$LIT(?:\s*$LIT)*};

sub c_unlit {
    my $s = shift;
    my $out = '';
    while ($s =~ /"((?:[^"\\]|\\.)*)"/gs) {
        my $p = encode('UTF-8', $1);     # bytes: \x escapes are bytes too
        $p =~ s{\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)}{
            my $e = $1;
            $e =~ /^x(.+)/ ? chr(hex $1)
            : $e =~ /^[0-7]/ ? chr(oct $e)
            : $e eq 'n' ? "\n" : $e eq 't' ? "\t" : $e
        }ge;
        $out .= $p;
    }
    return decode('UTF-8', $out);
}

sub convs { my @c = $_[0] =~ /(%[-0-9*.]*[uxX]?[A-Za-z%])/g; join ' ', @c }

sub convert_c {
    my ($file, $src) = @_;
    my $orig = $src;
    (my $prefix = $file) =~ s{.*/}{};
    $prefix =~ s/\.c$//;
    $prefix =~ s/^ngx_http_ticket_//;
    $prefix = "c_$prefix" unless $prefix =~ /^[a-z]/;

    my $COND = qr{(?<![\w>.])(?:\w+(?:->|\.))?de|ngx_http_ticket_page_de\(r,\s*ctx\)|ngx_http_ticket_lang_de\(ctx\)};

    # a page title: if (de) { ngx_str_set(&t, "A"); } else { ngx_str_set(&t, "B"); }
    $src =~ s{
        ^([ \t]*)(\}\s*else\s+)?if\s*\(\s*($COND)\s*\)\s*\{\s*
        ngx_str_set\(\s*&(\w+)\s*,\s*($LITS)\s*\);\s*
        \}\s*else\s*\{\s*
        ngx_str_set\(\s*&\4\s*,\s*($LITS)\s*\);\s*
        \}[ \t]*$
    }{
        my ($whole, $ind, $else, $cond, $var, $a, $b) = ($&, $1, $2, $3, $4, $5, $6);
        my $call = c_pair($file, $prefix, $whole, $cond, $a, $b);
        if ($call eq $whole) {
            $whole;
        } else {
            my $in = $else ? "$ind    " : $ind;
            my $set = "${in}$var.data = (u_char *) $call;\n${in}$var.len = ngx_strlen($var.data);";
            $else ? "$ind\x7d else \x7b\n$set\n$ind\x7d" : $set;   # braces: s{}{}
        }
    }gmxe;

    # a file's own "#define NAME_msg(ctx, en, de)": NAME_msg(ctx, "B", "A")
    for my $m ($src =~ /^#define\s+(\w+)\(ctx,\s*en,\s*de\)/mg) {
        $src =~ s{
            (?<!define\s)\b\Q$m\E\(\s*ctx\s*,\s*($LITS)\s*,\s*($LITS)\s*\)
        }{
            c_pair($file, $prefix, $&, 'de', $2, $1);
        }gxe;
    }

    # de ? "A" : "B"
    $src =~ s{
        ($COND)\s*\?\s*($LITS)\s*:\s*($LITS)
    }{
        c_pair($file, $prefix, $&, $1, $2, $3);
    }gxe;

    $src = drop_unused_de($src) if $src ne $orig;

    # "? (msg(...))" left from "(de ? ... : ...)": the parens go
    $src =~ s{([?:]\s*)\((ngx_http_ticket_(?:page_)?msg\([^()]*\))\)}{$1$2}g;

    return join '', map { wrap_c($_) } split /^/m, $src;
}

# A function's "ngx_flag_t de" that nothing reads any more after the
# conversion (-Werror would stop the build): its declaration and its
# "de = ngx_http_ticket_lang_de(ctx);" go.  A "de" still read stays.
sub drop_unused_de {
    my ($src) = @_;
    my $decl = qr/^(\s+ngx_flag_t\s+)(.*\bde\b.*);\s*$/;
    my $set = qr/^\s+de\s*=\s*ngx_http_ticket_(?:lang|page)_de\([^;]*\)(?:\s*\?\s*1\s*:\s*0)?;\s*$/;

    $src =~ s{(\n\{\n)(.*?)(\n\}\n)}{
        my ($open, $body, $close) = ($1, $2, $3);
        my @l = split /\n/, $body, -1;
        my $reads = grep { !/$decl/ && !/$set/ && /\bde\b/ } @l;
        if (!$reads && grep { /$decl/ } @l) {
            my @n;
            for (my $k = 0; $k < @l; $k++) {
                if ($l[$k] =~ $set) {
                    $k++ if $k + 1 < @l && $l[$k + 1] eq '' && @n && $n[-1] eq '';
                    next;
                }
                if ($l[$k] =~ $decl) {
                    my ($ind, $list) = ($1, $2);
                    my @v = grep { !/^de(?:\s*=.*)?$/ } map { s/^\s+|\s+$//gr } split /,/, $list;
                    push @n, $ind . join(', ', @v) . ';' if @v;
                    next;
                }
                push @n, $l[$k];
            }
            $body = join "\n", @n;
        }
        "$open$body$close";
    }gse;

    return $src;
}

# A line the replacement made longer than 80 columns, broken the nginx
# way: after "msg(ctx," with the key under the arguments; if that is still
# too long, first before the msg call, under the enclosing call's
# arguments (or one indent deeper).
sub wrap_c {
    my ($line) = @_;
    my $nl = $line =~ s/\n\z// ? "\n" : '';
    return "$line$nl" if length $line <= 80
        || $line !~ /ngx_http_ticket_(?:page_)?msg\(/;

    my ($pre, $call, $args) = $line =~ /^(.*?)(ngx_http_ticket_(?:page_)?msg\()(.*)$/;
    my ($first, $rest) = $args =~ /^((?:r,\s*)?ctx,)\s*(.*)$/ or return "$line$nl";
    my $col = length($pre) + length($call);
    if ($col + length $rest <= 80) {
        return "$pre$call$first\n" . (' ' x $col) . "$rest$nl";
    }

    # the call starts the line: the key one indent deeper
    if ($pre =~ /^\s*(?:[?:]\s*)?$/) {
        return "$pre$call$first\n" . (' ' x (length($pre) + 4)) . "$rest$nl";
    }

    # before the call: under the innermost open "(" of $pre, or deeper
    my ($ind) = $line =~ /^(\s*)/;
    my ($depth, $open) = (0, -1);
    for my $i (reverse 0 .. length($pre) - 1) {
        my $c = substr($pre, $i, 1);
        if ($c eq ')') { $depth++ }
        elsif ($c eq '(') { if ($depth) { $depth-- } else { $open = $i; last } }
    }
    my $at = $open >= 0 && $open + 1 + length("$call$first") < 70 ? $open + 1 : length($ind) + 4;
    (my $head = $pre) =~ s/\s+$//;
    my $second = (' ' x $at) . "$call$first $rest";
    return "$head\n" . wrap_c("$second\n") . ($nl ? '' : '') if length $head > length $ind;
    return "$line$nl";
}

# The reference for one German/English pair of C literals, or $whole.
sub c_pair {
    my ($file, $prefix, $whole, $cond, $a, $b) = @_;
    my ($de, $en) = (c_unlit($a), c_unlit($b));
    if ("$de$en" =~ /[\x00-\x08\x0b-\x1f]/) {
        warn "$file: left as is (control characters: markers?): "
             . short($whole) . "\n";
        return $whole;
    }
    if (convs($de) ne convs($en)) {
        warn "$file: left as is (different conversions): " . short($whole) . "\n";
        return $whole;
    }
    my $key = key_for($de, $en, $prefix, 0, $file);
    $converted++;
    return $cond =~ /page_de/
        ? "ngx_http_ticket_page_msg(r, ctx, " . cname($key) . ")"
        : "ngx_http_ticket_msg(ctx, " . cname($key) . ")";
}

sub short {
    my $s = shift;
    $s =~ s/\s+/ /g;
    return length $s > 90 ? substr($s, 0, 87) . '...' : $s;
}

# ---- run ------------------------------------------------------------------

my (%out, %src);

for my $file (@files) {
    open(my $in, '<:raw', $file) or die "$file: $!\n";
    $src{$file} = decode('UTF-8', do { local $/; <$in> });
    close $in;
}

# first pass: which files share a text; second: convert
for my $pass (1, 2) {
    $counting = $pass == 1;
    $converted = 0;
    local $SIG{__WARN__} = sub {} if $counting;

    for my $file (@files) {
        my $new = $file =~ /\.c$/ ? convert_c($file, $src{$file})
                                  : convert_template($file, $src{$file});
        $out{$file} = $new if !$counting && $new ne $src{$file};
    }
}

sub cat_value {
    my $v = shift;
    $v =~ s/\\/\\\\/g;
    $v =~ s/\n/\\n/g;
    $v =~ s/\t/\\t/g;
    $v = "\"$v\"" if $v eq '' || $v =~ /^\s|\s$/ || $v =~ /^".*"$/s;
    return $v;
}

if (@new) {
    my ($origin, $add) = ('', '');
    $cat_text .= "\n" unless $cat_text =~ /\n\z/;
    for my $e (@new) {
        my ($key, $de, $en, $from) = @$e;
        if ($from ne $origin) {
            (my $base = $from) =~ s{.*/}{};
            $add .= "\n# ---- $base (scripts/i18n-extract.pl)\n";
            $origin = $from;
        }
        $add .= "\n[$key]\n";
        for my $l (@langs) {
            my $v = $l eq $L0 ? $de : $l eq $L1 ? $en : $en;
            $add .= "$l = " . cat_value($v) . "\n";
        }
    }
    $cat_text .= $add;
}

printf STDERR "i18n-extract: %d strings converted, %d new catalogue entries, "
    . "%d files changed%s\n", $converted, scalar @new, scalar keys %out,
    $dry ? ' (dry run: nothing written)' : '';

exit 0 if $dry;

sub write_file {
    my ($file, $text) = @_;
    open(my $o, '>:raw', "$file.tmp") or die "$file.tmp: $!\n";
    print $o encode('UTF-8', $text);
    close $o or die "$file.tmp: $!\n";
    rename "$file.tmp", $file or die "$file: $!\n";
}

write_file($CAT, $cat_text) if @new;
write_file($_, $out{$_}) for sort keys %out;
