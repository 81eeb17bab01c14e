#!/bin/bash
# Live checks (issue 9; test harness, not product), sourced by harness.sh after client.sh and
# hardening.sh (and by bench.sh, which uses its helpers and runs none of its checks): the stack's users and PSK change in SSM Parameter Store (the test bed's stand-in,
# ssm-standin and ssm_users.py, in the product's layout) while the gateway runs, as `pulumi up`
# changes them, and the running gateway must follow without being touched: the same instance, the
# same boot, the same pluto and xl2tpd (every other session kept). Each change is timed from the
# moment SSM holds it to its effect on the gateway, polled once a second and bounded (60 s: the
# sync polls every 30 s). Profile parts (run.sh --profile):
#   live       ssm_user_added_connects ssm_password_changed ssm_user_removed_disconnected
#              ssm_psk_changed ssm_bad_record_refused ssm_unreachable_sessions_stay
#   live-long  ssm_5000_users_synced, and (with the reboot) ssm_reboot_unreachable_serves_last_good:
#              SSM made unreachable before the reboot, the second boot must serve the last good users
# Users on the test bed's clients: U1 (alice) on c1 behind the home NAT stays connected through
# all of it; c2 (on the internet) is the user who changes, or U2 (bob).

# shellcheck disable=SC2034  # LIVE_CHECKS is read by harness.sh (plan_checks)
LIVE_CHECKS="ssm_user_added_connects ssm_password_changed ssm_user_removed_disconnected ssm_psk_changed ssm_bad_record_refused ssm_unreachable_sessions_stay"
LIVE_BOUND=${E2E_LIVE_BOUND:-60}            # seconds from a change in SSM to its effect
LIVE_BOUND_5000=${E2E_LIVE_BOUND_5000:-120} # 5,000 users: the first decryption of ~256 parameters
LIVE_SECRETS=/var/lib/e2e/live-secrets      # the live checks' own secrets: no log may hold them
LIVE_REBOOT_ENV=/var/lib/e2e/live-reboot.env
LIVE_USERS_5000=/srv/e2e/ssm-users-5000.json
LIVE_NEW=carol-live     # added, password changed, removed
LIVE_OFFLINE=dave-live  # added while SSM is unreachable
LIVE_LAST=erin-live     # added just before SSM becomes unreachable and the gateway reboots
SSM_PATH=""; SSM_REGION=""; LW=""; LU=""; LK=""; LIVE_P1=""; LIVE_P2=""
# who is connected on c2 now ("" = nobody known), so that a check can go on from the previous one
LIVE_C2=""

live_init() { SSM_PATH=$(pj ssm_path); SSM_REGION=$(pj aws_region); mkdir -p /var/lib/e2e; }
ssm() { /usr/local/lib/e2e/ssm-standin "$@"; }
ssm_users() { ip netns exec aws python3 /usr/local/lib/e2e/ssm_users.py --region "$SSM_REGION" --path "$SSM_PATH" "$@"; }
# seconds (one decimal) since uptime T0
since_secs() { awk -v a="$1" '{printf "%.1f", $1 - a}' /proc/uptime; }
# a fresh secret for a live check (printable, no whitespace, quotes, '#', '*'), remembered for the
# log scan (check_no_secrets_in_logs)
live_secret() {
  local s; s="live-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-$1"
  echo "$s" >> "$LIVE_SECRETS"; chmod 0600 "$LIVE_SECRETS"
  echo "$s"
}
journal_now() { date '+%Y-%m-%d %H:%M:%S'; }

# live_wait T0 BOUND CMD...: runs CMD once a second until it succeeds (returns 0) or BOUND seconds
# have passed since uptime T0 (returns 1); LW = seconds from T0 at the last try
live_wait() {
  local t0=$1 bound=$2; shift 2
  while :; do
    if "$@"; then LW=$(since_secs "$t0"); return 0; fi
    LW=$(since_secs "$t0")
    awk -v e="$LW" -v b="$bound" 'BEGIN {exit !(e >= b)}' && return 1
    sleep 1
  done
}

