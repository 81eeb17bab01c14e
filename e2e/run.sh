#!/usr/bin/env bash
# VM end-to-end test of the gateway's first boot (and try-out).
#
#   bash e2e/run.sh [--config FILE] [--dist bookworm|trixie] [--image VARIANT] [--profile P]
#                   [--try] [--bake-public-ip]
#                   [--user-data FILE] [--timeout SEC]
#
# Renders the gateway's user-data and SSM parameters with the product's own `npm run render --
# --out-dir`, boots the user-data in a Debian 12 or 13 VM (QEMU/TCG) on an EC2-like test bed
# (private ens5, 1:1 NAT, IMDSv2, SSM Parameter Store seeded with the parameters), and lets real
# L2TP/IPsec clients behind NATs check it. Streams progress from the serial console, prints each
# "CHECK name PASS|FAIL reason", and ends with "N passed, M failed". Exit 0 only if all passed.
#   --dist D          bookworm (default: Debian 12, Ubuntu 24.04's daemons) or trixie (Debian 13,
#                     Ubuntu 26.04's: Libreswan 5.2, ppp 2.5.2, cloud-init 25.1); the ubuntu* images
#                     are bookworm only (e2e/image/build.sh says why)
#   --image VARIANT   the disk the VM boots (e2e/image/build.sh): ubuntu (default: the L2TP modules
#                     only in a linux-modules-extra package, as on Ubuntu's cloud images),
#                     ubuntu-minimal (PPP too), debian-cloud (Debian's cloud kernel, booted by GRUB
#                     from the disk), generic (every module in the kernel package)
#   --profile P       full (default): every check; platforms: the gateway's basics, the real
#                     platforms' clients and two devices behind one NAT; kernel: the image's kernel
#                     checks, one client (what the debian-cloud run needs, in a third of the time);
#                     live: the gateway's basics and users/PSK changed in SSM on the running gateway
#                     (issue 9); live-long: 5,000 users synced and a reboot while SSM is unreachable.
#                     Parts join with "+" (platforms+live, full+live+live-long; kernel stands alone);
#                     each with the reboot checks unless --skip-reboot. The harness announces its
#                     checks (PLAN) and the run fails for any that did not report.
#   --try             one demo client, prints address/user/IP/timings and a verdict (e2e/try.sh)
#   --bake-public-ip  render with --public-ip (the gateway does not need IMDS for its address)
#   --user-data FILE  boot this user-data instead of the rendered one (debugging, mutants.sh); the SSM
#                     parameters are still rendered from --config unless --ssm-params gives them
#   --timeout SEC     bound on the whole run from the first QEMU start (default 2700 s; +600 s with
#                     the live part, +1200 s with live-long)
#   --hold            debugging: the VM stays up after the checks (root shell: e2e/lib/vmsh.py)
#   --guest-reboot    reboot test as a reboot inside the same QEMU (default: power off, then boot
#                     the same disk in a new QEMU; under TCG a warm reboot sometimes spends ~90 s
#                     unpacking the initramfs)
#   --skip-reboot     first boot only: no reboot phase, reboot_* checks not expected (mutants.sh)
#   --stop-after A,B  end the run once checks A and B have run (mutants.sh: nothing after the
#                     checks a mutant must fail matters); later checks are reported as SKIP
#   --ssm-params FILE the SSM parameters AWS holds when the gateway first boots: a JSON array of
#                     {"name","type","value"} the test bed's SSM stand-in is seeded with (in the VM:
#                     /srv/e2e/ssm-parameters.json; `ssm-standin` changes them while the gateway runs).
#                     Default: the ssm-parameters.json of the render (the stack's PSK, users and the
#                     gateway's sync program, what `pulumi up` would create)
#   --pki-state FILE  the stack's IKEv2 CA as the render keeps it (DIR/pki-state.json): the render
#                     starts from it, so that the clients' profiles match --ssm-params' IKEv2
#                     material (mutants.sh); without it the render makes a new CA
# The test clients' PSK and passwords always come from --config (default Pulumi.example.yaml),
# never from the user-data: with --user-data a broken secret in the user-data must fail.
set -euo pipefail
E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$E2E")"
SSM_PARAMS=""; PKI_STATE=""; CONFIG="$ROOT/Pulumi.example.yaml"; DIST=bookworm; VARIANT=ubuntu; PROFILE=full; MODE="test"; BAKE=no; USER_DATA=""; TIMEOUT=""; HOLD=no; REBOOT=cold; SKIP_REBOOT=no
PUBLIC_IP=203.0.113.10
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$(realpath "$2")"; shift 2 ;;
    --image) VARIANT="$2"; shift 2 ;;
    --dist) DIST="$2"; shift 2 ;;
    --profile) PROFILE="$2"; shift 2 ;;
    --try) MODE=try; shift ;;
    --bake-public-ip) BAKE=yes; shift ;;
    --user-data) USER_DATA="$(realpath "$2")"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --hold) HOLD=yes; shift ;;
    --guest-reboot) REBOOT=guest; shift ;;
    --skip-reboot) SKIP_REBOOT=yes; shift ;;
    --stop-after) export E2E_STOP_AFTER="$2"; shift 2 ;;
    --ssm-params) SSM_PARAMS="$(realpath "$2")"; shift 2 ;;
    --pki-state) PKI_STATE="$(realpath "$2")"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# the profile's parts (run.sh --profile platforms+live)
