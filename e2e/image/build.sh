#!/usr/bin/env bash
# Builds (or reuses) everything the VM end-to-end test boots:
#   rootfs-KEY/   debootstrap'd Debian 12 minbase + generic kernel + cloud-init (no VPN software)
#   repo-KEY/     a flat apt repository with the gateway's packages (and the strongSwan client
#                 debs) closed over dependencies relative to that rootfs, plus repo.iso of it
#   image-KEY/    rootfs.img (ext4, rootfs + e2e/image/overlay), vmlinuz, initrd.img
# Each stage is cached in $VPN_E2E_CACHE keyed by a hash of its inputs, so an unchanged input
# costs nothing and a change to the overlay (test-bed scripts) costs ~10 s, not a full rebuild.
# Prints the paths as shell assignments on the last lines (IMAGE_DIR=... REPO_ISO=...).
# Usage: build.sh [--extra-packages "pkg pkg"]   (extra packages the rendered cloud-config wants)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${VPN_E2E_CACHE:-$HOME/.cache/vpn-gateway-e2e}"
SUITE=bookworm
MIRROR="${VPN_E2E_MIRROR:-http://deb.debian.org/debian}"
EXTRA_PKGS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --extra-packages) EXTRA_PKGS="$2"; shift 2 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "[image $(date +%H:%M:%S)] $*" >&2; }
hash_of() { sha256sum | cut -c1-16; }

