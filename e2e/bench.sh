#!/usr/bin/env bash
# Benchmark of the gateway in the local VM, and of its sync on the host (= npm run bench). Prints
# figures; asserts nothing.
#
#   bash e2e/bench.sh [--clients N] [--parallel P] [--mem MB] [--client-budget SEC] [--from-scratch] [--skip-bare]
#                     [--dist bookworm|trixie] [--image VARIANT] [--changes K] [--skip-sync] [--sync-only]
#                     [--sync-args "ARGS"] [--timeout SEC]
#   --client-budget SEC  stop launching clients SEC seconds into the client phase (those launched
#                        finish); the figures then say how many were attempted (default: no limit)
#   --dist D             the VM's Debian: bookworm (default) or trixie (e2e/image/build.sh --dist)
#   --image VARIANT      the image variant (e2e/image/build.sh --variant): ubuntu (default on
#                        bookworm), ubuntu-minimal, generic (default on trixie, where the ubuntu*
#                        layouts do not exist); not debian-cloud (it boots through GRUB and the
#                        gateway's first boot reboots it into another kernel)
#   --changes K          how many user changes step 6 times from SSM to the gateway (default 5); 0
#                        leaves step 6 out, its PSK change too
#   --skip-sync          no step 1 (the sync on the host)
#   --sync-only          step 1 only: no image, no VM (needs /usr/bin/python3 with boto3 only)
#   --sync-args "ARGS"   arguments for e2e/lib/sync-bench.py (default none: 3 runs each of 100, 1000
#                        and 5000 users; e.g. "--repeat 1 100 1000")
#   --timeout SEC        each VM's whole run, from QEMU's start (default 3600)
#
#  1. the sync on the host (e2e/lib/sync-bench.py; no VM; first, so that no build or VM competes):
#     the gateway's agent (agent/vpn_gateway_agent, the package the zipapp holds) with a real boto3 SSM
#     client under botocore's Stubber, for 100, 1,000 and 5,000 users: start (interpreter + boto3),
#     first apply, a poll with nothing changed, a poll with one change (wall and CPU seconds), peak
#     RSS. Host figures with stubbed SSM: no network round trips (about 10-30 ms each from EC2 to
#     SSM); the calls a first apply makes are counted (list/decrypt) so that they can be added.
#     Needs python3-boto3 (bash scripts/setup.sh test installs it).
#  2. image build: the time the cached stages (e2e/image/build.sh) actually took in this run;
#     with --from-scratch also a complete build into a separate, empty cache dir (deleted after).
#  3. bare boot: the same image and VM size with a trivial cloud-config ("#cloud-config\n{}"),
#     measured to cloud-init's final stage done (cloud-init's own "Up N seconds").
#  4. gateway boot: a bench stack (N users, pool 10.77.0.0/24) rendered with the product's
#     `npm run render -- --out-dir` (the user-data, and the SSM parameters the test bed's SSM
#     stand-in is seeded with: the users, the PSK and the sync program), measured to gateway ready (pluto on 500/4500, xl2tpd on 1701, as the
#     harness defines it) — reported as uptime and as a ratio to the bare boot.
#  5. clients in that VM (e2e/image/overlay/usr/local/lib/e2e/bench.sh): client 1 alone, then
#     clients 2..N with at most P connecting at once; each a real IKEv1/IPsec + L2TP + PPP session
#     from its own namespace and address; all kept up; IKE set-up (swanctl --initiate until the
#     CHILD_SA is up) and PPP set-up (xl2tpd/pppd until the PPP address) per client; how many are
#     up at the end and answer a ping through the tunnel; failures with reasons. Client k offers
#     what a real platform offers, in turn (windows apple networkmanager e2e: client.sh's
#     CLIENT_PLATFORM), and the IKE and PPP set-up times are also given per platform.
#  6. change to applied, in that VM after the clients (gateway running, clients still up): K changes
#     of the stack's users written into the test bed's SSM stand-in through its admin side (a user
#     added, its password changed, removed, in turn; each after a random 1-30 s pause), each timed
#     from the write's return to the change in /etc/ppp/chap-secrets and to the sync's `applied:`
#     journal line, bounded by 120 s (a timeout is printed as one); min/median/max. The sync polls
#     every 30 s (vpn-gateway-sync.timer), so expect uniform 0-30 s plus the poll's own run (when
#     that run started is printed too). Then one PSK change (ipsec.secrets, `applied:`, pluto's
#     re-read) and the PSK put back, timed the same way; PPP links before and after.
# Defaults: 100 clients, 4 at a time (10 at a time caused IKE/L2TP retransmission storms under TCG), 4096 MB VM RAM, 2 vCPUs (TCG),
# 5 changes. Files: e2e/.work/bench-*/.
set -euo pipefail
E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$E2E")"
CLIENTS=100; PARALLEL=4; MEM=4096; SCRATCH=no; BARE=yes; TIMEOUT=3600; BUDGET=0; DIST=bookworm; VARIANT=""
CHANGES=5; CHANGE_BOUND=120; SYNC=yes; SYNC_ARGS=""
PUBLIC_IP=203.0.113.10; POOL=10.77.0.0/24; GWPPP=10.77.0.1
# stack "bench" (/vpn-gateway/bench), region eu-west-1: the test bed's default without params.json
STACK=bench; REGION=eu-west-1
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) CLIENTS="$2"; shift 2 ;;
    --parallel) PARALLEL="$2"; shift 2 ;;
    --mem) MEM="$2"; shift 2 ;;
    --client-budget) BUDGET="$2"; shift 2 ;;
    --from-scratch) SCRATCH=yes; shift ;;
    --skip-bare) BARE=no; shift ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --dist) DIST="$2"; shift 2 ;;
    --image) VARIANT="$2"; shift 2 ;;
    --changes) CHANGES="$2"; shift 2 ;;
    --skip-sync) SYNC=no; shift ;;
    --sync-only) SYNC=only; shift ;;
    --sync-args) SYNC_ARGS="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
{ [ "$CLIENTS" -ge 1 ] && [ "$CLIENTS" -le 250 ]; } || { echo "bench.sh: --clients 1..250" >&2; exit 2; }
{ [[ "$CHANGES" =~ ^[0-9]+$ ]] && [ "$CHANGES" -le 100 ]; } || { echo "bench.sh: --changes 0..100" >&2; exit 2; }
case "$DIST" in bookworm|trixie) ;; *) echo "bench.sh: --dist bookworm or trixie" >&2; exit 2 ;; esac
# (the ubuntu* layouts need a kernel release in Ubuntu's form, which only bookworm's has: build.sh)
[ -n "$VARIANT" ] || case "$DIST" in bookworm) VARIANT=ubuntu ;; *) VARIANT=generic ;; esac
# The VM is booted with the image's kernel and initrd given to QEMU (rootfs.img, vmlinuz, initrd.img).
[ "$VARIANT" != debian-cloud ] || { echo "bench.sh: --image debian-cloud is not supported (it boots through GRUB from its disk, and the gateway's first boot reboots it into another kernel)" >&2; exit 2; }
# The sync's benchmark runs the distribution's python3 and python3-boto3, as the gateway does: said
# now, not after an hour of VM.
if [ $SYNC != no ] && ! /usr/bin/python3 -c 'import boto3, botocore.stub' 2>/dev/null; then
  echo "bench.sh: the sync's benchmark (e2e/lib/sync-bench.py) needs /usr/bin/python3 with boto3: bash scripts/setup.sh test installs it (Debian: apt-get install python3-boto3); --skip-sync leaves it out" >&2
  exit 2