profile_has() { [[ "+$PROFILE+" == *"+$1+"* ]]; }
# Default bound for the whole run: 2700 s (the full profile alone takes ~1050 s of VM time, and a VM
# sharing the 2 cores runs 2-3x slower), more with the live checks (~6 min) and the long ones (~10
# min: 5,000 users, and a second boot that waits out the sync's 5-minute bound on SSM)
if [ -z "$TIMEOUT" ]; then
  TIMEOUT=2700
  profile_has live && TIMEOUT=$((TIMEOUT + 600))
  profile_has live-long && TIMEOUT=$((TIMEOUT + 1200))
fi
T_START=$(date +%s)
el() { echo $(( $(date +%s) - T_START )); }
log() { printf '[e2e +%3ss] %s\n' "$(el)" "$*"; }

# ---- host tools -----------------------------------------------------------------------------
# Host tools (QEMU, image builders) and npm packages, installed the one way the project does it.
bash "$ROOT/scripts/setup.sh" vm
# shellcheck source=e2e/lib/image-os.sh
. "$E2E/lib/image-os.sh"
# shellcheck source=e2e/lib/plan-results.sh
. "$E2E/lib/plan-results.sh"
# shellcheck source=scripts/node-env.sh
. "$ROOT/scripts/node-env.sh"   # Node 24 from .tools/node-24 where setup installed it

WORK="$E2E/.work/run-$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$WORK"; ln -sfn "$WORK" "$E2E/.work/last"
log "work dir $WORK (console log: console.log)"