# ---- host tools (CI runs on a fresh machine) ----------------------------------------------
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v dpkg-scanpackages >/dev/null || need+=(dpkg-dev)
command -v genisoimage >/dev/null || need+=(genisoimage)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
if [ ${#need[@]} -gt 0 ]; then
  log "installing host tools: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
mkdir -p "$CACHE"

# ---- stage A: base rootfs ---------------------------------------------------------------
# The generic kernel (the cloud kernel has no PPP/L2TP). dbus: cloud-init's set_hostname uses
# hostnamectl. curl/sudo/ca-certificates: present on Debian's EC2 images too.
BASE_PKGS="linux-image-amd64 initramfs-tools systemd-sysv udev dbus cloud-init iproute2 iputils-ping
python3 tcpdump procps kmod ca-certificates curl sudo netbase less"
# Test-bed tools unpacked (dpkg-deb -x, not installed) under /opt/testbed: nft for the router and
# home-NAT namespaces. Not registered with dpkg, so the gateway's own apt install is unaffected.
TESTBED_PKGS="nftables"
A_VERSION=1
KEY_A=$(printf '%s\n' "$A_VERSION" "$SUITE" "$MIRROR" "$BASE_PKGS" "$TESTBED_PKGS" | hash_of)
ROOTFS="$CACHE/rootfs-$KEY_A"

chroot_mounts() {  # mount/unmount /dev /proc /sys for apt inside the chroot
  local r=$1 op=$2
  if [ "$op" = up ]; then
    mount --bind /dev "$r/dev"; mount -t proc proc "$r/proc"; mount -t sysfs sys "$r/sys"
  else
    umount -l "$r/sys" "$r/proc" "$r/dev" 2>/dev/null || true
  fi
}

# Resolve, inside the chroot, which .debs installing PKGS would need beyond what is installed,
# and download exactly those into DEST (with Recommends, as cloud-init's apt-get does).
download_closure() {
  local dest=$1; shift
  mkdir -p "$dest"
  chroot "$ROOTFS" apt-get clean
  chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only "$@" >&2
  cp "$ROOTFS"/var/cache/apt/archives/*.deb "$dest"/ 2>/dev/null || true
  chroot "$ROOTFS" apt-get clean
}

if [ ! -e "$ROOTFS/.done" ]; then
  T0=$(date +%s)
  rm -rf "$ROOTFS" "$ROOTFS.tmp"
  log "stage A: debootstrap --variant=minbase $SUITE (about 45 s)"
  debootstrap --variant=minbase "$SUITE" "$ROOTFS.tmp" "$MIRROR" >&2 \
    || { log "debootstrap failed"; exit 1; }
  mv "$ROOTFS.tmp" "$ROOTFS"
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  # No daemon may start on the host while packages are installed into the chroot.
  printf '#!/bin/sh\nexit 101\n' > "$ROOTFS/usr/sbin/policy-rc.d"; chmod +x "$ROOTFS/usr/sbin/policy-rc.d"
  chroot_mounts "$ROOTFS" up
  trap 'chroot_mounts "$ROOTFS" down' EXIT
  log "stage A: apt-get install base packages (about 90 s)"
  chroot "$ROOTFS" apt-get update -qq >&2
  # shellcheck disable=SC2086
  chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $BASE_PKGS >&2
  log "stage A: unpacking test-bed tools ($TESTBED_PKGS) into /opt/testbed"
  # shellcheck disable=SC2086
  download_closure "$CACHE/tmp-testbed-debs" $TESTBED_PKGS
  mkdir -p "$ROOTFS/opt/testbed"
  for d in "$CACHE"/tmp-testbed-debs/*.deb; do dpkg-deb -x "$d" "$ROOTFS/opt/testbed"; done
  rm -rf "$CACHE/tmp-testbed-debs"
  # Root may log in on the serial console without a password (debugging a failed run).
  chroot "$ROOTFS" passwd -d root >&2
  echo vpn-gateway > "$ROOTFS/etc/hostname"
  chroot_mounts "$ROOTFS" down; trap - EXIT
  touch "$ROOTFS/.done"
  log "stage A: done in $(( $(date +%s) - T0 )) s"
else
  log "stage A: reusing $ROOTFS"
fi

# ---- stage B: local apt repository --------------------------------------------------------
GW_PKGS="libreswan xl2tpd ppp iptables $EXTRA_PKGS"
CLIENT_PKGS="strongswan-charon strongswan-swanctl libcharon-extauth-plugins strongswan-libcharon libstrongswan libstrongswan-standard-plugins"
# Node.js for running the product's own deploy-time health probe (cli/probe.ts, compiled on the
# host) from the test bed's "internet" side; unpacked in the VM like strongSwan, never installed.
NODE_PKGS="nodejs"
B_VERSION=1
KEY_B=$(printf '%s\n' "$B_VERSION" "$KEY_A" "$(echo $GW_PKGS | tr ' ' '\n' | sort -u)" "$CLIENT_PKGS" "$NODE_PKGS" | hash_of)
REPO="$CACHE/repo-$KEY_B"
if [ ! -e "$REPO/.done" ]; then
  T0=$(date +%s)
  rm -rf "$REPO"; mkdir -p "$REPO/tree"
  chroot_mounts "$ROOTFS" up; trap 'chroot_mounts "$ROOTFS" down' EXIT
  chroot "$ROOTFS" apt-get update -qq >&2
  log "stage B: resolving + downloading gateway packages: $GW_PKGS"
  # shellcheck disable=SC2086
  download_closure "$REPO/tree" $GW_PKGS
  # strongSwan conflicts with libreswan in dpkg, so it is resolved separately; the client
  # pieces are unpacked with dpkg-deb -x inside the VM (see overlay/usr/local/lib/e2e/client.sh)
  log "stage B: downloading strongSwan client packages (unpacked in the VM, never installed)"
  mkdir -p "$REPO/tree/client"
  # shellcheck disable=SC2086
  download_closure "$REPO/tree/client" $CLIENT_PKGS
  # strongswan-charon pulls strongswan-starter; the client only needs charon + swanctl + libs
  rm -f "$REPO"/tree/client/strongswan-starter_*.deb
  log "stage B: downloading Node.js for the health probe (unpacked in the VM, never installed)"
  mkdir -p "$REPO/tree/client-node"
  # shellcheck disable=SC2086
  download_closure "$REPO/tree/client-node" $NODE_PKGS
  # nodejs-doc (a Recommends) and what only it pulls are documentation
  rm -f "$REPO"/tree/client-node/nodejs-doc_*.deb
  chroot_mounts "$ROOTFS" down; trap - EXIT
  log "stage B: dpkg-scanpackages"
  ( cd "$REPO/tree" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages \
      && gzip -9kf Packages \
      && { echo "Origin: vpn-gateway-e2e"; echo "Label: vpn-gateway-e2e"; echo "Suite: local";
           echo "Codename: local"; echo "Date: $(date -Ru)"; echo "SHA256:";
           for f in Packages Packages.gz; do echo " $(sha256sum $f | cut -d' ' -f1) $(stat -c %s $f) $f"; done
         } > Release )
  ls "$REPO/tree"/*.deb | sed 's#.*/##' > "$REPO/gateway-debs.txt"
  ls "$REPO/tree/client"/*.deb | sed 's#.*/##' > "$REPO/client-debs.txt"
  ls "$REPO/tree/client-node"/*.deb | sed 's#.*/##' > "$REPO/node-debs.txt"
  genisoimage -quiet -volid VPNREPO -joliet -rock -o "$REPO/repo.iso" "$REPO/tree"
  touch "$REPO/.done"
  ls -dt "$CACHE"/repo-* | tail -n +4 | xargs -r rm -rf   # keep the three newest repositories
  log "stage B: $(wc -l < "$REPO/gateway-debs.txt") gateway debs, $(wc -l < "$REPO/client-debs.txt") client debs, $(wc -l < "$REPO/node-debs.txt") node debs, done in $(( $(date +%s) - T0 )) s"
else
  log "stage B: reusing $REPO"
fi

# ---- stage C: bootable image = rootfs + overlay ---------------------------------------------
C_VERSION=1
KEY_C=$( { echo "$C_VERSION $KEY_A"; cd "$HERE/overlay" && find . -type f -print0 | sort -z | xargs -0 sha256sum; } | hash_of)
IMAGE="$CACHE/image-$KEY_C"
if [ ! -e "$IMAGE/.done" ]; then
  T0=$(date +%s)
  rm -rf "$IMAGE"; mkdir -p "$IMAGE"
  STAGE="$IMAGE/stage"
  log "stage C: assembling image from rootfs + overlay"
  # Hard-link copy: fast, and files the overlay replaces are unlinked first (--remove-destination)
  # so the cached rootfs is never modified.
  cp -al "$ROOTFS" "$STAGE"
  rm -f "$STAGE/.done" "$STAGE/usr/sbin/policy-rc.d" "$STAGE/etc/resolv.conf"
  rm -rf "$STAGE"/var/lib/apt/lists/* "$STAGE"/etc/apt/sources.list.d/*
  rm -f "$STAGE/etc/apt/sources.list"
  cp -a --remove-destination "$HERE/overlay/." "$STAGE/"
  # Enable the test-bed units (symlinks are new files, so the hard links stay untouched).
  mkdir -p "$STAGE/etc/systemd/system/cloud-init.target.wants"
  ln -sf /etc/systemd/system/e2e-testbed.service "$STAGE/etc/systemd/system/cloud-init.target.wants/e2e-testbed.service"
  ln -sf /etc/systemd/system/e2e-harness.service "$STAGE/etc/systemd/system/cloud-init.target.wants/e2e-harness.service"
  mkdir -p "$STAGE/etc/systemd/system/getty.target.wants"
  ln -sf /lib/systemd/system/serial-getty@.service "$STAGE/etc/systemd/system/getty.target.wants/serial-getty@ttyS1.service"
  mkdir -p "$STAGE/srv/repo" "$STAGE/srv/e2e"
  cp -L "$STAGE"/boot/vmlinuz-* "$IMAGE/vmlinuz"; cp -L "$STAGE"/boot/initrd.img-* "$IMAGE/initrd.img"
  mkfs.ext4 -q -L rootfs -d "$STAGE" "$IMAGE/rootfs.img" 3G
  rm -rf "$STAGE"
  touch "$IMAGE/.done"
  # keep only the two newest assembled images (each is a 3 GB sparse file)
  ls -dt "$CACHE"/image-* | tail -n +3 | xargs -r rm -rf
  log "stage C: done in $(( $(date +%s) - T0 )) s"
else
  log "stage C: reusing $IMAGE"
fi

echo "IMAGE_DIR=$IMAGE"
echo "REPO_DIR=$REPO"
echo "REPO_ISO=$REPO/repo.iso"
