#!/usr/bin/env bash
# The VM end-to-end suite (npm run test:e2e, CI): stacks booted in VMs with their exact user-data
# and dialled into by real clients (e2e/run.sh), on Debian 12 (bookworm: the daemons of Ubuntu
# 24.04) and Debian 13 (trixie: those of Ubuntu 26.04), on disks laid out as the images
# `pulumi up` launches (e2e/image/build.sh --variant).
#
#   bash e2e/suite.sh [--all | --only NAME[,NAME]] [--list] [run.sh args...]
#
# The matrix (NAME: stack, dist, image, profile):
#   d12-full        Pulumi.example.yaml  bookworm ubuntu         full: every check, the platforms'
#                                        clients, the reboot with clients connected      [ci]
#   d13-platforms   Pulumi.example.yaml  trixie   generic        platforms+live: the gateway's
#                                        basics, the platforms' clients, two devices behind one
#                                        NAT, users and PSK changed in SSM while the gateway runs
#                                        (issue 9's live checks, ~6 min), the reboot     [ci]
#   d12-configs     e2e/configs/*.yaml   bookworm ubuntu-minimal full, first boot only
#   d12-debian-cloud Pulumi.example.yaml bookworm debian-cloud   kernel: the switch from Debian's
#                                        cloud kernel, a client, the reboot
#   d13-full        Pulumi.example.yaml  trixie   generic        full+live+live-long
#   d13-live        Pulumi.example.yaml  trixie   generic        live+live-long: the gateway's basics
#                                        and every live check of issue 9 (5,000 users, the reboot
#                                        with SSM unreachable: the second boot waits out the sync's
#                                        5-minute bound)
#   d13-debian-cloud Pulumi.example.yaml trixie   debian-cloud   kernel
# No option: the [ci] part (what .ci/run runs, within CI's time); --all: the whole matrix (about
# twice as long); --only: the named entries. Other arguments go to every run.sh call.
# Exit 0 only if every run passed.
set -uo pipefail
E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$E2E")"
EX="$ROOT/Pulumi.example.yaml"
MATRIX="d12-full d13-platforms d12-configs d12-debian-cloud d13-full d13-live d13-debian-cloud"
CI_PART="d12-full d13-platforms"
SELECT=$CI_PART; LIST=no; ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) SELECT=$MATRIX; shift ;;
    --only) SELECT=${2//,/ }; shift 2 ;;
    --list) LIST=yes; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
for n in $SELECT; do [[ " $MATRIX " == *" $n "* ]] || { echo "suite.sh: unknown entry $n (have: $MATRIX)" >&2; exit 2; }; done
if [ $LIST = yes ]; then echo "matrix: $MATRIX"; echo "ci part (default): $CI_PART"; echo "selected: $SELECT"; exit 0; fi

declare -a NAMES RESULTS TIMES; rc=0
run() {  # run LABEL run.sh-args...
  local name=$1 t0 r; shift
  echo "===== e2e: $name ($(date +%H:%M:%S))"
  t0=$(date +%s)
  bash "$E2E/run.sh" "$@" "${ARGS[@]}"; r=$?
  NAMES+=("$name"); RESULTS+=("$( [ $r = 0 ] && echo PASS || echo FAIL)"); TIMES+=("$(( $(date +%s) - t0 ))s")
  [ $r = 0 ] || rc=1
}
for n in $SELECT; do
  case "$n" in
    d12-full) run "d12-full: Pulumi.example.yaml, bookworm ubuntu image, full profile with reboot" --config "$EX" --dist bookworm --image ubuntu --profile full ;;
    d13-platforms) run "d13-platforms: Pulumi.example.yaml, trixie generic image, platforms+live profile with reboot" --config "$EX" --dist trixie --image generic --profile platforms+live ;;
    d12-configs)
      for c in "$E2E"/configs/*.yaml; do
        run "d12-configs: e2e/configs/$(basename "$c"), bookworm ubuntu-minimal image, full profile, first boot" --config "$c" --dist bookworm --image ubuntu-minimal --skip-reboot
      done ;;
    d12-debian-cloud) run "d12-debian-cloud: Pulumi.example.yaml, bookworm debian-cloud image, kernel profile with reboot" --config "$EX" --dist bookworm --image debian-cloud --profile kernel ;;
    d13-full) run "d13-full: Pulumi.example.yaml, trixie generic image, full+live+live-long profile with reboot" --config "$EX" --dist trixie --image generic --profile full+live+live-long ;;
    d13-live) run "d13-live: Pulumi.example.yaml, trixie generic image, live+live-long profile with reboot" --config "$EX" --dist trixie --image generic --profile live+live-long ;;
    d13-debian-cloud) run "d13-debian-cloud: Pulumi.example.yaml, trixie debian-cloud image, kernel profile with reboot" --config "$EX" --dist trixie --image debian-cloud --profile kernel ;;
  esac
done
echo
echo "e2e suite ($SELECT):"
for i in "${!NAMES[@]}"; do echo "  ${RESULTS[$i]}  ${TIMES[$i]}  ${NAMES[$i]}"; done
exit $rc
