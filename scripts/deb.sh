#!/usr/bin/env bash
# deb.sh -- "make deb": the Debian 12 packages, built from the tracked
# files of the repository (git ls-files: nothing of build/, var/ or an
# uncommitted edit gets in) in build/deb/ticket-VERSION/, with
# dpkg-buildpackage, then checked with lintian.
#
#   scripts/deb.sh            -> build/deb/*.deb, build/deb/lintian.txt
#
# Installs what it lacks: debhelper, dpkg-dev, lintian and the
# Build-Depends of debian/control.  Exit status: dpkg-buildpackage's,
# else 1 when lintian reports an error or warning that debian/*overrides
# do not explain.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/deb
say() { printf 'deb: %s\n' "$*" >&2; }

as_root_install() {
    [ "$(id -u)" = 0 ] || { say "need root to install: $*"; exit 1; }
    DEBIAN_FRONTEND=noninteractive "$@" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive "$@" >/dev/null; }
}

# The tools, then what debian/control's Build-Depends lists (not all of
# "make deps": the packages' own dependencies must come from apt when they
# are installed, see scripts/deb-install-check.sh).
need=()
for p in debhelper dpkg-dev lintian; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    as_root_install apt-get install -y -q --no-install-recommends "${need[@]}"
fi
if ! (cd "$ROOT" && dpkg-checkbuilddeps >/dev/null 2>&1); then
    say "installing the build dependencies of debian/control"
    as_root_install apt-get build-dep -y -q --no-install-recommends "$ROOT"
fi

VERSION=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
SRC=$OUT/ticket-$VERSION
rm -rf "$OUT" && mkdir -p "$SRC"
(cd "$ROOT" && git ls-files -z | xargs -0 tar -c --no-recursion -f -) | tar -x -C "$SRC"

say "building ticket $VERSION in $SRC"
(cd "$SRC" && dpkg-buildpackage -b -uc -us -j"$(nproc)" >"$OUT/build.log" 2>&1) || {
    tail -40 "$OUT/build.log" >&2; say "dpkg-buildpackage failed, see $OUT/build.log"; exit 1; }

changes=$(ls "$OUT"/*.changes)
lintian --info --display-info "$changes" >"$OUT/lintian.txt" 2>&1 || true
ls -1 "$OUT"/*.deb
if grep -E '^(E|W): ' "$OUT/lintian.txt" >&2; then
    say "lintian: errors or warnings above (all of it: $OUT/lintian.txt)"
    exit 1
fi
say "lintian clean ($(grep -c '^[IPN]: ' "$OUT/lintian.txt" || true) info/pedantic lines in $OUT/lintian.txt)"