# ---- what the gateway serves, read on the gateway -----------------------------------------------
# chap-secrets lines: "NAME"<TAB>server<TAB>"PASSWORD"<TAB>address
chap_line() { awk -F'\t' -v n="\"$1\"" '$1 == n' /etc/ppp/chap-secrets 2>/dev/null; }
chap_has() { [ -n "$(chap_line "$1")" ]; }
chap_lacks() { [ -z "$(chap_line "$1")" ]; }
chap_has_password() { chap_line "$1" | awk -F'\t' -v p="\"$2\"" '$3 == p {f = 1} END {exit !f}'; }
chap_users() { grep -c '^"' /etc/ppp/chap-secrets 2>/dev/null; }
chap_count_is() { [ "$(chap_users)" = "$1" ]; }
psk_is() { grep -qF "PSK \"$1\"" /etc/ipsec.secrets 2>/dev/null; }
file_sum() { sha256sum "$1" 2>/dev/null | cut -c1-16; }
# the sync's own lines since a journal time
sync_log_since() { journalctl --since "$1" -u vpn-gateway-sync.service -o cat --no-pager 2>/dev/null | grep -v '^vpn-gateway-sync.service: '; }
sync_logged() { sync_log_since "$1" | grep -qE "$2"; }
# the sync's last "applied: ..." line since a journal time (names and counts, never a secret)
sync_applied() { sync_log_since "$1" | grep -E '^applied: ' | tail -n 1 | cut -c1-200; }

# ---- what must not change -----------------------------------------------------------------------
# the instance, its boot, and the VPN daemons whose processes hold every session
live_instance() {
  echo "$(cat /var/lib/cloud/data/instance-id 2>/dev/null) boot=$(cut -c1-8 /proc/sys/kernel/random/boot_id) pluto=$(systemctl show -p MainPID --value ipsec.service) xl2tpd=$(systemctl show -p MainPID --value xl2tpd.service)"
}
# live_unchanged BEFORE: 0 when live_instance is still BEFORE; LU = what it says
live_unchanged() {
  local now; now=$(live_instance)
  if [ "$now" = "$1" ]; then LU="instance unchanged ($now)"; return 0; fi
  LU="instance CHANGED: before '$1', now '$now'"; return 1
}
# a client's PPP session as "ADDRESS pppd=PID" (empty while down): the same value later = the same session
client_session() {
  local a; a=$(ppp_addr "$1")
  [ -n "$a" ] && echo "$a pppd=$(cat "/run/${1}ppp.pid" 2>/dev/null)"
}
link_gone() { [ -z "$(ppp_addr "$1")" ]; }
# live_removed NS ADDR: the client's PPP link is down and the gateway has no session with peer ADDR
live_removed() { link_gone "$1" && ! gw_has_session "$2"; }
# user U1 on c1, connected (again if it is not)
live_alice() {
  [ -n "$(client_session c1)" ] && pings c1 "$GWPPP" && return 0
  connect c1 "$U1" "$U1P" "$PSK" && pings c1 "$GWPPP"
}
# live_kept NS BEFORE: the session on NS is BEFORE still and passes traffic (the gateway's PPP
# address, and with "far" the far host on the internet, which must see the gateway's public
# address); LK = what was seen
live_kept() {
  local ns=$1 before=$2 far=${3:-} now seen=""
  now=$(client_session "$ns")
  if [ -z "$before" ] || [ "$now" != "$before" ]; then LK="session on $ns changed: '$before' -> '${now:-down}'"; return 1; fi
  if ! pings "$ns" "$GWPPP"; then LK="session on $ns ($now) no longer reaches $GWPPP"; return 1; fi
  if [ -n "$far" ]; then
    seen=$(whoami_via "$ns" "$FAR")
    if [ "$seen" != "$PUB" ]; then LK="session on $ns ($now) pings $GWPPP but the far host saw '${seen}'"; return 1; fi
    LK="session on $ns kept ($now, same pppd), pinging $GWPPP and the far host (it saw $seen)"; return 0
  fi
  LK="session on $ns kept ($now, same pppd), pinging $GWPPP"
}
live_client_logs() { dump_logs "/run/e2e/$1/swanctl-initiate.out" "/var/log/e2e-pppd-$1.log"; }

# ================================ the live part ==================================================
# ssm_user_added_connects: a user added in SSM is in chap-secrets within the bound, then connects;
# the instance and alice's session unchanged
check_ssm_user_added() {
  local n=ssm_user_added_connects before a0 since t0 out applied="" total=""
  LIVE_P1=$(live_secret pw1)
  before=$(live_instance); a0=$(client_session c1); since=$(journal_now)
  if ! out=$(ssm_users set "$LIVE_NEW" "$LIVE_P1" 2>&1); then check $n FAIL "adding $LIVE_NEW in SSM failed: $out"; return; fi
  t0=$(up)
  if ! live_wait "$t0" "$LIVE_BOUND" chap_has "$LIVE_NEW"; then
    check $n FAIL "$LIVE_NEW added in SSM ($out), not in chap-secrets after ${LW}s (bound ${LIVE_BOUND}s); sync: $(sync_log_since "$since" | tail -n 3 | tr '\n' ' ' | cut -c1-300)"
    return
  fi
  applied=$LW
  if connect c2 "$LIVE_NEW" "$LIVE_P1" "$PSK" && pings c2 "$GWPPP"; then
    LIVE_C2="$LIVE_NEW"; total=$(since_secs "$t0")
    if live_unchanged "$before" && live_kept c1 "$a0"; then
      check $n PASS "$LIVE_NEW added in SSM ($out): in chap-secrets ${applied}s later (bound ${LIVE_BOUND}s; sync: '$(sync_applied "$since")'), connected ${total}s after the change ($C_LOCAL, tunnel up in ${C_SECS}s) and pinged $GWPPP; $LU; $U1's $LK"
    else live_unchanged "$before"; live_kept c1 "$a0"; check $n FAIL "$LIVE_NEW connected ${total}s after the change, but: $LU; $U1: $LK"; fi
  else
    check $n FAIL "$LIVE_NEW in chap-secrets ${applied}s after the change, but did not connect: ${C_ERR:-ping to $GWPPP failed}"
    live_client_logs c2
  fi
}

