#!/usr/bin/env bash
# Mutation demonstration: do the VM checks notice a broken gateway?
#
#   bash e2e/mutants.sh [--only NAME] [--full] [--list] [--config FILE]
#
# Renders the stack's user-data (plain cloud-config: `npm run render -- --config FILE`), makes
# one mutated copy per mutant below by editing the YAML text, and runs
#   bash e2e/run.sh --config FILE --user-data MUTANT --skip-reboot
# for each (--full: with the reboot phase too; ~10 min each instead of ~7). The test clients'
# PSK and passwords come from --config, i.e. the TRUE ones, never from the mutated user-data.
# Every mutant is expected to make at least one check FAIL; prints a table
#   mutant | expected | verdict | failed checks
# and exits 0 only when every mutant that ran was caught. Logs: e2e/.work/mutants-*/NAME.log
#
# Mutants:
#   psk            the PSK in /etc/ipsec.secrets changed
#   password       the first user's password in /etc/ppp/chap-secrets changed
#   no_masquerade  the MASQUERADE rule removed from the firewall script
#   no_ikev1       `ikev1-policy=accept` removed from ipsec.conf
#   l2tp_clear     the IPsec-only accept and the DROP of udp/1701 replaced by a plain ACCEPT
set -euo pipefail
E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$E2E")"
ALL="psk password no_masquerade no_ikev1 l2tp_clear"
CONFIG="$ROOT/Pulumi.example.yaml"; ONLY=""; FULL=no; LIST=no
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    --full) FULL=yes; shift ;;
    --list) LIST=yes; shift ;;
    --config) CONFIG="$(realpath "$2")"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "mutants.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -n "$ONLY" ]; then
  for m in ${ONLY//,/ }; do [[ " $ALL " == *" $m "* ]] || { echo "mutants.sh: unknown mutant $m (have: $ALL)" >&2; exit 2; }; done
  RUN=${ONLY//,/ }
else RUN=$ALL; fi

OUT="$E2E/.work/mutants-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
(cd "$ROOT" && npm run -s render -- --config "$CONFIG") > "$OUT/original.yaml"
[ "$(head -n 1 "$OUT/original.yaml")" = "#cloud-config" ] || { echo "mutants.sh: render did not give a plain #cloud-config" >&2; exit 1; }

# Each mutation must change exactly the lines it names (it fails loudly when the rendered text no
# longer has them), and the result must still be valid YAML with the same keys.
python3 - "$OUT" $ALL <<'PY'
import re, sys
out, names = sys.argv[1], sys.argv[2:]
src = open(f"{out}/original.yaml").read()

def sub(text, pattern, repl, count=1):
    new, n = re.subn(pattern, repl, text, count=count, flags=re.M)
    if n != count:
        sys.exit(f"mutants.sh: pattern {pattern!r} matched {n} times, want {count_expected}")
    return new

mutants = {
    # /etc/ipsec.secrets: %any %any : PSK "..."
    "psk": lambda s: sub(s, r'^(\s*%any %any : PSK ")[^"]*(")', r'\1mutant-psk-not-the-configured-one\2'),
    # /etc/ppp/chap-secrets: the first user line ("name"<TAB>l2tpd<TAB>"secret"<TAB>ip)
    # (count=1: only the first match is replaced, the other users keep theirs)
    "password": lambda s: sub(s, r'^(\s*"[^"\n]+"\tl2tpd\t")[^"\n]*(")', r'\1mutant-password\2'),
    # firewall script: the nat table's MASQUERADE line
    "no_masquerade": lambda s: sub(s, r'^\s*-A POSTROUTING .*-j MASQUERADE\n', ''),
    # ipsec.conf: config setup's ikev1-policy=accept
    "no_ikev1": lambda s: sub(s, r'^\s*ikev1-policy=accept\n', ''),
    # firewall script: accept L2TP from anyone, in clear
    "l2tp_clear": lambda s: sub(
        sub(s, r'^(\s*)-A INPUT -p udp --dport 1701 -m policy --dir in --pol ipsec -j ACCEPT\n', r'\1-A INPUT -p udp --dport 1701 -j ACCEPT\n'),
        r'^\s*-A INPUT -p udp --dport 1701 -j DROP\n', ''),
}
assert set(names) == set(mutants), (names, list(mutants))
for name in names:
    m = mutants[name](src)
    assert m != src
    open(f"{out}/{name}.yaml", "w").write(m)
PY
for m in $ALL; do
  node -e 'const Y=require(require("module").createRequire(process.argv[1]+"/package.json").resolve("yaml"));
    const a=Y.parse(require("fs").readFileSync(process.argv[2],"utf8")), b=Y.parse(require("fs").readFileSync(process.argv[3],"utf8"));
    if (JSON.stringify(Object.keys(a))!==JSON.stringify(Object.keys(b))||a.write_files.length!==b.write_files.length) process.exit(1)' \
    "$ROOT" "$OUT/original.yaml" "$OUT/$m.yaml" || { echo "mutants.sh: mutant $m is not the same cloud-config shape" >&2; exit 1; }
  diff -u "$OUT/original.yaml" "$OUT/$m.yaml" > "$OUT/$m.diff" || true
done
echo "mutants in $OUT (each NAME.yaml, NAME.diff against original.yaml)"
for m in $ALL; do echo "== $m"; grep -E '^[-+] ' "$OUT/$m.diff" | sed 's/^/   /'; done
[ $LIST = yes ] && exit 0

# a broken gateway makes the clients wait for their timeouts, and the VM may share the cores:
# a longer bound than run.sh's default 900 s (override with MUTANT_TIMEOUT)
runargs=(--config "$CONFIG" --timeout "${MUTANT_TIMEOUT:-1500}"); [ $FULL = no ] && runargs+=(--skip-reboot)
declare -A VERDICT FAILED SECS
for m in $RUN; do
  echo; echo "===== mutant $m: bash e2e/run.sh ${runargs[*]} --user-data $OUT/$m.yaml   ($(date +%H:%M:%S))"
  t0=$(date +%s)
  set +e; bash "$E2E/run.sh" "${runargs[@]}" --user-data "$OUT/$m.yaml" > "$OUT/$m.log" 2>&1; rc=$?; set -e
  SECS[$m]=$(( $(date +%s) - t0 ))
  FAILED[$m]=$(grep -E '^CHECK [a-z0-9_]+ FAIL' "$OUT/$m.log" | awk '{print $2}' | sort -u | tr '\n' ' ')
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/$m.log" | tail -n 1)
  if [ -n "${FAILED[$m]}" ] && [ $rc -ne 0 ]; then VERDICT[$m]="caught ($summary)"; else VERDICT[$m]="NOT CAUGHT ($summary, rc $rc)"; fi
  grep -E '^CHECK ' "$OUT/$m.log" | sed 's/^/   /' | cut -c1-200
  echo "   -> ${VERDICT[$m]} in ${SECS[$m]} s; log $OUT/$m.log"
done

echo
printf '%-14s | %-8s | %-30s | %s\n' mutant expected verdict "failed checks"
printf '%-14s-+-%-8s-+-%-30s-+-%s\n' -------------- -------- ------------------------------ -------------
missed=0
for m in $RUN; do
  printf '%-14s | %-8s | %-30s | %s\n' "$m" FAIL "${VERDICT[$m]}" "${FAILED[$m]:-none}"
  [[ "${VERDICT[$m]}" == caught* ]] || missed=$((missed+1))
done
echo "$(( $(echo $RUN | wc -w) - missed )) of $(echo $RUN | wc -w) mutants caught"
[ $missed -eq 0 ]