fi
T_START=$(date +%s)
log() { printf '[bench +%4ss] %s\n' "$(( $(date +%s) - T_START ))" "$*"; }
WORK="$E2E/.work/bench-$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$WORK"
declare -A FIG   # the figures printed at the end

# ---- the sync on the host (e2e/lib/sync-bench.py): no VM, stubbed SSM ------------------------
sync_bench() {  # -> $WORK/sync-bench.txt (its table), $WORK/sync-bench.log (stderr); FIG[sync]
  local args t0 rc=0
  read -r -a args <<< "$SYNC_ARGS"
  log "the sync on the host: /usr/bin/python3 -B e2e/lib/sync-bench.py ${SYNC_ARGS:-(3 runs each of 100, 1000, 5000 users)}"
  t0=$(date +%s)
  /usr/bin/python3 -B "$E2E/lib/sync-bench.py" "${args[@]}" > "$WORK/sync-bench.txt" 2> "$WORK/sync-bench.log" || rc=$?
  if [ $rc = 0 ]; then FIG[sync]="took $(( $(date +%s) - t0 ))s"
  else FIG[sync]="FAILED (exit $rc), see $WORK/sync-bench.log"; fi
  log "the sync on the host: ${FIG[sync]}"
}
# sync_figures: the sync's block of the figures (its table as sync-bench.py printed it)
sync_figures() {
  if [ $SYNC = no ]; then echo "sync (host):       not measured (--skip-sync)"; return; fi
  echo "sync (host):       HOST measurement, stubbed SSM (botocore Stubber: no network round trips; add ~10-30 ms per"
  echo "                   call from EC2 to SSM; a first apply's calls in 'calls list/decrypt'); e2e/lib/sync-bench.py${SYNC_ARGS:+ $SYNC_ARGS} ${FIG[sync]}:"
  sed 's/^/    /' "$WORK/sync-bench.txt" 2>/dev/null
  if [[ "${FIG[sync]}" == FAILED* ]]; then tail -n 5 "$WORK/sync-bench.log" | sed 's/^/    | /'; fi
}
if [ $SYNC = only ]; then
  sync_bench
  { echo; echo "==================== Benchmark figures ($(date '+%Y-%m-%d %H:%M'), $(nproc) host cores; --sync-only: no VM) ===================="; sync_figures; } | tee "$WORK/figures.txt"
  exit 0