# ssm_password_changed: the user's password changed in SSM: her session (old password) ends, the
# old password is refused, the new one accepted; alice's session and the instance unchanged
check_ssm_password_changed() {
  local n=ssm_password_changed before a0 since t0 out applied="" ended="" ended_ok=no old="" new="" new_ok=no
  if [ "$LIVE_C2" != "$LIVE_NEW" ] || [ -z "$(client_session c2)" ]; then
    if ! connect c2 "$LIVE_NEW" "${LIVE_P1:-none}" "$PSK"; then check $n FAIL "$LIVE_NEW could not connect with her first password (see ssm_user_added_connects): $C_ERR"; return; fi
    LIVE_C2="$LIVE_NEW"
  fi
  LIVE_P2=$(live_secret pw2)
  before=$(live_instance); a0=$(client_session c1); since=$(journal_now)
  if ! out=$(ssm_users set "$LIVE_NEW" "$LIVE_P2" 2>&1); then check $n FAIL "changing the password in SSM failed: $out"; return; fi
  t0=$(up)
  if ! live_wait "$t0" "$LIVE_BOUND" chap_has_password "$LIVE_NEW" "$LIVE_P2"; then
    check $n FAIL "password of $LIVE_NEW changed in SSM ($out), chap-secrets still without the new one after ${LW}s; sync: $(sync_log_since "$since" | tail -n 3 | tr '\n' ' ' | cut -c1-300)"
    return
  fi
  applied=$LW
  # her session, authenticated with the old password, is ended by the sync (README: "Users and secrets")
  if live_wait "$t0" "$LIVE_BOUND" link_gone c2; then ended="her session (old password) ended ${LW}s after the change"; ended_ok=yes
  else ended="her session (old password) STILL UP ${LW}s after the change"; fi
  LIVE_C2=""
  old=refused
  if connect c2 "$LIVE_NEW" "$LIVE_P1" "$PSK"; then old="ACCEPTED ($C_LOCAL)"
  elif ! echo "$C_ERR" | grep -q 'no PPP address'; then old="failed before PPP (cannot tell): $C_ERR"; fi
  new=refused
  if connect c2 "$LIVE_NEW" "$LIVE_P2" "$PSK" && pings c2 "$GWPPP"; then new="accepted ($C_LOCAL, tunnel up in ${C_SECS}s)"; new_ok=yes; LIVE_C2="$LIVE_NEW"
  else new="REFUSED: ${C_ERR:-ping to $GWPPP failed}"; live_client_logs c2; fi
  if [ "$old" = refused ] && [ $new_ok = yes ] && [ $ended_ok = yes ] && live_unchanged "$before" && live_kept c1 "$a0"; then
    check $n PASS "password of $LIVE_NEW changed in SSM: chap-secrets had the new one ${applied}s later (sync: '$(sync_applied "$since")'), $ended; old password refused (IPsec up, PPP authentication failed), new $new; $LU; $U1's $LK"
  else
    live_unchanged "$before"; live_kept c1 "$a0"
    check $n FAIL "new password in chap-secrets ${applied}s after the change; $ended; old password: $old; new: $new; $LU; $U1: $LK"
  fi
}

