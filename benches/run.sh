#!/bin/sh
# Runs every flowwire benchmark once and writes benches/RESULTS.md: the issue-10 targets with
# the measured ratios, every benchmark's figures, the scale curve and the real captures.
#
#   benches/run.sh                 # about 6-8 minutes on a shared 2-vCPU machine
#   MEASURE=5 benches/run.sh       # longer measurements (seconds per benchmark)
#   BENCHES="compare" benches/run.sh   # only some bench binaries
set -eu
cd "$(dirname "$0")/.."
export CRITERION_HOME="${CRITERION_HOME:-$PWD/target/criterion-flowwire}"
MEASURE="${MEASURE:-2}"
BENCHES="${BENCHES:-compare learn scale captures decode values}"
LOG="${LOG:-$PWD/target/flowwire-bench.log}"
# Only this run's numbers go into the table.
rm -rf "$CRITERION_HOME"
mkdir -p "$CRITERION_HOME"
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
: >"$LOG"
# Build everything first (release; slow the first time), then time.
cargo bench -p flowwire-benches --no-run 2>&1 | tail -n 2
for b in $BENCHES; do
    echo "== bench $b" | tee -a "$LOG"
    cargo bench -q -p flowwire-benches --bench "$b" -- \
        --warm-up-time 1 --measurement-time "$MEASURE" --noplot 2>&1 | tee -a "$LOG" |
        grep -E '^(check|captures|.* encode:|sflow:|[a-z0-9 ]+/.*)$|time:|thrpt:' || true
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')"
{
    echo "# flowwire benchmark results"
    echo
    echo "Run with \`benches/run.sh\` (criterion, warm-up 1 s, measurement ${MEASURE} s per benchmark,"
    echo "median time per iteration). Started ${started}; $(nproc) vCPU, ${cpu:-unknown CPU};"
    echo "$(rustc --version). Load average before: ${load_before}, after: ${load_after}."
    echo "**The machine is shared with other jobs**: absolute figures are noisy; the ratios"
    echo "compare benchmarks of the same binary run minutes apart. Every decoder was checked to"
    echo "agree on every record (5-tuple, octets, packets, interfaces, AS numbers) before timing:"
    echo "see the \`check:\` lines in the log (\`$LOG\`)."
    echo
    cargo run -q -p flowwire-benches --bin bench-report -- "$CRITERION_HOME"
    if [ -f benches/PROFILES.md ]; then
        echo
        cat benches/PROFILES.md
    fi
} >benches/RESULTS.md
echo "wrote benches/RESULTS.md"
grep -A 14 '^## Targets' benches/RESULTS.md
