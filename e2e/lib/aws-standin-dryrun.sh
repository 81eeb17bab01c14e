#!/usr/bin/env bash
# Checks the test bed's AWS side of a built image WITHOUT booting it: in private mount, network
# and PID namespaces on the host, chrooted into a copy-on-write overlay of the image's root file
# system, it runs the image's own testbed.sh (modprobe and systemctl stubbed), the SSM stand-in
# as e2e-aws-standin.service would (ssm-standin run / ready), and then, from the gateway's side
# (the image's root namespace), the product's vpn-gateway-sync (agent/, built as the gateway gets it) with the
# image release's python3-boto3: IMDSv2 role credentials, ssm.REGION.amazonaws.com through
# /etc/hosts and the 1:1 NAT, TLS through the image's trust store; then the harness's
# ssm-standin put/list/down/up/block/unblock/stop/start. Prints what happened; exit 0 when every
# step did what it should. Needs root and the Debian mirror (python3-boto3 for the overlay).
#
#   bash e2e/lib/aws-standin-dryrun.sh IMAGE_DIR     (IMAGE_DIR as e2e/image/build.sh prints it)
#
# Nothing of the host changes: the image is mounted read-only, its overlay and every namespace
# live in a temporary directory (removed at the end) and in namespaces that end with the run.
set -euo pipefail
IMAGE_DIR=$(realpath "${1:?usage: aws-standin-dryrun.sh IMAGE_DIR}")
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MIRROR="${VPN_E2E_MIRROR:-http://deb.debian.org/debian}"
W=$(mktemp -d /var/tmp/aws-standin-dryrun.XXXXXX)
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  umount -l "$W/root" 2>/dev/null || true
  umount -l "$W/img" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/img" "$W/upper" "$W/work" "$W/root"
if [ -e "$IMAGE_DIR/rootfs.img" ]; then mount -o ro,loop "$IMAGE_DIR/rootfs.img" "$W/img"
else mount -o ro,loop,offset=1048576 "$IMAGE_DIR/disk.img" "$W/img"; fi
DIST=$(cat "$W/img/etc/e2e-image-dist")
echo "image $IMAGE_DIR: Debian $DIST ($(cat "$W/img/etc/debian_version")), variant $(cat "$W/img/etc/e2e-image-variant")"

# What the VM would find on its parameter drive and what the product will install and write.
U="$W/upper"
mkdir -p "$U/srv/e2e" "$U/e2e-stubs" "$U/e2e-product" "$U/etc/vpn-gateway" "$U/etc/ppp"
echo '{"public_ip": "203.0.113.10", "aws_region": "eu-west-1"}' > "$U/srv/e2e/params.json"
cat > "$U/srv/e2e/ssm-parameters.json" <<'EOF'
[{"name": "/vpn-gateway/dryrun/psk", "type": "SecureString", "value": "dry-run-psk-0123456789"},
 {"name": "/vpn-gateway/dryrun/users/0", "type": "SecureString",
  "value": "{\"format\": 1, \"users\": [{\"name\": \"alice\", \"password\": \"alice-dry-1\"}, {\"name\": \"bob\", \"password\": \"bob-dry-2\", \"ip\": \"192.168.42.5\"}]}"}]
EOF
# sync.json as the user-data writes it; its limits are those of components/config/settings.ts
# (agent/tests/limits.json, which test/boot/sync.test.ts keeps equal to what syncConfig writes)
python3 - "$ROOT/agent/tests/limits.json" > "$U/etc/vpn-gateway/sync.json" <<'PY'
import json, sys
print(json.dumps({"region": "eu-west-1", "path": "/vpn-gateway/dryrun", "serverName": "l2tpd", "clientPool": "192.168.42.0/24",
                  "gatewayAddress": "192.168.42.1", "limits": json.load(open(sys.argv[1]))}))
PY
# the agent's zipapp, as npm run build:agent builds it (0755: the gateway runs it as it is)
python3 "$ROOT/agent/build.py" "$U/e2e-product/vpn-gateway-sync"
printf '#!/bin/sh\nexit 0\n' > "$U/e2e-stubs/modprobe"
printf '#!/bin/sh\necho "systemctl $*" >> /run/e2e/systemctl-calls.log\n' > "$U/e2e-stubs/systemctl"
chmod 0755 "$U/e2e-stubs/modprobe" "$U/e2e-stubs/systemctl"

# Phase 1 (host network): python3-boto3 of the image's release into the overlay, as the gateway's
# cloud-init will install it (with Recommends).
mount -t overlay overlay -o "lowerdir=$W/img,upperdir=$U,workdir=$W/work" "$W/root"
mount --bind /dev "$W/root/dev"; mount --bind /dev/pts "$W/root/dev/pts"; mount -t proc proc "$W/root/proc"
cp /etc/resolv.conf "$W/root/etc/resolv.conf"
echo "deb $MIRROR $DIST main" > "$W/root/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' > "$W/root/usr/sbin/policy-rc.d"; chmod 0755 "$W/root/usr/sbin/policy-rc.d"
chroot "$W/root" apt-get update -qq
chroot "$W/root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-boto3 > /dev/null
rm -f "$W/root/usr/sbin/policy-rc.d" "$W/root/etc/resolv.conf"
umount "$W/root/proc" "$W/root/dev/pts" "$W/root/dev"; umount "$W/root"

install -m 0755 "$ROOT/e2e/lib/aws-standin-dryrun-inside.sh" "$U/dryrun-inside.sh"

# Phase 2: private mount, network and PID namespaces (everything started inside ends with it).
rc=0
# shellcheck disable=SC2016  # expanded by the inner bash, which gets the directory as $1
unshare --mount --net --pid --fork --propagation private bash -c '
  set -eu
  W=$1
  mount -t overlay overlay -o "lowerdir=$W/img,upperdir=$W/upper,workdir=$W/work" "$W/root"
  mount -t proc proc "$W/root/proc"; mount -t sysfs sysfs "$W/root/sys"; mount --bind /dev "$W/root/dev"
  mount -t tmpfs tmpfs "$W/root/run"; mount -t tmpfs tmpfs "$W/root/tmp"
  ip link set lo up
  exec chroot "$W/root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 /bin/bash /dryrun-inside.sh
' dryrun "$W" || rc=$?
exit "$rc"
