#!/bin/bash
# Hardening checks (not product), sourced by harness.sh after client.sh: the firewall as an
# outsider meets it, secrets and logs, and faults. Each check_* function prints CHECK lines via
# harness.sh's check/info and must fail when the protection it names is removed (e2e/mutants.sh).

# tcp_probe NS HOST PORT -> prints open | refused | timeout ("root" = the gateway's namespace)
tcp_probe() {
  local pre=(); [ "$1" != root ] && pre=(ip netns exec "$1")
  "${pre[@]}" python3 - "$2" "$3" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(4)
try:
    s.connect(socket.getaddrinfo(host, port, fam, socket.SOCK_STREAM)[0][4]); print("open")
except ConnectionRefusedError: print("refused")
except (socket.timeout, TimeoutError): print("timeout")
except OSError as e: print("error:%s" % e.strerror)
PY
}

# A stand-in for sshd (the AMI has one; the test image has none): listens on TCP 22, IPv4+IPv6.
ssh_standin_start() {
  setsid python3 - >/run/e2e/ssh-standin.log 2>&1 </dev/null <<'PY' &
import socket
try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("::", 22))
except OSError:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 22))
s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"SSH-2.0-e2e-standin\r\n"); c.close()
PY
  SSH_STANDIN=$!
  for _ in $(seq 1 20); do ss -ltn | grep -q ':22 ' && return 0; sleep 0.25; done
}
ssh_standin_stop() { kill "$SSH_STANDIN" 2>/dev/null; wait "$SSH_STANDIN" 2>/dev/null; }

fw_rule_count() { echo $(( $(iptables-save | grep -c '^-A') + $(ip6tables-save | grep -c '^-A') )); }

# INPUT and FORWARD default to DROP, for IPv4 and IPv6, on the running gateway.
check_firewall_policies() {
  local p4 p6; p4=$(iptables -S | grep '^-P' | tr '\n' ' '); p6=$(ip6tables -S | grep '^-P' | tr '\n' ' ')
  if [[ "$p4" == *"-P INPUT DROP"* && "$p4" == *"-P FORWARD DROP"* && "$p6" == *"-P INPUT DROP"* && "$p6" == *"-P FORWARD DROP"* ]]; then
    check firewall_policies_drop PASS "IPv4: $p4| IPv6: $p6"
  else check firewall_policies_drop FAIL "IPv4: $p4| IPv6: $p6"; fi
}

# SSH (a listener on TCP 22) is unreachable from the internet and from the VPC when no
# adminCidr is set; the gateway itself reaches it (so the listener is really there).
check_ssh_closed() {
  ssh_standin_start
  local local_r pub_r vpc_r; local_r=$(tcp_probe root 127.0.0.1 22)
  pub_r=$(tcp_probe c2 "$PUB" 22); vpc_r=$(tcp_probe vpchost 172.31.16.10 22)
  ssh_standin_stop
  # with adminCidr, only addresses inside it reach SSH: c2 (198.51.100.66) and the VPC host
  # (172.31.32.20) are each expected open or dropped accordingly
  local admin want_pub=timeout want_vpc=timeout; admin=$(pj admin_cidr)
  if [ -n "$admin" ]; then
    in_pool 198.51.100.66 "$admin" && want_pub=open
    in_pool 172.31.32.20 "$admin" && want_vpc=open
  fi
  if [ "$local_r" = open ] && [ "$pub_r" = $want_pub ] && [ "$vpc_r" = $want_vpc ]; then
    check ssh_port_closed PASS "TCP 22 listener open on the gateway itself; from the internet (198.51.100.66 -> $PUB): $pub_r, from the VPC host: $vpc_r (adminCidr: ${admin:-none}; dropped = no answer, not even a RST)"
  else check ssh_port_closed FAIL "gateway itself: $local_r; internet -> $PUB:22: $pub_r (want $want_pub); VPC -> 172.31.16.10:22: $vpc_r (want $want_vpc); adminCidr: ${admin:-none}"; fi
}

