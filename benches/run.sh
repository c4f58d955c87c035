#!/bin/sh
# Runs every flowwire benchmark once and writes benches/RESULTS.md: the issue-16 targets with
# the measured ratios, every benchmark's figures, the scale curve and the real captures.
#
#   benches/run.sh                     # about 6-8 minutes on a shared 2-vCPU machine
#   MEASURE=5 benches/run.sh           # longer measurements (seconds per benchmark)
#   BENCHES="compare" benches/run.sh   # only some bench binaries
#   REPORT_ONLY=1 benches/run.sh       # rewrite RESULTS.md from the last run's data
set -eu
cd "$(dirname "$0")/.."
export CRITERION_HOME="${CRITERION_HOME:-$PWD/target/criterion-flowwire}"
INFO="$CRITERION_HOME/run-info.txt"
MEASURE="${MEASURE:-2}"
BENCHES="${BENCHES:-compare learn scale captures decode values}"
LOG="${LOG:-$PWD/target/flowwire-bench.log}"
if [ -z "${REPORT_ONLY:-}" ]; then
    # Build everything first (release; slow the first time), then time. A failed build stops
    # here, leaving the last results alone.
    if ! cargo bench -q -p flowwire-benches --no-run; then
        echo "build failed; RESULTS.md left as it was" >&2
        exit 1
    fi
    # Only this run's numbers go into the table.
    rm -rf "$CRITERION_HOME"
    mkdir -p "$CRITERION_HOME"
    load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
    started="$(date -u '+%Y-%m-%d %H:%M UTC')"
    : >"$LOG"
    shown=0
    for b in $BENCHES; do
        echo "== bench $b" | tee -a "$LOG"
        if ! cargo bench -q -p flowwire-benches --bench "$b" -- \
            --warm-up-time 1 --measurement-time "$MEASURE" --noplot >>"$LOG" 2>&1; then
            echo "bench $b failed: see $LOG" >&2
            exit 1
        fi
        # What this bench checked and the interleaved ratios (criterion's output is in the log).
        grep -E '^(check|interleaved)' "$LOG" | tail -n "+$((shown + 1))" || true
        shown=$(grep -cE '^(check|interleaved)' "$LOG" || true)
    done
    load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
    cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')"
    {
        echo "Run with \`benches/run.sh\` (criterion, warm-up 1 s, measurement ${MEASURE} s per"
        echo "benchmark, median time per iteration). Started ${started}, finished"
        echo "$(date -u '+%H:%M UTC'); $(nproc) vCPU, ${cpu:-unknown CPU}; $(rustc --version)."
        echo "Load average (1/5/15 min) before: ${load_before}; after: ${load_after}."
        echo "Commit: $(git rev-parse --short HEAD)$(git diff --quiet -- netflow ipfix sflow flow-record flowwire || echo ' plus uncommitted changes of other crates in the working tree')."
    } >"$INFO"
fi
{
    echo "# flowwire benchmark results"
    echo
    cat "$INFO" 2>/dev/null || echo "(no run information)"
    echo
    echo "**The machine is shared with other jobs** (2 vCPU, load average above 2 throughout):"
    echo "absolute figures are noisy; ratios compare benchmarks of one binary run a minute or"
    echo "two apart. Before timing, every decoder was checked to agree on every record (5-tuple,"
    echo "octets, packets, interfaces, AS numbers): the \`check:\` lines of the log"
    echo "(\`target/flowwire-bench.log\`)."
    echo
    cargo run -q -p flowwire-benches --bin bench-report -- "$CRITERION_HOME"
    if [ -f benches/PROFILES.md ]; then
        echo
        cat benches/PROFILES.md
    fi
} >benches/RESULTS.md
echo "wrote benches/RESULTS.md"
grep -A 14 '^## Targets' benches/RESULTS.md
