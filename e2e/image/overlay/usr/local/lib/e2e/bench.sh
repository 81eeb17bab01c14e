#!/bin/bash
# Benchmark inside the VM (not product, not a test: prints figures, asserts nothing).
# Started by e2e-bench.service only when the parameter drive holds bench.json (e2e/bench.sh
# writes it; the normal e2e run writes params.json instead, so this never runs there).
#   mode=bare     boot-time reference: report when cloud-init's final stage was done, power off
#   mode=gateway  the gateway's boot-to-ready, then N real L2TP/IPsec clients (strongSwan charon +
#                 swanctl, xl2tpd LAC, pppd; one network namespace each with its own public
#                 address), at most P connecting at a time, all kept up; per-client IKE and PPP
#                 set-up times, how many are up at the end, failures with reasons.
#                 Client k offers what platform PLATFORMS[k % 4] offers (client.sh's
#                 CLIENT_PLATFORM: windows apple networkmanager e2e), and the set-up times are
#                 also given per platform.
#                 Then, gateway and clients still up: change to applied. CHANGES (bench.json
#                 "changes", default 0 = none) changes of the stack's users written into the
#                 SSM stand-in through its admin side, as `pulumi up` writes them (live.sh's
#                 ssm_users: a user bench-chg added, its password changed, removed, in turn),
#                 each after a random 1-30 s pause (back to back, every change would land just
#                 after a poll); each timed from the moment the write returned to (a) the change
#                 in /etc/ppp/chap-secrets (seen by polling once a second; the time is the file's
#                 mtime: the sync writes a new file and renames it) and (b) the sync's "applied:"
#                 journal line (its journal timestamp; also when the run that logged it started),
#                 bounded by "change_bound" (default 120 s; a timeout is reported as one); min,
#                 median, max. The sync polls every 30 s (vpn-gateway-sync.timer): expect uniform
#                 0-30 s plus the run's own time. Then the same for one PSK change (ipsec.secrets,
#                 "applied:", pluto's re-read), and the PSK put back (timed the same way);
#                 PPP links before and after. Power off.
# Output lines: "BENCH: [uptime] progress" and "BENCHRES key=value ..." (collected by e2e/bench.sh).
# shellcheck source-path=SCRIPTDIR  # client.sh, ready.sh, live.sh: sourced from $LIB, where this script lives
set -u
LIB=/usr/local/lib/e2e
B=/srv/e2e/bench.json
SS=/opt/strongswan
R=/run/e2e/bench
mkdir -p "$R"
. "$LIB/client.sh"   # the harness's client: ss_unpack, ss_run, ppp_quote, the shared config pieces
# the live checks' helpers (functions only; their checks are not run here): ssm, ssm_users,
# live_wait, chap_has_password, chap_lacks, psk_is, sync_logged, journal_now, sync_memory_peak
. "$LIB/live.sh"
bj() { python3 -c 'import json,sys;d=json.load(open(sys.argv[1])).get(sys.argv[2]);print("" if d is None else d)' "$B" "$1"; }
up() { awk '{printf "%.1f", $1}' /proc/uptime; }
say() { echo "BENCH: [$(up)s] $*"; }
res() { echo "BENCHRES $*"; }
MODE=$(bj mode)

# ---- boot-to-ready -------------------------------------------------------------------------
# "gateway ready": the harness's definition (ready.sh)
. "$LIB/ready.sh"
if [ "$MODE" = gateway ]; then
  # this unit starts right after the test bed (early, not after cloud-final), so poll from here
  ( while ! gateway_ready; do sleep 1; done; up > "$R/ready" ) &
  READY_POLL=$!
