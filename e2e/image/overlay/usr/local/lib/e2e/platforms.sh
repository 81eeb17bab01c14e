#!/bin/bash
# Test harness (not product), sourced by harness.sh: built-in clients as they really are. Each
# dials through the home NAT (c1) with exactly one platform's Main Mode and Quick Mode offers,
# lifetimes and PPP authentication (client.sh platform_offer; MS-CHAPv2 as pppd answers it), and
# the check names what was negotiated. Plus two devices behind one home NAT at once, and what the
# distribution's Libreswan can and cannot offer.

# what the client's charon negotiated, from swanctl --list-sas: SA_IKE, SA_ESP, SA_ESP_EXPIRES
sa_facts() {  # sa_facts NS
  local out; out=$(ss_run "$1" "$SS/usr/sbin/swanctl" --list-sas 2>/dev/null)
  SA_IKE=$(echo "$out" | grep -m1 -oE '^ +[A-Z0-9_-]+/[A-Z0-9_/-]*(PRF|MODP|ECP)[A-Z0-9_/-]*' | tr -d ' ')
  SA_ESP=$(echo "$out" | grep -m1 -oE 'ESP:[^ ,]+' | sed 's/^ESP://')
  SA_ESP_EXPIRES=$(echo "$out" | grep -m1 -oE 'expires in [0-9]+s' | grep -oE '[0-9]+')
}
# how pppd authenticated: the gateway's LCP request and pppd's verdict, from the client's debug log
ppp_auth() {  # ppp_auth NS -> "MS-CHAPv2" when the gateway asked for it and it succeeded
  local log=/var/log/e2e-pppd-$1.log
  if grep -q 'rcvd \[LCP ConfReq.*<auth chap MS-v2>' "$log" && grep -q 'CHAP authentication succeeded' "$log"; then echo MS-CHAPv2
  else echo "not MS-CHAPv2 ($(grep -oE 'auth [a-z]+( [A-Za-z0-9-]+)?' "$log" | sort -u | tr '\n' ' ')$(grep -oE 'CHAP authentication (succeeded|failed)' "$log" | tail -n 1))"; fi
}

# check_platform CHECK PLATFORM: the platform's client, user 1, through the home NAT
check_platform() {
  local name=$1 platform=$2 auth
  client_down c1
  if CLIENT_PLATFORM=$platform connect c1 "$U1" "$U1P" "$PSK" && pings c1 "$GWPPP"; then
    sa_facts c1; auth=$(ppp_auth c1)
    if [ "$auth" = MS-CHAPv2 ] && [ -n "$SA_IKE" ] && [ -n "$SA_ESP" ]; then
      check "$name" PASS "IKE $SA_IKE, ESP $SA_ESP (expires in ${SA_ESP_EXPIRES:-?}s), PPP $auth; $U1 got $C_LOCAL through the home NAT, up in ${C_SECS}s"
    else check "$name" FAIL "connected, but IKE '$SA_IKE' ESP '$SA_ESP' PPP $auth"; fi
  else
    check "$name" FAIL "${C_ERR:-ping to $GWPPP failed}"
    dump_logs /run/e2e/c1/swanctl-initiate.out /var/log/e2e-pppd-c1.log
    journalctl -b -u ipsec -o cat --no-pager -n 15 | sed 's/^/  | /'
  fi
  client_down c1
}

