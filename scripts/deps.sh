#!/usr/bin/env bash
# deps.sh -- install what building, running and testing need on Debian 12.
#
# Idempotent: checks every package with one dpkg-query and calls apt-get
# (update + install) only when something is missing; then installs the
# pinned playwright-core into t/ui/node_modules (npm ci) when it is absent.
# A no-op takes about a second.  Run as root (or with sudo available).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

# TOOLCHAIN.md section 1, plus the compiler, the unit-test and libcrypt
# headers, and what a minimal Debian lacks (procps for ps, util-linux for
# flock/su are already in minbase).
PACKAGES=(
    gcc libc6-dev make pkg-config perl procps
    nginx nginx-dev libhiredis-dev redis-server redis-redisearch redis-sentinel
    libgpgme-dev libgmime-3.0-dev libxml2-dev libpcre2-dev
    libcurl4-openssl-dev curl
    dovecot-imapd postfix gnupg wrk valgrind chromium fonts-dejavu-core
    libredis-perl libmail-imapclient-perl libtest-tcp-perl libio-socket-ssl-perl
    libcmocka-dev libcrypt-dev zlib1g-dev
    clang libclang-rt-14-dev unzip
)

say() { printf 'deps: %s\n' "$*" >&2; }

missing_packages() {
    # "ii" = installed; unknown packages make dpkg-query exit 1 (ignored)
    local installed
    installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
        "${PACKAGES[@]}" 2>/dev/null | awk '$1 == "ii" { print $2 }' || true)
    local p
    for p in "${PACKAGES[@]}"; do
        grep -qxF "$p" <<<"$installed" || printf '%s\n' "$p"
    done
    # node and npm: any install will do (the dev machine has NodeSource's
    # node 20, which bundles npm; a fresh Debian 12 has neither).
    command -v node >/dev/null || echo nodejs
    command -v npm >/dev/null || echo npm
}

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        say "need root to run: $*"
        say "run 'make deps' as root (or install sudo)"
        exit 1
    fi
}

install_packages() {
    local missing=("$@") policy=/usr/sbin/policy-rc.d made_policy=0
    say "installing ${#missing[@]} missing package(s): ${missing[*]}"
    # Packages like nginx and redis-server start a system service on
    # install (port 80, 6379).  We start our own servers on our own ports,
    # so forbid service starts for the duration of the install.
    if [ ! -e "$policy" ]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        made_policy=1
        trap 'as_root rm -f '"$policy" EXIT
    fi
    echo "postfix postfix/main_mailer_type select No configuration" |
        as_root debconf-set-selections
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}"
    if [ "$made_policy" = 1 ]; then
        as_root rm -f "$policy"
        trap - EXIT
    fi
}

# ---- Debian packages -----------------------------------------------------
mapfile -t MISSING < <(missing_packages)
if [ "${#MISSING[@]}" -gt 0 ]; then
    install_packages "${MISSING[@]}"
    mapfile -t MISSING < <(missing_packages)
    if [ "${#MISSING[@]}" -gt 0 ]; then
        say "still missing after apt-get install: ${MISSING[*]}"
        exit 1
    fi
fi

# ---- playwright-core for the UI tests (t/ui) ------------------------------
# Pinned in t/ui/package.json and package-lock.json.  Without it (no
# network) the build and every other test still work; t/ui.t skips and
# says why.
UI=$ROOT/t/ui
want=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' "$UI/package.json")
have=''
if [ -f "$UI/node_modules/playwright-core/package.json" ]; then
    have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
        "$UI/node_modules/playwright-core/package.json" | head -1)
fi
if [ "$have" != "$want" ]; then
    say "installing playwright-core $want into t/ui/node_modules (npm ci)"
    if ! (cd "$UI" && npm ci --no-audit --no-fund --loglevel=error --fetch-retries=1 --fetch-timeout=30000 >&2); then
        rm -rf "$UI/node_modules"
        say "WARNING: npm ci failed (offline?); the UI test (t/ui.t) will be"
        say "skipped.  Run 'make deps' again when the npm registry is reachable."
    fi
fi
exit 0
