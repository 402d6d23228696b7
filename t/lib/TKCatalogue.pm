# TKCatalogue.pm -- the message catalogue (ngx_ticket_module/messages.txt)
# for tests: entries, and the texts only one language has, to find the
# other language's leftovers on a page (t/i18n.t, t/ui_i18n.t).
package TKCatalogue;
use strict;
use warnings;
use FindBin;
use Exporter 'import';
our @EXPORT_OK = qw(catalogue only_texts);

# {key => {de => text, en => text}}, texts as characters.
sub catalogue {
    my (%cat, $key);
    open my $fh, '<:utf8', "$FindBin::Bin/../ngx_ticket_module/messages.txt" or die $!;
    while (<$fh>) {
        if (/^\[([a-z0-9_.]+)\]\s*$/) { $key = $1 }
        elsif ($key && /^([a-z]{2})\s*=\s*(.*?)\s*$/) {
            my ($l, $v) = ($1, $2);
            $v = $1 if $v =~ /^"(.*)"$/;
            $cat{$key}{$l} = $v;
        }
    }
    close $fh;
    return \%cat;
}

# Texts of lang telling enough to be searched for on a page of the other
# language: 12+ characters, no params, markup or escapes, and not a text
# the other language has too.
sub only_texts {
    my ($cat, $lang) = @_;
    my $o = $lang eq 'de' ? 'en' : 'de';
    my %other = map { $_->{$o} => 1 } values %$cat;
    return [ sort grep { length >= 12 && !/[{}%<&\\]/ && !$other{$_} }
             map { $_->{$lang} } values %$cat ];
}

1;