# ---- user-data and SSM parameters: the product's own render ----------------------------------
# The stack's name (its SSM parameters' path, /vpn-gateway/<stack>) and region, both written to the
# gateway's sync.json: the config file's name without Pulumi. and .yaml, its aws:region or eu-west-1
# (e2e/lib/stack.js; params.js gives the test bed the same region).
read -r STACK REGION < <(node "$E2E/lib/stack.js" "$CONFIG") || true
[ -n "${REGION:-}" ] || { echo "CHECK render FAIL cannot read the stack's name and region from $CONFIG"; echo "0 passed, 1 failed"; exit 1; }
# render for the os whose Libreswan the image carries
OS=$(image_os "$DIST" "$VARIANT")
RENDER_ARGS=(--os "$OS" --stack "$STACK" --region "$REGION")
[ $BAKE = yes ] && RENDER_ARGS+=(--public-ip "$PUBLIC_IP")
# the IKEv2 server certificate names the address the test bed's clients dial (the Elastic IP)
OUT_ARGS=(--server-address "$PUBLIC_IP")
render_failed() { sed 's/^/  render| /' "$WORK/render.log"; echo "CHECK render FAIL $1"; echo "0 passed, 1 failed"; exit 1; }
HAVE_RENDER=no
(cd "$ROOT" && node -e 'process.exit(require("./package.json").scripts?.render ? 0 : 1)') && HAVE_RENDER=yes
# --out-dir: DIR/user-data (the bytes EC2 gets: gzip when the document is over 16 KB) and
# DIR/ssm-parameters.json (PSK, users, the sync program: what pulumi up creates)
# Always rendered (also with --user-data and --ssm-params): the IKEv2 clients' profiles come from it.
if [ $HAVE_RENDER = yes ]; then
  if [ -n "$PKI_STATE" ]; then mkdir -p "$WORK/render" && cp "$PKI_STATE" "$WORK/render/pki-state.json"; fi
  log "rendering: npm run render -- --config $CONFIG ${RENDER_ARGS[*]} ${OUT_ARGS[*]} --out-dir $WORK/render"
  (cd "$ROOT" && npm run --silent render -- --config "$CONFIG" "${RENDER_ARGS[@]}" "${OUT_ARGS[@]}" --out-dir "$WORK/render") > "$WORK/render.log" 2>&1 \
    || render_failed "npm run render failed"
  if [ ! -s "$WORK/render/user-data" ] || [ ! -s "$WORK/render/ssm-parameters.json" ]; then render_failed "no user-data or ssm-parameters.json in $WORK/render"; fi
fi
UD_SOURCE=""
if [ -n "$USER_DATA" ]; then
  cp "$USER_DATA" "$WORK/user-data"; UD_SOURCE="given file $USER_DATA"
elif [ $HAVE_RENDER = yes ]; then
  cp "$WORK/render/user-data" "$WORK/user-data"; UD_SOURCE="npm run render"
else
  log "WARNING: no 'render' script in package.json yet: using the STAND-IN e2e/standin/user-data.yaml"
  cp "$E2E/standin/user-data.yaml" "$WORK/user-data"; UD_SOURCE="STAND-IN (not the product)"
fi
if [ -z "$SSM_PARAMS" ] && [ -s "$WORK/render/ssm-parameters.json" ]; then
  SSM_PARAMS="$WORK/render/ssm-parameters.json"
  [ -n "$USER_DATA" ] && log "SSM parameters rendered from $CONFIG: the given user-data must pin the same sync program (SHA-256)"
fi
log "user-data from $UD_SOURCE: $(stat -c %s "$WORK/user-data") bytes$( [ "$(head -c2 "$WORK/user-data" | od -An -tx1 | tr -d ' ')" = 1f8b ] && echo ' (gzip)')"
[ "$(stat -c %s "$WORK/user-data")" -le 16384 ] || log "WARNING: user-data exceeds EC2's 16 KB limit"

# ---- image and local package repository (cached) ---------------------------------------------
EXTRA=$(node "$E2E/lib/packages.js" "$WORK/user-data")
log "cloud-config packages: ${EXTRA:-none listed}"
IMAGE_DIR=""
eval "$(bash "$E2E/image/build.sh" --dist "$DIST" --variant "$VARIANT" --extra-packages "$EXTRA" 2> >(sed 's/^/  /' >&2) | grep -E '^(IMAGE_DIR|REPO_DIR|REPO_ISO)=')"
if [ -z "$IMAGE_DIR" ] || [ ! -e "$IMAGE_DIR/.done" ]; then
  echo "CHECK image_build FAIL e2e/image/build.sh failed (see above)"; echo "0 passed, 1 failed"; exit 1