# IPv6: the link-local address of the public interface answers ICMPv6 (the link needs it) but
# nothing else: TCP 22 from the VPC router's side of the link is dropped.
check_ipv6_default_deny() {
  local ll; ll=$(ip -6 -o addr show dev ens5 scope link 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -n 1)
  if [ -z "$ll" ]; then check ipv6_default_deny FAIL "ens5 has no IPv6 link-local address ($(sysctl -n net.ipv6.conf.ens5.disable_ipv6 2>&1))"; return; fi
  ssh_standin_start
  local ping6=no r; ip netns exec vpc ping -6 -c 2 -i 0.3 -W 2 "$ll%gw0" >/dev/null 2>&1 && ping6=yes
  r=$(tcp_probe vpc "$ll%gw0" 22)
  ssh_standin_stop
  if [ $ping6 = yes ] && [ "$r" = timeout ]; then check ipv6_default_deny PASS "$ll: ICMPv6 echo answered, TCP 22 dropped"
  else check ipv6_default_deny FAIL "$ll: ping6 $ping6, TCP 22 $r (want yes, timeout)"; fi
}

# Re-applying the firewall (service restart) must replace the rules, not append to them.
check_firewall_rerun() {
  local before after; before=$(fw_rule_count)
  systemctl restart vpn-gateway-firewall.service; after=$(fw_rule_count)
  if [ "$before" -gt 0 ] && [ "$before" = "$after" ]; then check firewall_rerun_no_duplicates PASS "$before rules before and after restarting vpn-gateway-firewall"
  else check firewall_rerun_no_duplicates FAIL "$before rules before, $after after restarting vpn-gateway-firewall"; fi
}