# ssm_user_removed_disconnected: a user removed in SSM while connected (c2) loses her session within
# the bound, and her line goes from chap-secrets, while alice's session on c1 (same pppd, same
# address) stays up and passes traffic to the gateway and the far host. Fails when the sync does not
# end sessions (mutant sync_no_session_end).
check_ssm_user_removed() {
  local n=ssm_user_removed_disconnected before a0 b since t0 out gone="" line=""
  if ! live_alice; then check $n FAIL "$U1 is not connected on c1 (the session that must stay): ${C_ERR:-ping failed}"; return; fi
  if [ "$LIVE_C2" != "$LIVE_NEW" ] || [ -z "$(client_session c2)" ]; then
    if ! connect c2 "$LIVE_NEW" "${LIVE_P2:-none}" "$PSK"; then check $n FAIL "$LIVE_NEW could not connect (see the checks before): $C_ERR"; return; fi
    LIVE_C2="$LIVE_NEW"
  fi
  b=$(ppp_addr c2)
  if ! gw_has_session "$b"; then check $n FAIL "the gateway shows no session for $LIVE_NEW's address $b"; return; fi
  before=$(live_instance); a0=$(client_session c1); since=$(journal_now)
  if ! out=$(ssm_users remove "$LIVE_NEW" 2>&1); then check $n FAIL "removing $LIVE_NEW in SSM failed: $out"; return; fi
  t0=$(up)
  # her client's PPP link and the gateway's side of it (a pppd with peer address $b)
  if live_wait "$t0" "$LIVE_BOUND" live_removed c2 "$b"; then gone="${LW}s"; fi
  LIVE_C2=""
  line=$(chap_line "$LIVE_NEW" | cut -f1)
  if [ -n "$gone" ] && [ -z "$line" ] && live_unchanged "$before" && live_kept c1 "$a0" far; then
    check $n PASS "$LIVE_NEW removed in SSM ($out) while connected ($b): her session gone on the client and the gateway ${gone} later (bound ${LIVE_BOUND}s; sync: '$(sync_applied "$since")'), her line gone from chap-secrets; $U1's $LK; $LU"
  else
    [ -n "$gone" ] || gone="STILL UP after ${LW}s (client: '$(ppp_addr c2)', gateway: $(gw_has_session "$b" && echo "peer $b up" || echo gone))"
    live_unchanged "$before"; live_kept c1 "$a0" far
    check $n FAIL "$LIVE_NEW removed in SSM: session $gone; chap-secrets line: ${line:-gone}; sync: '$(sync_applied "$since")'; $U1: $LK; $LU"
    sync_log_since "$since" | tail -n 5 | sed 's/^/  | /'
  fi
  client_down c2
}

# ssm_psk_changed: a new PSK in SSM: ipsec.secrets has it and pluto re-read it (no restart) within
# the bound; a new connection with the new PSK works; alice's session (IKE with the old one) stays.
# The original PSK is put back afterwards (and applied: every later check uses it).
check_ssm_psk_changed() {
  local n=ssm_psk_changed before a0 since t0 out newpsk written="" reread="" reread_ok=no new="" new_ok=no restore="" restore_ok=no t1
  newpsk=$(live_secret psk)
  before=$(live_instance); a0=$(client_session c1); since=$(journal_now)
  client_down c2; LIVE_C2=""
  if ! out=$(ssm put "$SSM_PATH/psk" SecureString "$newpsk" 2>&1); then check $n FAIL "putting a new PSK in SSM failed: $out"; return; fi
  t0=$(up)
  if ! live_wait "$t0" "$LIVE_BOUND" psk_is "$newpsk"; then
    check $n FAIL "new PSK put in SSM ($out), not in ipsec.secrets after ${LW}s; sync: $(sync_log_since "$since" | tail -n 3 | tr '\n' ' ' | cut -c1-300)"
  else
    written=$LW
    reread="pluto's re-read not logged"
    live_wait "$t0" "$LIVE_BOUND" sync_logged "$since" 'pluto re-read' && { reread="pluto re-read it ${LW}s after the change"; reread_ok=yes; }
    if connect c2 "${U2:-$U1}" "${U2P:-$U1P}" "$newpsk" && pings c2 "$GWPPP"; then new="a new connection with the new PSK up ($C_LOCAL, tunnel up in ${C_SECS}s)"; new_ok=yes
    else new="a new connection with the new PSK FAILED: ${C_ERR:-ping to $GWPPP failed}"; live_client_logs c2; fi
    client_down c2
  fi
  # back to the configured PSK, applied, before anything else connects
  restore="the original PSK NOT back"
  if ssm put "$SSM_PATH/psk" SecureString "$PSK" >/dev/null 2>&1; then
    t1=$(up); since=$(journal_now)
    live_wait "$t1" "$LIVE_BOUND" psk_is "$PSK" && live_wait "$t1" "$LIVE_BOUND" sync_logged "$since" 'pluto re-read' \
      && { restore="the original PSK back and re-read ${LW}s after it was put back"; restore_ok=yes; }
  fi
  [ -n "${written:-}" ] || return
  if [ $new_ok = yes ] && [ $reread_ok = yes ] && [ $restore_ok = yes ] && live_unchanged "$before" && live_kept c1 "$a0"; then
    check $n PASS "new PSK put in SSM ($out): in ipsec.secrets ${written}s later, $reread (no restart); $new; $U1's $LK (IKE with the old PSK); $restore; $LU"
  else
    live_unchanged "$before"; live_kept c1 "$a0"
    check $n FAIL "new PSK in ipsec.secrets ${written}s after the change; $reread; $new; $U1: $LK; $restore; $LU"
  fi
}

