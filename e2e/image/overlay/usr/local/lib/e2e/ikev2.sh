#!/bin/bash
# IKEv2 checks (issue 10; test harness, not product), sourced by harness.sh after client.sh and
# live.sh. Clients are strongSwan IKEv2 initiators configured from what `npm run render --
# --out-dir` wrote for each user (/srv/e2e/clients/NAME/: NAME.p12 and its password, NAME.mobileconfig,
# NAME.sswan, ca.pem), sending what each platform sends:
#   android   Android 12+'s native IKEv2/IPSec RSA client (AOSP VpnIkev2Utils): AES-GCM/CBC with
#             SHA2, key exchange MODP2048-4096 or Curve25519 only (no ECP), tunnel mode, asks for an
#             address and DNS, remote ID the address as typed (an IP: ID_IPV4_ADDR)
#   apple     what the user's .mobileconfig configures (proposals, identifiers, the PKCS#12 in it)
#   windows   Windows after the profile's Set-VpnConnectionIPsecConfiguration (GCM-AES-128, group 14,
#             no PFS); its identity is its certificate's subject
#   sswan     strongSwan's Android app importing the user's .sswan profile
# The far host must see the Elastic IP, the VPC host the gateway's private address; the metadata
# service must stay out of reach. Every IKEv2 check names itself ikev2_*.
# shellcheck disable=SC2034  # IKEV2_CHECKS is read by harness.sh (plan_checks)
IKEV2_CHECKS="ikev2_android ikev2_apple ikev2_windows ikev2_sswan ikev2_with_l2tp_behind_one_nat ikev2_two_devices_one_nat
  ikev2_foreign_ca_refused ikev2_expired_refused ikev2_revoked_refused_session_ended"
IKEV2_BOUND=${E2E_IKEV2_BOUND:-60}   # seconds from the CRL in SSM to the revoked user's session gone
IKEV2_REFUSE_BOUND=${E2E_IKEV2_REFUSE_BOUND:-150}  # seconds from then to the revoked user refused
CLIENTS=/srv/e2e/clients
EXTRA=/srv/e2e/ikev2-extra
I_LEASE=""; I_ERR=""; I_SECS=""
# run.sh's own IKEv2-only users, "DEVICES SOLO": DEVICES has two devices (certificates
# DEVICES.laptop and DEVICES.phone), SOLO one certificate; run.sh renders the parameters with
# DEVICES revoked
BED_DEVICES=""; BED_SOLO=""
[ -s /srv/e2e/ikev2-bed-users ] && read -r BED_DEVICES BED_SOLO < /srv/e2e/ikev2-bed-users
# the config's certificates (not the test bed's) the render wrote profiles for, in byte order
ikev2_users() {
  find "$CLIENTS" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | LC_ALL=C sort \
    | grep -vxF -e "$BED_DEVICES.laptop" -e "$BED_DEVICES.phone" -e "$BED_SOLO" || true
}
# the certificate the platform checks and the reboot use: the config's first, else the test bed's
ikev2_first() { local n; n=$(ikev2_users | sed -n 1p); echo "${n:-$BED_SOLO}"; }

