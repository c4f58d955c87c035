#!/usr/bin/env bash
# regen-golden.sh -- rebuild the `flowwire` binary and rewrite every golden decode.
#
#   scripts/regen-golden.sh
#
# For each committed real-exporter capture testdata/captures/<name>.pcap (except
# input-traffic.pcap, which is the traffic the exporters were fed, not flow export) this writes
# testdata/golden/<name>.jsonl = `flowwire decode --format jsonl --quiet <capture>`.
# cli/tests/interop_golden.rs checks that the current decoder still produces exactly these
# bytes. Run this only when the decoder legitimately changes, and review `git diff testdata/golden`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p flowwire-cli
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target_dir/debug/flowwire"
[ -x "$bin" ] || { echo "regen-golden: $bin not found" >&2; exit 1; }

mkdir -p testdata/golden
# Goldens whose capture is gone are removed, so the folder mirrors the captures.
for g in testdata/golden/*.jsonl; do
    [ -e "$g" ] || continue
    name=$(basename "$g" .jsonl)
    [ -e "testdata/captures/$name.pcap" ] || { echo "removing $g (no capture)"; rm -f "$g"; }
done
n=0
for cap in testdata/captures/*.pcap; do
    name=$(basename "$cap" .pcap)
    [ "$name" = input-traffic ] && continue
    "$bin" decode --format jsonl --quiet "$cap" > "testdata/golden/$name.jsonl.tmp"
    mv "testdata/golden/$name.jsonl.tmp" "testdata/golden/$name.jsonl"
    printf '%-40s %6d lines\n' "$name" "$(wc -l < "testdata/golden/$name.jsonl")"
    n=$((n + 1))
done
echo "regen-golden: wrote $n goldens to testdata/golden/ (review with: git diff --stat testdata/golden)"
