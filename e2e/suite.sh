#!/usr/bin/env bash
# The VM end-to-end suite (npm run test:e2e, CI): every stack the project ships, each booted in a
# VM with its exact user-data and dialled into by real clients (e2e/run.sh), on images laid out as
# the ones `pulumi up` launches (e2e/image/build.sh --variant):
#   Pulumi.example.yaml on ubuntu          every check, including the reboot with clients connected;
#                                          L2TP modules only in linux-modules-extra (Ubuntu's cloud images)
#   e2e/configs/*.yaml on ubuntu-minimal   every first-boot check (--skip-reboot): other pools,
#                                          settings and secrets; PPP in linux-modules-extra too
#   Pulumi.example.yaml on debian-cloud    the kernel profile: Debian's cloud kernel (no PPP) booted by
#                                          GRUB from the disk, the switch to the generic kernel, a
#                                          client, and the reboot checks
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
run "Pulumi.example.yaml, ubuntu image (with reboot)" --config "$ROOT/Pulumi.example.yaml" --image ubuntu "$@"
for c in "$E2E"/configs/*.yaml; do
  run "e2e/configs/$(basename "$c"), ubuntu-minimal image (first boot)" --config "$c" --image ubuntu-minimal --skip-reboot "$@"
done
run "Pulumi.example.yaml, debian-cloud image (kernel profile, with reboot)" --config "$ROOT/Pulumi.example.yaml" --image debian-cloud --profile kernel "$@"
echo
echo "e2e suite:"
for i in "${!NAMES[@]}"; do echo "  ${RESULTS[$i]}  ${NAMES[$i]}"; done
exit $rc