fi

# Host tools (QEMU, image builders) and npm packages, installed the one way the project does it.
bash "$ROOT/scripts/setup.sh" vm
# shellcheck source=e2e/lib/image-os.sh
. "$E2E/lib/image-os.sh"
. "$ROOT/scripts/node-env.sh"   # Node 24 from .tools/node-24 where setup installed it
log "work dir $WORK; $CLIENTS clients, $PARALLEL connecting at once$( [ "$BUDGET" -gt 0 ] && echo ", client budget ${BUDGET}s"), $CHANGES parameter changes, VM 2 vCPU TCG ${MEM} MB, $DIST $VARIANT image"
[ $SYNC = no ] || sync_bench

# ---- bench stack config and the product's render ---------------------------------------------
PSK="bench-psk-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
{
  echo "# generated by e2e/bench.sh"
  echo "config:"
  echo "  vpn-gateway:psk: $PSK"
  echo "  vpn-gateway:users:"
  for i in $(seq 1 "$CLIENTS"); do printf '    - name: user%03d\n      password: bench-Pass-%03d-x7\n' "$i" "$i"; done
  echo "  vpn-gateway:clientPool: $POOL"
  echo "  vpn-gateway:dnsServers:"
  echo "    - 8.8.8.8"
} > "$WORK/Pulumi.bench.yaml"
log "rendering: npm run render -- --config $WORK/Pulumi.bench.yaml --out-dir $WORK/render (${CLIENTS} users, pool $POOL)"
t0=$(date +%s.%N)
(cd "$ROOT" && npm run --silent render -- --config "$WORK/Pulumi.bench.yaml" --stack "$STACK" --region "$REGION" --out-dir "$WORK/render" --os "$(image_os "$DIST" "$VARIANT")") > "$WORK/render.log" 2>&1 \
  || { sed 's/^/  render| /' "$WORK/render.log"; echo "bench: render failed" >&2; exit 1; }