# android11_l2tp: Android <= 11 offers MODP1024 only, a weak group the gateway does not accept:
# Main Mode must end with NO_PROPOSAL_CHOSEN (not a timeout or any other failure).
check_android11() {
  local since plog
  client_down c1
  since=$(date '+%Y-%m-%d %H:%M:%S')
  CLIENT_PLATFORM=android11 client_config c1 "$U1" "$U1P" "$PSK" "$PUB"
  if ipsec_up c1; then
    sa_facts c1
    check android11_l2tp FAIL "the gateway accepted Android 11's offer: IKE $SA_IKE"
  else
    plog=$(journalctl --since "$since" -u ipsec -o cat --no-pager | grep -m1 -iE 'no acceptable Oakley|NO_PROPOSAL_CHOSEN' | cut -c1-160)
    if grep -q 'received NO_PROPOSAL_CHOSEN' /run/e2e/c1/swanctl-initiate.out && [ -n "$plog" ]; then
      check android11_l2tp PASS "refused in Main Mode: 13 MODP1024 transforms offered, the gateway answered NO_PROPOSAL_CHOSEN (pluto: $plog)"
    else
      check android11_l2tp FAIL "not refused for its proposal: pluto '${plog}', client: $(tail -n 2 /run/e2e/c1/swanctl-initiate.out | tr '\n' ' ')"
    fi
  fi
  client_down c1
}

# libreswan_without_modp1024: the distribution's Libreswan is built without MODP1024 (DH group 2),
# so no setting of the gateway's can accept Android <= 11 (shared/docs/client-platforms.md has the
# offers; hwdsl2's scripts rebuild Libreswan with USE_DH2 for that). Control: MODP2048 parses.
check_libreswan_modp1024() {
  local weak ok ver
  ver=$(dpkg-query -W -f='${Version}' libreswan 2>/dev/null)
  weak=$(ipsec algparse 'ike=aes256-sha1;modp1024' 2>&1 | tr '\n' ' ')
  ok=$(ipsec algparse 'ike=aes256-sha1;modp2048' 2>&1 | tr '\n' ' ')
  if echo "$weak" | grep -qi 'modp1024.*not supported' && ! echo "$ok" | grep -qi 'error'; then
    check libreswan_without_modp1024 PASS "libreswan $ver: 'ike=aes256-sha1;modp1024' -> ${weak% }; modp2048 parses (${ok% })"
  else check libreswan_without_modp1024 FAIL "libreswan $ver: modp1024 -> '$weak'; modp2048 -> '$ok'"; fi
}

# pluto_config_clean: pluto loaded the product's connection, and neither addconn nor pluto said a
# word of warning about the configuration (obsolete, renamed or ignored keys) on the way.
check_pluto_config_clean() {
  local log bad ver
  ver=$(dpkg-query -W -f='${Version}' libreswan 2>/dev/null)
  log=$(journalctl -b -u ipsec -o cat --no-pager 2>/dev/null)
  # what addconn and pluto say about configuration keys and values (not the environment lines
  # such as a kernel without IPTFS or seccomp for helpers)
  bad=$(echo "$log" | grep -iE 'warn|obsolete|deprecat|ignor|replac|renam|invalid|unknown|unrecogni|not recogni|syntax|expected' | head -n 5)
  # both connections: L2TP's IKEv1 PSK one and the IKEv2 certificate one (its server certificate
  # and key in the NSS database, put there by the sync before pluto started)
  if ipsec status 2>/dev/null | grep -q '"l2tp-psk"' && echo "$log" | grep -qE 'added IKEv1 connection' \
     && ipsec status 2>/dev/null | grep -q '"ikev2-cert"' && echo "$log" | grep -qE '"ikev2-cert".*added IKEv2 connection' && [ -z "$bad" ]; then
    check pluto_config_clean PASS "libreswan $ver: $(echo "$log" | grep -m1 -E 'added IKEv1 connection' | cut -c1-80); $(echo "$log" | grep -m1 -E '"ikev2-cert".*added IKEv2 connection' | cut -c1-80); $(echo "$log" | wc -l) log lines, none a warning"
  else
    check pluto_config_clean FAIL "libreswan $ver: l2tp-psk loaded=$(ipsec status 2>/dev/null | grep -q '"l2tp-psk"' && echo yes || echo no), ikev2-cert loaded=$(ipsec status 2>/dev/null | grep -q '"ikev2-cert"' && echo yes || echo no); $(echo "$bad" | tr '\n' ';' | cut -c1-400)"
    echo "$log" | head -n 40 | sed 's/^/  | /'
  fi
}

