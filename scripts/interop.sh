#!/usr/bin/env bash
# interop.sh -- run the interop suite (cli/tests/interop_*.rs) and show its figures.
#
#   scripts/interop.sh            all five: golden, nfdump, tshark, collectors, ovs
#   scripts/interop.sh tshark     one of them
#
# The tests skip (and pass) with a printed reason where their tools are missing: tshark
# (tshark, mergecap, editcap, capinfos), nfdump + nfdump-sflow (nfcapd, sfcapd, nfdump), and
# for ovs: root, openvswitch-switch, iproute2, iputils-ping. On Debian 12:
#   apt-get install -y --no-install-recommends tshark nfdump nfdump-sflow openvswitch-switch \
#       iproute2 iputils-ping ethtool
# The tshark test also compares the shared corpus (../shared/corpus) when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=("${@:-golden nfdump tshark collectors ovs}")
args=()
for t in ${tests[*]}; do args+=(--test "interop_$t"); done
start=$(date +%s)
cargo test -p flowwire-cli "${args[@]}" -- --nocapture --test-threads=1
echo "interop suite: $(( $(date +%s) - start )) s"