fi
# Hard links into the work dir: build.sh prunes old images/repos (another run building a newer
# image must not pull the disk from under this run's second boot). Same filesystem, no copy.
mkdir -p "$WORK/image"
if [ "$VARIANT" = debian-cloud ]; then IMAGE_FILES=("$IMAGE_DIR/disk.img"); else IMAGE_FILES=("$IMAGE_DIR/rootfs.img" "$IMAGE_DIR/vmlinuz" "$IMAGE_DIR/initrd.img"); fi
if ln -f "${IMAGE_FILES[@]}" "$WORK/image/" 2>/dev/null \
   && ln -f "$REPO_ISO" "$WORK/image/repo.iso" 2>/dev/null; then
  IMAGE_DIR="$WORK/image"; REPO_ISO="$WORK/image/repo.iso"
fi

# ---- seed (NoCloud) and harness parameters ---------------------------------------------------
mkdir -p "$WORK/seed" "$WORK/param"
cp "$WORK/user-data" "$WORK/seed/user-data"
IID="i-e2e$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
printf 'instance-id: %s\nlocal-hostname: vpn-gateway\n' "$IID" > "$WORK/seed/meta-data"
genisoimage -quiet -volid cidata -joliet -rock -o "$WORK/seed.iso" "$WORK/seed/user-data" "$WORK/seed/meta-data"
SSM_PATH=""
if [ -n "$SSM_PARAMS" ]; then
  n=$(node "$E2E/lib/ssm-params.js" check "$SSM_PARAMS") || { echo "CHECK ssm_parameters FAIL $SSM_PARAMS is not a JSON array of {name, type, value}"; echo "0 passed, 1 failed"; exit 1; }
  SSM_PATH=$(node "$E2E/lib/ssm-params.js" path "$SSM_PARAMS") || { echo "CHECK ssm_parameters FAIL $SSM_PARAMS has no PATH/psk parameter"; echo "0 passed, 1 failed"; exit 1; }
  cp "$SSM_PARAMS" "$WORK/param/ssm-parameters.json"
  log "SSM stand-in seeded from $SSM_PARAMS ($n parameters under $SSM_PATH)"
else
  log "WARNING: no SSM parameters: the gateway's sync finds nothing to install"
