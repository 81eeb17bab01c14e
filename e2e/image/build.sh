#!/usr/bin/env bash
# Builds (or reuses) everything the VM end-to-end test boots:
#   rootfs-KEY/        debootstrap'd Debian minbase + generic kernel + cloud-init (no VPN software)
#   rootfs-cloud-KEY/  the same with Debian's cloud kernel (no PPP) and GRUB instead, as Debian's
#                      EC2 images are
#   repo-KEY/          a flat apt repository with the gateway's packages (and the strongSwan client
#                      debs) closed over dependencies relative to that rootfs, the generic kernel
#                      for the cloud image, and linux-modules-extra-* packages laid out as Ubuntu's;
#                      plus repo.iso of it
#   awsroot-KEY/       Debian 13's moto (python3-moto's closure, unpacked) for the test bed's SSM
#                      stand-in, the same tree in every image (stage S)
#   image-VARIANT-KEY/ the disk the VM boots (rootfs + e2e/image/overlay + awsroot), one per variant:
#     generic          rootfs.img (ext4) + vmlinuz + initrd.img: every module in the kernel package
#     ubuntu           as Ubuntu's cloud images: the L2TP modules only in linux-modules-extra-<kver>
#     ubuntu-minimal   as a minimal Ubuntu kernel: L2TP and PPP only in linux-modules-extra-<kver>
#     debian-cloud     disk.img (MBR, ext4 partition, GRUB) booting the cloud kernel from its disk
# Each stage is cached in $VPN_E2E_CACHE keyed by a hash of its inputs, so an unchanged input
# costs nothing and a change to the overlay (test-bed scripts) costs ~10 s, not a full rebuild.
# Prints the paths as shell assignments on the last lines (IMAGE_DIR=... REPO_ISO=...).
# Usage: build.sh [--dist D] [--variant V] [--extra-packages "pkg pkg"]
#   --dist             bookworm (default: Debian 12, the daemons of Ubuntu 24.04) | trixie (Debian 13,
#                      the daemons of Ubuntu 26.04: Libreswan 5.2, ppp 2.5.2, cloud-init 25.1)
#   --variant          generic | ubuntu (default) | ubuntu-minimal | debian-cloud
#   --extra-packages   packages the rendered cloud-config wants
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${VPN_E2E_CACHE:-$HOME/.cache/vpn-gateway-e2e}"
SUITE=bookworm
MIRROR="${VPN_E2E_MIRROR:-http://deb.debian.org/debian}"
EXTRA_PKGS=""; VARIANT=ubuntu
while [ $# -gt 0 ]; do
  case "$1" in
    --extra-packages) EXTRA_PKGS="$2"; shift 2 ;;
    --variant) VARIANT="$2"; shift 2 ;;
    --dist) SUITE="$2"; shift 2 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

case "$VARIANT" in generic|ubuntu|ubuntu-minimal|debian-cloud) ;; *) echo "build.sh: unknown variant $VARIANT" >&2; exit 2 ;; esac
case "$SUITE" in bookworm|trixie) ;; *) echo "build.sh: unknown dist $SUITE (bookworm or trixie)" >&2; exit 2 ;; esac
# The ubuntu* layouts name packages after Ubuntu's kernel release form (6.8.0-1012-aws: the
# flavour after the ABI number), which the gateway's kernel step relies on; Debian 12's release
# (6.1.0-50-amd64) has that form, Debian 13's (6.12.57+deb13-amd64) does not.
case "$SUITE/$VARIANT" in trixie/ubuntu*) echo "build.sh: variant $VARIANT needs a kernel release in Ubuntu's form; use it with --dist bookworm" >&2; exit 2 ;; esac
log() { echo "[image $(date +%H:%M:%S)] $*" >&2; }
hash_of() { sha256sum | cut -c1-16; }

