#!/bin/bash
# Test harness inside the VM (not product). Waits for cloud-init, then checks the gateway the way
# a user would: real clients through NATs. Prints "CHECK <name> PASS|FAIL <reason>" (and INFO
# lines) on the console; the host-side run.sh collects them.
#   phase 1 (first boot): all first-boot checks (with the live part: users and PSK changed in SSM
#            while the gateway runs, live.sh), then reboot (same disk)
#   phase 2 (after reboot): cloud-init must not re-run per-instance work; a client reconnects
#   try mode: one demo client, timings, then power off
# shellcheck source-path=SCRIPTDIR
set -u
LIB=/usr/local/lib/e2e
. $LIB/ready.sh
. $LIB/client.sh
. $LIB/hardening.sh
. $LIB/kernel.sh
. $LIB/platforms.sh
. $LIB/live.sh
. $LIB/ikev2.sh
P=/srv/e2e/params.json
STATE=/var/lib/e2e
mkdir -p $STATE /run/e2e
pj() { python3 -c 'import json,sys;d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d=d[int(k)] if isinstance(d,list) else d.get(k)
print("" if d is None else d)' $P "$1"; }
MODE=$(pj mode); PROFILE=$(pj profile); PUB=$(pj public_ip); PSK=$(pj psk); GWPPP=$(pj gw_ppp_ip); POOL=$(pj pool_cidr)
FAR=192.0.2.100; VPCHOST=172.31.32.20
FAILS=0
# the profile's parts (run.sh --profile platforms+live): profile_has live
profile_has() { [[ "+$PROFILE+" == *"+$1+"* ]]; }
STOP_LEFT=" $(python3 -c 'import json,sys;print(" ".join(json.load(open(sys.argv[1])).get("stop_after",[])))' $P) "
up() { awk '{printf "%.1f", $1}' /proc/uptime; }
say() { echo "E2E: [$(up)s] $*"; }
check() {  # check NAME PASS|FAIL reason...
  local n=$1 r=$2; shift 2
  # a check the plan did not announce would go uncounted if it passed: it fails instead
  if [[ " $PLAN " != *" $n "* ]] && [ "$MODE" != try ]; then set -- "(not announced in the PLAN line; add it to plan_checks) $*"; r=FAIL; fi
  [ "$r" = PASS ] || FAILS=$((FAILS + 1))
  echo "CHECK $n $r $*"
  if [ -n "${STOP_LEFT// /}" ]; then   # run.sh --stop-after: end once those checks have run
    STOP_LEFT=${STOP_LEFT/ $n / }
    [ -z "${STOP_LEFT// /}" ] && { echo "INFO stopping early: every check of --stop-after has run"; finish poweroff; }
  fi
}
info() { echo "INFO $*"; }
in_pool() { python3 -c 'import ipaddress,sys;sys.exit(0 if ipaddress.ip_address(sys.argv[1]) in ipaddress.ip_network(sys.argv[2],strict=False) else 1)' "$1" "$2"; }
finish() {  # finish reboot|poweroff
  if [ "$1" = poweroff ] && { [ ! -e $STATE/phase1.done ] || [ -e $STATE/phase2.started ] || [ "$MODE" = try ] || [ "$(pj skip_reboot)" = True ]; } && [ "$(pj hold)" = True ]; then say "harness done; holding (debug)"; exit 0; fi
  say "harness done ($FAILS failed in this phase); $1"
  sync; systemctl --no-block "$1"; exit 0
}
dump_logs() {  # on failure: the tail of the relevant logs, for the person reading the console
  local f
  for f in "$@"; do [ -r "$f" ] && { echo "----- tail $f"; tail -n 25 "$f" | sed 's/^/  | /'; }; done
}

# connect NS USER PASS PSK -> sets C_LOCAL C_PEER C_SECS; returns 1 on failure
connect() {
  local ns=$1 t0; t0=$(date +%s.%N)
  C_LOCAL=""; C_PEER=""; C_ERR=""
  client_down "$ns" >/dev/null 2>&1
  : > "/var/log/e2e-pppd-$ns.log"
  client_config "$ns" "$2" "$3" "$4" "$PUB"
  if ! ipsec_up "$ns"; then C_ERR="IPsec SA not established: $(tail -n 2 "/run/e2e/$ns/swanctl-initiate.out" | tr '\n' ' ')"; return 1; fi
  say "$ns: IPsec SA up ($(grep -o 'CHILD_SA l2tp{[0-9]*} established.*' "/run/e2e/$ns/swanctl-initiate.out" | head -c 120))"
  local a; if ! a=$(l2tp_up "$ns" 40); then C_ERR="no PPP address within 40 s: $(grep -iE 'fail|refus|denied|terminat|error' "/var/log/e2e-pppd-$ns.log" | tail -n 2 | tr '\n' ' ')"; return 1; fi
  C_LOCAL=${a% *}; C_PEER=${a#* }
  C_SECS=$(python3 -c "import time;print('%.1f' % (time.time()-$t0))")
  say "$ns: PPP up, local $C_LOCAL peer $C_PEER (tunnel up in ${C_SECS}s)"
}
pings() { ip netns exec "$1" ping -c 3 -i 0.3 -W 3 "$2" >/dev/null 2>&1 || ip netns exec "$1" ping -c 3 -i 0.5 -W 3 "$2" >/dev/null 2>&1; }
whoami_via() {  # whoami_via NS HOST: route HOST through the tunnel, ask it who it sees
  ip -n "$1" route replace "$2"/32 dev "${1}ppp" 2>/dev/null
  ip netns exec "$1" curl -s --max-time 10 "http://$2:8080/" 2>/dev/null | head -n 1
}

U1=$(pj dyn_user.name); U1P=$(pj dyn_user.password)
U2=$(pj static_user.name); U2P=$(pj static_user.password); U2IP=$(pj static_user.ip)

# ---- the plan: every check this run will report, announced before the first one ------------
# run.sh fails the run for an announced check that never reported (a crash, a hang, a phase that
# did not come), and check() fails a check that was not announced.
plan_checks() {
  local p k kr part plat="windows_l2tp apple_l2tp networkmanager_l2tp android11_l2tp libreswan_without_modp1024 two_devices_one_nat"
  p="cloudinit_done cloudinit_schema gateway_services pluto_config_clean user1_pool_address user1_ping_gateway user1_far_host_nat user1_reaches_vpc_host"
  k=$(image_kernel_checks first); kr=$(image_kernel_checks reboot)
  p="$p $k"
  for part in ${PROFILE//+/ }; do
    case "$part" in full|platforms|kernel|live|live-long) ;; *) p="$p unknown_profile_part_$part" ;; esac
  done
  # kernel ends phase 1 after the image's kernel checks: it takes no other part
  [ "$PROFILE" = kernel ] || ! profile_has kernel || p="$p kernel_profile_stands_alone"
  if profile_has full; then
      p="$p firewall_policies_drop ssh_port_closed ipv6_default_deny client_no_metadata $plat $IKEV2_CHECKS"
      if [ -n "$U2" ]; then
        p="$p user2_static_address user2_ping_gateway user2_far_host_nat two_users_concurrent"
        if [ "$(pj allow_client_to_client)" = True ]; then p="$p client_to_client_allowed"; else p="$p client_to_client_blocked"; fi
      fi
      p="$p public_link_only_ipsec connection_logged l2tp_without_ipsec_ignored wrong_password_refused wrong_psk_refused
         health_probe_ready health_probe_not_ready_when_pluto_stopped health_probe_ready_after_ipsec_restart
         vanished_client_cleaned failed_logins_dont_lock_out firewall_rerun_no_duplicates xl2tpd_kill9_recovers
         pluto_kill9_recovers no_secrets_in_logs"
  elif profile_has platforms; then p="$p $plat $IKEV2_CHECKS"; fi
  profile_has live && p="$p $LIVE_CHECKS"
  profile_has live-long && p="$p ssm_5000_users_synced"
  [ "$(pj skip_reboot)" = True ] || p="$p reboot_cloudinit_not_rerun reboot_cloudinit_done reboot_gateway_services
    reboot_firewall_same reboot_clients_reconnect reboot_no_secrets_in_logs $kr"
  # with the IKEv2 checks: an IKEv2 client connects again after the reboot
  [ "$(pj skip_reboot)" = True ] || ! { profile_has full || profile_has platforms; } || p="$p reboot_ikev2_reconnects"
  # SSM made unreachable before the reboot (live_before_reboot): the second boot serves the last good users
  [ "$(pj skip_reboot)" = True ] || ! profile_has live-long || p="$p ssm_reboot_unreachable_serves_last_good"
  # shellcheck disable=SC2086  # one line: the words, single spaces
  echo $p
}
PLAN=" $(plan_checks) "
# announced once, on the first boot (the second boot's checks are in it)
[ "$MODE" != try ] && [ ! -e $STATE/phase1.done ] && echo "PLAN$PLAN"

# ---- wait for cloud-init and the gateway's services ----------------------------------------
say "waiting for cloud-init"
cloud-init status --wait >/dev/null 2>&1
CI_DONE=$(up)
say "cloud-init finished"
# (a second boot with SSM unreachable: the sync's boot run waits out its 5-minute bound before
# ipsec and xl2tpd start; the harness normally starts after them, being ordered after multi-user)
READY_WAIT=120; [ -e "$LIVE_REBOOT_ENV" ] && [ -e $STATE/phase1.done ] && READY_WAIT=960
for _ in $(seq 1 $READY_WAIT); do gateway_ready && break; sleep 0.5; done
READY=$(up)
if gateway_ready; then say "gateway ready: pluto on 500/4500 with l2tp-psk loaded, xl2tpd on 1701"; else say "gateway NOT ready after $((READY_WAIT / 2)) s: $(gateway_ready_detail)"; fi

# ======================================== try mode ==========================================
if [ "$MODE" = try ]; then
  if connect c1 "$U1" "$U1P" "$PSK"; then
    ok=no; pings c1 "$GWPPP" && ok=yes
    seen=$(whoami_via c1 $FAR)
    echo "TRY public_ip=$PUB user=$U1 assigned_ip=$C_LOCAL gateway_ppp=$C_PEER ping_gateway=$ok far_host_sees=${seen:-nothing} cloud_init_done=${CI_DONE}s boot_to_ready=${READY}s tunnel_up=${C_SECS}s"
    if [ $ok = yes ] && [ "$seen" = "$PUB" ]; then echo "TRY verdict=PASS"; else echo "TRY verdict=FAIL"; fi
  else
    echo "TRY public_ip=$PUB user=$U1 cloud_init_done=${CI_DONE}s boot_to_ready=${READY}s"
    echo "TRY error: $C_ERR"
    echo "TRY verdict=FAIL"
    dump_logs /run/e2e/c1/swanctl-initiate.out /var/log/e2e-charon-c1.log /var/log/e2e-pppd-c1.log /var/log/e2e-xl2tpd-c1.log
  fi
  finish poweroff
fi

# ======================================== phase 2 ===========================================
if [ -e $STATE/phase1.done ]; then
  say "phase 2: after reboot"
  touch $STATE/phase2.started
  # shellcheck source=/dev/null  # written by end_phase1 on the first boot
  . $STATE/phase1.env
  iid=$(cat /var/lib/cloud/data/instance-id 2>/dev/null)
  now_sems=$(stat -c '%n %Y' /var/lib/cloud/instance/sem/config_runcmd /var/lib/cloud/instance/sem/config_scripts_user /var/lib/cloud/instance/sem/config_write_files /var/lib/cloud/instance/sem/config_write_files_deferred /var/lib/cloud/instance/sem/config_package_update_upgrade_install /var/lib/cloud/instance/scripts/runcmd 2>&1 | tr '\n' ' ')
  boot2_log=$(awk '/Cloud-init v\. .* running .init-local/{n++} n==2' /var/log/cloud-init.log 2>/dev/null)
  # (cloud-init logs "Running module X" even when X is then skipped as "already ran", so the
  # evidence is the semaphores' and the runcmd script's mtimes, not the log)
  info "boot 2 cloud-init.log: $(echo "$boot2_log" | grep -c 'already ran') modules skipped as already ran"
  if [ "$iid" = "$P1_IID" ] && [ "$now_sems" = "$P1_SEMS" ]; then
    check reboot_cloudinit_not_rerun PASS "instance-id $iid unchanged; per-instance semaphores (runcmd, scripts_user, write_files[_deferred], package install) and scripts/runcmd untouched"
  else
    check reboot_cloudinit_not_rerun FAIL "instance-id $P1_IID -> $iid; before: $P1_SEMS after: $now_sems"
  fi
  st=$(cloud-init status --long 2>&1 | tr '\n' ' ')
  if cloud-init status 2>&1 | grep -q 'status: done'; then check reboot_cloudinit_done PASS "$st"; else check reboot_cloudinit_done FAIL "$st"; fi
  if gateway_ready; then check reboot_gateway_services PASS "ready at ${READY}s uptime"; else check reboot_gateway_services FAIL "not ready: $(gateway_ready_detail)"; fi
  # the rules came back by themselves, whole and once
  n=$(fw_rule_count); pol="$(iptables -S | grep -c -E '^-P (INPUT|FORWARD) DROP') $(ip6tables -S | grep -c -E '^-P (INPUT|FORWARD) DROP')"
  if [ "$n" = "$P1_FW_RULES" ] && [ "$pol" = "2 2" ]; then check reboot_firewall_same PASS "$n rules as before the reboot; INPUT/FORWARD DROP for IPv4 and IPv6"
  else check reboot_firewall_same FAIL "$n rules (before the reboot: $P1_FW_RULES); DROP policies v4/v6: $pol (want 2 2)"; fi
  # live-long: the reboot happened with SSM unreachable: the last good users served (then unblocked)
  profile_has live-long && check_ssm_reboot_unreachable
  # the clients that were connected when the gateway went down connect again
  msg=""; ok=yes
  for c in "c1 $U1 $U1P" ${U2:+"c2 $U2 $U2P"}; do
    # shellcheck disable=SC2086  # NS USER PASSWORD, split on purpose
    set -- $c
    if connect "$1" "$2" "$3" "$PSK" && pings "$1" "$GWPPP"; then msg="$msg $2 got $C_LOCAL (tunnel up in ${C_SECS}s);"
    else ok=no; msg="$msg $2: ${C_ERR:-ping to $GWPPP failed};"
      dump_logs "/run/e2e/$1/swanctl-initiate.out" "/var/log/e2e-charon-$1.log" "/var/log/e2e-pppd-$1.log" "/var/log/e2e-xl2tpd-$1.log"
      journalctl -b -u ipsec -u xl2tpd --no-pager -n 30 | sed 's/^/  | /'
    fi
  done
  if [ $ok = yes ]; then check reboot_clients_reconnect PASS "${msg% ;}"; else check reboot_clients_reconnect FAIL "${msg}"; fi
  if { profile_has full || profile_has platforms; }; then
    n1=$(ikev2_first)
    client_down c2 >/dev/null 2>&1
    if [ -n "$n1" ] && ikev2_platform android c2 "$n1" && ikev2_up c2 && ikev2_reaches c2; then
      check reboot_ikev2_reconnects PASS "$n1 (IKEv2) got $I_LEASE (up in ${I_SECS}s); $IR_MSG"
    else check reboot_ikev2_reconnects FAIL "${n1:-no profile}: ${I_ERR:-$IR_MSG}"; journalctl -b -u ipsec -u vpn-gateway-sync-boot --no-pager -n 30 | sed 's/^/  | /'; fi
    ikev2_down c2 >/dev/null 2>&1
  fi
  [ -n "$(image_kernel_checks reboot)" ] && check_kernel_not_redone
  client_down c1; client_down c2
  check_no_secrets_in_logs reboot_no_secrets_in_logs
  finish poweroff
fi

# ======================================== phase 1 ===========================================
# end_phase1: remember what a reboot must not change, then reboot on the same disk (with the
# clients that are connected now still connected)
end_phase1() {
  # live-long: SSM unreachable from here on, across the reboot
  [ "$(pj skip_reboot)" = True ] || ! profile_has live-long || live_before_reboot
  info "rebooting with clients connected: $(ip -o link show type ppp 2>/dev/null | wc -l) PPP sessions on the gateway; $(fw_rule_count) firewall rules"
  {
    echo "P1_FW_RULES='$(fw_rule_count)'"
    echo "P1_IID='$(cat /var/lib/cloud/data/instance-id 2>/dev/null)'"
    echo "P1_SEMS='$(stat -c '%n %Y' /var/lib/cloud/instance/sem/config_runcmd /var/lib/cloud/instance/sem/config_scripts_user /var/lib/cloud/instance/sem/config_write_files /var/lib/cloud/instance/sem/config_write_files_deferred /var/lib/cloud/instance/sem/config_package_update_upgrade_install /var/lib/cloud/instance/scripts/runcmd 2>&1 | tr '\n' ' ')'"
    kernel_phase1_env
  } > $STATE/phase1.env
  touch $STATE/phase1.done
  echo "PHASE1 failed=$FAILS"
  finish "$(pj reboot)"
}

say "phase 1: first boot ($IMAGE_VARIANT image, $PROFILE profile); uptime at cloud-init done ${CI_DONE}s, gateway ready ${READY}s"
echo "TIMING cloud_init_done=${CI_DONE}s gateway_ready=${READY}s"

# -- cloud-init itself
st=$(cloud-init status --long 2>&1 | tr '\n' ' ')
errs=$(python3 -c 'import json;d=json.load(open("/run/cloud-init/result.json"))["v1"];print("; ".join(d.get("errors",[])))' 2>/dev/null)
if cloud-init status 2>&1 | grep -q 'status: done' && [ -z "$errs" ]; then
  check cloudinit_done PASS "$st"
else
  check cloudinit_done FAIL "$st errors: $errs"
  grep -E 'WARNING|ERROR|Traceback|failed' /var/log/cloud-init.log | tail -n 30 | sed 's/^/  | /'
  tail -n 40 /var/log/cloud-init-output.log | sed 's/^/  | /'
fi
sch=$(cloud-init schema --system 2>&1); rc=$?; sch=$(echo "$sch" | tr '\n' ' ')
if [ $rc -eq 0 ] && ! echo "$sch" | grep -qi 'invalid\|error'; then check cloudinit_schema PASS "$sch"; else check cloudinit_schema FAIL "$sch"; fi
nwarn=$(grep -c ' WARNING' /var/log/cloud-init.log 2>/dev/null || true)
info "cloud-init.log has ${nwarn:-0} WARNING lines"
grep ' WARNING' /var/log/cloud-init.log 2>/dev/null | head -n 10 | sed 's/^/  | /'
info "imds requests: $(grep -c '^IMDS' /run/e2e/imds.log 2>/dev/null) ($(grep '^IMDS' /run/e2e/imds.log 2>/dev/null | awk '{print $2, $3, $4}' | sort | uniq -c | tr '\n' ';' | tr -s ' '))"
info "gateway ipsec leftid files: $(grep -rhoE 'leftid=[^ ]*' /etc/ipsec.conf /etc/ipsec.d 2>/dev/null | sort -u | tr '\n' ' ')"
if gateway_ready; then check gateway_services PASS "pluto on 500/4500 with l2tp-psk loaded, xl2tpd on 1701 at ${READY}s uptime"; else
  check gateway_services FAIL "not ready: $(gateway_ready_detail)"
  systemctl --no-pager status ipsec xl2tpd 2>&1 | tail -n 30 | sed 's/^/  | /'
fi
check_pluto_config_clean

# -- the firewall as an outsider meets it (before any client: nothing established yet)
if profile_has full; then
check_firewall_policies
check_ssh_closed
check_ipv6_default_deny
fi

# -- capture the public link (the router's uplink) while the clients work
ip netns exec vpc tcpdump -i up0 -n -U -w /run/e2e/public.pcap >/run/e2e/tcpdump.log 2>&1 &
TCPDUMP=$!
sleep 1

# -- user 1 (dynamic address), behind the home NAT
if connect c1 "$U1" "$U1P" "$PSK"; then
  if in_pool "$C_LOCAL" "$POOL" && [ "$C_LOCAL" != "$GWPPP" ]; then
    check user1_pool_address PASS "$U1 got $C_LOCAL from $POOL (tunnel up in ${C_SECS}s)"
  else check user1_pool_address FAIL "$U1 got $C_LOCAL, not a client address in $POOL"; fi
  if [ "$C_PEER" = "$GWPPP" ] && pings c1 "$GWPPP"; then check user1_ping_gateway PASS "pinged $GWPPP"; else check user1_ping_gateway FAIL "peer $C_PEER, ping $GWPPP failed"; fi
  seen=$(whoami_via c1 $FAR)
  if [ "$seen" = "$PUB" ]; then check user1_far_host_nat PASS "far host saw $seen"; else check user1_far_host_nat FAIL "far host saw '${seen}' (want $PUB)"; fi
  U1_ADDR=$C_LOCAL
  # the seed's reason to exist: private instances in the VPC, reached through the gateway
  seen=$(whoami_via c1 $VPCHOST)
  if [ "$seen" = 172.31.16.10 ]; then check user1_reaches_vpc_host PASS "VPC host $VPCHOST answered; it saw the gateway's private address $seen"
  else check user1_reaches_vpc_host FAIL "VPC host $VPCHOST saw '${seen}' (want 172.31.16.10)"; fi
  profile_has full && check_no_metadata c1
  info "user1 pppd auth: $(grep -oE 'auth chap [A-Za-z0-9-]+' /var/log/e2e-pppd-c1.log | tail -n 1), $(grep -oE 'CHAP authentication succeeded' /var/log/e2e-pppd-c1.log | head -n 1)"
  info "user1 charon: $(grep -E 'selected proposal|NAT|established' /run/e2e/c1/swanctl-initiate.out | sed 's/^\[[A-Z]*\] //' | cut -c1-90 | head -n 6 | tr '\n' ';')"
else
  check user1_pool_address FAIL "$C_ERR"; check user1_ping_gateway FAIL "not connected"; check user1_far_host_nat FAIL "not connected"
  check user1_reaches_vpc_host FAIL "not connected"; profile_has full && check client_no_metadata FAIL "not connected"
  dump_logs /run/e2e/c1/swanctl-initiate.out /var/log/e2e-charon-c1.log /var/log/e2e-pppd-c1.log /var/log/e2e-xl2tpd-c1.log
  journalctl -b -u ipsec -u xl2tpd --no-pager -n 40 | sed 's/^/  | /'
fi
# -- what the first boot did about the image's kernel, with user 1's session up
check_image_kernel
# the kernel profile ends here: reboot with user 1 connected
[ "$PROFILE" = kernel ] && end_phase1
# -- real platforms' clients, one after another through the home NAT; two devices behind it at once
if profile_has full || profile_has platforms; then
  run_platform_checks
  connect c1 "$U1" "$U1P" "$PSK" >/dev/null   # user 1 connected again, as before the platform step
  # IKEv2 beside L2TP (user 1's L2TP session on c1 up at the start)
  run_ikev2_checks
  for ns in c1 c2 c3; do ikev2_down $ns >/dev/null 2>&1; done
  connect c1 "$U1" "$U1P" "$PSK" >/dev/null
fi
# the platforms and live profiles end here: the live checks (users and PSK changed in SSM while the
# gateway runs), then the reboot with user 1 (and the live checks' last user on c2) connected
if ! profile_has full; then
  run_live_checks
  end_phase1
fi

# -- user 2 (static address), directly on the internet, while user 1 stays connected
if [ -n "$U2" ]; then
  if connect c2 "$U2" "$U2P" "$PSK"; then
    if [ "$C_LOCAL" = "$U2IP" ]; then check user2_static_address PASS "$U2 got exactly $U2IP (tunnel up in ${C_SECS}s)"; else check user2_static_address FAIL "$U2 got $C_LOCAL, want $U2IP"; fi
    if pings c2 "$GWPPP"; then check user2_ping_gateway PASS "pinged $GWPPP"; else check user2_ping_gateway FAIL "ping $GWPPP failed"; fi
    seen=$(whoami_via c2 $FAR)
    if [ "$seen" = "$PUB" ]; then check user2_far_host_nat PASS "far host saw $seen"; else check user2_far_host_nat FAIL "far host saw '${seen}' (want $PUB)"; fi
  else
    check user2_static_address FAIL "$C_ERR"; check user2_ping_gateway FAIL "not connected"; check user2_far_host_nat FAIL "not connected"
    dump_logs /run/e2e/c2/swanctl-initiate.out /var/log/e2e-charon-c2.log /var/log/e2e-pppd-c2.log /var/log/e2e-xl2tpd-c2.log
    journalctl -b -u ipsec -u xl2tpd --no-pager -n 40 | sed 's/^/  | /'
  fi
  a1=$(ppp_addr c1); a2=$(ppp_addr c2)
  if [ -n "$a1" ] && [ -n "$a2" ] && [ "$a1" != "$a2" ] && pings c1 "$GWPPP" && pings c2 "$GWPPP"; then
    check two_users_concurrent PASS "$U1 ($a1) and $U2 ($a2) both up and pinging $GWPPP"
    check_client_to_client "$a1" "$a2"
  else check two_users_concurrent FAIL "c1='$a1' c2='$a2'"; check client_to_client_blocked FAIL "not both connected"; fi
else
  info "config has no user with a static ip: static-address and concurrency checks skipped"
fi

# -- what crossed the public link
sleep 1; kill -INT $TCPDUMP; wait $TCPDUMP 2>/dev/null
cnt() { tcpdump -r /run/e2e/public.pcap -n "$1" 2>/dev/null | wc -l; }
clients="(host 198.51.100.2 or host 198.51.100.66)"
n1701=$(cnt "udp port 1701"); nike=$(cnt "udp port 500"); n4500=$(cnt "udp port 4500")
nespudp=$(cnt "udp port 4500 and udp[8:4] != 0"); nesp=$(cnt "ip proto 50")
# The clients' NAT routers answer the gateway's NAT-T packets for a client that has gone with ICMP
# port unreachable (the harness tears clients down often): errors sent TO the gateway, carrying
# the head of an encrypted packet, not tunnel content. Anything else is "other".
unreach="dst host $PUB and icmp[icmptype] == icmp-unreach"
nunreach=$(cnt "$clients and $unreach")
other="host $PUB and $clients and not (udp port 500 or udp port 4500) and not ($unreach)"
nother=$(cnt "$other")
info "public link: $nike IKE/500, $n4500 udp/4500 ($nespudp ESP-in-UDP), $nesp raw ESP, $n1701 udp/1701, $nunreach ICMP unreachable from clients' NATs, $nother other client<->gateway"
if [ "$n1701" = 0 ] && [ "$nother" = 0 ] && [ "$nespudp" -gt 0 ]; then
  check public_link_only_ipsec PASS "only IKE and ESP-in-UDP between clients and $PUB ($nespudp ESP-in-UDP packets, 0 udp/1701; $nunreach ICMP unreachable from clients' NATs)"
else
  check public_link_only_ipsec FAIL "udp/1701=$n1701 other=$nother esp-in-udp=$nespudp"
  tcpdump -r /run/e2e/public.pcap -n "($other) or udp port 1701" 2>/dev/null | head -n 5 | sed 's/^/  | /'
fi
client_down c1; client_down c2
sleep 2   # pppd's ip-down runs as the sessions close
check_connection_logged "$U1" "${U1_ADDR:-none}" ${U2:+"$U2" "$U2IP"}

# -- cleartext L2TP (no IPsec) must get no answer. Positive control: the same probe on the
# gateway's loopback shows the probe is one xl2tpd answers when it is reachable.
info "probe control on gateway loopback: $(python3 $LIB/l2tp_probe.py 127.0.0.1 3)"
if ! r=$(ip netns exec c2 python3 $LIB/l2tp_probe.py "$PUB" 6); then check l2tp_without_ipsec_ignored PASS "SCCRQ to $PUB:1701 in clear: $r"; else check l2tp_without_ipsec_ignored FAIL "$r"; fi

# -- wrong password: IPsec comes up, PPP authentication must fail
if connect c1 "$U1" "wrong-$U1P" "$PSK"; then
  check wrong_password_refused FAIL "$U1 with a wrong password got $C_LOCAL"
else
  if echo "$C_ERR" | grep -q 'no PPP address'; then check wrong_password_refused PASS "IPsec up, PPP refused: $C_ERR"
  else check wrong_password_refused FAIL "failed before PPP (cannot tell): $C_ERR"; fi
fi
client_down c1
# -- wrong PSK: IKE must not complete
client_config c1 "$U1" "$U1P" "wrong-$PSK" "$PUB"
if ipsec_up c1; then
  check wrong_psk_refused FAIL "IKE/IPsec established with a wrong PSK"
elif grep -q 'initiate failed' /run/e2e/c1/swanctl-initiate.out 2>/dev/null; then
  check wrong_psk_refused PASS "no SA: $(grep -vE '^\s*$' /run/e2e/c1/swanctl-initiate.out | tail -n 1)"
else
  check wrong_psk_refused FAIL "the client did not run: $(cat /run/e2e/c1/swanctl-*.out 2>/dev/null | tail -n 2 | tr '\n' ' ')"
fi
client_down c1

# -- the product's deploy-time health probe (cli/probe.ts + components/health/ikeProbe.ts, compiled on
# the host onto the param drive), run with Debian's nodejs from c2 (directly on the internet)
# against the PUBLIC address, through the 1:1 NAT, as `pulumi up` would run it.
PROBE_JS=/srv/e2e/probe/cli/probe.js
# run_probe TIMEOUT INTERVAL -> PR_RC PR_JSON PR_WALL (seconds, wall clock) PR_READY PR_SECS
run_probe() {
  local t0 out; t0=$(date +%s.%N)
  out=$(node_run c2 $PROBE_JS --host "$PUB" --timeout "$1" --interval "$2" 2>/run/e2e/probe.err); PR_RC=$?
  PR_WALL=$(python3 -c "import time;print('%.1f' % (time.time()-$t0))")
  PR_JSON=$(echo "$out" | tail -n 1)
  PR_READY=$(echo "$PR_JSON" | python3 -c 'import json,sys
try: print(str(json.loads(sys.stdin.read())["ready"]).lower())
except Exception: print("unparsable")')
  PR_SECS=$(echo "$PR_JSON" | python3 -c 'import json,sys
try: print(json.loads(sys.stdin.read())["seconds"])
except Exception: print("?")')
  info "probe (timeout $1 s, interval $2 s): exit $PR_RC in ${PR_WALL}s wall: $PR_JSON; stderr: $(tail -n 2 /run/e2e/probe.err | tr '\n' ' ' | cut -c1-200)"
}
if [ ! -r $PROBE_JS ]; then
  for n in health_probe_ready health_probe_not_ready_when_pluto_stopped health_probe_ready_after_ipsec_restart; do
    check $n FAIL "the probe was not compiled onto the param drive (see run.sh's log / probe-tsc.log)"; done
elif ! node_unpack || ! node_run c2 -e 'process.exit(0)' 2>/run/e2e/node.err; then
  for n in health_probe_ready health_probe_not_ready_when_pluto_stopped health_probe_ready_after_ipsec_restart; do
    check $n FAIL "node does not run: $(head -c 300 /run/e2e/node.err)"; done
else
  info "node for the probe: $(node_run c2 --version 2>&1)"
  # ready: the gateway is up, so the probe must say so well within its bound
  run_probe 60 5
  if [ $PR_RC = 0 ] && [ "$PR_READY" = true ]; then
    check health_probe_ready PASS "ready in ${PR_SECS}s (bound 60 s, ${PR_WALL}s wall incl. node start): $PR_JSON"
  else check health_probe_ready FAIL "exit $PR_RC ready=$PR_READY: $PR_JSON"; fi
  # not ready: pluto stopped (an explicit stop: Restart=always does not bring it back)
  systemctl stop ipsec
  for _ in $(seq 1 20); do ss -lunp | grep -q pluto || break; sleep 0.5; done
  if ss -lunp | grep -q pluto; then
    check health_probe_not_ready_when_pluto_stopped FAIL "pluto still listening after systemctl stop ipsec"
  else
    # bound: timeout + 5 s after the probe's first request. node's own start-up (4-6 s under TCG
    # while the cores are shared) comes on top of that and is measured separately.
    t0=$(date +%s.%N); node_run c2 -e 0; NODE_START=$(python3 -c "import time;print('%.1f' % (time.time()-$t0))")
    run_probe 15 2
    if [ $PR_RC = 1 ] && [ "$PR_READY" = false ] && python3 -c "import sys;sys.exit(0 if $PR_SECS <= 20 and $PR_WALL <= 20 + $NODE_START else 1)" 2>/dev/null; then
      check health_probe_not_ready_when_pluto_stopped PASS "exit 1, ready=false after ${PR_SECS}s by the probe's clock (bound 15+5 s; ${PR_WALL}s wall incl. node start-up ${NODE_START}s): $PR_JSON"
    else check health_probe_not_ready_when_pluto_stopped FAIL "exit $PR_RC ready=$PR_READY after ${PR_SECS}s probe clock, ${PR_WALL}s wall, node start-up ${NODE_START}s (want exit 1, ready=false within 15+5 s): $PR_JSON"; fi
  fi
  # and back: start ipsec, wait for pluto, the probe must say ready again
  t0=$(up); systemctl start ipsec
  for _ in $(seq 1 120); do gateway_ready && break; sleep 0.5; done
  t1=$(up)
  run_probe 60 5
  if gateway_ready && [ $PR_RC = 0 ] && [ "$PR_READY" = true ]; then
    check health_probe_ready_after_ipsec_restart PASS "pluto listening $(python3 -c "print('%.1f' % ($t1-$t0))")s after systemctl start ipsec; probe ready in ${PR_SECS}s"
  else
    check health_probe_ready_after_ipsec_restart FAIL "gateway_ready=$(gateway_ready && echo yes || echo no) probe exit $PR_RC ready=$PR_READY: $PR_JSON"
    systemctl --no-pager status ipsec 2>&1 | tail -n 15 | sed 's/^/  | /'
  fi
fi

# -- a client vanishes (c1: link down, processes killed) while another floods the gateway with
# failed logins (c2); DPD / LCP echo must clean up the first, the second must lock nobody out
NFAIL=${E2E_FAILED_LOGINS:-200}
FL_OK=yes
vanish_start c1; VW=$?
failed_logins_start 8 || { FL_OK=no; info "failed-logins attackers: $FL_ERR"; }
if [ $VW = 0 ]; then
  vanish_wait 240; VW=$?
  info "vanished client: gateway dropped the PPP session after ${VANISH_PPP_S}, the IPsec SAs after ${VANISH_SA_S}"
fi
# the flood: until the gateway has refused NFAIL logins (bounded)
t0=$(up)
FL_END=$((SECONDS + ${E2E_FAILED_LOGINS_BOUND:-600}))
while [ $SECONDS -lt $FL_END ]; do [ $FL_OK = no ] || [ "$(failed_logins_count)" -ge "$NFAIL" ] && break; failed_logins_kick; sleep 3; done
NF=$(failed_logins_count); FL_SECS=$(python3 -c "print('%.0f' % ($(up)-$t0))")
failed_logins_stop
info "failed logins: the gateway refused $NF logins ($FL_KICKS attacker restarts; pppd: $(journalctl --since "$FL_J0" -t pppd -o cat --no-pager | grep -c 'CHAP peer authentication succeeded') succeeded, $(journalctl --since "$FL_J0" -t pppd -o cat --no-pager | grep -c 'No CHAP secret found') for unknown names)"
# the vanished client's link comes back (with its default route, which went down with it), and
# the gateway's sessions of the attackers have closed
ip -n c1 link set eth0 up; ip -n c1 route replace default via 192.168.1.1
for _ in $(seq 1 30); do [ "$(ip -o link show type ppp | wc -l)" = 0 ] && break; sleep 2; done
if [ $VW = 0 ]; then
  client_down c1
  if connect c1 "$U1" "$U1P" "$PSK" && [ "$C_LOCAL" = "$VANISH_ADDR" ]; then
    check vanished_client_cleaned PASS "session of $U1 ($VANISH_ADDR) gone from the gateway after ${VANISH_PPP_S}, its IPsec SAs after ${VANISH_SA_S}; $U1 got $VANISH_ADDR again"
  else check vanished_client_cleaned FAIL "cleaned up (PPP ${VANISH_PPP_S}, SA ${VANISH_SA_S}), but $U1 got '${C_LOCAL}' (want $VANISH_ADDR): ${C_ERR}"; fi
  client_down c1
else
  check vanished_client_cleaned FAIL "${VANISH_ERR:-the gateway still holds it after 240 s: PPP session gone after ${VANISH_PPP_S}, IPsec SAs gone after ${VANISH_SA_S}}"
  client_down c1
fi
# the good user after the flood
if [ "$NF" -ge "$NFAIL" ] && connect c2 "${U2:-$U1}" "${U2P:-$U1P}" "$PSK" && pings c2 "$GWPPP"; then
  check failed_logins_dont_lock_out PASS "$NF failed logins refused by the gateway in ${FL_SECS}s; then ${U2:-$U1} connected ($C_LOCAL, tunnel up in ${C_SECS}s)"
else check failed_logins_dont_lock_out FAIL "the gateway refused $NF of $NFAIL logins in ${FL_SECS}s; good user: ${C_ERR:-${C_LOCAL:-not tried}}"; fi
client_down c2

# -- re-applying the firewall duplicates nothing
check_firewall_rerun
# -- daemons killed with SIGKILL come back (Restart=always) and take clients again
check_daemon_kill9 xl2tpd.service xl2tpd_kill9_recovers
check_daemon_kill9 ipsec.service pluto_kill9_recovers
# -- full+live: users and PSK changed in SSM while the gateway runs (nothing when the profile has no live part)
run_live_checks
# -- after all of the above: no secret in any log (the live checks' secrets too)
check_no_secrets_in_logs no_secrets_in_logs

# -- remember what a reboot must not change, then reboot on the same disk with clients connected
connect c1 "$U1" "$U1P" "$PSK" >/dev/null; a=${C_LOCAL:-none}
[ -n "$U2" ] && connect c2 "$U2" "$U2P" "$PSK" >/dev/null
end_phase1