fi
# IKEv2 (issue 10): each certificate's profiles as the render wrote them. The test bed adds two
# IKEv2-only users of its own, BED_DEVICES (devices laptop and phone: a certificate each) and
# BED_SOLO (one certificate), rendered into a copy of the first render's CA state: what pulumi up
# does after users are added. That changes no byte the gateway gets (an IKEv2 certificate is
# checked against the CA and has no L2TP login), which is checked here; it gives the two-devices
# and revocation checks what they need whatever the config holds, and a user when the config has
# no IKEv2 user. The parameters after BED_DEVICES is revoked come from a third render. The
# foreign-CA and expired certificates are made by e2e/lib/ikev2-extra.ts.
BED_DEVICES=e2e-devices; BED_SOLO=e2e-solo
if [ -d "$WORK/render/clients" ]; then
  CLIENT_NAMES=$(find "$WORK/render/clients" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort)
  mkdir -p "$WORK/render-bed" "$WORK/render-revoked" && cp "$WORK/render/pki-state.json" "$WORK/render-bed/"
  { node "$E2E/lib/bed-config.js" "$CONFIG" "$WORK/bed-1.yaml" add-devices "$BED_DEVICES" \
      && node "$E2E/lib/bed-config.js" "$WORK/bed-1.yaml" "$WORK/bed.yaml" add-solo "$BED_SOLO" \
      && (cd "$ROOT" && npm run --silent render -- --config "$WORK/bed.yaml" "${RENDER_ARGS[@]}" "${OUT_ARGS[@]}" --out-dir "$WORK/render-bed"); } > "$WORK/render-bed.log" 2>&1 \
    || { cat "$WORK/render-bed.log" >> "$WORK/render.log"; render_failed "rendering the config with the test bed's IKEv2 users failed"; }
  for f in user-data ssm-parameters.json; do
    cmp -s "$WORK/render/$f" "$WORK/render-bed/$f" || render_failed "the test bed's IKEv2-only users changed the gateway's $f (they must not: the gateway would not be the config's)"
  done
  cp -r "$WORK/render-bed/clients" "$WORK/param/clients"
  echo "$BED_DEVICES $BED_SOLO" > "$WORK/param/ikev2-bed-users"
  cp "$WORK/render-bed/pki-state.json" "$WORK/render-revoked/"
  if node "$E2E/lib/bed-config.js" "$WORK/bed.yaml" "$WORK/revoked.yaml" revoke "$BED_DEVICES" > "$WORK/render-revoked.log" 2>&1 \
     && (cd "$ROOT" && npm run --silent render -- --config "$WORK/revoked.yaml" "${RENDER_ARGS[@]}" "${OUT_ARGS[@]}" --out-dir "$WORK/render-revoked") >> "$WORK/render-revoked.log" 2>&1; then
    cp "$WORK/render-revoked/ssm-parameters.json" "$WORK/param/ssm-ikev2-revoked.json"
    log "IKEv2: profiles for the config's $(grep -c . <<< "$CLIENT_NAMES") certificates and the test bed's $BED_DEVICES.laptop, $BED_DEVICES.phone, $BED_SOLO; the parameters with $BED_DEVICES revoked for ikev2_revoked_refused_session_ended"
  else
    log "WARNING: rendering the stack with $BED_DEVICES revoked failed: $(tail -n 3 "$WORK/render-revoked.log" | tr '\n' ' ')"
  fi
  # the foreign-CA certificate bears the name of the user the platform checks use
  N1=$(sed -n 1p <<< "$CLIENT_NAMES"); N1=${N1:-$BED_SOLO}
  (cd "$ROOT" && npx --no-install ts-node --transpile-only e2e/lib/ikev2-extra.ts "$WORK/render-bed" "$WORK/param/ikev2-extra" "$N1") > "$WORK/ikev2-extra.log" 2>&1 \
    || log "WARNING: the foreign-CA and expired certificates could not be made: $(tail -n 3 "$WORK/ikev2-extra.log" | tr '\n' ' ')"
fi
E2E_SSM_PATH=$SSM_PATH E2E_PROFILE=$PROFILE node "$E2E/lib/params.js" "$CONFIG" "$WORK/param/params.json" "$MODE" "$PUBLIC_IP" "$HOLD" "$REBOOT" "$SKIP_REBOOT"
log "test clients' PSK and passwords from $CONFIG (not from the user-data, not from the SSM parameters)"
# live-long: 5,000 users in the product's own layout, rendered from a copy of the config with
# 4,998 generated users added (same stack, region, PSK): the harness swaps them in for the users
# parameters and back (ssm_5000_users_synced)
if profile_has live-long && [ $HAVE_RENDER = yes ] && [ -n "$SSM_PATH" ]; then
  if node "$E2E/lib/many-users.js" "$CONFIG" 5000 "$WORK/users-5000.yaml" > "$WORK/render-5000.log" 2>&1 \
     && (cd "$ROOT" && npm run --silent render -- --config "$WORK/users-5000.yaml" "${RENDER_ARGS[@]}" --out-dir "$WORK/render-5000") >> "$WORK/render-5000.log" 2>&1; then
    np="?"; nu="?"; read -r np nu < <(node "$E2E/lib/ssm-params.js" users "$WORK/render-5000/ssm-parameters.json" "$WORK/param/ssm-users-5000.json") || true
    log "5,000-user set for the live checks: $nu users in $np parameters under $SSM_PATH/users/ ($(stat -c %s "$WORK/param/ssm-users-5000.json") bytes)"
    # the user-data holds no user: the same bytes whoever the users are
    cmp -s "$WORK/render/user-data" "$WORK/render-5000/user-data" || log "WARNING: the 5,000-user stack's user-data differs from the stack's own"
  else
    log "WARNING: rendering the 5,000-user stack failed (ssm_5000_users_synced will fail): $(tail -n 3 "$WORK/render-5000.log" | tr '\n' ' ')"
  fi
