#!/usr/bin/env bash
# Runs targets one after the other (one fuzz process at a time, at nice 5) for SECONDS each and
# appends a line per target to LOG: target, seconds, runs, result.
#   fuzz/scripts/campaign.sh SECONDS LOG TARGET...
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=$1 log=$2
shift 2
for t in "$@"; do
    out="logs/$t-$seconds-$(date -u +%H%M%S).log"
    mkdir -p logs
    start=$(date -u +%H:%M:%S)
    nice -n 5 ./run.sh "$t" "$seconds" -print_final_stats=1 ${FUZZ_EXTRA:-} >"$out" 2>&1
    rc=$?
    runs=$(grep -h 'stat::number_of_executed_units' "$out" | awk '{s+=$2} END {print s+0}')
    crash=$(grep -m1 -o 'Test unit written to .*' "$out" || true)
    panic=$(grep -m1 -A1 'panicked at' "$out" | tr '\n' ' ' | cut -c1-300)
    echo "$t start=$start seconds=$seconds rc=$rc runs=$runs ${crash:+CRASH $crash} ${panic:+[$panic]}" >>"$log"
done