cp "$WORK/render/user-data" "$WORK/user-data"
FIG[render]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
UDSIZE=$(stat -c %s "$WORK/user-data")
GZ=""; [ "$(head -c2 "$WORK/user-data" | od -An -tx1 | tr -d ' ')" = 1f8b ] && GZ=" gzip"
FIG[userdata]="${UDSIZE} bytes${GZ} (${CLIENTS} users in $(node "$E2E/lib/ssm-params.js" check "$WORK/render/ssm-parameters.json") SSM parameters)"
log "user-data: ${FIG[userdata]}, render took ${FIG[render]}s"

# ---- image build --------------------------------------------------------------------------------
EXTRA=$(node "$E2E/lib/packages.js" "$WORK/user-data")
build() {  # build LABEL CACHE_DIR -> sets IMAGE_DIR REPO_ISO; FIG[LABEL_*]
  local label=$1 cache=$2 rc t0
  t0=$(date +%s)
  set +e
  # (2> before >: the process substitution must get the terminal as its stdout, not the file)
  VPN_E2E_CACHE="$cache" bash "$E2E/image/build.sh" --dist "$DIST" --variant "$VARIANT" --extra-packages "$EXTRA" \
    2> >(tee "$WORK/build-$label.log" | grep --line-buffered -E '^\[image' | sed -u 's/^/  /') > "$WORK/build-$label.out"
  rc=$?; set -e
  sleep 0.2
  [ $rc = 0 ] || { echo "bench: image build ($label) failed, see $WORK/build-$label.log; its last lines:" >&2; tail -n 5 "$WORK/build-$label.log" | sed 's/^/  /' >&2; exit 1; }
  FIG[${label}_total]=$(( $(date +%s) - t0 ))
  local st
  for st in A B C; do
    if grep -q "stage $st: reusing" "$WORK/build-$label.log"; then FIG[${label}_$st]="cached"
    else FIG[${label}_$st]="$(sed -nE "s/.*stage $st: .*done in ([0-9]+) s.*/\1/p" "$WORK/build-$label.log" | tail -n 1)s"; fi
  done
  eval "$(grep -E '^(IMAGE_DIR|REPO_ISO)=' "$WORK/build-$label.out")"
}
if [ $SCRATCH = yes ]; then
  log "from-scratch image build into an empty cache dir $WORK/scratch-cache (debootstrap + apt from the network)"
  build scratch "$WORK/scratch-cache"
  log "from-scratch build: ${FIG[scratch_total]}s (A ${FIG[scratch_A]}, B ${FIG[scratch_B]}, C ${FIG[scratch_C]})"
  rm -rf "$WORK/scratch-cache"
fi
log "image build with the normal cache (${VPN_E2E_CACHE:-$HOME/.cache/vpn-gateway-e2e})"
build cached "${VPN_E2E_CACHE:-$HOME/.cache/vpn-gateway-e2e}"
log "cached build: ${FIG[cached_total]}s (A ${FIG[cached_A]}, B ${FIG[cached_B]}, C ${FIG[cached_C]})"
# Hard links: the cache keeps only its two newest images, and other runs may build new ones.
mkdir -p "$WORK/img"
for f in rootfs.img vmlinuz initrd.img; do ln -f "$IMAGE_DIR/$f" "$WORK/img/$f"; done
ln -f "$REPO_ISO" "$WORK/img/repo.iso"