# A connected client cannot reach the metadata service (it serves the user-data, secrets
# included), while the gateway itself can.
check_no_metadata() {  # check_no_metadata NS
  local ns=$1 gw_tok cl_tok rc
  gw_tok=$(curl -s --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
  ip -n "$ns" route replace 169.254.169.254/32 dev "${ns}ppp"
  cl_tok=$(ip netns exec "$ns" curl -s --max-time 6 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token); rc=$?
  ip -n "$ns" route del 169.254.169.254/32 2>/dev/null
  if [ -n "$gw_tok" ] && [ -z "$cl_tok" ]; then check client_no_metadata PASS "gateway got an IMDSv2 token; the client through the tunnel got nothing (curl exit $rc)"
  else check client_no_metadata FAIL "gateway token: $([ -n "$gw_tok" ] && echo yes || echo none); the client through the tunnel: $([ -n "$cl_tok" ] && echo 'GOT A TOKEN' || echo none) (curl exit $rc)"; fi
}

# Two connected clients cannot reach each other unless allowClientToClient is set.
check_client_to_client() {  # check_client_to_client ADDR1 ADDR2
  local a1=${1%/*} a2=${2%/*} ok=no
  ip -n c1 route replace "$a2"/32 dev c1ppp; ip -n c2 route replace "$a1"/32 dev c2ppp
  ip netns exec c1 ping -c 3 -i 0.3 -W 2 "$a2" >/dev/null 2>&1 && ok=yes
  ip -n c1 route del "$a2"/32 2>/dev/null; ip -n c2 route del "$a1"/32 2>/dev/null
  if [ "$(pj allow_client_to_client)" = True ]; then
    if [ $ok = yes ]; then check client_to_client_allowed PASS "$a1 pinged $a2 (allowClientToClient: true)"; else check client_to_client_allowed FAIL "$a1 could not ping $a2 although allowClientToClient is true"; fi
  else
    if [ $ok = no ]; then check client_to_client_blocked PASS "$a1 cannot ping $a2 (both reach the gateway)"; else check client_to_client_blocked FAIL "$a1 pinged $a2 (allowClientToClient is false)"; fi
  fi
}

# Each session is logged to the journal with user, pool address and the client's public
# address; the disconnect too.
check_connection_logged() {  # check_connection_logged USER ADDR [USER ADDR]...
  local j miss="" u a; j=$(journalctl -b -t vpn-gateway -o cat --no-pager 2>/dev/null)
  while [ $# -ge 2 ]; do
    u=$1 a=$2; shift 2
    echo "$j" | grep -q "^connect user=$u address=$a from=[0-9]" || miss="$miss connect($u,$a)"
    echo "$j" | grep -q "^disconnect user=$u address=$a from=[0-9].* seconds=[0-9]" || miss="$miss disconnect($u,$a)"
  done
  if [ -z "$miss" ]; then check connection_logged PASS "$(echo "$j" | grep -c 'connect user=') session lines, e.g. '$(echo "$j" | grep '^connect user=' | head -n 1 | cut -c1-160)' '$(echo "$j" | grep '^disconnect user=' | head -n 1 | cut -c1-200)'"
  else check connection_logged FAIL "missing:$miss; journal has: $(echo "$j" | tail -n 4 | tr '\n' ' ' | cut -c1-400)"; fi
}

# The PSK and every password appear in no log: the whole journal of this boot and every file
# under /var/log (the test clients' own logs, /var/log/e2e-*, excluded). Control: the same scan
# finds them in /etc/ipsec.secrets and /etc/ppp/chap-secrets, where they belong. The live checks'
# own secrets (live.sh: passwords and a PSK that went through SSM, one line each in
# /var/lib/e2e/live-secrets) are searched too, without the control (most are gone from the files).
check_no_secrets_in_logs() {  # check_no_secrets_in_logs CHECK_NAME
  journalctl -b --no-pager -o cat > /run/e2e/journal.txt 2>/dev/null
  local r; r=$(python3 - /srv/e2e/params.json /run/e2e/journal.txt /var/lib/e2e/live-secrets <<'PY'
import json, os, sys
p = json.load(open(sys.argv[1]))
secrets = [("psk", p["psk"])] + [("password of " + u["name"], u["password"]) for u in p["users"]]
try:
    live = [("live check secret %d" % (i + 1), s) for i, s in enumerate(open(sys.argv[3]).read().split())]
except OSError:
    live = []
def scan(path):
    try: data = open(path, "rb").read()
    except OSError: return None
    return [what for what, s in secrets if s.encode() in data]
control = (scan("/etc/ipsec.secrets") or []) + (scan("/etc/ppp/chap-secrets") or [])
if len(control) != len(secrets):
    print("CONTROL the scan did not find every secret where it belongs: found %s" % control); sys.exit()
secrets += live
files = ["journal (this boot)"]
found = ["%s in the journal" % w for w in scan(sys.argv[2])]
for root, dirs, names in os.walk("/var/log"):
    for n in names:
        path = os.path.join(root, n)
        if n.startswith("e2e-") or path.startswith("/var/log/journal"): continue
        files.append(path)
        found += ["%s in %s" % (w, path) for w in scan(path) or []]
print(("LEAK " + "; ".join(found)) if found else "CLEAN %d secrets, %d sources: %s" % (len(secrets), len(files), " ".join(files)))
PY
)
  case "$r" in
    CLEAN*) check "$1" PASS "${r#CLEAN }" ;;
    *) check "$1" FAIL "$r" ;;
  esac
}

# kill -9 of a VPN daemon: systemd brings it back, and a client connects again. The daemon is
# found through its unit (the test clients run their own xl2tpd in the same PID namespace).
check_daemon_kill9() {  # check_daemon_kill9 UNIT CHECK_NAME
  local unit=$1 name=$2 old new t0 back
  old=$(systemctl show -p MainPID --value "$unit")
  if [ -z "$old" ] || [ "$old" = 0 ]; then check "$name" FAIL "$unit has no main process to kill"; return; fi
  local comm; comm=$(cat "/proc/$old/comm" 2>/dev/null)
  t0=$(up); kill -9 "$old"
  for _ in $(seq 1 120); do
    new=$(systemctl show -p MainPID --value "$unit")
    [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$old" ] && gateway_ready && break
    sleep 0.5
  done
  back=$(python3 -c "print('%.1f' % ($(up)-$t0))")
  if [ -z "$new" ] || [ "$new" = 0 ] || [ "$new" = "$old" ] || ! gateway_ready; then
    check "$name" FAIL "$comm (pid $old) killed with SIGKILL; not back within 60 s: $(systemctl show -p ActiveState,SubState,Result,NRestarts "$unit" | tr '\n' ' ')"
    return
  fi
  if connect c1 "$U1" "$U1P" "$PSK" && pings c1 "$GWPPP"; then
    check "$name" PASS "$comm pid $old killed with SIGKILL, $unit back as pid $new after ${back}s; $U1 connected again ($C_LOCAL, tunnel up in ${C_SECS}s)"
  else check "$name" FAIL "$unit back as pid $new after ${back}s, but the client did not connect: ${C_ERR:-ping failed}"; fi
  client_down c1
}

# ---- a client that vanishes, and a flood of failed logins (run at the same time) -----------
HOME_NAT=198.51.100.2   # c1's public address as the gateway sees it (the home router's)
gw_has_session() { ip -o -4 addr show | grep -q "peer $1/32"; }   # gateway side of a PPP link
gw_has_sa_with() { ip xfrm state | grep -qE "(src|dst) $1( |$)"; }

# vanish_start NS: connect, then the client disappears without a goodbye: its link goes down
# and its charon, xl2tpd and pppd are killed with SIGKILL. Sets VANISH_ADDR, VANISH_T0 (and
# VANISH_ERR when it cannot: harness.sh reports it).
# shellcheck disable=SC2034  # VANISH_ERR is read by harness.sh
vanish_start() {
  local ns=$1 f p
  VANISH_ADDR=""
  connect "$ns" "$U1" "$U1P" "$PSK" || { VANISH_ERR="could not connect: $C_ERR"; return 1; }
  VANISH_ADDR=$C_LOCAL
  { gw_has_session "$VANISH_ADDR" && gw_has_sa_with "$HOME_NAT"; } || { VANISH_ERR="gateway shows no session for $VANISH_ADDR"; return 1; }
  ip -n "$ns" link set eth0 down
  for f in /run/e2e/$ns/run/charon.pid /run/e2e/$ns/xl2tpd.pid /run/${ns}ppp.pid; do
    p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] && kill -9 "$p" 2>/dev/null
  done
  VANISH_T0=$(up)
  say "$ns ($U1, $VANISH_ADDR) vanished at ${VANISH_T0}s"
}

# vanish_wait BOUND: until the gateway has dropped the PPP session and the IPsec SAs of the
# vanished client. Sets VANISH_PPP_S and VANISH_SA_S ("Ns" after vanishing, or "never").
vanish_wait() {
  local bound=$1 now
  VANISH_PPP_S=never; VANISH_SA_S=never
  while :; do
    now=$(python3 -c "print('%.0f' % ($(up)-$VANISH_T0))")
    [ "$VANISH_PPP_S" = never ] && ! gw_has_session "$VANISH_ADDR" && VANISH_PPP_S=${now}s
    [ "$VANISH_SA_S" = never ] && ! gw_has_sa_with "$HOME_NAT" && VANISH_SA_S=${now}s
    [ "$VANISH_PPP_S" != never ] && [ "$VANISH_SA_S" != never ] && return 0
    [ "$now" -ge "$bound" ] && return 1
    [ -n "$FL_NS" ] && failed_logins_kick   # the flood runs meanwhile
    sleep 5
  done
}

# failed_logins_start PARALLEL: PARALLEL attackers (namespaces fNN on the internet, each its own
# address) hold a valid IPsec SA each (the PSK is shared by every user, so this is what a
# user-turned-attacker can do) and their xl2tpd LAC redials with a wrong password (odd ones for a
# real user, even ones for an unknown name) until failed_logins_stop. One tunnel per address:
# several L2TP tunnels between the same two addresses and ports collide in the kernel.
FL_NS=""
# shellcheck disable=SC2034  # FL_ERR is read by harness.sh
failed_logins_start() {
  local par=$1 k ns name pids=()
  FL_NS=""; FL_J0=$(date '+%Y-%m-%d %H:%M:%S')
  ip -n inet link show fbr0 >/dev/null 2>&1 || {
    ip -n inet link add fbr0 type bridge && ip -n inet link set fbr0 up && ip -n inet addr add 198.19.0.1/24 dev fbr0; }
  for k in $(seq 1 "$par"); do
    ns=$(printf 'f%02d' "$k"); FL_NS="$FL_NS $ns"
    if ! ip netns list | grep -qw "$ns"; then
      ip netns add "$ns"; ip -n "$ns" link set lo up
      ip -n inet link add "fv$k" type veth peer name eth0 netns "$ns"
      ip -n inet link set "fv$k" master fbr0 up; ip -n "$ns" link set eth0 up
      ip -n "$ns" addr add "198.19.0.$((10 + k))/24" dev eth0; ip -n "$ns" route add default via 198.19.0.1
    fi
    name=$U1; [ $((k % 2)) = 0 ] && name="nobody-$k"
    client_down "$ns" >/dev/null 2>&1
    client_config "$ns" "$name" "wrong-$k-$U1P" "$PSK" "$PUB"
    sed -i 's/^redial = no$/redial = yes\nredial timeout = 1/' "/etc/netns/$ns/xl2tpd/xl2tpd.conf"
    : > "/var/log/e2e-pppd-$ns.log"; rm -f "/run/e2e/$ns/sa.ok"
    # (in a subshell each, waited for by pid: the clients' daemons are background jobs too)
    ( ipsec_up "$ns" && touch "/run/e2e/$ns/sa.ok" && l2tp_up "$ns" 1 >/dev/null ) &
    pids+=("$!")
  done
  wait "${pids[@]}"
  local ok=0; for ns in $FL_NS; do [ -e "/run/e2e/$ns/sa.ok" ] && ok=$((ok + 1)); done
  [ "$ok" -gt 0 ] || { FL_ERR="no attacker got an IPsec SA: $(tail -n 1 /run/e2e/f01/swanctl-initiate.out)"; return 1; }
  info "failed logins: $ok of $par attackers have an IPsec SA and are redialling"
}
# A redialling xl2tpd LAC sometimes wedges its tunnel ("out of order control packet"): an
# attacker whose own pppd has logged no new failure for 25 s gets a fresh xl2tpd (a new tunnel).
declare -A FL_LAST FL_SINCE
failed_logins_kick() {
  local ns c p
  for ns in $FL_NS; do
    [ -e "/run/e2e/$ns/sa.ok" ] || continue
    c=$(grep -c 'CHAP authentication failed' "/var/log/e2e-pppd-$ns.log" 2>/dev/null)
    if [ "$c" != "${FL_LAST[$ns]:-}" ]; then FL_LAST[$ns]=$c; FL_SINCE[$ns]=$SECONDS; continue; fi
    [ $((SECONDS - ${FL_SINCE[$ns]:-$SECONDS})) -lt 25 ] && continue
    p=$(cat "/run/e2e/$ns/xl2tpd.pid" 2>/dev/null); [ -n "$p" ] && kill "$p" 2>/dev/null
    sleep 1; ( l2tp_up "$ns" 1 >/dev/null ) ; FL_SINCE[$ns]=$SECONDS; FL_KICKS=$((FL_KICKS + 1))
  done
}
FL_KICKS=0
failed_logins_stop() { local ns; for ns in $FL_NS; do client_down "$ns"; done; }
# failures the GATEWAY's pppd logged since failed_logins_start ("Peer NAME failed CHAP authentication")
failed_logins_count() { journalctl --since "$FL_J0" -t pppd -o cat --no-pager 2>/dev/null | grep -c 'failed CHAP authentication'; }