fi
say "mode=$MODE; waiting for cloud-init"
cloud-init status --wait >/dev/null 2>&1
CI_SEEN=$(up)
# cloud-init's own figure: "Cloud-init v. X finished at ... Up N seconds" (uptime at final done)
CI_DONE=$(grep -a 'Cloud-init v\..*finished' /var/log/cloud-init-output.log 2>/dev/null | tail -n 1 | sed -nE 's/.*Up ([0-9.]+) seconds.*/\1/p')
CI_STATUS=$(cloud-init status 2>&1 | tr '\n' ' ')
say "cloud-init done (cloud-init says uptime ${CI_DONE:-?}s; $CI_STATUS)"
res "cloud_init_done=${CI_DONE:-$CI_SEEN} cloud_init_seen=$CI_SEEN status=$(echo "$CI_STATUS" | sed -E 's/status: //; s/^ +| +$//g; s/ +/_/g')"
res "mem_total_mb=$(free -m | awk '/^Mem:/{print $2}') mem_used_mb=$(free -m | awk '/^Mem:/{print $3}') cpus=$(nproc)"

if [ "$MODE" != gateway ]; then
  say "bare boot measured; powering off"
  sync; systemctl --no-block poweroff; exit 0
fi

for _ in $(seq 1 180); do [ -s "$R/ready" ] && break; sleep 1; done
kill "$READY_POLL" 2>/dev/null
if [ -s "$R/ready" ]; then
  READY=$(cat "$R/ready")
  say "gateway ready at ${READY}s uptime (pluto on 500/4500, xl2tpd on 1701)"
  res "gateway_ready=$READY"
else
  say "gateway NOT ready 180 s after cloud-init: $(ss -lunp | tr '\n' ' ')"
  res "gateway_ready=never"
  sync; systemctl --no-block poweroff; exit 0
fi

# ---- clients -------------------------------------------------------------------------------
N=$(bj clients); P=$(bj parallel); PUB=$(bj public_ip); GWPPP=$(bj gw_ppp_ip)
PPP_TIMEOUT=$(bj ppp_timeout); IKE_TIMEOUT=$(bj ike_timeout)
python3 -c 'import json;d=json.load(open("/srv/e2e/bench.json"))
for u in d["users"]: print(u["name"], u["password"])' > "$R/users"
python3 -c 'import json;print(json.load(open("/srv/e2e/bench.json"))["psk"])' > "$R/psk"
PSK=$(cat "$R/psk")
ss_unpack

# Client network: a switch (bridge) in the "internet" namespace, 198.18.0.1/16 (the benchmark
# range); client k is namespace bNNN with 198.18.1.k, no NAT of its own (the gateway still sits
# behind the 1:1 NAT, so NAT-T is used).
ip -n inet link add bbr0 type bridge
ip -n inet link set bbr0 up
ip -n inet addr add 198.18.0.1/16 dev bbr0
nsname() { printf 'b%03d' "$1"; }
# (ip -batch: one process per namespace instead of eight)
for k in $(seq 1 "$N"); do echo "netns add $(nsname "$k")"; done | ip -batch -
for k in $(seq 1 "$N"); do echo "link add bv$k type veth peer name eth0 netns $(nsname "$k")"; echo "link set bv$k master bbr0 up"; done | ip -n inet -batch -
for k in $(seq 1 "$N"); do
  printf 'link set lo up\nlink set eth0 up\naddr add 198.18.1.%s/16 dev eth0\nroute add default via 198.18.0.1\n' "$k" | ip -n "$(nsname "$k")" -batch -
done
say "client network: $N namespaces on 198.18.0.0/16 behind the internet namespace"

