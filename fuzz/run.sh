#!/usr/bin/env bash
# Run one cargo-fuzz target for a number of seconds: fuzz/run.sh TARGET SECONDS [extra libFuzzer args]
# Builds with the nightly toolchain when it is installed, otherwise with RUSTC_BOOTSTRAP=1 on stable.
# Exits non-zero when the fuzzer finds a crash (the reproducer lands in fuzz/artifacts/TARGET/).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET SECONDS}
seconds=${2:-30}
shift 2 || shift $#

if ! command -v cargo-fuzz >/dev/null 2>&1 && ! cargo fuzz --help >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
    exit 2
fi

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    toolchain=()
    export RUSTC_BOOTSTRAP=1
fi

corpus="corpus/$target"
mkdir -p "$corpus"
seeds=()
[ -d "seeds/$target" ] && seeds=("seeds/$target")

cargo "${toolchain[@]}" fuzz run "$target" "$corpus" "${seeds[@]}" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 "$@"
