#!/usr/bin/env bash
# Mutation demonstration: do the VM checks notice a gateway with one protection removed?
#
#   bash e2e/mutants.sh [--only NAME[,NAME]] [--group NAME,NAME]... [--list] [--config FILE]
#
# Renders the stack's user-data (plain cloud-config: `npm run render -- --config FILE`), removes
# protections by editing the YAML text, boots each mutated user-data with
#   bash e2e/run.sh --config FILE --user-data MUTANT [--skip-reboot]
# and checks that every mutant made the check it names FAIL. The test clients' PSK and passwords
# come from --config, i.e. the TRUE ones, never from the mutated user-data.
#
# A run boots one user-data with one or more mutants applied together (a "group"). A group only
# holds mutants whose protections guard different checks and do not mask each other (e.g. never
# no_masquerade with imds_open: without NAT no reply reaches any client, metadata or not); each
# mutant in it must make ITS OWN expected check fail. That keeps the whole demonstration to a few
# VM boots. --only NAME[,NAME] boots each named mutant alone; --group A,B boots A and B together;
# no option = the default plan (DEFAULT_PLAN below). Each run stops once its mutants' checks have
# run (run.sh --stop-after).
# A group with a mutant that needs the reboot phase runs with it (+~5 min).
# Prints   mutant | expected check | verdict | failed checks   and exits 0 only when every mutant
# that ran was caught. Logs: e2e/.work/mutants-*/RUN.log
set -euo pipefail
E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$E2E")"
. "$ROOT/scripts/node-env.sh"   # Node 24 from .tools/node-24 where setup installed it

# name | check that must FAIL (any of, separated by /) | reboot phase needed | what is removed
# [| image the run boots: [DIST/]VARIANT, run.sh --dist and --image; default bookworm/ubuntu; a
#    group shares one image]
MUTANTS='
no_extra_modules     | ubuntu_extra_modules                         | no  | the kernel step does not install linux-modules-extra (Ubuntu layout)
no_kernel_switch     | debian_kernel_switched                       | no  | the kernel step does not switch a cloud kernel to the generic one | debian-cloud
psk                  | user1_pool_address                           | no  | the PSK in /etc/ipsec.secrets changed
password             | user1_pool_address                           | no  | the first user'"'"'s password in /etc/ppp/chap-secrets changed
no_ikev1             | windows_l2tp                                 | no  | ikev1-policy=accept removed from ipsec.conf
no_ike_sha1          | windows_l2tp                                 | no  | the SHA1 proposals removed from ike= (Windows offers SHA1 only in IKEv1)
no_masquerade        | user1_far_host_nat                           | no  | the MASQUERADE rule removed
l2tp_clear           | l2tp_without_ipsec_ignored                   | no  | L2TP accepted without IPsec (policy match and DROP removed)
nat_t_no_limit       | two_devices_one_nat                          | no  | the one-NAT-T-flow-per-address limit removed (matters on Libreswan 5) | trixie/generic
l2tp_out_clear       | public_link_only_ipsec                       | no  | the OUTPUT drop of L2TP leaving without IPsec removed
imds_open            | client_no_metadata                           | no  | the FORWARD drop of 169.254.0.0/16 removed
input_accept         | ssh_port_closed                              | no  | IPv4 INPUT policy ACCEPT instead of DROP
ipv6_open            | ipv6_default_deny                            | no  | IPv6 INPUT and FORWARD policies ACCEPT instead of DROP
client_to_client     | client_to_client_blocked                     | no  | the client-to-client DROP turned into ACCEPT
log_leaks_password   | no_secrets_in_logs                           | no  | the connect script also logs the user'"'"'s chap-secrets line
no_connect_log       | connection_logged                            | no  | the connect/disconnect journal line removed
firewall_noflush     | firewall_rerun_no_duplicates                 | no  | iptables-restore --noflush (rules appended, not replaced)
no_dpd               | vanished_client_cleaned                      | no  | dpddelay/dpdtimeout removed from ipsec.conf
no_lcp_echo          | vanished_client_cleaned                      | no  | lcp-echo-interval/lcp-echo-failure removed (NOT caught: xl2tpd HELLO drops a vanished client first)
no_restart           | xl2tpd_kill9_recovers/pluto_kill9_recovers   | no  | the Restart=always drop-ins for ipsec and xl2tpd removed
firewall_not_enabled | reboot_firewall_same                         | yes | the firewall unit started on first boot but not enabled for the next
'
# (no_lcp_echo is left out: for a client that vanishes, xl2tpd's L2TP HELLO removes the session
# ~30 s before LCP echo would; LCP echo only matters for a client whose PPP hangs while its L2TP
# stays up, which no check provokes yet. `--only no_lcp_echo` shows it.)
DEFAULT_PLAN="no_extra_modules,imds_open,input_accept,ipv6_open,client_to_client,log_leaks_password,no_connect_log,firewall_noflush,no_dpd,no_restart firewall_not_enabled psk password no_ikev1 no_ike_sha1 no_masquerade,l2tp_clear"
field() { echo "$MUTANTS" | awk -F'|' -v n="$1" -v f="$2" '{gsub(/^ +| +$/, "", $1)} $1 == n {gsub(/^ +| +$/, "", $f); print $f}'; }
ALL=$(echo "$MUTANTS" | awk -F'|' 'NF > 1 {gsub(/ /, "", $1); print $1}' | tr '\n' ' ')