fi
# The product's deploy-time health probe (cli/probe.ts), compiled with the project's tsc; the VM
# runs it with Debian's nodejs from the "internet" side against the public address.
if (cd "$ROOT" && npx --no-install tsc --outDir "$WORK/param/probe" --module commonjs --target es2020 --types node \
      components/health/ikeProbe.ts components/config/ipv4.ts cli/probe.ts) > "$WORK/probe-tsc.log" 2>&1; then
  log "health probe compiled: $(cd "$WORK/param/probe" && find . -name '*.js' | sort | tr '\n' ' ')"
else
  log "WARNING: compiling the health probe failed (health_probe_* checks will fail): $(head -c 300 "$WORK/probe-tsc.log")"
  rm -rf "$WORK/param/probe"
fi
genisoimage -quiet -volid E2EPARAM -joliet -rock -o "$WORK/param.iso" "$WORK/param"

# ---- boot ----------------------------------------------------------------------------------
# TCG, not KVM (KVM guests hang on this machine kind). The image stays pristine: the VM writes to
# a per-run qcow2 overlay (cold reboot: the same disk is booted again by a second QEMU) or, with
# --guest-reboot, to QEMU's snapshot=on overlay that a reboot inside the same QEMU keeps.
# debian-cloud boots as an EC2 instance does, through the firmware and GRUB on its own disk (the
# gateway's kernel switch depends on what GRUB boots); the others boot their kernel directly.
if [ "$VARIANT" = debian-cloud ]; then DISK="$IMAGE_DIR/disk.img"; BOOT_ARGS=()
else DISK="$IMAGE_DIR/rootfs.img"; BOOT_ARGS=(-kernel "$IMAGE_DIR/vmlinuz" -initrd "$IMAGE_DIR/initrd.img" -append "root=/dev/vda rw console=ttyS0"); fi
if [ $REBOOT = cold ]; then
  qemu-img create -q -f qcow2 -F raw -b "$DISK" "$WORK/disk.qcow2"
  ROOT_DRIVE="file=$WORK/disk.qcow2,format=qcow2,if=virtio"
else
  ROOT_DRIVE="file=$DISK,format=raw,if=virtio,snapshot=on"
fi
# 1 GiB for the instance (a t3.micro) + 256 MiB for the test bed's SSM stand-in (moto: ~155 MB
# resident, most of it EC2 data moto's SSM module loads at import), which lives outside the
# instance on AWS.
VM_MEM=$(( 1024 + 256 ))
start_qemu() {  # start_qemu N: boot N, console in console-N.log
  CONSOLE="$WORK/console-$1.log"; : > "$CONSOLE"
  qemu-system-x86_64 -accel tcg,thread=multi -machine q35 -smp 2 -m "$VM_MEM" \
    -display none -vga none -monitor none -serial "file:$CONSOLE" \
    -serial "unix:$WORK/shell.sock,server=on,wait=off" -nic none \
    "${BOOT_ARGS[@]}" \
    -drive "$ROOT_DRIVE" \
    -drive "file=$WORK/seed.iso,format=raw,if=virtio,readonly=on" \
    -drive "file=$REPO_ISO,format=raw,if=virtio,readonly=on" \
    -drive "file=$WORK/param.iso,format=raw,if=virtio,readonly=on" \
    >> "$WORK/qemu.log" 2>&1 &
  QPID=$!
  ln -sfn "console-$1.log" "$WORK/console.log"
  log "QEMU started (boot $1, $DIST $VARIANT image, pid $QPID, instance-id $IID, timeout ${TIMEOUT}s for the whole run)"
}
trap 'kill $QPID 2>/dev/null || true' EXIT

