#!/usr/bin/perl
# schema-pm.pl -- the schema's names for the Perl tests: reads
# redis-schema/tk_schema.h and writes a module (build/TKSchema.pm) with
#   - every string or number #define as a constant of the same name
#     (TK_KEY_USERS, TK_F_NAME, TK_PFX_TICKET, TK_PATTERN_INDEX, ...);
#   - every enum value (TK_STATE_OPEN, TK_SORT_TITLE, ...);
#   - for every key format TK_FMT_X a builder tk_key_x(ARGS) that fills it
#     in (tk_key_ticket(7) is "tk:{t:7}", tk_key_index('legal', 1, '-',
#     'upd') an overview set), dying on a wrong number of arguments.
# So a test spells a key the way the C code does, and a change of the
# layout in tk_schema.h reaches the tests at the next build.
#
#   scripts/schema-pm.pl redis-schema/tk_schema.h > build/TKSchema.pm
use strict;
use warnings;

my $src = shift // die "usage: $0 tk_schema.h > TKSchema.pm\n";
open my $fh, '<', $src or die "$src: $!\n";
my $text = do { local $/; <$fh> };
close $fh;

# The sections tk_schema.h includes from its own directory
# (tk_schema_casework.h, ...) are read where it includes them, as the
# compiler does, so the names keep their order.
(my $dir = $src) =~ s{/?[^/]*$}{};
$dir = '.' if $dir eq '';
$text =~ s{^[ \t]*\#[ \t]*include[ \t]+"(tk_schema_[a-z0-9_]+\.h)"[^\n]*}{
    my $f = "$dir/$1";
    open my $ih, '<', $f or die "$f: $!\n";
    my $t = do { local $/; <$ih> };
    close $ih;
    $t =~ s/\n\z//;
    $t;
}gme;

# Comments out, string literals kept (a "/*" may not start a comment
# inside a string), continuation lines joined.
my $code = '';
while (length $text) {
    if ($text =~ s{^("(?:[^"\\\n]|\\.)*")}{}) { $code .= $1; }
    elsif ($text =~ s{^/\*.*?\*/}{}s)          { $code .= ' '; }
    elsif ($text =~ s{^//[^\n]*}{})            { }
    else { $code .= substr($text, 0, 1, ''); }
}
$code =~ s/\\\n/ /g;

my (%val, %num, @names);

sub cstring {                   # C string literal body -> Perl string
    my ($s) = @_;
    $s =~ s{\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)}{
        my $e = $1;
        $e =~ /^x(.+)/ ? chr(hex $1)
      : $e =~ /^[0-7]+$/ ? chr(oct $e)
      : { n => "\n", r => "\r", t => "\t", 0 => "\0" }->{$e} // $e
    }ge;
    return $s;
}

for my $line (split /\n/, $code) {
    next unless $line =~ /^\s*#\s*define\s+(TK_[A-Z0-9_]+)(\s+(.*?))?\s*$/;
    my ($name, $body) = ($1, $3 // '');
    next if $name =~ /_H$/;                 # include guard
    if ($body =~ /^-?\d+$/) {
        $val{$name} = $body + 0;
        $num{$name} = 1;
        push @names, $name;
        next;
    }
    my $s = '';
    my $ok = length $body;
    while ($ok && $body =~ s/^\s*("((?:[^"\\]|\\.)*)"|([A-Z_][A-Z0-9_]*))//) {
        if (defined $2) { $s .= cstring($2); }
        elsif (exists $val{$3} && !$num{$3}) { $s .= $val{$3}; }
        else { $ok = 0; }
    }
    next unless $ok && $body =~ /^\s*$/;
    $val{$name} = $s;
    push @names, $name;
}

while ($code =~ /typedef\s+enum\s*\{(.*?)\}/sg) {
    my $n = 0;
    for my $item (split /,/, $1) {
        next unless $item =~ /^\s*(TK_[A-Z0-9_]+)\s*(?:=\s*(-?\d+))?\s*$/;
        $n = $2 if defined $2;
        $val{$1} = $n++;
        $num{$1} = 1;
        push @names, $1;
    }
}

sub perl_str {
    my ($s) = @_;
    $s =~ s/([\\"\$\@])/\\$1/g;
    $s =~ s/([^\x20-\x7e])/sprintf '\\x{%02x}', ord $1/ge;
    return qq{"$s"};
}

my @subs;
for my $name (grep { /^TK_FMT_/ } @names) {
    my $fmt = $val{$name};
    my $n = () = $fmt =~ /%(?!%)/g;
    (my $perl = $fmt) =~ s/%(?:ll|l|z)?[sdu]/%s/g;
    my $sub = 'tk_key_' . lc substr $name, 7;
    push @subs, [$sub, $name, $n, $perl];
}

print <<"END";
package TKSchema;

# Generated from $src by scripts/schema-pm.pl -- do not edit.
# The names of tk_schema.h for the Perl tests (see that script).

use strict;
use warnings;
use parent 'Exporter';    # import, export_to_level (t/lib/TK.pm)

END

print "use constant {\n";
printf "    %-24s => %s,\n", $_, $num{$_} ? $val{$_} : perl_str($val{$_})
    for @names;
print "};\n\n";

for my $s (@subs) {
    my ($sub, $name, $n, $perl) = @$s;
    print "sub $sub {\n";
    print "    die \"$sub: $n arguments (" . $name . ")\\n\" unless \@_ == $n;\n";
    print "    return sprintf " . perl_str($perl) . ", \@_;\n}\n\n";
}

print "our \@EXPORT = qw(\n";
print "    $_\n" for @names, map { $_->[0] } @subs;
print ");\n\n1;\n";