# ---- one VM boot ----------------------------------------------------------------------------------
# boot_vm NAME USER_DATA BENCH_JSON [SSM_PARAMETERS]: boots, streams progress, waits for power-off;
# console in $WORK/NAME/console.log, the BENCHRES lines in $WORK/NAME/results.txt. SSM_PARAMETERS
# seeds the test bed's SSM stand-in (/srv/e2e/ssm-parameters.json, as run.sh --ssm-params).
boot_vm() {
  local name=$1 ud=$2 bj=$3 ssm=${4:-} d="$WORK/$1" qpid pos=0 size carry="" last t_boot now line msg
  mkdir -p "$d/seed" "$d/param"
  cp "$ud" "$d/seed/user-data"
  printf 'instance-id: i-bench%s\nlocal-hostname: vpn-gateway\n' "$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')" > "$d/seed/meta-data"
  genisoimage -quiet -volid cidata -joliet -rock -o "$d/seed.iso" "$d/seed/user-data" "$d/seed/meta-data"
  cp "$bj" "$d/param/bench.json"
  [ -z "$ssm" ] || cp "$ssm" "$d/param/ssm-parameters.json"
  genisoimage -quiet -volid E2EPARAM -joliet -rock -o "$d/param.iso" "$d/param"
  qemu-img create -q -f qcow2 -F raw -b "$WORK/img/rootfs.img" "$d/disk.qcow2"
  : > "$d/console.log"
  qemu-system-x86_64 -accel tcg,thread=multi -machine q35 -smp 2 -m "$MEM" \
    -display none -vga none -monitor none -serial "file:$d/console.log" \
    -serial "unix:$d/shell.sock,server=on,wait=off" -nic none \
    -kernel "$WORK/img/vmlinuz" -initrd "$WORK/img/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0" \
    -drive "file=$d/disk.qcow2,format=qcow2,if=virtio" \
    -drive "file=$d/seed.iso,format=raw,if=virtio,readonly=on" \
    -drive "file=$WORK/img/repo.iso,format=raw,if=virtio,readonly=on" \
    -drive "file=$d/param.iso,format=raw,if=virtio,readonly=on" \
    > "$d/qemu.log" 2>&1 &
  qpid=$!
  # shellcheck disable=SC2064  # expanded now: qpid is local to this function, the trap outlives it
  trap "kill $qpid 2>/dev/null || true" EXIT
  t_boot=$(date +%s); last=$t_boot
  log "$name: QEMU started (pid $qpid)"
  while :; do
    size=$(stat -c %s "$d/console.log")
    if [ "$size" -gt "$pos" ]; then
      # (a line still being written is carried over to the next read, not split in two)
      while IFS= read -r line; do
        line="$carry$line"; carry=""
        line=${line//$'\r'/}
        [[ "$line" =~ ^\[\ *[0-9.]+\]\ [A-Za-z0-9_.@-]+\[[0-9]+\]:\ (.*)$ ]] && line=${BASH_REMATCH[1]}
        msg=""
        case "$line" in
          *"Linux version"*) msg="kernel up" ;;
          *"running 'modules:final'"*) msg="cloud-init: final stage" ;;
          *"Cloud-init v."*"finished"*) msg="cloud-init: ${line#*Cloud-init v. }" ;;
          *"Setting up "*) p=${line#*Setting up }; p=${p%%[: ]*}; [[ " $EXTRA " == *" $p "* ]] && msg="apt: ${line#*Setting up }" ;;
          BENCH:*|BENCHRES*|BENCHFAIL*) msg="$line" ;;
          *"reboot: Power down"*) msg="guest powered off" ;;
        esac
        if [ -n "$msg" ]; then log "$name: $msg"; last=$(date +%s); fi
      done < <(head -c "$size" "$d/console.log" | tail -c +$((pos + 1)))
      carry="$carry$line"; pos=$size
    fi
    kill -0 $qpid 2>/dev/null || break
    now=$(date +%s)
    if [ $((now - t_boot)) -ge "$TIMEOUT" ]; then log "$name: TIMEOUT after ${TIMEOUT}s, stopping QEMU"; kill $qpid; break; fi
    if [ $((now - last)) -ge 20 ]; then
      log "$name: ... VM up $((now - t_boot))s; console: $(tail -c 2000 "$d/console.log" | tr -d '\r' | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | grep -v '^\s*$' | tail -n 1 | cut -c1-100)"
      last=$now
    fi
    sleep 1
  done
  wait $qpid 2>/dev/null || true
  trap - EXIT
  FIG[${name}_vm_secs]=$(( $(date +%s) - t_boot ))
  rm -f "$d/disk.qcow2"
  tr -d '\r' < "$d/console.log" | sed -E 's/^\[ *[0-9.]+\] [A-Za-z0-9_.@-]+\[[0-9]+\]: //' | grep -aE '^(BENCHRES|BENCHFAIL) ' > "$d/results.txt" || true
}
# (|| true: with pipefail a VM without results, e.g. no bare boot with --skip-bare, would end the bench)
r() {  # r VM KEY: value of KEY= in the VM's BENCHRES lines (last one wins)
  grep -ao "[ ]$2=[^ ]*" "$WORK/$1/results.txt" 2>/dev/null | tail -n 1 | cut -d= -f2- || true
}
rl() { grep -a "^BENCHRES $2 " "$WORK/$1/results.txt" 2>/dev/null | tail -n 1 | cut -d' ' -f3- || true; }