# ---- follow the serial console -----------------------------------------------------------------
# Milestones and harness lines are printed as they come; otherwise a heartbeat every 20 s.
T_BOOT=$(date +%s)
timed_out=no; boots=0; qemu_boot=1
# A kernel panic stops QEMU at once (a panicked guest would otherwise sit until the timeout) and
# prints the console's trace. Under TCG the kernel has panicked, rarely, in its first seconds
# (seen once in CI: "Fatal exception in interrupt" at 6 s of the first boot, Debian 13's kernel);
# a panic on the first boot BEFORE cloud-init started, when nothing of the image's setup or of the
# product has run, boots a fresh overlay once more and says so in the results. Any other panic,
# or a second one, fails the run.
panicked=no; panic_retried=no
start_qemu 1
pos=0; last_print=$(date +%s)
while :; do
  if [ -s "$CONSOLE" ]; then
    while IFS= read -r line; do
      line=${line//$'\r'/}
      # journal+console lines arrive as "[  12.3] harness.sh[42]: TEXT": keep TEXT
      [[ "$line" =~ ^\[\ *[0-9.]+\]\ (harness|testbed)\.sh\[[0-9]+\]:\ (.*)$ ]] && line=${BASH_REMATCH[2]}
      msg=""
      case "$line" in
        *"Linux version "*) boots=$((boots+1)); k=${line#*Linux version }; msg="kernel ${k%% *} up (boot $boots)"; echo "TIMING kernel_boot_$boots=$(( $(date +%s) - T_BOOT ))s kernel=${k%% *}" >> "$WORK/timings.txt" ;;
        *"Welcome to "*) msg="systemd up" ;;
        *"running 'init-local'"*) msg="cloud-init: init-local stage" ;;
        *"running 'init'"*) msg="cloud-init: init (network) stage" ;;
        *"running 'modules:config'"*) msg="cloud-init: config stage" ;;
        *"running 'modules:final'"*) msg="cloud-init: final stage (packages, runcmd)" ;;
        *"Cloud-init v."*"finished"*) msg="cloud-init: ${line#*Cloud-init v. }" ;;
        *"Setting up "*) p=${line#*Setting up }; p=${p%%[: ]*}
                         [[ " $EXTRA " == *" $p "* ]] && msg="apt: installed ${line#*Setting up }" ;;
        *FAILED*|*"Failed to start"*|*Traceback*) msg="console: $line" ;;
        *"vpn-gateway-kernel: "*) msg="gateway: vpn-gateway-kernel: ${line#*vpn-gateway-kernel: }" ;;
        E2E*|CHECK\ *|INFO\ *|TIMING\ *|TRY\ *|PHASE1\ *|PLAN\ *|"  | "*) msg="$line" ;;
        *"reboot: Restarting"*) msg="guest rebooting" ;;
        *"reboot: Power down"*) msg="guest powered off" ;;
        *"Kernel panic - not syncing"*) panicked=yes; msg="console: $line" ;;
      esac
      if [ -n "$msg" ]; then log "$msg"; last_print=$(date +%s); fi
    done < <(tail -c +$((pos + 1)) "$CONSOLE")
    pos=$(stat -c %s "$CONSOLE")
  fi
  if [ $panicked = yes ]; then
    sleep 2   # the rest of the trace
    kill $QPID 2>/dev/null || true; wait $QPID 2>/dev/null || true
    log "the guest kernel panicked (QEMU boot $qemu_boot); the console's last lines:"
    tr -d '\r' < "$CONSOLE" | tail -n 60 | sed 's/^/    | /'
    if [ $qemu_boot = 1 ] && [ $panic_retried = no ] && ! grep -aq "running 'init-local'" "$CONSOLE"; then
      mv "$CONSOLE" "$WORK/panic-1.log"; panic_retried=yes; panicked=no
      echo "NOTE the kernel panicked on the first boot before cloud-init started (console in panic-1.log); booted once more from a fresh disk" >> "$WORK/timings.txt"
      log "the panic came before cloud-init started: booting once more from a fresh disk"
      [ $REBOOT = cold ] && { rm -f "$WORK/disk.qcow2"; qemu-img create -q -f qcow2 -F raw -b "$DISK" "$WORK/disk.qcow2"; }
      T_BOOT=$(date +%s); boots=0; start_qemu 1; pos=0; last_print=$(date +%s); continue
    fi
    echo "NOTE the kernel panicked (QEMU boot $qemu_boot): see the console's trace above" >> "$WORK/timings.txt"
    break
  fi
  if ! kill -0 $QPID 2>/dev/null; then
    wait $QPID 2>/dev/null || true
    # cold reboot: phase 1 powered off; boot the same disk again in a new QEMU
    if [ $REBOOT = cold ] && [ $MODE = test ] && [ $SKIP_REBOOT = no ] && [ $qemu_boot = 1 ] && grep -aq 'PHASE1 failed=' "$CONSOLE"; then
      qemu_boot=2; start_qemu 2; pos=0; continue
    fi
    break
  fi
  now=$(date +%s)
  if [ $((now - T_BOOT)) -ge "$TIMEOUT" ]; then timed_out=yes; log "TIMEOUT after ${TIMEOUT}s: stopping QEMU"; kill $QPID; break; fi
  if [ $((now - last_print)) -ge 20 ]; then
    lastline=$(tail -c 2000 "$CONSOLE" | tr -d '\r' | grep -v '^\s*$' | tail -n 1 | cut -c1-100)
    log "... still running (VM up $((now - T_BOOT))s; console: ${lastline})"; last_print=$now
  fi
  sleep 1
