#!/usr/bin/env bash
# fuzz.sh -- run the libFuzzer targets of t/fuzz/ (make fuzz, make fuzz-regress).
#
#   scripts/fuzz.sh NAME...            fuzz each target FUZZ_SECONDS (one at a
#                                      time: the machine is shared)
#   scripts/fuzz.sh --regress NAME...  replay t/fuzz/regress/NAME/* (and the
#                                      seeds) once, no fuzzing: a former
#                                      crash that comes back fails the build
#
# The run's corpus lives in $FUZZ_DIR/corpus/NAME (not committed): it starts
# from t/fuzz/seed/NAME, t/fuzz/regress/NAME and, for mime, every mail of
# t/corpus/.  A crash lands in $FUZZ_DIR/crash/NAME/; copy it to
# t/fuzz/regress/NAME/ once it is fixed.  One line per run goes to
# $FUZZ_DIR/summary.txt (executions, coverage, crashes) for docs/reliability.md.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ_DIR=${FUZZ_DIR:-$ROOT/build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

regress=0
if [ "${1:-}" = --regress ]; then
    regress=1
    shift
fi

fail=0
for t in "$@"; do
    bin=$FUZZ_DIR/fuzz_$t
    [ -x "$bin" ] || { echo "fuzz: $bin not built" >&2; exit 2; }
    inputs=()
    for d in "$ROOT/t/fuzz/regress/$t" "$ROOT/t/fuzz/seed/$t"; do
        [ -d "$d" ] && [ -n "$(ls -A "$d")" ] && inputs+=("$d")
    done

    if [ "$regress" = 1 ]; then
        # libFuzzer runs each file given as an argument once and exits
        files=()
        for d in "${inputs[@]}"; do
            for f in "$d"/*; do [ -f "$f" ] && files+=("$f"); done
        done
        [ "${#files[@]}" = 0 ] && { echo "# fuzz-regress $t: no inputs"; continue; }
        if "$bin" -rss_limit_mb=2048 "${files[@]}" > "$FUZZ_DIR/regress-$t.log" 2>&1; then
            echo "# fuzz-regress $t: ${#files[@]} inputs ok"
        else
            echo "not ok: fuzz-regress $t (see $FUZZ_DIR/regress-$t.log)"
            tail -30 "$FUZZ_DIR/regress-$t.log"
            fail=1
        fi
        continue
    fi

    corpus=$FUZZ_DIR/corpus/$t
    crash=$FUZZ_DIR/crash/$t
    mkdir -p "$corpus" "$crash"
    if [ "$t" = mime ] && [ -z "$(ls -A "$corpus")" ]; then
        find "$ROOT/t/corpus" -type f ! -name '*.md' -size -1024k \
            -exec cp {} "$corpus/" \; 2>/dev/null
    fi
    dict=()
    [ -f "$ROOT/t/fuzz/$t.dict" ] && dict=(-dict="$ROOT/t/fuzz/$t.dict")
    log=$FUZZ_DIR/fuzz-$t.log
    echo "# fuzz $t for ${FUZZ_SECONDS}s (log $log)"
    "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$crash/" \
        "${dict[@]}" "$corpus" "${inputs[@]}" > "$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1)
    ncrash=$(find "$crash" -type f | wc -l)
    line="$(date -u +%FT%TZ) $t seconds=$FUZZ_SECONDS execs=${execs:-?} ${cov:-cov: ?} ${ft:-ft: ?} corpus=$(ls "$corpus" | wc -l) crashes=$ncrash rc=$rc"
    echo "$line" | tee -a "$FUZZ_DIR/summary.txt"
    if [ "$rc" != 0 ]; then
        grep -m1 -A25 'ERROR\|property violated\|runtime error' "$log"
        fail=1
    fi
done
exit $fail