# ---- bare boot -------------------------------------------------------------------------------------
if [ $BARE = yes ]; then
  printf '#cloud-config\n{}\n' > "$WORK/bare-user-data"
  echo '{"mode": "bare"}' > "$WORK/bare-bench.json"
  boot_vm bare "$WORK/bare-user-data" "$WORK/bare-bench.json"
fi

# ---- gateway boot + clients -------------------------------------------------------------------------
node -e '
const fs = require("fs"); const [out, n, p, pub, gw, pool, psk, budget, changes, bound, stack, region] = process.argv.slice(1);
const users = []; for (let i = 1; i <= +n; i++) { const k = String(i).padStart(3, "0"); users.push({ name: "user" + k, password: "bench-Pass-" + k + "-x7" }); }
fs.writeFileSync(out, JSON.stringify({ mode: "gateway", clients: +n, parallel: +p, public_ip: pub, gw_ppp_ip: gw, pool_cidr: pool,
  psk, users, ike_timeout: 90, ppp_timeout: 90, client_budget: +budget, changes: +changes, change_bound: +bound,
  ssm_path: "/vpn-gateway/" + stack, aws_region: region }, null, 1));
' "$WORK/gateway-bench.json" "$CLIENTS" "$PARALLEL" "$PUBLIC_IP" "$GWPPP" "$POOL" "$PSK" "$BUDGET" "$CHANGES" "$CHANGE_BOUND" "$STACK" "$REGION"
boot_vm gateway "$WORK/user-data" "$WORK/gateway-bench.json" "$WORK/render/ssm-parameters.json"