# ikev2_files NS P12 PASSWORD CA: a client namespace's strongSwan files (the PKCS#12 where swanctl
# looks for one: NS's swanctl directory's pkcs12/)
ikev2_files() {
  local ns=$1 p12=$2 pass=$3 ca=$4 d=/etc/e2e-clients/$1
  mkdir -p "$d/pkcs12" "$d/x509ca" "/run/e2e/$ns/run"
  rm -f "$d"/pkcs12/* "$d"/x509ca/*
  cp "$p12" "$d/pkcs12/client.p12"; cp "$ca" "$d/x509ca/ca.pem"
  client_strongswan_conf "$ns" yes
  I_PASS=$pass
}

# ikev2_conf NS LOCAL_ID REMOTE_ID IKE ESP: the connection (written after ikev2_files)
ikev2_conf() {
  local ns=$1 lid=$2 rid=$3 ike=$4 esp=$5
  cat > "/etc/e2e-clients/$ns/swanctl.conf" <<SWC
connections {
  gw {
    version = 2
    remote_addrs = $PUB
    vips = 0.0.0.0
    proposals = $ike
    fragmentation = yes
    mobike = no
    local {
      auth = pubkey
      id = "$lid"
    }
    remote {
      auth = pubkey
      id = "$rid"
    }
    children {
      gw {
        remote_ts = 0.0.0.0/0
        esp_proposals = $esp
        mode = tunnel
      }
    }
  }
}
secrets {
  pkcs12-client {
    file = client.p12
    secret = "$I_PASS"
  }
}
SWC
}

# ikev2_platform PLATFORM NS NAME [DIR]: the files and connection as PLATFORM would set them up for
# user NAME from DIR (default /srv/e2e/clients/NAME)
ikev2_platform() {
  local platform=$1 ns=$2 name=$3 dir=${4:-$CLIENTS/$3} v
  case "$platform" in
    android)
      ikev2_files "$ns" "$dir/$name.p12" "$(cat "$dir/$name.p12.password")" "$dir/ca.pem"
      ikev2_conf "$ns" "$name" "$PUB" \
        "aes256gcm16-aes128gcm16-chacha20poly1305-prfsha512-prfsha384-prfsha256-modp2048-modp3072-modp4096-curve25519,aes256-aes128-sha512-sha384-sha256-prfsha512-prfsha384-prfsha256-modp2048-modp3072-modp4096-curve25519" \
        "aes256gcm16-aes128gcm16-chacha20poly1305,aes256-aes128-sha512-sha384-sha256" ;;
    windows)
      ikev2_files "$ns" "$dir/$name.p12" "$(cat "$dir/$name.p12.password")" "$dir/ca.pem"
      ikev2_conf "$ns" "CN=$name" "$PUB" "aes128gcm16-prfsha256-modp2048" "aes128gcm16" ;;
    apple|sswan)
      # what the profile itself says, read as the platform reads it
      v=$(python3 "$LIB/ikev2_profile.py" "$platform" "$dir/$name.$([ "$platform" = apple ] && echo mobileconfig || echo sswan)" \
            "/run/e2e/$ns.p12" "$dir/$name.p12.password") || { I_ERR="the $platform profile could not be read: $v"; return 1; }
      # shellcheck disable=SC2086  # LOCAL_ID REMOTE_ID IKE ESP PASSWORD, words without blanks
      set -- $v
      ikev2_files "$ns" "/run/e2e/$ns.p12" "$5" "$dir/ca.pem"
      ikev2_conf "$ns" "$1" "$2" "$3" "$4" ;;
    *) I_ERR="unknown platform $platform"; return 1 ;;
  esac
}

# ikev2_up NS: charon started, the connection initiated; I_LEASE the address the gateway gave
ikev2_up() {
  local ns=$1 t0; t0=$(date +%s.%N); I_LEASE=""; I_ERR=""
  setsid bash -c "$(declare -f ss_run); SS=$SS; ss_run $ns /usr/lib/ipsec/charon" >>"/var/log/e2e-charon-$ns.out" 2>&1 </dev/null &
  for _ in $(seq 1 50); do [ -S "/run/e2e/$ns/run/charon.vici" ] && break; sleep 0.2; done
  ss_run "$ns" "$SS/usr/sbin/swanctl" --load-all --file "/etc/e2e-clients/$ns/swanctl.conf" >"/run/e2e/$ns/swanctl-load.out" 2>&1 \
    || { I_ERR="swanctl --load-all failed: $(grep -v 'opening directory' "/run/e2e/$ns/swanctl-load.out" | tail -n 2 | tr '\n' ' ')"; return 1; }
  if ! ss_run "$ns" "$SS/usr/sbin/swanctl" --initiate --child gw --timeout 40 >"/run/e2e/$ns/swanctl-initiate.out" 2>&1; then
    I_ERR="not established: $(grep -E 'AUTH|NO_PROPOSAL|failed|error' "/run/e2e/$ns/swanctl-initiate.out" | tail -n 3 | tr '\n' ' ')"
    return 1
  fi
  I_SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
  local pool; pool=$(pj ikev2_pool_cidr)
  I_LEASE=$(ip -n "$ns" -4 -o addr show | awk '{print $4}' | sed 's|/.*||' | while read -r a; do
    python3 -c 'import ipaddress,sys; sys.exit(0 if ipaddress.ip_address(sys.argv[1]) in ipaddress.ip_network(sys.argv[2]) else 1)' "$a" "$pool" && echo "$a"; done | head -n 1)
  [ -n "$I_LEASE" ] || { I_ERR="established, but no address from $pool on the client"; return 1; }
}

# ikev2_down NS: the client's charon gone, its virtual address and policies with it
ikev2_down() {
  local ns=$1 pid
  pid=$(cat "/run/e2e/$ns/run/charon.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
  for _ in $(seq 1 30); do [ -e "/run/e2e/$ns/run/charon.pid" ] || break; sleep 0.2; done
  rm -f "/run/e2e/$ns/run/charon.pid" "/run/e2e/$ns/run/charon.vici"
  ip -n "$ns" xfrm state flush; ip -n "$ns" xfrm policy flush
  ip -n "$ns" -4 -o addr show | awk '$4 ~ /\/32$/ {print $2, $4}' | while read -r dev a; do ip -n "$ns" addr del "$a" dev "$dev"; done
  ip -n "$ns" route flush table 220 2>/dev/null || true
}

# ikev2_reaches NS: far host sees the Elastic IP, the VPC host the gateway's private address, the
# metadata service does not answer; IR_MSG says what was seen
ikev2_reaches() {
  local ns=$1 far vpc md
  far=$(ip netns exec "$ns" curl -s --max-time 10 "http://$FAR:8080/" | head -n 1)
  vpc=$(ip netns exec "$ns" curl -s --max-time 10 "http://$VPCHOST:8080/" | head -n 1)
  md=$(ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
  IR_MSG="far host saw '$far', VPC host saw '$vpc', metadata answered HTTP $md"
  [ "$far" = "$PUB" ] && [ "$vpc" = 172.31.16.10 ] && [ "$md" = 000 ]
}

# gateway side: the peer identities with an IKEv2 SA now (pluto's view: the ID the client sent,
# '@NAME' for a name, 'CN=NAME' for its certificate's subject), one per line
ikev2_ids() { ipsec whack --trafficstatus 2>/dev/null | grep '"ikev2-cert"' | sed -n "s/.* id='\([^']*\)'.*/\1/p" | sort; }
# ikev2_has NAME: user NAME has an IKEv2 SA now, whichever form of ID their client sent
ikev2_has() { ikev2_ids | grep -qxF -e "@$1" -e "CN=$1" -e "$1"; }

# ikev2_none NAME...: none of them has an IKEv2 SA now
ikev2_none() { local n; for n in "$@"; do ikev2_has "$n" && return 1; done; return 0; }

ikev2_platform_check() {  # ikev2_platform_check CHECK PLATFORM NS NAME
  local c=$1 platform=$2 ns=$3 name=$4 extra=""
  ikev2_down "$ns" >/dev/null 2>&1
  if ! ikev2_platform "$platform" "$ns" "$name" || ! ikev2_up "$ns"; then
    check "$c" FAIL "$name as $platform: $I_ERR"
    dump_logs "/run/e2e/$ns/swanctl-initiate.out" "/var/log/e2e-charon-$ns.log"
    journalctl -b -u ipsec --no-pager -n 25 | sed 's/^/  | /'
    ikev2_down "$ns" >/dev/null 2>&1; return 1
  fi
  if [ "$platform" = android ]; then  # it asks for DNS: the stack's dnsServers, in order
    # strongSwan's resolve plugin writes them in reverse order: compared as sets
    local want got; want=$(pj dns_servers | tr ',' '\n' | sort | tr '\n' ' '); got=$(awk '$1 == "nameserver" {print $2}' "/run/e2e/$ns/run/resolv.conf" 2>/dev/null | sort | tr '\n' ' ')
    if [ -n "$got" ] && [ "$got" = "$want" ]; then extra="; DNS pushed: ${want% }"; else extra="; no DNS server pushed (client has '${got% }', want '${want% }')"; fi
  fi
  # what the gateway chose from this platform's offers (the client's log, which it flushes by now)
  local chosen; chosen=$(grep -o 'selected proposal: [A-Z]*:[^ ]*' "/var/log/e2e-charon-$ns.log" 2>/dev/null | tail -n 2 | sed 's/selected proposal: //' | tr '\n' ' ')
  if ikev2_reaches "$ns" && [ "${extra#*no DNS}" = "$extra" ]; then
    check "$c" PASS "$name as $platform got $I_LEASE (up in ${I_SECS}s), ${chosen:-no proposal in the client log}; $IR_MSG$extra"
  else
    check "$c" FAIL "$name as $platform got $I_LEASE; $IR_MSG$extra"
  fi
}

# refused: the connection must fail, and the gateway must say why (NSS on the certificate)
ikev2_refused_check() {  # ikev2_refused_check CHECK NS NAME DIR WHY_REGEX
  local c=$1 ns=$2 name=$3 dir=$4 why=$5 since; since=$(journal_now)
  ikev2_down "$ns" >/dev/null 2>&1
  if ! ikev2_platform android "$ns" "$name" "$dir"; then check "$c" FAIL "$I_ERR"; return; fi
  if ikev2_up "$ns"; then
    check "$c" FAIL "$name from $dir connected (got $I_LEASE): it must be refused"
  elif journalctl -u ipsec --since "$since" --no-pager | grep -qiE "$why"; then
    check "$c" PASS "refused: $(journalctl -u ipsec --since "$since" --no-pager | grep -iE "$why" | head -n 1 | sed 's/.*pluto\[[0-9]*\]: //')"
  else
    check "$c" FAIL "refused, but pluto did not log /$why/: $I_ERR"
    journalctl -u ipsec --since "$since" --no-pager | tail -n 15 | sed 's/^/  | /'
  fi
  ikev2_down "$ns" >/dev/null 2>&1
}

run_ikev2_checks() {
  local n1 d1 d2 lease3 since t0 ok msg c
  n1=$(ikev2_first); d1=$BED_DEVICES.laptop; d2=$BED_DEVICES.phone
  if [ -z "$BED_DEVICES" ] || [ -z "$n1" ] || [ ! -d "$CLIENTS/$n1" ] || [ ! -d "$CLIENTS/$d1" ] || [ ! -d "$CLIENTS/$d2" ]; then
    for c in $IKEV2_CHECKS; do check "$c" FAIL "no profiles for '$n1', '$d1' and '$d2' under $CLIENTS ($(find "$CLIENTS" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null))"; done
    return
  fi
  [ "$n1" = "$BED_SOLO" ] && echo "INFO the config has no IKEv2 user: the platform checks use the test bed's $BED_SOLO"
  # c2 is on the internet: each platform in turn
  ikev2_platform_check ikev2_android android c2 "$n1"
  ikev2_platform_check ikev2_apple apple c2 "$n1"
  ikev2_platform_check ikev2_windows windows c2 "$n1"
  ikev2_platform_check ikev2_sswan sswan c2 "$n1"
  # behind the home NAT where user 1's L2TP session is up (c1): an IKEv2 device (c3) beside it
  if ikev2_platform android c3 "$d1" && ikev2_up c3 && ikev2_reaches c3 && pings c1 "$GWPPP"; then
    lease3=$I_LEASE
    check ikev2_with_l2tp_behind_one_nat PASS "$d1 (IKEv2, c3, $I_LEASE) and $U1 (L2TP, c1) behind one NAT, both through: $IR_MSG"
  else
    check ikev2_with_l2tp_behind_one_nat FAIL "$d1 on c3: ${I_ERR:-$IR_MSG}; L2TP on c1: $(pings c1 "$GWPPP" && echo up || echo down)"
  fi
  # the same user's second device behind the same NAT, with its own certificate: both sessions at once
  # (pluto would end the first if the second came with the same ID)
  ikev2_down c2 >/dev/null 2>&1
  client_down c1 >/dev/null 2>&1
  if ikev2_platform android c1 "$d2" && ikev2_up c1 && ikev2_reaches c1 && ikev2_reaches c3 && ikev2_has "$d1" && ikev2_has "$d2"; then
    check ikev2_two_devices_one_nat PASS "$BED_DEVICES's two devices behind one NAT, a certificate each, both through: $d1 (c3, ${lease3:-?}) and $d2 (c1, $I_LEASE); gateway SAs: $(ikev2_ids | tr '\n' ' ')"
  else
    check ikev2_two_devices_one_nat FAIL "$d2 on c1: ${I_ERR:-$IR_MSG}; gateway SAs: $(ikev2_ids | tr '\n' ' ')"
  fi
  ikev2_refused_check ikev2_foreign_ca_refused c2 "$n1" "$EXTRA/foreign/$n1" "SEC_ERROR_UNKNOWN_ISSUER|SEC_ERROR_UNTRUSTED_ISSUER|NSS: ERROR"
  ikev2_refused_check ikev2_expired_refused c2 expired-e2e "$EXTRA/expired/expired-e2e" "SEC_ERROR_EXPIRED_CERTIFICATE"
  # revocation: user BED_DEVICES revoked in SSM (the product's own parameters from a render with
  # the user marked revoked); both devices' sessions (c3, c1) must end within IKEV2_BOUND seconds,
  # another user's (n1 on c2) stay; the revoked user refused after
  if [ ! -s /srv/e2e/ssm-ikev2-revoked.json ]; then
    check ikev2_revoked_refused_session_ended FAIL "no /srv/e2e/ssm-ikev2-revoked.json from run.sh"
  elif ! { ikev2_platform android c2 "$n1" && ikev2_up c2; }; then
    check ikev2_revoked_refused_session_ended FAIL "$n1 (the user who must stay up) did not connect on c2: $I_ERR"
  else
    since=$(journal_now)
    ssm_put_all /srv/e2e/ssm-ikev2-revoked.json "$(pj ssm_path)/ikev2/"
    t0=$(awk '{print $1}' /proc/uptime)
    if live_wait "$t0" "$IKEV2_BOUND" ikev2_none "$d1" "$d2"; then
      ok=yes; msg="$BED_DEVICES revoked: the sessions of $d1 and $d2 ended ${LW}s after the CRL reached SSM"
    else ok=no; msg="$BED_DEVICES revoked: after ${LW}s the gateway still has $(ikev2_ids | grep -F "$BED_DEVICES." | tr '\n' ' ')"; fi
    if ikev2_has "$n1" && ip netns exec c2 curl -s --max-time 10 "http://$FAR:8080/" | grep -q "$PUB"; then
      msg="$msg; $n1's stayed up and through"
    else ok=no; msg="$msg; $n1's session did not stay"; fi
    # refused: at once where pluto fetched the CRL (Libreswan 5), else once NSS in pluto drops
    # the CRL it cached (up to two minutes; a session made meanwhile is ended by the sync's watch)
    local tries=0 refused=no
    t0=$(awk '{print $1}' /proc/uptime)
    while :; do
      tries=$((tries + 1)); ikev2_down c3 >/dev/null 2>&1
      if ikev2_platform android c3 "$d1" && ! ikev2_up c3; then
        journalctl -u ipsec --since "$since" --no-pager | grep -q REVOKED && { refused=yes; break; }
      fi
      awk -v e="$(since_secs "$t0")" -v b="$IKEV2_REFUSE_BOUND" 'BEGIN {exit !(e >= b)}' && break
      sleep 10
    done
    if [ $refused = yes ]; then
      msg="$msg; $d1 refused $(since_secs "$t0")s later (attempt $tries): $(journalctl -u ipsec --since "$since" --no-pager | grep -m1 REVOKED | sed 's/.*NSS: //')"
    else ok=no; msg="$msg; $d1 still not refused after $(since_secs "$t0")s ($tries attempts): ${I_LEASE:+got $I_LEASE}${I_ERR}"; fi
    if [ $ok = yes ]; then check ikev2_revoked_refused_session_ended PASS "$msg"; else
      check ikev2_revoked_refused_session_ended FAIL "$msg"
      journalctl -u vpn-gateway-sync -u ipsec --since "$since" --no-pager | tail -n 25 | sed 's/^/  | /'
    fi
    ikev2_down c3 >/dev/null 2>&1
  fi
}

# ssm_put_all FILE PREFIX: the parameters of FILE ([{name,type,value}]) under PREFIX put into the
# stand-in, and the stand-in's other parameters under PREFIX deleted (pulumi up's replace)
ssm_put_all() {
  local file=$1 prefix=$2 name
  python3 -c 'import json,sys; [print(p["name"]) for p in json.load(open(sys.argv[1])) if p["name"].startswith(sys.argv[2])]' "$file" "$prefix" > /run/e2e/ikev2-put.names
  while read -r name; do
    python3 -c 'import json,sys; print(next(p["value"] for p in json.load(open(sys.argv[1])) if p["name"] == sys.argv[2]), end="")' "$file" "$name" \
      | ssm put "$name" SecureString >/dev/null
  done < /run/e2e/ikev2-put.names
  for name in $(ssm list "${prefix%/}" | awk '{print $1}'); do
    grep -qxF "$name" /run/e2e/ikev2-put.names || ssm delete "$name" >/dev/null
  done
}