# ---- host tools (CI runs on a fresh machine) ----------------------------------------------
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v dpkg-scanpackages >/dev/null || need+=(dpkg-dev)
command -v genisoimage >/dev/null || need+=(genisoimage)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v sfdisk >/dev/null || need+=(fdisk)
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
# Debian 13's minbase lacks e2fsprogs (no longer "required"); EC2's images have it, and cloud-init's
# resizefs needs resize2fs. Added for trixie only, so Debian 12's cached rootfs keeps its key.
[ "$SUITE" = trixie ] && BASE_PKGS="$BASE_PKGS e2fsprogs"
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
download_closure() {  # download_closure DEST PKG... (relative to $ROOTFS, or to $IN_ROOTFS when set)
  local dest=$1 r=${IN_ROOTFS:-$ROOTFS}; shift
  mkdir -p "$dest"
  chroot "$r" apt-get clean
  chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only "$@" >&2
  cp "$r"/var/cache/apt/archives/*.deb "$dest"/ 2>/dev/null || true
  chroot "$r" apt-get clean
}

if [ ! -e "$ROOTFS/.done" ]; then
  T0=$(date +%s)
  rm -rf "$ROOTFS" "$ROOTFS.tmp"
  log "stage A: debootstrap --variant=minbase $SUITE (about 45 s)"
  # The mirror sometimes fails a download mid-run (seen: "Couldn't download packages" while a
  # point release propagates); a fresh attempt then succeeds. Three tries, then give up.
  for try in 1 2 3; do
    debootstrap --variant=minbase "$SUITE" "$ROOTFS.tmp" "$MIRROR" >&2 && break
    rm -rf "$ROOTFS.tmp"
    [ "$try" = 3 ] && { log "debootstrap failed 3 times"; exit 1; }
    log "debootstrap failed (try $try of 3); retrying in 20 s"; sleep 20
  done
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

# shellcheck disable=SC2012  # kernel release directories: no whitespace in their names
KVER=$(basename "$(ls -d "$ROOTFS"/lib/modules/* | sort -V | tail -n 1)")

# ---- stage A2: the rootfs of Debian's EC2 images: cloud kernel (no PPP), booted by GRUB --------
A2_VERSION=1
KEY_A2=$(printf '%s\n' "$A2_VERSION" "$KEY_A" | hash_of)
ROOTFS_CLOUD="$CACHE/rootfs-cloud-$KEY_A2"
if [ ! -e "$ROOTFS_CLOUD/.done" ]; then
  T0=$(date +%s)
  rm -rf "$ROOTFS_CLOUD" "$ROOTFS_CLOUD.tmp"
  log "stage A2: cloud-kernel rootfs from stage A (about 20 s)"
  cp -a "$ROOTFS" "$ROOTFS_CLOUD.tmp"; rm -f "$ROOTFS_CLOUD.tmp/.done"
  chroot_mounts "$ROOTFS_CLOUD.tmp" up; trap 'chroot_mounts "$ROOTFS_CLOUD.tmp" down' EXIT
  chroot "$ROOTFS_CLOUD.tmp" apt-get update -qq >&2
  # grub-pc without debconf-chosen install devices: the disk gets GRUB's boot code in stage C.
  chroot "$ROOTFS_CLOUD.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    linux-image-cloud-amd64 grub-pc >&2
  chroot "$ROOTFS_CLOUD.tmp" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq linux-image-amd64 "linux-image-$KVER" >&2
  chroot "$ROOTFS_CLOUD.tmp" apt-get clean
  rm -rf "$ROOTFS_CLOUD.tmp"/var/lib/apt/lists/*
  chroot_mounts "$ROOTFS_CLOUD.tmp" down; trap - EXIT
  ls "$ROOTFS_CLOUD.tmp"/boot/vmlinuz-*-cloud-amd64 >/dev/null || { log "stage A2: no cloud kernel installed"; exit 1; }
  # shellcheck disable=SC2010  # kernel image names: no whitespace in them
  if ls "$ROOTFS_CLOUD.tmp"/boot/vmlinuz-* | grep -qv cloud; then log "stage A2: a generic kernel is still installed"; exit 1; fi
  mv "$ROOTFS_CLOUD.tmp" "$ROOTFS_CLOUD"; touch "$ROOTFS_CLOUD/.done"
  log "stage A2: done in $(( $(date +%s) - T0 )) s"
else
  log "stage A2: reusing $ROOTFS_CLOUD"
fi
# shellcheck disable=SC2012  # kernel release directories: no whitespace in their names
CLOUD_KVER=$(basename "$(ls -d "$ROOTFS_CLOUD"/lib/modules/*-cloud-amd64 | sort -V | tail -n 1)")

# Modules Ubuntu's cloud kernels keep in linux-modules-extra-<kver> (L2TP), and what a minimal
# Ubuntu kernel leaves out too (PPP), relative to /lib/modules/<kver>/kernel.
EXTRA_L2TP_DIR=net/l2tp
EXTRA_PPP_DIR=drivers/net/ppp

# ---- stage B: local apt repository --------------------------------------------------------
GW_PKGS="libreswan xl2tpd ppp iptables $EXTRA_PKGS"
CLIENT_PKGS="strongswan-charon strongswan-swanctl libcharon-extauth-plugins strongswan-libcharon libstrongswan libstrongswan-standard-plugins"
# Node.js for running the product's own deploy-time health probe (cli/probe.ts, compiled on the
# host) from the test bed's "internet" side; unpacked in the VM like strongSwan, never installed.
NODE_PKGS="nodejs"
B_VERSION=2
# shellcheck disable=SC2086  # unquoted on purpose: one package per word, whatever the spacing
KEY_B=$(printf '%s\n' "$B_VERSION" "$KEY_A" "$KEY_A2" "$(echo $GW_PKGS | tr ' ' '\n' | sort -u)" "$CLIENT_PKGS" "$NODE_PKGS" | hash_of)
REPO="$CACHE/repo-$SUITE-$KEY_B"
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
  # The generic kernel, for the debian-cloud image's first boot to switch to (resolved against
  # the cloud rootfs, which lacks it).
  log "stage B: downloading the generic kernel (linux-image-amd64) for the debian-cloud image"
  chroot_mounts "$ROOTFS_CLOUD" up; trap 'chroot_mounts "$ROOTFS_CLOUD" down' EXIT
  chroot "$ROOTFS_CLOUD" apt-get update -qq >&2
  IN_ROOTFS="$ROOTFS_CLOUD" download_closure "$REPO/tree" linux-image-amd64
  rm -rf "$ROOTFS_CLOUD"/var/lib/apt/lists/*
  chroot_mounts "$ROOTFS_CLOUD" down; trap - EXIT
  # linux-modules-extra-<kver> and its flavour's meta package, named as Ubuntu names them: the
  # L2TP and PPP modules of the generic kernel, which the ubuntu* images lack. Only this
  # repository offers them.
  log "stage B: building linux-modules-extra-$KVER (L2TP and PPP modules) and linux-modules-extra-${KVER#*-*-}"
  X="$CACHE/tmp-extra"; rm -rf "$X"
  for d in "$EXTRA_L2TP_DIR" "$EXTRA_PPP_DIR"; do
    mkdir -p "$X/pkg/lib/modules/$KVER/kernel/$d"; cp -a "$ROOTFS/lib/modules/$KVER/kernel/$d/." "$X/pkg/lib/modules/$KVER/kernel/$d/"
  done
  mkdir -p "$X/pkg/DEBIAN" "$X/meta/DEBIAN"
  control() {  # control NAME DESCRIPTION [DEPENDS]
    printf 'Package: %s\nVersion: 1.0\nArchitecture: amd64\nMaintainer: vpn-gateway e2e <e2e@example.invalid>\nSection: kernel\nPriority: optional\n%sDescription: %s\n' \
      "$1" "${3:+Depends: $3
}" "$2"
  }
  control "linux-modules-extra-$KVER" "test bed: extra modules of $KVER, packaged as Ubuntu does" > "$X/pkg/DEBIAN/control"
  # shellcheck disable=SC2016  # $1 is the postinst's own argument, written literally
  printf '#!/bin/sh\nset -e\n[ "$1" = configure ] && depmod -a %s\nexit 0\n' "$KVER" > "$X/pkg/DEBIAN/postinst"; chmod 755 "$X/pkg/DEBIAN/postinst"
  control "linux-modules-extra-${KVER#*-*-}" "test bed: keeps the newest kernel's extra modules installed" "linux-modules-extra-$KVER" > "$X/meta/DEBIAN/control"
  dpkg-deb --root-owner-group -Zxz --build "$X/pkg" "$REPO/tree/linux-modules-extra-${KVER}_1.0_amd64.deb" >&2
  dpkg-deb --root-owner-group --build "$X/meta" "$REPO/tree/linux-modules-extra-${KVER#*-*-}_1.0_amd64.deb" >&2
  rm -rf "$X"

  log "stage B: dpkg-scanpackages"
  ( cd "$REPO/tree" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages \
      && gzip -9kf Packages \
      && { echo "Origin: vpn-gateway-e2e"; echo "Label: vpn-gateway-e2e"; echo "Suite: local";
           echo "Codename: local"; echo "Date: $(date -Ru)"; echo "SHA256:";
           for f in Packages Packages.gz; do echo " $(sha256sum $f | cut -d' ' -f1) $(stat -c %s $f) $f"; done
         } > Release )
  # shellcheck disable=SC2012  # Debian package file names: no whitespace in them
  ls "$REPO/tree"/*.deb | sed 's#.*/##' > "$REPO/gateway-debs.txt"
  # shellcheck disable=SC2012  # Debian package file names: no whitespace in them
  ls "$REPO/tree/client"/*.deb | sed 's#.*/##' > "$REPO/client-debs.txt"
  # shellcheck disable=SC2012  # Debian package file names: no whitespace in them
  ls "$REPO/tree/client-node"/*.deb | sed 's#.*/##' > "$REPO/node-debs.txt"
  genisoimage -quiet -volid VPNREPO -joliet -rock -o "$REPO/repo.iso" "$REPO/tree"
  touch "$REPO/.done"
  # shellcheck disable=SC2012  # ls -t: newest first; the names are ours (dist and hex key)
  ls -dt "$CACHE"/repo-"$SUITE"-* | tail -n +3 | xargs -r rm -rf   # keep the two newest repositories of this dist
  log "stage B: $(wc -l < "$REPO/gateway-debs.txt") gateway debs, $(wc -l < "$REPO/client-debs.txt") client debs, $(wc -l < "$REPO/node-debs.txt") node debs, done in $(( $(date +%s) - T0 )) s"
else
  log "stage B: reusing $REPO"
fi

# ---- stage S: the AWS stand-in's root: Debian 13's moto, the same for both dists -----------------
# The gateway will read its users and PSK from SSM Parameter Store; the test bed answers at
# ssm.REGION.amazonaws.com with the maintained emulator moto. Debian 13 packages it (python3-moto
# 5.1); Debian 12 has none, so both images carry one Debian 13 tree of python3-moto's Depends
# closure (+ python3-flask-cors, which moto_server imports and the package does not depend on),
# run chrooted in the test bed's `aws` namespace (overlay/usr/local/lib/e2e/ssm-standin). Resolved
# by the host's apt against an empty package status in a private apt directory (so the closure is
# complete: Python 3.13, libc6, ...), unpacked with dpkg-deb -x (no maintainer scripts run: the
# usrmerge links, the CA bundle requests loads at import, and the byte-code are made here), never
# registered with any dpkg. Not in the gateway's package database, so its apt closure is unaffected.
STANDIN_SUITE=trixie
STANDIN_PKGS="python3-moto python3-flask-cors"
S_VERSION=1
KEY_S=$(printf '%s\n' "$S_VERSION" "$STANDIN_SUITE" "$MIRROR" "$STANDIN_PKGS" | hash_of)
AWSROOT="$CACHE/awsroot-$KEY_S"
if [ ! -e "$AWSROOT/.done" ]; then
  T0=$(date +%s)
  rm -rf "$AWSROOT" "$AWSROOT.tmp"
  A="$AWSROOT.tmp/apt"; TREE="$AWSROOT.tmp/tree"
  mkdir -p "$A/lists/partial" "$A/archives/partial" "$A/etc/apt.conf.d" "$A/etc/preferences.d" "$A/etc/sources.list.d" "$TREE"
  : > "$A/status"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $STANDIN_SUITE main" > "$A/etc/sources.list"
  printf '%s\n' "Dir::Etc \"$A/etc\";" "Dir::State \"$A\";" "Dir::State::status \"$A/status\";" "Dir::Cache \"$A\";" \
    "Dir::Cache::archives \"$A/archives\";" 'APT::Architecture "amd64";' 'APT::Architectures { "amd64"; };' \
    'APT::Install-Recommends "false";' 'APT::Sandbox::User "root";' 'Debug::NoLocking "true";' > "$A/apt.conf"
  log "stage S: resolving + downloading $STANDIN_PKGS from $STANDIN_SUITE (about 15 s)"
  APT_CONFIG="$A/apt.conf" apt-get update -qq >&2
  # shellcheck disable=SC2086  # one package per word
  APT_CONFIG="$A/apt.conf" apt-get install -y -qq --download-only $STANDIN_PKGS >&2
  for d in "$A"/archives/*.deb; do dpkg-deb -x "$d" "$TREE"; done
  # What debootstrap and the maintainer scripts would have made: the merged-/usr links, and the
  # CA bundle (python3-requests loads it at import; the stand-in itself makes no TLS requests).
  for d in bin lib lib64 sbin; do [ -e "$TREE/$d" ] || ln -s "usr/$d" "$TREE/$d"; done
  mkdir -p "$TREE/etc/ssl/certs"
  cat "$TREE"/usr/share/ca-certificates/mozilla/*.crt > "$TREE/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$TREE"/usr/share/doc "$TREE"/usr/share/man "$TREE"/usr/share/locale "$TREE"/usr/share/info "$TREE"/usr/share/lintian
  # Mount points ssm-standin uses inside the chroot.
  mkdir -p "$TREE"/proc "$TREE"/dev "$TREE"/tmp "$TREE"/e2e "$TREE"/run/e2e-aws "$TREE"/run/e2e-imds "$TREE"/var/lib/e2e-aws
  # Byte-code now (py3compile would have in postinst): under TCG, importing moto and botocore
  # from source would cost the VM tens of seconds at every boot.
  PYLIB=$(cd "$TREE" && ls -d usr/lib/python3.[0-9]*)
  env -i PATH=/usr/bin:/bin "$(command -v chroot)" "$TREE" /usr/bin/python3 -m compileall -q /usr/lib/python3/dist-packages "/$PYLIB" >&2 \
    || log "stage S: compileall reported files it could not compile (they are imported from source)"
  env -i PATH=/usr/bin:/bin "$(command -v chroot)" "$TREE" /usr/bin/python3 -c 'import moto.server, moto.ssm.models, flask_cors, werkzeug.serving' \
    || { log "stage S: moto does not import in the tree"; exit 1; }
  # shellcheck disable=SC2012  # Debian package file names: no whitespace in them
  ls "$A"/archives/*.deb | sed 's#.*/##' > "$AWSROOT.tmp/debs.txt"
  log "stage S: $(wc -l < "$AWSROOT.tmp/debs.txt") debs, $(du -cm "$A"/archives/*.deb | tail -n 1 | cut -f1) MB downloaded, tree $(du -sm "$TREE" | cut -f1) MB"
  rm -rf "$A"
  mv "$AWSROOT.tmp" "$AWSROOT"; touch "$AWSROOT/.done"
  # shellcheck disable=SC2012  # ls -t: newest first; the names are ours (hex key)
  ls -dt "$CACHE"/awsroot-* | tail -n +3 | xargs -r rm -rf   # keep the two newest
  log "stage S: done in $(( $(date +%s) - T0 )) s"
else
  log "stage S: reusing $AWSROOT"
fi

# ---- stage C: the bootable disk of one variant = rootfs + overlay (+ the variant's layout) ------
C_VERSION=2
BASE=$ROOTFS; [ "$VARIANT" = debian-cloud ] && BASE=$ROOTFS_CLOUD
KEY_C=$( { echo "$C_VERSION $VARIANT $KEY_A $KEY_A2 $KEY_S"; sha256sum "$HERE/build.sh"; cd "$HERE/overlay" && find . -type f -print0 | sort -z | xargs -0 sha256sum; } | hash_of)
IMAGE="$CACHE/image-$SUITE-$VARIANT-$KEY_C"

# unown_modules DIR...: drop those module directories from the kernel package's dpkg file list
# (on Ubuntu another package owns them), so installing linux-modules-extra-<kver> later is an
# ordinary install. Each list is written to a new file and renamed over the hard-linked one,
# so the cached rootfs's copy is never edited.
unown_modules() {
  local info="$STAGE/var/lib/dpkg/info/linux-image-$KVER" d
  for d in "$@"; do
    grep -v "^/lib/modules/$KVER/kernel/$d" "$info.list" > "$info.list.new"; mv "$info.list.new" "$info.list"
    grep -v " lib/modules/$KVER/kernel/$d/" "$info.md5sums" > "$info.md5sums.new"; mv "$info.md5sums.new" "$info.md5sums"
  done
}

if [ ! -e "$IMAGE/.done" ]; then
  T0=$(date +%s)
  rm -rf "$IMAGE"; mkdir -p "$IMAGE"
  STAGE="$IMAGE/stage"
  log "stage C: assembling the $VARIANT image from rootfs + overlay"
  # Hard-link copy: fast, and files the overlay replaces are unlinked first (--remove-destination)
  # so the cached rootfs is never modified.
  cp -al "$BASE" "$STAGE"
  rm -f "$STAGE/.done" "$STAGE/usr/sbin/policy-rc.d" "$STAGE/etc/resolv.conf"
  rm -rf "$STAGE"/var/lib/apt/lists/* "$STAGE"/etc/apt/sources.list.d/*
  rm -f "$STAGE/etc/apt/sources.list"
  cp -a --remove-destination "$HERE/overlay/." "$STAGE/"
  echo "$VARIANT" > "$STAGE/etc/e2e-image-variant"
  echo "$SUITE" > "$STAGE/etc/e2e-image-dist"
  # Enable the test-bed units (symlinks are new files, so the hard links stay untouched).
  mkdir -p "$STAGE/etc/systemd/system/cloud-init.target.wants"
  ln -sf /etc/systemd/system/e2e-testbed.service "$STAGE/etc/systemd/system/cloud-init.target.wants/e2e-testbed.service"
  ln -sf /etc/systemd/system/e2e-harness.service "$STAGE/etc/systemd/system/cloud-init.target.wants/e2e-harness.service"
  mkdir -p "$STAGE/etc/systemd/system/getty.target.wants"
  ln -sf /lib/systemd/system/serial-getty@.service "$STAGE/etc/systemd/system/getty.target.wants/serial-getty@ttyS1.service"
  mkdir -p "$STAGE/srv/repo" "$STAGE/srv/e2e"
  # The SSM stand-in: the Debian 13 moto tree (hard links, as the rootfs), and a test CA of this
  # image in the system trust store (as update-ca-certificates adds a local CA; here, not at boot:
  # under TCG the script's ~800 forks would delay cloud-init by a minute). The endpoint's own
  # certificate (for ssm.REGION.amazonaws.com) is signed with it at boot (ssm-standin run).
  cp -al "$AWSROOT/tree" "$STAGE/opt/aws-standin"
  mkdir -p "$STAGE/etc/e2e/aws-ca"; chmod 0700 "$STAGE/etc/e2e/aws-ca"
  chroot "$STAGE" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=vpn-gateway e2e test CA (not AWS)" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout /etc/e2e/aws-ca/ca.key -out /etc/e2e/aws-ca/ca.crt 2>/dev/null
  mkdir -p "$STAGE/usr/local/share/ca-certificates"
  cp "$STAGE/etc/e2e/aws-ca/ca.crt" "$STAGE/usr/local/share/ca-certificates/vpn-gateway-e2e-test-ca.crt"
  # update-ca-certificates rewrites /etc/ssl/certs: the stage gets its own copy of that directory
  # first, so the hard-linked cached rootfs stays as it is.
  rm -rf "$STAGE/etc/ssl/certs"; cp -a "$BASE/etc/ssl/certs" "$STAGE/etc/ssl/certs"
  chroot "$STAGE" update-ca-certificates >&2
  grep -qF "$(sed -n 2p "$STAGE/etc/e2e/aws-ca/ca.crt")" "$STAGE/etc/ssl/certs/ca-certificates.crt" \
    || { log "stage C: the test CA is not in the image's trust store"; exit 1; }
  case "$VARIANT" in
    ubuntu|ubuntu-minimal)
      # Ubuntu's layout: L2TP (ubuntu-minimal: and PPP) gone from the kernel package, offered by
      # linux-modules-extra-<kver> in the local repository only. depmod writes each index to a
      # temporary file and renames it (a new inode), so the hard-linked rootfs stays as it is.
      unown_modules "$EXTRA_L2TP_DIR" "$EXTRA_PPP_DIR"
      rm -rf "${STAGE:?}/lib/modules/$KVER/kernel/$EXTRA_L2TP_DIR"
      [ "$VARIANT" = ubuntu-minimal ] && rm -rf "${STAGE:?}/lib/modules/$KVER/kernel/$EXTRA_PPP_DIR"
      chroot "$STAGE" depmod "$KVER"
      ;;
  esac
  if [ "$VARIANT" = debian-cloud ]; then
    # Booted as an EC2 instance is: firmware, then GRUB from the disk, then the kernel GRUB picks.
    # The image's grub.cfg boots the cloud kernel; update-grub on the gateway replaces it.
    mkdir -p "$STAGE/boot/grub/i386-pc" "$STAGE/etc/default/grub.d"
    cp -a "$STAGE"/usr/lib/grub/i386-pc/. "$STAGE/boot/grub/i386-pc/"
    printf 'GRUB_TIMEOUT=0\nGRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0"\nGRUB_TERMINAL=console\n' > "$STAGE/etc/default/grub.d/50-e2e-serial-console.cfg"
    chroot "$STAGE" grub-editenv /boot/grub/grubenv create
    # Test-bed speed only: under software emulation mkinitramfs with MODULES=most spends over
    # 10 minutes on the generic kernel's initrd (forking modprobe for every driver); with
    # MODULES=dep it takes the drivers of this (virtual) machine's root disk, found by modalias.
    # It changes what is inside the initrd, not which kernel GRUB boots.
    mkdir -p "$STAGE/etc/initramfs-tools/conf.d"
    echo 'MODULES=dep' > "$STAGE/etc/initramfs-tools/conf.d/e2e-modules-dep.conf"
    {
      echo 'set timeout=0'
      echo 'load_env'
      # shellcheck disable=SC2016  # GRUB's variables, written literally into grub.cfg
      echo 'if [ "${next_entry}" ]; then set default="${next_entry}"; set next_entry=; save_env next_entry; else set default=0; fi'
      echo 'insmod part_msdos'
      echo 'insmod ext2'
      echo 'search --no-floppy --label rootfs --set=root'
      echo "menuentry 'Debian GNU/Linux (image as built: cloud kernel)' {"
      echo "  linux /boot/vmlinuz-$CLOUD_KVER root=LABEL=rootfs ro console=ttyS0"
      echo "  initrd /boot/initrd.img-$CLOUD_KVER"
      echo '}'
    } > "$STAGE/boot/grub/grub.cfg"
    chroot "$STAGE" grub-mkimage -O i386-pc -o /boot/grub/e2e-core.img -p '(hd0,msdos1)/boot/grub' \
      biosdisk part_msdos ext2 normal linux search search_label configfile loadenv echo test
    mv "$STAGE/boot/grub/e2e-core.img" "$IMAGE/core.img"
    cp "$STAGE/usr/lib/grub/i386-pc/boot.img" "$IMAGE/boot.img"
    # The disk: an MBR with GRUB's boot.img, core.img in the gap after it, ext4 from 1 MiB.
    mkfs.ext4 -q -L rootfs -E offset=1048576 -d "$STAGE" "$IMAGE/disk.img" 3G
    echo 'start=2048, type=83, bootable' | sfdisk -q "$IMAGE/disk.img" >&2
    dd if="$IMAGE/boot.img" of="$IMAGE/disk.img" bs=440 count=1 conv=notrunc status=none
    [ "$(stat -c %s "$IMAGE/core.img")" -lt $(( 2047 * 512 )) ] || { log "stage C: core.img does not fit before the partition"; exit 1; }
    dd if="$IMAGE/core.img" of="$IMAGE/disk.img" bs=512 seek=1 conv=notrunc status=none
  else
    cp -L "$STAGE"/boot/vmlinuz-* "$IMAGE/vmlinuz"; cp -L "$STAGE"/boot/initrd.img-* "$IMAGE/initrd.img"
    mkfs.ext4 -q -L rootfs -d "$STAGE" "$IMAGE/rootfs.img" 3G
  fi
  rm -rf "$STAGE"
  touch "$IMAGE/.done"
  # keep only the two newest assembled images of each variant (each is a 3 GB sparse file)
  # shellcheck disable=SC2012  # ls -t: newest first; the names are ours (dist, variant and hex key)
  ls -dt "$CACHE/image-$SUITE-$VARIANT"-* | tail -n +3 | xargs -r rm -rf
  # images and repositories named before the dists (image-VARIANT-KEY, repo-KEY)
  find "$CACHE" -maxdepth 1 -regextype egrep -regex '.*/(image-(generic|ubuntu|ubuntu-minimal|debian-cloud)-|repo-)[0-9a-f]+' -exec rm -rf {} +
  log "stage C: done in $(( $(date +%s) - T0 )) s"
else
  log "stage C: reusing $IMAGE"
fi

echo "IMAGE_DIR=$IMAGE"
echo "REPO_DIR=$REPO"
echo "REPO_ISO=$REPO/repo.iso"