# Same client as the harness's (client.sh: IKEv1 main mode PSK, transport udp/1701, MS-CHAPv2-only
# pppd), with fewer charon plugins and threads (CPU and memory under TCG) and the log level lowered.
client_config() {
  local ns=$1 user=$2 pass=$3 psk=$4 server=$5
  mkdir -p "/etc/netns/$ns/ppp" "/etc/netns/$ns/xl2tpd" "/etc/e2e-clients/$ns" "/run/e2e/$ns/run"
  cat > "/etc/e2e-clients/$ns/strongswan.conf" <<SSC
charon {
  # only the plugins an IKEv1 PSK client needs: loading all of them costs seconds of CPU under TCG
  load = random nonce openssl kdf kernel-netlink socket-default vici
  threads = 8
  install_routes = no
  install_virtual_ip = no
  retransmit_tries = 5
  retransmit_timeout = 3
  plugins {
    vici { socket = unix:///run/charon.vici }
  }
  filelog {
    e2e { path = /var/log/e2e-charon-$ns.log  time_format = %T  default = 1  append = yes }
  }
  syslog { daemon { default = -1 } }
}
swanctl {
  load = pem pkcs1 x509 revocation constraints pubkey openssl random
}
SSC
  client_swanctl_conf "$ns" "$psk" "$server"
  client_xl2tpd_conf "$ns" "$server"
  client_ppp_options "$ns" "$user" "$pass" "logfile /var/log/e2e-pppd-$ns.log"
  # pppd runs /etc/ppp/ip-up (here the client's own) when IPCP is up: it stamps the time, so the
  # waiting loop below can poll a file cheaply and the PPP figure does not depend on its interval
  # shellcheck disable=SC2016  # $4, $5 and $(date) belong to the ip-up script, written literally
  printf '#!/bin/sh\necho "$4 $5 $(date +%%s.%%N)" > %s/%s.ppp\n' "$R" "$ns" > "/etc/netns/$ns/ppp/ip-up"
  chmod +x "/etc/netns/$ns/ppp/ip-up"
}

# Client k offers what platform PLATFORMS[k % 4] offers: client.sh's CLIENT_PLATFORM, set for
# that client's client_config only. (android11 is not among them: the gateway refuses it by design.)
PLATFORMS=(windows apple networkmanager e2e)
platform_of() { echo "${PLATFORMS[$1 % ${#PLATFORMS[@]}]}"; }

# one client: writes $R/NS.res = "OK platform=.. charon=.. ike=.. ppp=.. total=.. addr=.." or
# "FAIL stage platform=.. reason"
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
bench_client() {
  local k=$1 ns user pass platform t0 t1 t2 t3 i a
  ns=$(nsname "$k"); platform=$(platform_of "$k")
  read -r user pass < <(sed -n "${k}p" "$R/users")
  t0=$EPOCHREALTIME
  CLIENT_PLATFORM=$platform client_config "$ns" "$user" "$pass" "$PSK" "$PUB"
  setsid bash -c "$(declare -f ss_run); SS=$SS; ss_run $ns /usr/lib/ipsec/charon" \
    >>"/var/log/e2e-charon-$ns.out" 2>&1 </dev/null &
  local deadline=$((SECONDS + 120))
  while [ $SECONDS -lt $deadline ]; do [ -S "/run/e2e/$ns/run/charon.vici" ] && break; sleep 0.5; done
  if ! ss_run "$ns" "$SS/usr/sbin/swanctl" --load-all --file "/etc/e2e-clients/$ns/swanctl.conf" >"/run/e2e/$ns/swanctl-load.out" 2>&1; then
    echo "FAIL charon platform=$platform charon/swanctl --load-all failed: $(tail -n 1 "/run/e2e/$ns/swanctl-load.out")" > "$R/$ns.res"; return
  fi
  t1=$EPOCHREALTIME   # charon up, config loaded: IKE starts now
  if ! ss_run "$ns" "$SS/usr/sbin/swanctl" --initiate --child l2tp --timeout "$IKE_TIMEOUT" >"/run/e2e/$ns/swanctl-initiate.out" 2>&1; then
    echo "FAIL ike platform=$platform $(grep -vE '^\s*$' "/run/e2e/$ns/swanctl-initiate.out" | grep -iE 'fail|timeout|error|AUTH|NO_PROP' | tail -n 2 | tr '\n' ' ' | cut -c1-160)" > "$R/$ns.res"; return
  fi
  t2=$EPOCHREALTIME   # CHILD_SA up: L2TP/PPP starts now
  setsid ip netns exec "$ns" xl2tpd -D -c /etc/xl2tpd/xl2tpd.conf -p "/run/e2e/$ns/xl2tpd.pid" \
    -C "/run/e2e/$ns/l2tp-control" >>"/var/log/e2e-xl2tpd-$ns.log" 2>&1 </dev/null &
  # (few process spawns while waiting: under TCG each costs ~0.1 s of CPU, and 10 clients wait)
  a=""
  local deadline=$((SECONDS + PPP_TIMEOUT))   # wall clock: under load a "sleep 0.5" takes seconds
  for i in $(seq 1 100000); do
    [ $SECONDS -ge $deadline ] && break
    [ -s "$R/$ns.ppp" ] && { read -r a _ t3 < "$R/$ns.ppp"; break; }
    if [ $((i % 4)) = 0 ] && grep -q 'Connection terminated' "/var/log/e2e-pppd-$ns.log" 2>/dev/null; then break; fi
    sleep 0.5
  done
  [ -n "$a" ] || t3=$EPOCHREALTIME
  if [ -n "$a" ]; then
    echo "OK platform=$platform charon=$(dt "$t0" "$t1") ike=$(dt "$t1" "$t2") ppp=$(dt "$t2" "$t3") total=$(dt "$t0" "$t3") addr=$a" > "$R/$ns.res"
  else
    echo "FAIL ppp platform=$platform no PPP address after $(dt "$t2" "$t3")s: $( { grep -iE 'fail|refus|denied|terminat|error|timeout' "/var/log/e2e-pppd-$ns.log" 2>/dev/null; grep -iE 'fail|refus|denied|error|timeout|maximum' "/var/log/e2e-xl2tpd-$ns.log" 2>/dev/null; } | tail -n 2 | tr '\n' ' ' | cut -c1-160)" > "$R/$ns.res"
  fi
}

# pct FIELD [PLATFORM]: n/min/median/p90/max/mean of FIELD over the OK clients (of PLATFORM only)
pct() {
  grep -h '^OK' "$R"/b*.res 2>/dev/null | awk -v key="$1" -v want="${2:-}" '
    { v = ""; p = ""
      for (i = 2; i <= NF; i++) { j = index($i, "="); if (j == 0) continue
        k = substr($i, 1, j - 1); if (k == key) v = substr($i, j + 1); if (k == "platform") p = substr($i, j + 1) }
      if (v != "" && (want == "" || p == want)) print v }' | sort -n | awk '
    {v[NR]=$1; s+=$1} END{ if(NR==0){print "n=0"; exit}
      printf "n=%d min=%.2f median=%.2f p90=%.2f max=%.2f mean=%.2f", NR, v[1], v[int((NR+1)/2)], v[int(NR*0.9+0.999)], v[NR], s/NR }'
}
# count_res OK|FAIL [PLATFORM]: how many clients ended so (of PLATFORM only)
count_res() {
  local n=0 f
  for f in "$R"/b*.res; do
    { [ -e "$f" ] && grep -q "^$1" "$f"; } || continue
    [ -z "${2:-}" ] || grep -qE "^[A-Z]+ ([a-z]+ )?platform=$2( |\$)" "$f" || continue
    n=$((n + 1))
  done
  echo "$n"
}

# 1) one client alone: IKE and PPP set-up time on an idle gateway
say "client 1 alone (idle gateway, platform $(platform_of 1))"
T_ALL0=$EPOCHREALTIME
( bench_client 1 )   # in a subshell: its charon/xl2tpd must not be this shell's jobs (wait)
say "client 1: $(cat "$R/b001.res")"
res "single $(tr ' ' '\n' < "$R/b001.res" | grep -E '^(OK|FAIL|platform|charon|ike|ppp|total)=?' | tr '\n' ' ')"

# 2) the others, at most P connecting at once; every connected client stays up
say "clients 2..$N, at most $P connecting at once (each: own namespace, charon, xl2tpd, pppd; platforms in turn: ${PLATFORMS[*]})"
BUDGET=$(bj client_budget); BUDGET=${BUDGET:-0}; ATTEMPTED=1; S0=$SECONDS
T_B0=$EPOCHREALTIME; last=$SECONDS; inflight=0
for k in $(seq 2 "$N"); do
  if [ "$BUDGET" -gt 0 ] && [ $((SECONDS - S0)) -ge "$BUDGET" ]; then
    say "client time budget ${BUDGET}s used up: no more clients launched after $ATTEMPTED"; break
  fi
  ATTEMPTED=$k
  bench_client "$k" &
  inflight=$((inflight + 1))
  if [ $inflight -ge "$P" ]; then wait -n; inflight=$((inflight - 1)); fi
  if [ $((SECONDS - last)) -ge 15 ]; then
    last=$SECONDS
    say "progress: launched $k/$N, connected $(count_res OK), failed $(count_res FAIL), mem used $(free -m | awk '/^Mem:/{print $3}') MB"
  fi
done
while [ $inflight -gt 0 ]; do
  wait -n; inflight=$((inflight - 1))
  if [ $((SECONDS - last)) -ge 15 ]; then last=$SECONDS; say "progress: all launched, $inflight in flight, connected $(count_res OK), failed $(count_res FAIL)"; fi
done
T_END=$EPOCHREALTIME
OKN=$(count_res OK); FAILN=$(count_res FAIL)
say "all attempted: connected $OKN, failed $FAILN in $(dt "$T_ALL0" "$T_END")s"

# 3) all at once: which are still up, and do they pass traffic (one ping each to the gateway)
sleep 5
still=0; pinged=0
for k in $(seq 1 "$N"); do
  ns=$(nsname "$k")
  if [ -n "$(ppp_addr "$ns")" ]; then
    still=$((still + 1))
    ( ip netns exec "$ns" ping -c 1 -W 5 "$GWPPP" >/dev/null 2>&1 && touch "$R/$ns.ping" ) &
  fi
  [ $((k % 20)) = 0 ] && wait
done
wait
for f in "$R"/*.ping; do [ -e "$f" ] && pinged=$((pinged + 1)); done
addrs=$(grep -h '^OK' "$R"/b*.res | sed -n 's/.*addr=//p' | sort -u | wc -l)
res "concurrency attempted=$ATTEMPTED connected=$OKN failed=$FAILN still_up=$still ping_ok=$pinged distinct_addresses=$addrs parallel=$P"
res "total_secs=$(dt "$T_ALL0" "$T_END") batch_secs=$(dt "$T_B0" "$T_END") secs_per_client=$(awk -v t="$(dt "$T_ALL0" "$T_END")" -v n="$OKN" 'BEGIN{if (n>0) printf "%.2f", t/n; else print "n/a"}')"
res "stats_ike $(pct ike)"
res "stats_ppp $(pct ppp)"
res "stats_charon_start $(pct charon)"
res "stats_total $(pct total)"
# per platform: "platform NAME ok=.. failed=..", then its IKE and PPP set-up times
for p in "${PLATFORMS[@]}"; do
  res "platform $p ok=$(count_res OK "$p") failed=$(count_res FAIL "$p")"
  res "stats_ike_$p $(pct ike "$p")"
  res "stats_ppp_$p $(pct ppp "$p")"
done
res "gateway pluto_ipsec_sas=$(ipsec whack --trafficstatus 2>/dev/null | grep -c '#') pppd=$(pgrep -c -x pppd) xl2tpd_ppp_links=$(ip -o link show type ppp 2>/dev/null | wc -l) charon_clients=$(pgrep -c -x charon)"
res "mem_total_mb=$(free -m | awk '/^Mem:/{print $2}') mem_used_mb=$(free -m | awk '/^Mem:/{print $3}') mem_available_mb=$(free -m | awk '/^Mem:/{print $7}') charon_rss_mb_each=$(ps -C charon -o rss= | awk '{s+=$1;n++} END{if(n) printf "%.1f", s/n/1024}') load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
for f in "$R"/b*.res; do grep -q '^FAIL' "$f" && echo "BENCHFAIL $(basename "$f" .res) $(cat "$f")"; done | head -n 30
grep -h '^FAIL' "$R"/b*.res 2>/dev/null | awk '{print $2}' | sort | uniq -c | awk '{printf "BENCHRES failures_by_stage %s=%s\n", $2, $1}'

# 4) change to applied: the stack's parameters changed in the SSM stand-in while the gateway runs
# (clients still up), each change timed to its effect on the gateway
CHANGES=$(bj changes); CHANGES=${CHANGES:-0}
CHG_BOUND=$(bj change_bound); CHG_BOUND=${CHG_BOUND:-120}
CHG_USER=bench-chg   # not one of the clients' users: no client's session may end
SSM_PATH=$(bj ssm_path); SSM_REGION=$(bj aws_region)
# chg_mtime T0 FILE: seconds from the wall time T0 ($EPOCHREALTIME) to FILE's last write (the sync
# writes a new file and renames it over the old one: its mtime is when the change was there)
chg_mtime() { awk -v a="$1" -v b="$(stat -c %.6Y "$2")" 'BEGIN {printf "%.2f", b - a}'; }
# chg_journal T_BEFORE T0 REGEX: "SECS STARTED": seconds from the wall time T0 to the sync's first
# journal line matching REGEX logged after T_BEFORE (the wall time just before the write), and to
# the start of the run that logged it (systemd's "unit starting" entry, n/a without one); nothing
# when there is no such line
chg_journal() {
  journalctl -u vpn-gateway-sync.service --since "@$(( ${1%.*} - 60 ))" -o json --no-pager 2>/dev/null | python3 -c '
import json, re, sys
before, t0, rx = float(sys.argv[1]), float(sys.argv[2]), re.compile(sys.argv[3])
started = None
for line in sys.stdin:
    e = json.loads(line)
    t, m = int(e["__REALTIME_TIMESTAMP"]) / 1e6, e.get("MESSAGE")
    if e.get("MESSAGE_ID") == "7d4958e842da4a758f6c1cdc7b36dcc5":  # SD_MESSAGE_UNIT_STARTING
        started = t
    elif isinstance(m, str) and t >= before and rx.search(m):
        print("%.2f %s" % (t - t0, "n/a" if started is None else "%.2f" % (started - t0)))
        break
' "$1" "$2" "$3"
}
# chg_timed LABEL FILE PATTERN COND... -- WRITE...: runs WRITE (a write to the SSM stand-in), then
# waits for COND (the change in FILE) and for the sync's journal line matching PATTERN, each bounded
# by CHG_BOUND seconds from the write's return. CHG_LINE = "LABEL write=.. FILE=.. applied=..
# run_started=..": seconds from the write's return ("timeout>Ns" when not seen within the bound)
chg_timed() {
  local label=$1 file=$2 pat=$3 cond=() out f a st
  shift 3
  while [ "$1" != -- ]; do cond+=("$1"); shift; done
  shift
  CHG_SINCE=$(journal_now); CHG_S0=$EPOCHREALTIME; CHG_T0W=""
  if ! out=$("$@" 2>&1); then
    CHG_LINE="$label write=FAILED:$(echo "$out" | tail -n 1 | tr -s ' \t' '_' | cut -c1-120)"; return
  fi
  CHG_T0W=$EPOCHREALTIME; CHG_T0=$(up)
  if live_wait "$CHG_T0" "$CHG_BOUND" "${cond[@]}"; then f=$(chg_mtime "$CHG_T0W" "$file"); else f="timeout>${LW}s"; fi
  a="timeout>${LW}s"; st=n/a
  if live_wait "$CHG_T0" "$CHG_BOUND" sync_logged "$CHG_SINCE" "$pat"; then
    read -r a st < <(chg_journal "$CHG_S0" "$CHG_T0W" "$pat")
    [ -n "${a:-}" ] || { a="seen_after_${LW}s"; st=n/a; }   # (in journalctl -o cat, not in its JSON)
  fi
  CHG_LINE="$label write=$(awk -v a="$CHG_S0" -v b="$CHG_T0W" 'BEGIN {printf "%.2f", b - a}') $(basename "$file")=$f applied=$a run_started=$st"
}
# chg_also KEY PATTERN: appends " KEY=SECS" to CHG_LINE: the sync's first journal line matching
# PATTERN after the same write (bounded the same way)
chg_also() {
  local a=""
  [ -n "$CHG_T0W" ] || return 0
  if live_wait "$CHG_T0" "$CHG_BOUND" sync_logged "$CHG_SINCE" "$2"; then read -r a _ < <(chg_journal "$CHG_S0" "$CHG_T0W" "$2"); a=${a:-seen_after_${LW}s}
  else a="timeout>${LW}s"; fi
  CHG_LINE="$CHG_LINE $1=$a"
}
# chg_stats KEY: n, timeouts, min/median/max over the KEY= values of $R/changes
chg_stats() {
  local t; t=$(grep -c "[ ]$1=timeout" "$R/changes")
  awk -v key="$1" '{ for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) { v = substr($i, length(key) + 2); if (v ~ /^-?[0-9.]+$/) print v } }' "$R/changes" \
    | sort -n | awk -v t="$t" '{v[++n] = $1} END { if (!n) { printf "n=0 timeouts=%d", t; exit }
      printf "n=%d timeouts=%d min=%.2f median=%.2f max=%.2f", n, t, v[1], (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2), v[n] }'
}
if [ "$CHANGES" -gt 0 ]; then
  : > "$R/changes"
  ppp0=$(ip -o link show type ppp 2>/dev/null | wc -l); since0=$(journal_now)
  say "change to applied: $CHANGES changes of $CHG_USER in SSM ($SSM_PATH, $SSM_REGION) through the stand-in's admin side, then one PSK change and back; bound ${CHG_BOUND}s each"
  if ! ssm wait-up 60 >/dev/null 2>&1; then
    res "change_setup SSM_stand-in_not_up: $(ssm status 2>&1 | tr -s ' \n' '_' | cut -c1-160)"
  else
    res "change_setup changes=$CHANGES bound=${CHG_BOUND}s user=$CHG_USER users=$(chap_users) ppp_links=$ppp0 sync_timer=$(systemctl show -p TimersMonotonic --value vpn-gateway-sync.timer 2>/dev/null | grep -o 'OnUnitActiveUSec=[^ ;]*' | head -n 1 | cut -d= -f2)"
    kinds=(add password remove)
    for i in $(seq 1 "$CHANGES"); do
      kind=${kinds[$(( (i - 1) % 3 ))]}
      # a random point of the sync's 30 s cycle (back to back, each change would land just after a
      # poll); at least 1 s, so that the journal's second-resolution "since" excludes the last change's lines
      pause=$((1 + RANDOM % 30)); sleep "$pause"
      case "$kind" in
        remove) chg_timed "#$i $kind pause=${pause}s" /etc/ppp/chap-secrets "^applied: .*removed \\($CHG_USER\\)" \
                  chap_lacks "$CHG_USER" -- ssm_users remove "$CHG_USER" ;;
        *) pw="bench-chg-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')-$i"
           if [ "$kind" = add ]; then what=added; else what="password changed"; fi
           chg_timed "#$i $kind pause=${pause}s" /etc/ppp/chap-secrets "^applied: .*$what \\($CHG_USER\\)" \
             chap_has_password "$CHG_USER" "$pw" -- ssm_users set "$CHG_USER" "$pw" ;;
      esac
      res "change_sample $CHG_LINE"
      echo "$CHG_LINE" >> "$R/changes"
    done
    res "change_stats_chap_secrets $(chg_stats chap-secrets)"
    res "change_stats_applied $(chg_stats applied)"
    # one PSK change (ipsec.secrets, the sync's "applied: ... psk changed", pluto's re-read), then
    # the bench's PSK put back, timed the same way (the clients' IKE SAs, made with it, stay up)
    newpsk="bench-psk2-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    for key in change_psk change_psk_back; do
      if [ $key = change_psk ]; then psk=$newpsk; else psk=$PSK; fi
      pause=$((1 + RANDOM % 30)); sleep "$pause"
      chg_timed "pause=${pause}s" /etc/ipsec.secrets '^applied: .*psk changed' psk_is "$psk" -- ssm put "$SSM_PATH/psk" SecureString "$psk"
      chg_also pluto_reread 'pluto re-read'
      res "$key $CHG_LINE"
    done
    peak=$(sync_memory_peak "$since0"); peak=${peak%% *}
    res "change_end ppp_links_before=$ppp0 ppp_links_after=$(ip -o link show type ppp 2>/dev/null | wc -l) users=$(chap_users) psk_back=$(psk_is "$PSK" && echo yes || echo NO) sync_memory_peak=${peak:-n/a_(systemd_logs_none_before_254)}"
  fi
fi
say "bench done; powering off"
sync; systemctl --no-block poweroff
