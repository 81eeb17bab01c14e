#!/bin/bash
# The fast suite's duration as it was (one mocha process, every command-line test starting
# ts-node) and as it is (compiled commands, one mocha process per core), in one run, and their
# ratio. Prints figures only; nothing here passes or fails on a time.
set -euo pipefail
cd "$(dirname "$0")/.."
run() {
    local t0=$EPOCHREALTIME
    env "$@" bash scripts/fast-suite.sh >/dev/null
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}
before=$(run VPN_GATEWAY_TEST_COMMANDS=ts-node SERIAL=1)
after=$(run VPN_GATEWAY_TEST_COMMANDS=compiled)
echo "fast suite, ts-node commands, one step after another, one mocha process: ${before} s"
echo "fast suite, compiled commands, $(nproc) mocha processes: ${after} s"
awk -v a="$after" -v b="$before" 'BEGIN { printf "ratio: %.2f\n", a / b }'
