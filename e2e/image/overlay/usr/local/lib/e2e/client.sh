#!/bin/bash
# Test clients (sourced by harness.sh): an IKEv1 PSK transport-mode IPsec client (strongSwan's
# charon + swanctl, unpacked from the local repository with dpkg-deb -x because strongSwan and
# libreswan conflict in dpkg) plus an L2TP LAC (xl2tpd) and pppd, all inside a client network
# namespace. xl2tpd and pppd are the binaries the gateway installed (the client needs the same
# Debian packages; a broken install fails both, which the checks report).
#
# Per client namespace NS:
#   /etc/netns/NS/...      ip netns exec bind-mounts these over /etc (ppp, xl2tpd)
#   /etc/e2e-clients/NS/   strongswan.conf, swanctl.conf (named by path: /etc has no such files,
#                          so ip netns exec could not bind them)
#   /run/e2e/NS/           pid files, control pipe; /run/e2e/NS/run is the charon's /run
#   /var/log/e2e-*-NS.log  charon, xl2tpd, pppd logs
SS=${E2E_SS:-/opt/strongswan}

ss_unpack() {  # unpack the strongSwan client once
  [ -e "$SS/.done" ] && return 0
  mkdir -p "$SS"
  for d in /srv/repo/client/*.deb; do dpkg-deb -x "$d" "$SS" || return 1; done
  mkdir -p /usr/lib/ipsec   # empty mount point; libreswan does not use /usr/lib/ipsec
  touch "$SS/.done"
}

# Node.js (Debian's nodejs + libnode, from the repo's client-node/) for the product's health
# probe; unpacked once under /opt/node, never installed (dpkg on the gateway does not see it).
NODE_DIR=/opt/node
node_unpack() {
  [ -e $NODE_DIR/.done ] && return 0
  mkdir -p $NODE_DIR
  local d; for d in /srv/repo/client-node/*.deb; do dpkg-deb -x "$d" $NODE_DIR || return 1; done
  mkdir -p /usr/share/nodejs   # empty mount point (node_run); the gateway has no Node.js
  touch $NODE_DIR/.done
}
# node_run NS ARGS...: run node in network namespace NS with the unpacked libraries. Debian's
# node loads "externalized builtins" (cjs-module-lexer, undici, acorn) from the compiled-in
# /usr/share/nodejs, so the unpacked one is bind-mounted there in a private mount namespace.
node_run() {
  local ns=$1; shift
  ip netns exec "$ns" unshare -m sh -c \
    'mount --bind '"$NODE_DIR"'/usr/share/nodejs /usr/share/nodejs && exec env LD_LIBRARY_PATH='"$NODE_DIR"'/usr/lib/x86_64-linux-gnu '"$NODE_DIR"'/usr/bin/node "$@"' \
    node "$@"
}

# Run a strongSwan program in NS. charon's pid file (/var/run/charon.pid) and its library and
# plugin directory (/usr/lib/ipsec) are compiled in, so each client gets a private mount
# namespace where /run and /usr/lib/ipsec are its own.
ss_run() {
  local ns=$1; shift
  ip netns exec "$ns" unshare -m sh -c \
    'mount --bind '"$SS"'/usr/lib/ipsec /usr/lib/ipsec && mount --bind /run/e2e/'"$ns"'/run /run && exec env STRONGSWAN_CONF=/etc/e2e-clients/'"$ns"'/strongswan.conf "$@"' \
    ss "$@"
}

# ppp option quoting: backslash and double quote escaped inside double quotes.
ppp_quote() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

# client_strongswan_conf NS TUNNEL: charon's settings for NS; TUNNEL yes for a tunnel-mode client
# (IKEv2: the virtual address and routes the gateway gives installed), no for L2TP's transport mode
client_strongswan_conf() {
  local ns=$1 tunnel=$2
  cat > "/etc/e2e-clients/$ns/strongswan.conf" <<SSC
charon {
  load_modular = yes
  install_routes = $tunnel
  install_virtual_ip = $tunnel
  retransmit_tries = 3
  retransmit_timeout = 2
  plugins {
    include $SS/etc/strongswan.d/charon/*.conf
    vici { socket = unix:///run/charon.vici }
    # DNS servers the gateway pushes go to the client's own /run (NS's /run/e2e/NS/run), not the VM's /etc
    resolve { file = /run/resolv.conf }
  }
  filelog {
    e2e { path = /var/log/e2e-charon-$ns.log  time_format = %T  default = 1  ike = 2  append = yes  flush_line = yes }
  }
  syslog { daemon { default = -1 } }
}
swanctl {
  load = pem pkcs1 pkcs8 x509 revocation constraints pubkey openssl random
}
SSC
}

# client_config NS USER PASSWORD PSK SERVER_IP: the whole client, as the harness uses it
client_config() {
  local ns=$1 user=$2 pass=$3 psk=$4 server=$5
  mkdir -p "/etc/netns/$ns/ppp" "/etc/netns/$ns/xl2tpd" "/etc/e2e-clients/$ns" "/run/e2e/$ns/run"
  client_strongswan_conf "$ns" no
  client_swanctl_conf "$ns" "$psk" "$server"
  client_xl2tpd_conf "$ns" "$server"
  client_ppp_options "$ns" "$user" "$pass" "debug
logfile /var/log/e2e-pppd-$ns.log"
}

# The pieces every client shares (the benchmark writes its own strongswan.conf, then these).
# IKEv1 main mode, PSK, transport mode for UDP/1701 only.
# remote.id = the gateway's PUBLIC address: the gateway must present its public identity.
# The PSK is given as 0s<base64> so that any character survives.
#
# What the client offers follows CLIENT_PLATFORM (default: e2e, the harness's own client):
# a built-in client's Main Mode and Quick Mode offers, in its order, and its lifetimes, as
# collected from the vendors' sources in shared/docs/client-platforms.md. strongSwan notation;
# every entry is one transform, sent in this order.
platform_offer() {  # platform_offer PLATFORM -> P_IKE P_ESP P_IKE_LIFE P_ESP_LIFE (empty: default)
  P_IKE_LIFE=""; P_ESP_LIFE=""
  case "$1" in
    e2e)  # Linux road warrior as the README suggests
      P_IKE=aes256-sha256-modp2048,aes128-sha1-modp2048
      P_ESP=aes256gcm16,aes128gcm16,aes256-sha256,aes128-sha1 ;;
    windows)  # Windows 10/11 RAS client, default settings (IKEv1 integrity: SHA1 only)
      P_IKE=aes256-sha1-ecp384,aes128-sha1-ecp256,aes256-sha1-modp2048,3des-sha1-modp2048,3des-sha1-modp1024
      P_ESP=aes256-sha1,aes128-sha1,3des-sha1
      P_IKE_LIFE=28800; P_ESP_LIFE=3600 ;;
    apple)  # macOS >= 10.12 / iOS >= 10 (racoon in Apple's ppp sources)
      local g h l=""
      for g in modp2048 modp1536 modp1024; do for h in sha256 sha1 md5 sha512; do l="$l,aes256-$h-$g"; done; done
      P_IKE="${l#,},aes128-sha1-modp1024,aes128-md5-modp1024,3des-sha1-modp1024,3des-md5-modp1024"
      l=""; for g in aes256 aes128 3des; do for h in sha256 sha1 md5; do l="$l,$g-$h"; done; done
      P_ESP=${l#,}
      P_IKE_LIFE=3600; P_ESP_LIFE=3600 ;;
    android11)  # Android <= 11 (AOSP racoon, external/ipsec-tools/setup.c): MODP1024 only
      P_IKE=aes256-sha384-modp1024,aes256-sha256-modp1024,aes256-sha512-modp1024,aes256-sha1-modp1024,aes256-md5-modp1024
      P_IKE="$P_IKE,aes128-sha512-modp1024,aes128-sha384-modp1024,aes128-sha256-modp1024,aes128-sha1-modp1024,aes128-md5-modp1024"
      P_IKE="$P_IKE,3des-sha256-modp1024,3des-sha1-modp1024,3des-md5-modp1024"
      local l="" g h
      for g in aes256 aes128 3des; do for h in sha512 sha384 sha1 sha256 md5; do l="$l,$g-$h"; done; done
      P_ESP=${l#,}
      P_IKE_LIFE=28800; P_ESP_LIFE=28800 ;;
    networkmanager)  # NetworkManager-l2tp 1.2.16 to 1.52, Libreswan backend defaults; no lifetimes
      P_IKE=aes256-sha256-modp2048,aes256-sha256-modp1536,aes256-sha1-modp2048,aes256-sha1-modp1536,aes256-sha1-ecp384,aes128-sha1-ecp256,3des-sha1-modp2048
      P_ESP=aes256-sha1,aes128-sha1,3des-sha1 ;;
    *) echo "platform_offer: unknown platform $1" >&2; return 1 ;;
  esac
}
client_swanctl_conf() {  # NS PSK SERVER_IP  (offers: CLIENT_PLATFORM)
  local ns=$1 psk=$2 server=$3 ike_life="" esp_life=""
  platform_offer "${CLIENT_PLATFORM:-e2e}" || return 1
  # IKEv1 proposes one lifetime: strongSwan sends reauth_time (+ over_time, here 0) for the IKE SA
  # and life_time for the ESP SA.
  [ -n "$P_IKE_LIFE" ] && ike_life="reauth_time = ${P_IKE_LIFE}s
    rekey_time = 0s
    over_time = 0s"
  [ -n "$P_ESP_LIFE" ] && esp_life="life_time = ${P_ESP_LIFE}s
        rekey_time = 0s"
  cat > "/etc/e2e-clients/$ns/swanctl.conf" <<SWC
connections {
  l2tp {
    version = 1
    remote_addrs = $server
    proposals = $P_IKE
    $ike_life
    local { auth = psk }
    remote { auth = psk
             id = $server }
    children {
      l2tp {
        mode = transport
        local_ts = dynamic[udp/1701]
        remote_ts = dynamic[udp/1701]
        esp_proposals = $P_ESP
        $esp_life
      }
    }
  }
}
secrets {
  ike-gw {
    id = $server
    secret = 0s$(printf '%s' "$psk" | base64 -w0)
  }
}
SWC
}
client_xl2tpd_conf() {  # NS SERVER_IP
  cat > "/etc/netns/$1/xl2tpd/xl2tpd.conf" <<XLC
[global]
access control = no
[lac gw]
lns = $2
pppoptfile = /etc/ppp/options.l2tpd.client
length bit = yes
refuse pap = yes
require authentication = no
autodial = yes
redial = no
XLC
}
# pppd answers MS-CHAPv2 only (refuse-chap = no CHAP-MD5), like Windows and Apple clients.
# Own /etc/ppp for the client (the gateway's holds everyone's secrets and the LNS options).
client_ppp_options() {  # NS USER PASSWORD EXTRA_LINES
  local e=/etc/netns/$1/ppp
  : > "$e/options"; : > "$e/chap-secrets"; : > "$e/pap-secrets"
  cat > "$e/options.l2tpd.client" <<PPC
ipcp-accept-local
ipcp-accept-remote
refuse-eap
refuse-pap
refuse-chap
refuse-mschap
noauth
noccp
mtu 1280
mru 1280
nodefaultroute
ifname ${1}ppp
name $(ppp_quote "$2")
password $(ppp_quote "$3")
$4
PPC
}

# ipsec_up NS -> 0 when the IKE + ESP SAs are up (prints swanctl's last lines otherwise)
ipsec_up() {
  local ns=$1
  ss_unpack || return 1
  setsid bash -c "$(declare -f ss_run); SS=$SS; ss_run $ns /usr/lib/ipsec/charon" \
    >>"/var/log/e2e-charon-$ns.out" 2>&1 </dev/null &
  for _ in $(seq 1 50); do [ -S "/run/e2e/$ns/run/charon.vici" ] && break; sleep 0.2; done
  ss_run "$ns" "$SS/usr/sbin/swanctl" --load-all --file "/etc/e2e-clients/$ns/swanctl.conf" >"/run/e2e/$ns/swanctl-load.out" 2>&1 || return 1
  ss_run "$ns" "$SS/usr/sbin/swanctl" --initiate --child l2tp --timeout 40 >"/run/e2e/$ns/swanctl-initiate.out" 2>&1
}

# ppp_addr NS: the client's own PPP address, empty while its link is down
ppp_addr() { ip -n "$1" -o -4 addr show dev "${1}ppp" 2>/dev/null | awk '{print $4}'; }

# l2tp_up NS TIMEOUT -> prints "LOCAL PEER" of the ppp link when it comes up in time
l2tp_up() {
  local ns=$1 timeout=$2 a
  rm -f "/run/e2e/$ns/xl2tpd.pid"
  setsid ip netns exec "$ns" xl2tpd -D -c /etc/xl2tpd/xl2tpd.conf -p "/run/e2e/$ns/xl2tpd.pid" \
    -C "/run/e2e/$ns/l2tp-control" >>"/var/log/e2e-xl2tpd-$ns.log" 2>&1 </dev/null &
  echo $! > "/run/e2e/$ns/xl2tpd.launcher.pid"
  for _ in $(seq 1 $((timeout * 2))); do
    # up = pppd has set both ends ("inet LOCAL peer PEER/32"); earlier reads can be partial
    a=$(ip -n "$ns" -o -4 addr show dev "${ns}ppp" 2>/dev/null | sed -nE 's#.* inet ([0-9.]+) peer ([0-9.]+)(/[0-9]+)? .*#\1 \2#p')
    if [ -n "$a" ]; then echo "$a"; return 0; fi
    # refused (e.g. wrong password): no point waiting for the timeout
    grep -q 'Connection terminated' "/var/log/e2e-pppd-$ns.log" 2>/dev/null && return 1
    sleep 0.5
  done
  return 1
}

# client_down NS: stop the client's xl2tpd (it hangs up pppd) and charon, flush its SAs
client_down() {
  local ns=$1 p f
  for f in /run/e2e/$ns/xl2tpd.pid /run/e2e/$ns/xl2tpd.launcher.pid /run/${ns}ppp.pid /run/e2e/$ns/run/charon.pid; do
    [ -r "$f" ] && p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] && kill "$p" 2>/dev/null
  done
  sleep 1
  for f in /run/e2e/$ns/xl2tpd.pid /run/${ns}ppp.pid /run/e2e/$ns/run/charon.pid; do
    [ -r "$f" ] && p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    rm -f "$f"
  done
  rm -f "/run/e2e/$ns/run/charon.vici"
  # a stale ppp interface would look like a fresh connection to the next l2tp_up
  for p in 1 2 3 4 5 6 7 8 9 10; do ip -n "$ns" link show "${ns}ppp" >/dev/null 2>&1 || break; sleep 0.5; done
  ip -n "$ns" link del "${ns}ppp" 2>/dev/null
  ip -n "$ns" xfrm state flush; ip -n "$ns" xfrm policy flush
  return 0
}