# ssm_bad_record_refused: a record written into SSM by hand with a mistake (a misspelt field, so no
# password) next to U1's good record: the sync refuses the whole update and logs which parameter and
# field (never the value), chap-secrets stays as it was, and the last good users still connect. The
# bucket is put back afterwards.
check_ssm_bad_record() {
  local n=ssm_bad_record_refused before a0 since t0 out bucket snap=/run/e2e/live-users-before-bad.json badpw sum0 refused="" why="" leak=no new="" new_ok=no restore="" restore_ok=no t1
  before=$(live_instance); a0=$(client_session c1)
  bucket=$(ssm_users bucket "$U1")
  if ! out=$(ssm_users snapshot "$snap" 2>&1); then check $n FAIL "saving the users parameters failed: $out"; return; fi
  badpw=$(live_secret bad)
  sum0=$(file_sum /etc/ppp/chap-secrets); since=$(journal_now)
  if ! out=$(ssm_users append-raw "$U1" "{\"name\":\"mallory-live\",\"pasword\":\"$badpw\"}" 2>&1); then check $n FAIL "writing the bad record failed: $out"; return; fi
  t0=$(up)
  refused=""
  live_wait "$t0" "$LIVE_BOUND" sync_logged "$since" 'refused the update' && refused="${LW}s"
  why=$(sync_log_since "$since" | grep -E "^refused: $bucket: users\[[0-9]+\]\.pas" | head -n 2 | tr '\n' ';' | cut -c1-300)
  leak=no; sync_log_since "$since" | grep -qF "$badpw" && leak=YES
  new="not tried"
  if connect c2 "${U2:-$U1}" "${U2P:-$U1P}" "$PSK" && pings c2 "$GWPPP"; then new="${U2:-$U1} connected ($C_LOCAL, tunnel up in ${C_SECS}s)"; new_ok=yes; LIVE_C2="${U2:-$U1}"
  else new="${U2:-$U1} did NOT connect: ${C_ERR:-ping failed}"; live_client_logs c2; fi
  # put the bucket back; applied again (the sync logs the good listing as applied, users unchanged)
  restore="bucket NOT put back"
  t1=$(up); since=$(journal_now)
  if ssm_users replace "$snap" >/dev/null 2>&1 && live_wait "$t1" "$LIVE_BOUND" sync_logged "$since" '^applied: '; then restore="bucket put back, applied ${LW}s later"; restore_ok=yes; fi
  rm -f "$snap"
  if [ -n "$refused" ] && [ -n "$why" ] && [ $leak = no ] && [ "$(file_sum /etc/ppp/chap-secrets)" = "$sum0" ] && [ $new_ok = yes ] \
     && [ $restore_ok = yes ] && live_unchanged "$before" && live_kept c1 "$a0"; then
    check $n PASS "a record with a misspelt field written by hand into $bucket (next to $U1's): update refused and logged ${refused} later, naming the parameter and field ('${why%;}'), the value not logged; chap-secrets unchanged; last good users still connect: $new, $U1's $LK; $restore; $LU"
  else
    live_unchanged "$before"; live_kept c1 "$a0"
    check $n FAIL "bad record in $bucket: refusal logged: ${refused:-NOT within ${LIVE_BOUND}s}; naming it: '${why:-nothing}'; value in the journal: $leak; chap-secrets $( [ "$(file_sum /etc/ppp/chap-secrets)" = "$sum0" ] && echo unchanged || echo CHANGED); $new; $U1: $LK; $restore; $LU"
    sync_log_since "$since" | tail -n 5 | sed 's/^/  | /'
  fi
}

