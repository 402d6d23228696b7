package TKUI;
# The Perl side of the browser tests: t/*.t sets up data and the
# environment, runs one script of t/ui/ (t/ui/lib.js there) and asserts on
# the JSON object it prints as its last line.  What every wrapper did the
# same way lives here: skip without node/Chromium/playwright-core, the
# screenshot folder, running the script and ending the test when it failed.
use strict;
use warnings;
use FindBin;
use File::Path qw(make_path);
use JSON::PP;
use Test::More;
use TK;

our $UI = "$FindBin::Bin/ui";
# the two screens of t/ui/lib.js's viewports()
our %WIDTH = (desktop => 1280, mobile => 390);

# why the browser tests cannot run here, or undef
sub missing {
    return 'node is not installed (make deps)' unless grep { -x "$_/node" } split /:/, $ENV{PATH};
    return 'chromium is not installed (make deps)' unless -x '/usr/bin/chromium';
    return 'playwright-core is not in t/ui/node_modules: make deps could not '
        . 'install it (npm registry unreachable?); run make deps again'
        unless -e "$UI/node_modules/playwright-core/package.json";
    return undef;
}

sub need_browser {
    my $why = missing();
    plan skip_all => $why if $why;
}

# build/artifacts/ (make screenshots copies it to docs/img/), without the
# old screenshots matching the given globs
sub artifacts {
    my @old = @_;
    my $out = "$TK::BUILD/artifacts";
    make_path($out);
    unlink map { glob "$out/$_" } @old;
    return $out;
}

# Runs t/ui/SCRIPT under a time limit; the decoded result when it ran
# (utf8 => 1: decode the JSON as UTF-8, else as bytes like a file without
# "use utf8").  When it did not, one failing test with its output, and
# done_testing + exit, or (or_return => 1) undef for a subtest to return.
sub run_script {
    my ($script, %o) = @_;
    my ($rc, $stdout, $stderr) = TK::run_cmd('timeout', $o{timeout} // 120, 'node', "$UI/$script");
    my $json = JSON::PP->new;
    $json->utf8 if $o{utf8};
    my $r = eval { $json->decode((split /\n/, $stdout)[-1] // '') };
    my $ok = $r && !$r->{fatal};
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok $ok, 'the browser script ran' or diag "exit $rc\n$stdout\n$stderr";
    return $r if $ok;
    return undef if $o{or_return};
    done_testing;
    exit;
}

1;