done
wait $QPID 2>/dev/null || true
trap - EXIT
VM_SECS=$(( $(date +%s) - T_BOOT ))
rm -f "$WORK/disk.qcow2"   # the overlay holds the installed gateway (~0.3 GB); logs stay
rm -rf "$WORK/image"       # the hard links (the cache keeps the originals while they are current)

# ---- results ---------------------------------------------------------------------------------
cat "$WORK"/console-*.log | tr -d '\r' | sed -E 's/^\[ *[0-9.]+\] (harness|testbed)\.sh\[[0-9]+\]: //' > "$WORK/console.txt"
if [ $MODE = try ]; then
  tryline=$(grep -a '^TRY public_ip' "$WORK/console.txt" | tail -n 1 || true)
  echo
  echo "Try-out (user-data from $UD_SOURCE, config $CONFIG)"
  for kv in $tryline; do [ "$kv" = TRY ] || echo "  ${kv%%=*}: ${kv#*=}"; done
  echo "  whole VM run: ${VM_SECS}s"
  grep -a '^TRY error:' "$WORK/console.txt" | sed 's/^TRY /  /' || true
  if grep -aq '^TRY verdict=PASS' "$WORK/console.txt"; then echo "Verdict: PASS - a client connected through the gateway"; exit 0; fi
  echo "Verdict: FAIL$( [ $timed_out = yes ] && echo ' (timeout)') - see $WORK/console.txt"; exit 1
fi

echo
sed 's/^/  /' "$WORK/timings.txt" 2>/dev/null
echo "Results ($DIST $VARIANT image, $PROFILE profile, user-data from $UD_SOURCE; VM ran ${VM_SECS}s$( [ $SKIP_REBOOT = yes ] && echo '; first boot only, --skip-reboot'))"
case "$UD_SOURCE" in STAND-IN*) echo "NOTE: the product was NOT tested: the stand-in user-data was used";; esac
[ $timed_out = yes ] && echo "(the run hit its ${TIMEOUT}s timeout)"
plan_results "$WORK/console.txt" "$timed_out"
