#!/usr/bin/env bash
# The VM end-to-end suite (npm run test:e2e, CI): every stack the project ships, each booted in a
# VM with its exact user-data and dialled into by real clients (e2e/run.sh).
#   Pulumi.example.yaml       every check, including the reboot with clients connected
#   e2e/configs/*.yaml        first boot only (--skip-reboot): other pools, settings and secrets
# Extra arguments go to every run.sh call. Exit 0 only if every run passed.
set -uo pipefail
E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$E2E")"
declare -a NAMES RESULTS; rc=0
run() {  # run NAME run.sh-args...
  local name=$1; shift
  echo "===== e2e: $name ($(date +%H:%M:%S))"
  bash "$E2E/run.sh" "$@"; local r=$?
  NAMES+=("$name"); RESULTS+=("$( [ $r = 0 ] && echo PASS || echo FAIL)")
  [ $r = 0 ] || rc=1
}
run "Pulumi.example.yaml (with reboot)" --config "$ROOT/Pulumi.example.yaml" "$@"
for c in "$E2E"/configs/*.yaml; do
  run "e2e/configs/$(basename "$c") (first boot)" --config "$c" --skip-reboot "$@"
done
echo
echo "e2e suite:"
for i in "${!NAMES[@]}"; do echo "  ${RESULTS[$i]}  ${NAMES[$i]}"; done
exit $rc