# ssm_unreachable_sessions_stay: SSM unreachable (every packet to the endpoint dropped: connect
# timeouts), a user added meanwhile: the sync logs SSM unreachable, the sessions (alice on c1, bob
# on c2) stay with the same pppd and pass traffic, nothing in chap-secrets changes; once SSM is back
# the change applies within the bound
check_ssm_unreachable() {
  local n=ssm_unreachable_sessions_stay before a0 b0 since tb t1 out unreach="" kept="" kept_ok=yes sum0 sum1 back="" pw
  if ! live_alice; then check $n FAIL "$U1 is not connected on c1: ${C_ERR:-ping failed}"; return; fi
  if [ "$LIVE_C2" != "${U2:-$U1}" ] || [ -z "$(client_session c2)" ]; then
    if ! connect c2 "${U2:-$U1}" "${U2P:-$U1P}" "$PSK"; then check $n FAIL "${U2:-$U1} could not connect on c2: $C_ERR"; return; fi
    LIVE_C2="${U2:-$U1}"
  fi
  before=$(live_instance); a0=$(client_session c1); b0=$(client_session c2); sum0=$(file_sum /etc/ppp/chap-secrets)
  pw=$(live_secret pw3)
  since=$(journal_now)
  if ! out=$(ssm block 2>&1); then check $n FAIL "ssm-standin block failed: $out"; return; fi
  tb=$(up)
  # the change pulumi up would make meanwhile (the stand-in's admin side is not blocked)
  if ! out=$(ssm_users set "$LIVE_OFFLINE" "$pw" 2>&1); then ssm unblock; check $n FAIL "adding $LIVE_OFFLINE in SSM failed: $out"; return; fi
  # a poll that found SSM unreachable (connect timeouts: ~15-25 s per poll with the sync's retries)
  live_wait "$tb" 90 sync_logged "$since" 'SSM Parameter Store unreachable' && unreach="${LW}s"
  if live_kept c1 "$a0"; then kept="$U1's $LK"; else kept="$U1: $LK"; kept_ok=no; fi
  if live_kept c2 "$b0"; then kept="$kept; ${U2:-$U1}'s $LK"; else kept="$kept; ${U2:-$U1}: $LK"; kept_ok=no; fi
  sum1=$(file_sum /etc/ppp/chap-secrets)
  ssm unblock; t1=$(up)
  live_wait "$t1" "$LIVE_BOUND" chap_has "$LIVE_OFFLINE" && back="${LW}s"
  if [ -n "$unreach" ] && [ $kept_ok = yes ] && [ "$sum1" = "$sum0" ] && [ -n "$back" ] && live_unchanged "$before"; then
    check $n PASS "SSM blocked (connect timeouts) for $(awk -v a="$tb" -v b="$t1" 'BEGIN {printf "%.0f", b - a}')s, $LIVE_OFFLINE added in SSM meanwhile: the sync logged SSM unreachable ${unreach} after the block; $kept; chap-secrets unchanged while blocked; SSM back: $LIVE_OFFLINE in chap-secrets ${back} later (bound ${LIVE_BOUND}s; sync: '$(sync_applied "$since")'); $LU"
  else
    live_unchanged "$before"
    check $n FAIL "SSM blocked: unreachable logged: ${unreach:-NOT within 90 s}; $kept; chap-secrets while blocked: $( [ "$sum1" = "$sum0" ] && echo unchanged || echo CHANGED); after unblock: $LIVE_OFFLINE in chap-secrets: ${back:-NOT within ${LIVE_BOUND}s}; $LU"
    sync_log_since "$since" | tail -n 6 | sed 's/^/  | /'
  fi
}

# ================================ the live-long part =============================================
# the sync's peak memory (VmHWM, kB) while it runs, sampled twice a second into a file
sync_mem_sampler() {
  local max=0 p h
  while :; do
    for p in $(pgrep -f 'vpn-gateway-sync (once|boot)'); do
      h=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null)
      if [ -n "$h" ] && [ "$h" -gt "$max" ]; then max=$h; echo "$max" > "$1"; fi
    done
    sleep 0.5
  done
}
# systemd's own figure (systemd >= 254 logs "Consumed ... N memory peak" when a run ends): the largest
sync_memory_peak() {
  journalctl --since "$1" -u vpn-gateway-sync.service -o cat --no-pager 2>/dev/null \
    | grep -oE '[0-9.]+[BKMGT]? memory peak' | awk '{v = $1; u = substr(v, length(v)); n = v + 0
        if (u == "K") n *= 1024; else if (u == "M") n *= 1048576; else if (u == "G") n *= 1073741824
        if (n > max) {max = n; s = v}} END {if (s != "") printf "%s (systemd, largest of the runs)", s}'
}