# ---- figures ---------------------------------------------------------------------------------------
# change_figures: step 6's block (the VM's "BENCHRES change_*" lines)
change_figures() {
  local f="$WORK/gateway/results.txt"
  if ! grep -q '^BENCHRES change_setup ' "$f" 2>/dev/null; then
    echo "change to applied: not measured ($( [ "$CHANGES" = 0 ] && echo '--changes 0' || echo 'the VM printed nothing for it: gateway not ready, or the VM stopped before'))"
    return
  fi
  echo "change to applied (in the VM: written into the SSM stand-in through its admin side; seconds from the write's return; the"
  echo "                   sync polls every 30 s, so expect uniform 0-30 s plus the poll's own run, which started at run_started):"
  echo "  setup:           $(rl gateway change_setup)"
  grep -a '^BENCHRES change_sample ' "$f" | sed 's/^BENCHRES change_sample /    /' || true
  echo "  chap-secrets (s): $(rl gateway change_stats_chap_secrets)"
  echo "  applied: line (s): $(rl gateway change_stats_applied)"
  echo "  PSK changed:     $(rl gateway change_psk)"
  echo "  PSK put back:    $(rl gateway change_psk_back)"
  echo "  after:           $(rl gateway change_end)"
}
BARE_CI=$(r bare cloud_init_done); GW_CI=$(r gateway cloud_init_done); GW_READY=$(r gateway gateway_ready)
ratio=$(awk -v g="$GW_READY" -v b="$BARE_CI" 'BEGIN{ if (g+0>0 && b+0>0) printf "%.2f", g/b; else print "n/a" }')
{
echo
echo "==================== Benchmark figures ($(date '+%Y-%m-%d %H:%M'), $(nproc) host cores, VM: 2 vCPU TCG, ${MEM} MB, image: $DIST $VARIANT) ===================="
sync_figures
echo "render:            ${FIG[render]}s (npm run render), user-data ${FIG[userdata]}"
[ $SCRATCH = yes ] && echo "image from scratch: ${FIG[scratch_total]}s total (stage A rootfs ${FIG[scratch_A]}, B repo ${FIG[scratch_B]}, C image ${FIG[scratch_C]})"
echo "image this run:    ${FIG[cached_total]}s total (stage A rootfs ${FIG[cached_A]}, B repo ${FIG[cached_B]}, C image ${FIG[cached_C]})"
if [ $BARE = yes ]; then
  echo "bare boot:         cloud-init final done at ${BARE_CI:-?}s uptime (trivial cloud-config; whole VM run ${FIG[bare_vm_secs]}s)"
fi
echo "gateway boot:      cloud-init final done at ${GW_CI:-?}s uptime, gateway ready at ${GW_READY:-?}s uptime"
echo "boot-to-ready ratio (gateway ready / bare cloud-init done): ${ratio}"
echo "single client (idle gateway): $(rl gateway single)  [charon=start+load, ike=initiate->CHILD_SA, ppp=xl2tpd->PPP address, s]"
echo "concurrency:       $(rl gateway concurrency)"
echo "time:              $(grep -a '^BENCHRES total_secs=' "$WORK/gateway/results.txt" 2>/dev/null | tail -n 1 | cut -d' ' -f2-)"
echo "IKE set-up (s):    $(rl gateway stats_ike)"
echo "PPP set-up (s):    $(rl gateway stats_ppp)"
echo "charon start (s):  $(rl gateway stats_charon_start)"
echo "client total (s):  $(rl gateway stats_total)"
# per platform: the VM's "BENCHRES platform NAME ok=.. failed=..", "stats_ike_NAME ..", "stats_ppp_NAME .."
echo "per platform:      (client k offers what platform k mod 4 of windows, apple, networkmanager, e2e offers)"
sed -n 's/^BENCHRES platform \([^ ]*\) .*/\1/p' "$WORK/gateway/results.txt" 2>/dev/null | while read -r p; do
  echo "  $p: $(rl gateway "platform $p" | cut -d' ' -f2-)"
  echo "    IKE set-up (s): $(rl gateway "stats_ike_$p")"
  echo "    PPP set-up (s): $(rl gateway "stats_ppp_$p")"
done || true
echo "gateway state:     $(rl gateway gateway)"
echo "VM memory at end:  $(grep -a '^BENCHRES mem_total' "$WORK/gateway/results.txt" 2>/dev/null | tail -n 1 | cut -d' ' -f2-)"
grep -a '^BENCHRES failures_by_stage' "$WORK/gateway/results.txt" 2>/dev/null | sed 's/^BENCHRES /failures:          /' || true
grep -a '^BENCHFAIL' "$WORK/gateway/results.txt" 2>/dev/null | head -n 10 | sed 's/^BENCHFAIL /  failed: /' || true
change_figures
echo "gateway VM run:    ${FIG[gateway_vm_secs]}s wall; whole bench $(( $(date +%s) - T_START ))s; logs in $WORK"
} | tee "$WORK/figures.txt"
rm -f "$WORK"/img/*   # hard links only; the cache keeps its own copies
