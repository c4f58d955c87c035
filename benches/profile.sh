#!/bin/sh
# Profiles one or more paths of examples/profile.rs with callgrind and prints the top
# functions (inclusive and self cost):
#   benches/profile.sh v9-decode ipfix-decode v9-encode ipfix-encode sflow-decode
# Output: target/callgrind/<path>.out (open with kcachegrind) and <path>.txt (summary).
set -eu
cd "$(dirname "$0")/.."
cargo build -q --release -p flowwire-benches --example profile
BIN=target/release/examples/profile
mkdir -p target/callgrind
for p in "$@"; do
    out="target/callgrind/$p.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" "$p" "${REPS:-10}" >/dev/null 2>&1
    {
        echo "### $p: self cost (top 15)"
        callgrind_annotate --threshold=99 "$out" 2>/dev/null | sed -n '/^Ir/,$p' | head -22
        echo
        echo "### $p: inclusive cost (top 20)"
        callgrind_annotate --inclusive=yes --threshold=99 "$out" 2>/dev/null | sed -n '/^Ir/,$p' | head -27
    } >"target/callgrind/$p.txt"
    cat "target/callgrind/$p.txt"
done