CONFIG="$ROOT/Pulumi.example.yaml"; PLAN=""; LIST=no
while [ $# -gt 0 ]; do
  case "$1" in
    --only) PLAN="$PLAN ${2//,/ }"; shift 2 ;;
    --group) PLAN="$PLAN $2"; shift 2 ;;
    --list) LIST=yes; shift ;;
    --config) CONFIG="$(realpath "$2")"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "mutants.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
PLAN=${PLAN:-$DEFAULT_PLAN}
for g in $PLAN; do for m in ${g//,/ }; do
  [[ " $ALL " == *" $m "* ]] || { echo "mutants.sh: unknown mutant $m (have: $ALL)" >&2; exit 2; }
done; done

OUT="$E2E/.work/mutants-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
(cd "$ROOT" && npm run -s render -- --config "$CONFIG") > "$OUT/original.yaml"
[ "$(head -n 1 "$OUT/original.yaml")" = "#cloud-config" ] || { echo "mutants.sh: render did not give a plain #cloud-config" >&2; exit 1; }

# One user-data per run: the group's mutations applied in turn. Each mutation must change exactly
# the lines it names (it fails loudly when the rendered text no longer has them).
# shellcheck disable=SC2086  # PLAN: one argument per group (space-separated list)
python3 - "$OUT" $PLAN <<'PY'
import re, sys
out, plan = sys.argv[1], sys.argv[2:]
src = open(f"{out}/original.yaml").read()

def sub(text, pattern, repl, count=1):
    new, n = re.subn(pattern, repl, text, flags=re.M)
    if n != count:
        sys.exit(f"mutants.sh: pattern {pattern!r} matched {n} times, want {count}")
    return new

def first(text, pattern, repl):  # only the first match (e.g. the IPv4 table before the IPv6 one)
    new, n = re.subn(pattern, repl, text, count=1, flags=re.M)
    if n != 1:
        sys.exit(f"mutants.sh: pattern {pattern!r} did not match")
    return new

mutants = {
    # the calls in `vpn-gateway-kernel prepare` (the function definitions stay)
    "no_extra_modules": lambda s: sub(s, r'^\s*install_extra_modules\n', ''),
    "no_kernel_switch": lambda s: sub(s, r'^\s*switch_to_generic_kernel\n', ''),
    # /etc/ipsec.secrets: %any %any : PSK "..."
    "psk": lambda s: sub(s, r'^(\s*%any %any : PSK ")[^"]*(")', r'\1mutant-psk-not-the-configured-one\2'),
    # /etc/ppp/chap-secrets: only the first user line ("name"<TAB>l2tpd<TAB>"secret"<TAB>ip)
    "password": lambda s: first(s, r'^(\s*"[^"\n]+"\tl2tpd\t")[^"\n]*(")', r'\1mutant-password\2'),
    "no_ikev1": lambda s: sub(s, r'^\s*ikev1-policy=accept\n', ''),
    "no_ike_sha1": lambda s: sub(s, r'^(\s*ike=.*?),aes256-sha1;modp2048,aes128-sha1;modp2048$', r'\1'),
    "no_masquerade": lambda s: sub(s, r'^\s*-A POSTROUTING .*-j MASQUERADE\n', ''),
    "l2tp_clear": lambda s: sub(
        sub(s, r'^(\s*)-A INPUT -p udp --dport 1701 -m policy --dir in --pol ipsec -j ACCEPT\n', r'\1-A INPUT -p udp --dport 1701 -j ACCEPT\n'),
        r'^\s*-A INPUT -p udp --dport 1701 -j DROP\n', ''),
    "nat_t_no_limit": lambda s: sub(s, r'^\s*-A INPUT -p udp --dport 4500 -m connlimit .*-j DROP\n', ''),
    "l2tp_out_clear": lambda s: sub(s, r'^\s*-A OUTPUT -p udp --sport 1701 .*-j DROP\n', ''),
    "imds_open": lambda s: sub(s, r'^\s*-A FORWARD -i ppp\+ -d 169\.254\.0\.0/16 -j DROP\n', ''),
    "input_accept": lambda s: first(s, r'^(\s*):INPUT DROP \[0:0\]$', r'\1:INPUT ACCEPT [0:0]'),
    "ipv6_open": lambda s: sub(s, r'^(\s*ip6tables-restore <<RULES\n\s*\*filter\n\s*):INPUT DROP \[0:0\]\n(\s*):FORWARD DROP',
                               r'\1:INPUT ACCEPT [0:0]\n\2:FORWARD ACCEPT'),
    "client_to_client": lambda s: sub(s, r'^(\s*-A FORWARD -i ppp\+ -o ppp\+ -j )DROP$', r'\1ACCEPT'),
    # both copies (ip-up.d, ip-down.d); applied before no_connect_log, which keeps this line
    "log_leaks_password": lambda s: sub(s, r'^(\s*)(logger -t vpn-gateway -p authpriv\.info .*)$',
                                        r'\1\2\n\1logger -t vpn-gateway-debug "peer secret: $(grep -F "$PEERNAME" /etc/ppp/chap-secrets)"', 2),
    "no_connect_log": lambda s: sub(s, r'^\s*logger -t vpn-gateway -p authpriv\.info .*\n', '', 2),
    "firewall_noflush": lambda s: sub(s, r'^(\s*)iptables-restore <<RULES$', r'\1iptables-restore --noflush <<RULES'),
    "no_dpd": lambda s: sub(s, r'^\s*dpd(delay|timeout)=.*\n', '', 2),
    "no_lcp_echo": lambda s: sub(s, r'^\s*lcp-echo-(interval|failure) .*\n', '', 2),
    "no_restart": lambda s: sub(s, r'^\s*Restart=always\n', '', 2),
    # runcmd: `systemctl enable` without the firewall unit (`systemctl restart` still starts it)
    "firewall_not_enabled": lambda s: sub(s, r'^(\s*- enable\n)\s*- vpn-gateway-firewall\.service\n', r'\1'),
}
order = list(mutants)
for group in plan:
    names = sorted(group.split(","), key=order.index)
    m = src
    for name in names:
        m = mutants[name](m)
    assert m != src
    open(f"{out}/{group.replace(',', '+')}.yaml", "w").write(m)
PY
for g in $PLAN; do
  f="$OUT/${g//,/+}"
  node -e 'const Y=require(require("module").createRequire(process.argv[1]+"/package.json").resolve("yaml"));
    const a=Y.parse(require("fs").readFileSync(process.argv[2],"utf8")), b=Y.parse(require("fs").readFileSync(process.argv[3],"utf8"));
    if (JSON.stringify(Object.keys(a))!==JSON.stringify(Object.keys(b))||a.write_files.length!==b.write_files.length) process.exit(1)' \
    "$ROOT" "$OUT/original.yaml" "$f.yaml" || { echo "mutants.sh: run $g is not the same cloud-config shape" >&2; exit 1; }
  diff -u "$OUT/original.yaml" "$f.yaml" > "$f.diff" || true
done
echo "mutated user-data in $OUT (RUN.yaml, RUN.diff against original.yaml)"
for g in $PLAN; do
  echo "== run ${g//,/ + }"
  for m in ${g//,/ }; do echo "   $m: $(field "$m" 4) -> must fail $(field "$m" 2)"; done
  grep -E '^[-+] ' "$OUT/${g//,/+}.diff" | sed 's/^/     /' | cut -c1-180
done
[ $LIST = yes ] && exit 0

# a broken gateway makes the clients wait for their timeouts: a longer bound than run.sh's
declare -A VERDICT FAILED
for g in $PLAN; do
  f="$OUT/${g//,/+}"; args=(--config "$CONFIG" --timeout "${MUTANT_TIMEOUT:-2400}")
  reboot=no; stop=""; image=ubuntu; dist=bookworm
  for m in ${g//,/ }; do
    [ "$(field "$m" 3)" = yes ] && reboot=yes; stop="$stop,$(field "$m" 2 | tr '/' ',')"
    if [ -n "$(field "$m" 5)" ]; then image=$(field "$m" 5); [[ "$image" == */* ]] && { dist=${image%/*}; image=${image#*/}; }; fi
  done
  args+=(--dist "$dist" --image "$image")
  [ $reboot = no ] && args+=(--skip-reboot)
  args+=(--stop-after "${stop#,}")   # nothing after the checks that must fail matters
  echo; echo "===== run ${g//,/ + }: bash e2e/run.sh ${args[*]} --user-data $f.yaml   ($(date +%H:%M:%S))"
  t0=$(date +%s)
  set +e; bash "$E2E/run.sh" "${args[@]}" --user-data "$f.yaml" > "$f.log" 2>&1; rc=$?; set -e
  # (a check that never ran, "FAIL missing", proves nothing)
  failed=$(grep -E '^CHECK [a-z0-9_]+ FAIL' "$f.log" | grep -v ' FAIL missing' | awk '{print $2}' | sort -u | tr '\n' ' ')
  grep -E '^CHECK ' "$f.log" | sed 's/^/   /' | cut -c1-200
  echo "   $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$f.log" | tail -n 1) in $(( $(date +%s) - t0 )) s (exit $rc); log $f.log"
  for m in ${g//,/ }; do
    FAILED[$m]=$failed; VERDICT[$m]="NOT CAUGHT"
    for c in $(field "$m" 2 | tr '/' ' '); do [[ " $failed " == *" $c "* ]] && VERDICT[$m]="caught"; done
  done
done

echo
printf '%-20s | %-44s | %-10s | %s\n' mutant "must fail" verdict "failed checks in its run"
printf '%-20s-+-%-44s-+-%-10s-+-%s\n' -------------------- -------------------------------------------- ---------- ------------------------
missed=0; total=0
for g in $PLAN; do for m in ${g//,/ }; do
  total=$((total+1))
  printf '%-20s | %-44s | %-10s | %s\n' "$m" "$(field "$m" 2)" "${VERDICT[$m]}" "${FAILED[$m]:-none}"
  [ "${VERDICT[$m]}" = caught ] || missed=$((missed+1))
done; done
echo "$((total - missed)) of $total mutants caught"
[ $missed -eq 0 ]