# two_devices_one_nat: c1 and c3 share the home NAT's one public address (different NAT ports);
# users 1 and 2 (or user 1 twice). Measures what happens; passes when both work at once, or when
# the second is refused and the first keeps its session: the same PPP link (same pppd, same
# address) reaching the gateway again within 60 s of the second's attempt (how long its traffic
# stopped is reported). The first device losing its session to the second is the failure.
check_two_devices() {
  local u2=${U2:-$U1} p2=${U2P:-$U1P} a1 a3="" r3 pid1 t0 gap="" ports since plog first
  client_down c1; client_down c3
  since=$(date '+%Y-%m-%d %H:%M:%S')
  if ! connect c1 "$U1" "$U1P" "$PSK" || ! pings c1 "$GWPPP"; then
    check two_devices_one_nat FAIL "the first device did not connect: ${C_ERR}"; client_down c1; return
  fi
  a1=$C_LOCAL; pid1=$(cat /run/c1ppp.pid 2>/dev/null)
  if connect c3 "$u2" "$p2" "$PSK" && pings c3 "$GWPPP"; then r3="connected ($C_LOCAL, up in ${C_SECS}s)"; a3=$C_LOCAL
  else r3="refused: $(echo "${C_ERR:-ping to $GWPPP failed}" | cut -c1-120)"; fi
  # the first device: same PPP session, reaching the gateway again (polled for 60 s)
  t0=$(up)
  for _ in $(seq 1 30); do
    if ip netns exec c1 ping -c 1 -W 1 "$GWPPP" >/dev/null 2>&1; then gap=$(python3 -c "print('%.0f' % ($(up)-$t0))"); break; fi
    sleep 1
  done
  first="gone"
  if [ "$(ppp_addr c1)" = "$a1" ] && [ "$(cat /run/c1ppp.pid 2>/dev/null)" = "$pid1" ]; then
    if [ -n "$gap" ]; then first="kept its session ($a1, same pppd), reaching the gateway ${gap}s after the second's attempt"
    else first="kept its PPP link ($a1) but no longer reaches the gateway"; fi
  fi
  ports=$(ip xfrm state | grep -oE 'encap type espinudp sport [0-9]+ dport [0-9]+' | awk '{print $NF}' | sort -u | tr '\n' ' ')
  plog=$(journalctl --since "$since" -u ipsec -o cat --no-pager | grep -iE 'cannot install|in use by|replac|conflict' | head -n 2 | sed -E 's/^"[^"]*"\[[0-9]+\] //' | cut -c1-150 | tr '\n' ';')
  info "two devices behind one NAT: second ($u2) $r3; first ($U1) $first; NAT ports in the gateway's SAs: ${ports:-none}; pluto: ${plog:-nothing notable}"
  if [[ "$first" == kept\ its\ session* ]] && [ -n "$a3" ]; then
    check two_devices_one_nat PASS "both devices up at once behind 198.51.100.2: $U1 $a1 and $u2 $a3 (NAT ports ${ports})"
  elif [[ "$first" == kept\ its\ session* ]]; then
    check two_devices_one_nat PASS "second device $r3; the first $first (pluto: ${plog:-nothing})"
  else
    check two_devices_one_nat FAIL "second device $r3; the first $first; NAT ports ${ports:-none}; pluto: ${plog:-nothing}"
    journalctl --since "$since" -u ipsec -u xl2tpd -o cat --no-pager | grep -v '^|' | tail -n 25 | sed 's/^/  | /'
  fi
  client_down c3; client_down c1
}

# the platform step of phase 1
run_platform_checks() {
  check_platform windows_l2tp windows
  check_platform apple_l2tp apple
  check_platform networkmanager_l2tp networkmanager
  check_android11
  check_libreswan_modp1024
  check_two_devices
}