# ssm_5000_users_synced: the users parameters swapped for those of a 5,000-user stack rendered by the
# product (run.sh: ~256 parameters; U1 and U2 among them, unchanged): chap-secrets holds 5,000 users
# within the bound after the last parameter is in SSM; the sync's peak memory; U1's session kept (the
# same user and password: nothing to end); then the stack's own users back
check_ssm_5000_users() {
  local n=ssm_5000_users_synced before a0 b0 since t0 tput t1 out applied="" snap=/run/e2e/live-users-before-5000.json n0 got="" mem=/run/e2e/live-sync-hwm sampler peak hwm restore restore_ok=no t2 kept="" kept_ok=yes
  if [ ! -r "$LIVE_USERS_5000" ]; then check $n FAIL "no $LIVE_USERS_5000 (run.sh renders it for the live-long part)"; return; fi
  live_alice || info "$U1 not connected on c1 before the 5,000 users: ${C_ERR:-ping failed}"
  if ! out=$(ssm_users snapshot "$snap" 2>&1); then check $n FAIL "saving the users parameters failed: $out"; return; fi
  n0=$(chap_users); before=$(live_instance); a0=$(client_session c1); b0=$(client_session c2); since=$(journal_now)
  rm -f "$mem"; sync_mem_sampler "$mem" & sampler=$!
  t0=$(up)
  if ! out=$(ssm_users replace "$LIVE_USERS_5000" 2>&1); then kill "$sampler"; check $n FAIL "putting the 5,000 users in SSM failed: $out"; return; fi
  tput=$(since_secs "$t0"); t1=$(up)
  live_wait "$t1" "$LIVE_BOUND_5000" chap_count_is 5000 && got="${LW}s"
  applied=$(sync_applied "$since")
  sleep 2; kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
  hwm=$(cat "$mem" 2>/dev/null); peak=$(sync_memory_peak "$since")
  info "5,000 users: $out in ${tput}s; chap-secrets $(chap_users) users ${got:-not 5000} after the last put; sync: '$applied'; peak memory: ${peak:-no systemd figure}; sampled VmHWM $((${hwm:-0} / 1024)) MB"
  # the same users with the same passwords (and addresses) in both sets: their sessions stay
  if live_kept c1 "$a0"; then kept="$U1's $LK"; else kept="$U1: $LK"; kept_ok=no; fi
  if [ -n "$b0" ]; then
    if live_kept c2 "$b0"; then kept="$kept; ${LIVE_C2:-c2}'s $LK"; else kept="$kept; ${LIVE_C2:-c2}: $LK"; kept_ok=no; fi
  fi
  # the stack's own users back (U1 and U2 unchanged: no session ends)
  restore="the stack's users NOT back"
  t2=$(up)
  if ssm_users replace "$snap" >/dev/null 2>&1 && live_wait "$t2" "$LIVE_BOUND_5000" chap_count_is "$n0"; then restore="the stack's $n0 users back in chap-secrets ${LW}s after the last change"; restore_ok=yes; fi
  rm -f "$snap"
  if [ -n "$got" ] && [ $kept_ok = yes ] && [ $restore_ok = yes ] && live_unchanged "$before"; then
    check $n PASS "users parameters swapped for a 5,000-user stack's ($out, ${tput}s to put): chap-secrets held 5,000 users ${got} after the last parameter was in SSM (bound ${LIVE_BOUND_5000}s; sync: '$applied'); sync's peak memory ${peak:-n/a (systemd logs none)}, sampled VmHWM $((${hwm:-0} / 1024)) MB; $kept; $restore; $LU"
  else
    live_unchanged "$before"
    check $n FAIL "5,000 users: chap-secrets ${got:-had $(chap_users) users after ${LIVE_BOUND_5000}s}; $kept; $restore; $LU"
    sync_log_since "$since" | tail -n 6 | sed 's/^/  | /'
  fi
}

# Before the reboot (end_phase1, live-long): a user added, applied, then SSM made unreachable; the
# block stays across the reboot (ssm-standin keeps it until unblock). What the gateway served is
# remembered for phase 2.
live_before_reboot() {
  local pw t0 out
  live_init
  pw=$(live_secret pw4)
  if out=$(ssm_users set "$LIVE_LAST" "$pw" 2>&1); then
    t0=$(up)
    if live_wait "$t0" "$LIVE_BOUND" chap_has "$LIVE_LAST"; then info "$LIVE_LAST added in SSM, in chap-secrets ${LW}s later: part of the last good users"
    else info "$LIVE_LAST added in SSM, NOT in chap-secrets after ${LW}s"; fi
  else info "adding $LIVE_LAST in SSM failed: $out"; fi
  if ! out=$(ssm block 2>&1); then info "ssm-standin block failed: $out"; return; fi
  {
    echo "LR_USER='$LIVE_LAST'"
    echo "LR_PASS='$pw'"
    echo "LR_CHAP='$(file_sum /etc/ppp/chap-secrets)'"
    echo "LR_IPSEC='$(file_sum /etc/ipsec.secrets)'"
    echo "LR_USERS='$(chap_users)'"
  } > "$LIVE_REBOOT_ENV"
  chmod 0600 "$LIVE_REBOOT_ENV"
  info "SSM Parameter Store blocked for the reboot ($(chap_users) users served): the second boot must serve them without it"
}

# phase 2, ssm_reboot_unreachable_serves_last_good: the sync's boot run found SSM unreachable, gave up
# after its bound and served the last good users (the same chap-secrets and ipsec.secrets as before
# the reboot); ipsec started after it; the user added last connects. Then SSM is unblocked.
check_ssm_reboot_unreachable() {
  local n=ssm_reboot_unreachable_serves_last_good blog served gaveup dur start reqs conn conn_ok=no
  live_init
  if [ ! -r "$LIVE_REBOOT_ENV" ]; then check $n FAIL "SSM was not made unreachable before the reboot (see phase 1's INFO lines)"; return; fi
  # shellcheck source=/dev/null  # written by live_before_reboot in phase 1
  . "$LIVE_REBOOT_ENV"
  blog=$(journalctl -b -u vpn-gateway-sync-boot.service -o cat --no-pager 2>/dev/null)
  served=$(echo "$blog" | grep -m1 'serving the last good users' | cut -c1-160)
  gaveup=$(echo "$blog" | grep -m1 -oE 'unreachable after [0-9]+ attempts in [0-9]+ s')
  # monotonic microseconds: how long the boot run took, and that ipsec started after it
  dur=$(awk -v a="$(systemctl show -p ExecMainStartTimestampMonotonic --value vpn-gateway-sync-boot.service)" \
            -v b="$(systemctl show -p ExecMainExitTimestampMonotonic --value vpn-gateway-sync-boot.service)" 'BEGIN {printf "%.0f", (b - a) / 1e6}')
  start=$(awk -v a="$(systemctl show -p ExecMainExitTimestampMonotonic --value vpn-gateway-sync-boot.service)" \
              -v b="$(systemctl show -p ExecMainStartTimestampMonotonic --value ipsec.service)" 'BEGIN {printf "%.0f", (b - a) / 1e6}')
  reqs=$(ssm requests | grep -c '"listener": "public"')
  conn="not tried"
  if connect c2 "$LR_USER" "$LR_PASS" "$PSK" && pings c2 "$GWPPP"; then conn="$LR_USER (added just before SSM became unreachable) connected ($C_LOCAL, tunnel up in ${C_SECS}s)"; conn_ok=yes
  else conn="$LR_USER did NOT connect: ${C_ERR:-ping failed}"; live_client_logs c2; fi
  client_down c2
  ssm unblock
  if [ -n "$served" ] && [ "$(file_sum /etc/ppp/chap-secrets)" = "$LR_CHAP" ] && [ "$(file_sum /etc/ipsec.secrets)" = "$LR_IPSEC" ] \
     && [ "${start:-0}" -ge 0 ] && [ $conn_ok = yes ]; then
    check $n PASS "SSM unreachable since before the reboot ($reqs requests reached it this boot): vpn-gateway-sync-boot gave up after ${dur}s (${gaveup:-?}) and served the last good users ('$served'): chap-secrets ($LR_USERS users) and ipsec.secrets as before the reboot; ipsec started ${start}s after it; $conn; SSM unblocked"
  else
    check $n FAIL "boot run: '${served:-no line saying it served the last good users}' (${gaveup:-no give-up line}, ${dur}s); chap-secrets $( [ "$(file_sum /etc/ppp/chap-secrets)" = "$LR_CHAP" ] && echo 'as before' || echo CHANGED), ipsec.secrets $( [ "$(file_sum /etc/ipsec.secrets)" = "$LR_IPSEC" ] && echo 'as before' || echo CHANGED); ipsec started ${start}s after the boot run; $conn"
    echo "$blog" | tail -n 8 | sed 's/^/  | /'
  fi
}

# the live checks of phase 1, for the profile's parts
run_live_checks() {
  profile_has live || profile_has live-long || return 0
  live_init
  if [ -z "$SSM_PATH" ]; then
    local c; for c in $(plan_checks); do [[ "$c" == ssm_* && "$c" != ssm_reboot_* ]] && check "$c" FAIL "no SSM parameter path in params.json (run.sh seeds the stand-in from render --out-dir)"; done
    return
  fi
  say "live checks: users and PSK changed in SSM Parameter Store ($SSM_PATH, region $SSM_REGION) while the gateway runs"
  ssm wait-up 60 >/dev/null 2>&1 || info "the SSM stand-in is not up: $(ssm status 2>&1 | head -c 200)"
  live_alice || info "$U1 not connected on c1 at the start of the live checks: ${C_ERR:-ping failed}"
  if profile_has live; then
    check_ssm_user_added
    check_ssm_password_changed
    check_ssm_user_removed
    check_ssm_psk_changed
    check_ssm_bad_record
    check_ssm_unreachable
  fi
  profile_has live-long && check_ssm_5000_users
  info "live checks done: $(chap_users) users in chap-secrets; SSM requests so far: $(ssm requests | grep -c '"listener": "public"')"
}
