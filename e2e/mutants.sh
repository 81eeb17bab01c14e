#!/usr/bin/env bash
# Mutation demonstration: do the VM checks notice a gateway with one protection removed?
#
#   bash e2e/mutants.sh [--only NAME[,NAME]] [--group NAME,NAME]... [--list] [--config FILE]
#
# Renders the stack as run.sh does (`npm run render -- --config FILE --out-dir DIR`: the user-data
# and the SSM parameters, for the os of the image each run boots), removes protections by editing
# the user-data's YAML text or the parameters (the PSK, a user's record, or the gateway's agent: a
# module of its package (agent/vpn_gateway_agent) patched and the zipapp rebuilt by agent/build.py,
# its parameters and the SHA-256 and count the user-data pins it by changed together, as a release
# with that change would ship), boots each mutated pair with
#   bash e2e/run.sh --config FILE --user-data RUN.user-data --ssm-params RUN.ssm.json [--skip-reboot]
# and checks that every mutant made the check it names FAIL. The test clients' PSK and passwords
# come from --config, i.e. the TRUE ones, never from the mutated user-data or parameters.
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
#    group shares one image [| run.sh --profile; default full; a group shares one profile]]
MUTANTS='
no_extra_modules     | ubuntu_extra_modules                         | no  | the kernel step does not install linux-modules-extra (Ubuntu layout)
no_kernel_switch     | debian_kernel_switched                       | no  | the kernel step does not switch a cloud kernel to the generic one | debian-cloud
psk                  | user1_pool_address                           | no  | the PSK in SSM (PATH/psk, which the sync writes to /etc/ipsec.secrets) changed
password             | user1_pool_address                           | no  | the first user'"'"'s password in SSM (its PATH/users/<bb> record, which the sync writes to /etc/ppp/chap-secrets) changed
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
sync_no_session_end  | ssm_user_removed_disconnected                | no  | the sync ends no session (a removed user stays connected): the program in SSM and its SHA-256 in the user-data | trixie/generic | live
no_crl_import        | ikev2_revoked_refused_session_ended          | no  | the sync neither imports the CRL nor writes it where pluto fetches it: the program in SSM and its SHA-256 in the user-data | trixie/generic | platforms
no_ip_san            | ikev2_android                                | no  | the server certificate in PATH/ikev2 re-issued (same key, same CA) without its iPAddress SAN, the dNSName one kept | trixie/generic | platforms
'
# (no_lcp_echo is left out: for a client that vanishes, xl2tpd's L2TP HELLO removes the session
# ~30 s before LCP echo would; LCP echo only matters for a client whose PPP hangs while its L2TP
# stays up, which no check provokes yet. `--only no_lcp_echo` shows it.)
DEFAULT_PLAN="no_extra_modules,imds_open,input_accept,ipv6_open,client_to_client,log_leaks_password,no_connect_log,firewall_noflush,no_dpd,no_restart firewall_not_enabled psk password no_ikev1 no_ike_sha1 no_masquerade,l2tp_clear sync_no_session_end no_crl_import no_ip_san"
field() { echo "$MUTANTS" | awk -F'|' -v n="$1" -v f="$2" '{gsub(/^ +| +$/, "", $1)} $1 == n {gsub(/^ +| +$/, "", $f); print $f}'; }
ALL=$(echo "$MUTANTS" | awk -F'|' 'NF > 1 {gsub(/ /, "", $1); print $1}' | tr '\n' ' ')

CONFIG="$ROOT/Pulumi.example.yaml"; PLAN=""; LIST=no
while [ $# -gt 0 ]; do
  case "$1" in
    --only) PLAN="$PLAN ${2//,/ }"; shift 2 ;;
    --group) PLAN="$PLAN $2"; shift 2 ;;
    --list) LIST=yes; shift ;;
    --config) CONFIG="$(realpath "$2")"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "mutants.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
PLAN=${PLAN:-$DEFAULT_PLAN}
for g in $PLAN; do for m in ${g//,/ }; do
  [[ " $ALL " == *" $m "* ]] || { echo "mutants.sh: unknown mutant $m (have: $ALL)" >&2; exit 2; }
done; done

OUT="$E2E/.work/mutants-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
# shellcheck source=e2e/lib/image-os.sh
. "$E2E/lib/image-os.sh"
# Each run's image and profile (a group shares both), hence the os it is rendered for.
declare -A RUN_DIST RUN_IMAGE RUN_PROFILE
for g in $PLAN; do
  dist=bookworm; image=ubuntu; profile=""
  for m in ${g//,/ }; do
    if [ -n "$(field "$m" 5)" ]; then image=$(field "$m" 5); [[ "$image" == */* ]] && { dist=${image%/*}; image=${image#*/}; }; fi
    p=$(field "$m" 6); p=${p:-full}
    [ -z "$profile" ] || [ "$profile" = "$p" ] || { echo "mutants.sh: group $g mixes profiles $profile and $p" >&2; exit 2; }
    profile=$p
  done
  RUN_DIST[$g]=$dist; RUN_IMAGE[$g]=$image; RUN_PROFILE[$g]=$profile
done
# The stack's name and region (e2e/lib/stack.js, as run.sh renders it) and the first user without a
# static address (params.js's user 1, whose password the `password` mutant changes).
read -r STACK REGION < <(node "$E2E/lib/stack.js" "$CONFIG")
DYN_USER=$(node -e 'const Y=require(require("module").createRequire(process.argv[1]+"/package.json").resolve("yaml"));
  const u=(Y.parse(require("fs").readFileSync(process.argv[2],"utf8")).config||{})["vpn-gateway:users"]||[];
  console.log((u.find((x)=>!x.ip)||u[0]||{}).name||"")' "$ROOT" "$CONFIG")
# One render per os: original-OS/{user-data,ssm-parameters.json}
RUN_ARGS=()
for g in $PLAN; do
  os=$(image_os "${RUN_DIST[$g]}" "${RUN_IMAGE[$g]}")
  if [ ! -d "$OUT/original-$os" ]; then
    (cd "$ROOT" && npm run -s render -- --config "$CONFIG" --os "$os" --stack "$STACK" --region "$REGION" --out-dir "$OUT/original-$os") 2> "$OUT/render-$os.log" \
      || { cat "$OUT/render-$os.log" >&2; echo "mutants.sh: render for $os failed" >&2; exit 1; }
  fi
  RUN_ARGS+=("$g=$os")
done

# One user-data and one parameters file per run: the group's mutations applied in turn. Each
# mutation must change exactly what it names (it fails loudly when the rendered text no longer has it).
DYN_USER=$DYN_USER AGENT="$ROOT/agent" python3 - "$OUT" "${RUN_ARGS[@]}" <<'PY'
import base64, difflib, gzip, hashlib, io, json, os, re, shutil, subprocess, sys, tempfile, zipfile
out, runs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
AGENT = os.environ["AGENT"]  # the repository's agent/: its build.py makes the zipapp from a package folder

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

class Stack:
    """One run's user-data (YAML text) and SSM parameters ([{name, type, value}])."""
    def __init__(self, text, params):
        self.text, self.params = text, params
        psk = [p["name"] for p in params if p["name"].endswith("/psk")]
        if len(psk) != 1:
            sys.exit("mutants.sh: the rendered parameters have no single PATH/psk")
        self.path = psk[0][: -len("/psk")]
    def param(self, name):
        hits = [p for p in self.params if p["name"] == name]
        if len(hits) != 1:
            sys.exit(f"mutants.sh: no parameter {name}")
        return hits[0]
    def program(self):
        """The agent's zipapp as its parameters hold it (bytes)."""
        chunks = sorted((int(p["name"].rsplit("/", 1)[1]), p["value"]) for p in self.params if p["name"].startswith(self.path + "/program/"))
        return gzip.decompress(base64.b64decode("".join(v for _, v in chunks)))
    def sources(self):
        """The agent's package as the zipapp holds it: {path in the zip: source text}."""
        with zipfile.ZipFile(io.BytesIO(self.program())) as z:
            return {n: z.read(n).decode("utf-8") for n in z.namelist()}
    def patch_agent(self, module, pattern, repl, count=1):
        # a release of the agent with one module of its package changed: the package folder
        # written out, the module patched, and the zipapp rebuilt by agent/build.py (first from
        # the untouched sources, which must give the very bytes the parameters hold)
        files = self.sources()
        name = f"vpn_gateway_agent/{module}.py"
        if name not in files:
            sys.exit(f"mutants.sh: the agent has no module {name}")
        def build(files):
            with tempfile.TemporaryDirectory() as d:
                shutil.copy(f"{AGENT}/build.py", f"{d}/build.py")
                os.makedirs(f"{d}/vpn_gateway_agent")
                for n, text in files.items():
                    if n.startswith("vpn_gateway_agent/"):
                        open(f"{d}/{n}", "w", encoding="utf-8").write(text)
                subprocess.run([sys.executable, f"{d}/build.py", f"{d}/out.pyz"], check=True)
                return open(f"{d}/out.pyz", "rb").read()
        if build(files) != self.program():
            sys.exit("mutants.sh: agent/build.py does not rebuild the rendered zipapp byte for byte from its own sources")
        files[name] = sub(files[name], pattern, repl, count)
        self.set_program(build(files))
    def set_program(self, data):
        # a release of the sync with this zipapp: its parameters (gzip, base64, 4096-character
        # pieces) and the SHA-256 and count the user-data's installer command pins it by
        packed = base64.b64encode(gzip.compress(data, 9, mtime=0)).decode()
        chunks = [packed[i : i + 4096] for i in range(0, len(packed), 4096)]
        prefix = self.path + "/program/"
        self.params = sorted([p for p in self.params if not p["name"].startswith(prefix)]
                             + [{"name": f"{prefix}{i + 1}", "type": "SecureString", "value": c} for i, c in enumerate(chunks)],
                             key=lambda p: p["name"])
        digest = hashlib.sha256(data).hexdigest()
        self.text = sub(self.text, r'^(\s*- - /usr/local/sbin/vpn-gateway-sync-install\n\s*- )[0-9a-f]{64}\n(\s*- )"[0-9]+"$',
                        lambda m: f'{m.group(1)}{digest}\n{m.group(2)}"{len(chunks)}"')

def yaml_mutant(f):  # a mutation of the user-data's text only
    def apply(st):
        st.text = f(st.text)
    return apply

def psk(st):
    st.param(st.path + "/psk")["value"] = "mutant-psk-not-the-configured-one"

def password(st):
    user = os.environ["DYN_USER"]
    for p in st.params:
        if p["name"].startswith(st.path + "/users/"):
            doc = json.loads(p["value"])
            hits = [u for u in doc["users"] if u["name"] == user]
            if hits:
                hits[0]["password"] = "mutant-password"
                p["value"] = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
                return
    sys.exit(f"mutants.sh: no users parameter holds {user!r}")

def sync_no_session_end(st):
    # _apply hands end_sessions no names: nobody's session ends (stale records are still cleaned)
    # (and remembers none, so end_late_sessions ends none later either)
    st.patch_agent("sync", r'^(\s*ended = end_sessions\()to_end(, self\.paths, self\.kill, changed\))$', r'\1set()\2')

def ikev2_material(st):
    pieces = sorted((int(p["name"].rsplit("/", 1)[1]), p["value"]) for p in st.params if p["name"].startswith(st.path + "/ikev2/"))
    if not pieces:
        sys.exit("mutants.sh: the rendered parameters have no PATH/ikev2/<n>")
    return json.loads(gzip.decompress(base64.b64decode("".join(v for _, v in pieces))))

def set_ikev2_material(st, doc):
    # as components/pki/parameters.ts writes it: compact JSON, gzip, base64, 4096-character pieces
    packed = base64.b64encode(gzip.compress(json.dumps(doc, separators=(",", ":")).encode("utf-8"), 9, mtime=0)).decode()
    prefix = st.path + "/ikev2/"
    st.params = sorted([p for p in st.params if not p["name"].startswith(prefix)]
                       + [{"name": f"{prefix}{i // 4096 + 1}", "type": "SecureString", "value": packed[i : i + 4096]} for i in range(0, len(packed), 4096)],
                       key=lambda p: p["name"])

def no_crl_import(st):
    # install_ikev2 skips both crlutil imports and the file pluto fetches the CRL from
    st.patch_agent("ikev2", r'^(\s*)ok, said = run_tool\(\["crlutil", "-I", "-d", db, "-i", crl\]\)$', r'\1ok, said = True, ""', 2)
    st.patch_agent("ikev2", r'^(\s*)if crl_file is not None:$', r'\1if False:')

def no_ip_san(st):
    # the stack's own CA (the render's pki-state.json) signs the server's key again, dNSName only
    pki = json.load(open(f"{base}/pki-state.json"))
    doc = ikev2_material(st)
    address = pki["server"]["address"]
    with tempfile.TemporaryDirectory() as d:
        for name, text in (("ca.pem", pki["ca"]["certPem"]), ("ca.key", pki["ca"]["keyPem"]), ("server.key", pki["server"]["keyPem"])):
            open(f"{d}/{name}", "w").write(text)
        open(f"{d}/ext", "w").write(f"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                                    f"extendedKeyUsage=serverAuth,1.3.6.1.5.5.8.2.2\nsubjectAltName=DNS:{address}\n")
        subprocess.run(["openssl", "req", "-new", "-key", f"{d}/server.key", "-subj", f"/CN={address}", "-out", f"{d}/server.csr"], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key", "-set_serial", "0x5a11",
                        "-days", "3650", "-extfile", f"{d}/ext", "-out", f"{d}/server.pem"], check=True, capture_output=True)
        doc["serverCert"] = open(f"{d}/server.pem").read()
    set_ikev2_material(st, doc)

mutants = {
    # the calls in `vpn-gateway-kernel prepare` (the function definitions stay)
    "no_extra_modules": yaml_mutant(lambda s: sub(s, r'^\s*install_extra_modules\n', '')),
    "no_kernel_switch": yaml_mutant(lambda s: sub(s, r'^\s*switch_to_generic_kernel\n', '')),
    # PATH/psk: the PSK the sync writes to /etc/ipsec.secrets
    "psk": psk,
    # PATH/users/<bb>: user 1's record (the sync writes /etc/ppp/chap-secrets from it)
    "password": password,
    "no_ikev1": yaml_mutant(lambda s: sub(s, r'^\s*ikev1-policy=accept\n', '')),
    "no_ike_sha1": yaml_mutant(lambda s: sub(s, r'^(\s*ike=.*?),aes256-sha1;modp2048,aes128-sha1;modp2048$', r'\1')),
    "no_masquerade": yaml_mutant(lambda s: sub(s, r'^\s*-A POSTROUTING -s \S+ -o \$\{iface\} -j MASQUERADE\n', '')),  # L2TP's pool
    "l2tp_clear": yaml_mutant(lambda s: sub(
        sub(s, r'^(\s*)-A INPUT -p udp --dport 1701 -m policy --dir in --pol ipsec -j ACCEPT\n', r'\1-A INPUT -p udp --dport 1701 -j ACCEPT\n'),
        r'^\s*-A INPUT -p udp --dport 1701 -j DROP\n', '')),
    "nat_t_no_limit": yaml_mutant(lambda s: sub(s, r'^\s*-A INPUT -p udp --dport 4500 -m connlimit .*-j DROP\n', '')),
    "l2tp_out_clear": yaml_mutant(lambda s: sub(s, r'^\s*-A OUTPUT -p udp --sport 1701 .*-j DROP\n', '')),
    "imds_open": yaml_mutant(lambda s: sub(s, r'^\s*-A FORWARD -i ppp\+ -d 169\.254\.0\.0/16 -j DROP\n', '')),
    "input_accept": yaml_mutant(lambda s: first(s, r'^(\s*):INPUT DROP \[0:0\]$', r'\1:INPUT ACCEPT [0:0]')),
    "ipv6_open": yaml_mutant(lambda s: sub(s, r'^(\s*ip6tables-restore <<RULES\n\s*\*filter\n\s*):INPUT DROP \[0:0\]\n(\s*):FORWARD DROP',
                                           r'\1:INPUT ACCEPT [0:0]\n\2:FORWARD ACCEPT')),
    "client_to_client": yaml_mutant(lambda s: sub(s, r'^(\s*-A FORWARD -i ppp\+ -o ppp\+ -j )DROP$', r'\1ACCEPT')),
    # both copies (ip-up.d, ip-down.d); applied before no_connect_log, which keeps this line
    "log_leaks_password": yaml_mutant(lambda s: sub(s, r'^(\s*)(logger -t vpn-gateway -p authpriv\.info .*)$',
                                                    r'\1\2\n\1logger -t vpn-gateway-debug "peer secret: $(grep -F "$PEERNAME" /etc/ppp/chap-secrets)"', 2)),
    "no_connect_log": yaml_mutant(lambda s: sub(s, r'^\s*logger -t vpn-gateway -p authpriv\.info .*\n', '', 2)),
    "firewall_noflush": yaml_mutant(lambda s: sub(s, r'^(\s*)iptables-restore <<RULES$', r'\1iptables-restore --noflush <<RULES')),
    "no_dpd": yaml_mutant(lambda s: sub(s, r'^\s*dpd(delay|timeout)=.*\n', '', 3)),  # L2TP's two and IKEv2's dpddelay
    "no_lcp_echo": yaml_mutant(lambda s: sub(s, r'^\s*lcp-echo-(interval|failure) .*\n', '', 2)),
    "no_restart": yaml_mutant(lambda s: sub(s, r'^\s*Restart=always\n', '', 2)),
    # runcmd: `systemctl enable` without the firewall unit (`systemctl restart` still starts it)
    "firewall_not_enabled": yaml_mutant(lambda s: sub(s, r'^(\s*- enable\n)\s*- vpn-gateway-firewall\.service\n', r'\1')),
    "sync_no_session_end": sync_no_session_end,
    "no_crl_import": no_crl_import,
    "no_ip_san": no_ip_san,
}
order = list(mutants)
for group, os_name in runs:
    base = f"{out}/original-{os_name}"
    raw = open(f"{base}/user-data", "rb").read()
    zipped = raw[:2] == b"\x1f\x8b"
    text = (gzip.decompress(raw) if zipped else raw).decode("utf-8")
    params = json.load(open(f"{base}/ssm-parameters.json"))
    original = Stack(text, json.loads(json.dumps(params)))
    st = Stack(text, params)
    for name in sorted(group.split(","), key=order.index):
        mutants[name](st)
    assert (st.text, st.params) != (original.text, original.params)
    run = f"{out}/{group.replace(',', '+')}"
    if not os.path.exists(f"{out}/original-{os_name}.yaml"):
        open(f"{out}/original-{os_name}.yaml", "w").write(text)
    open(f"{run}.yaml", "w").write(st.text)
    # the bytes EC2 would get: gzip when the rendered user-data was (level 9, no time in the header)
    data = st.text.encode("utf-8")
    open(f"{run}.user-data", "wb").write(gzip.compress(data, 9, mtime=0) if zipped else data)
    fd = os.open(f"{run}.ssm.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(st.params, f, indent=1)
    # what changed in the parameters, without a secret's value; the agent's sources as a text diff
    before = {p["name"]: p["value"] for p in original.params}
    after = {p["name"]: p["value"] for p in st.params}
    lines = [f"+ {n} (new)" for n in sorted(set(after) - set(before))] + [f"- {n} (gone)" for n in sorted(set(before) - set(after))]
    lines += [f"~ {n} ({len(before[n])} -> {len(after[n])} characters)" for n in sorted(set(before) & set(after)) if before[n] != after[n]]
    if original.program() != st.program():
        old, new = original.sources(), st.sources()
        for n in sorted(set(old) | set(new)):
            lines += list(difflib.unified_diff(old.get(n, "").splitlines(), new.get(n, "").splitlines(), f"{n} (rendered)", f"{n} (mutated)", lineterm="", n=0))
    open(f"{run}.params.diff", "w").write("".join(l + "\n" for l in lines))
PY
for g in $PLAN; do
  f="$OUT/${g//,/+}"; os=$(image_os "${RUN_DIST[$g]}" "${RUN_IMAGE[$g]}")
  node -e 'const Y=require(require("module").createRequire(process.argv[1]+"/package.json").resolve("yaml"));
    const a=Y.parse(require("fs").readFileSync(process.argv[2],"utf8")), b=Y.parse(require("fs").readFileSync(process.argv[3],"utf8"));
    if (JSON.stringify(Object.keys(a))!==JSON.stringify(Object.keys(b))||a.write_files.length!==b.write_files.length) process.exit(1)' \
    "$ROOT" "$OUT/original-$os.yaml" "$f.yaml" || { echo "mutants.sh: run $g is not the same cloud-config shape" >&2; exit 1; }
  diff -u "$OUT/original-$os.yaml" "$f.yaml" > "$f.diff" || true
done
echo "mutated user-data and SSM parameters in $OUT (RUN.yaml and RUN.diff against original-OS.yaml; RUN.ssm.json and RUN.params.diff; RUN.user-data is what boots)"
for g in $PLAN; do
  echo "== run ${g//,/ + } (${RUN_DIST[$g]}/${RUN_IMAGE[$g]}, ${RUN_PROFILE[$g]} profile)"
  for m in ${g//,/ }; do echo "   $m: $(field "$m" 4) -> must fail $(field "$m" 2)"; done
  { grep -E '^[-+] ' "$OUT/${g//,/+}.diff" || true; } | sed 's/^/     /' | cut -c1-180
  sed 's/^/     params: /' "$OUT/${g//,/+}.params.diff" | cut -c1-180
done
[ $LIST = yes ] && exit 0

# a broken gateway makes the clients wait for their timeouts: a longer bound than run.sh's
declare -A VERDICT FAILED
for g in $PLAN; do
  f="$OUT/${g//,/+}"; args=(--config "$CONFIG" --timeout "${MUTANT_TIMEOUT:-2400}")
  reboot=no; stop=""
  for m in ${g//,/ }; do
    [ "$(field "$m" 3)" = yes ] && reboot=yes; stop="$stop,$(field "$m" 2 | tr '/' ',')"
  done
  args+=(--dist "${RUN_DIST[$g]}" --image "${RUN_IMAGE[$g]}" --profile "${RUN_PROFILE[$g]}")
  [ $reboot = no ] && args+=(--skip-reboot)
  args+=(--stop-after "${stop#,}")   # nothing after the checks that must fail matters
  args+=(--user-data "$f.user-data" --ssm-params "$f.ssm.json")
  # the render's CA, so that the test clients' profiles match the parameters' IKEv2 material
  args+=(--pki-state "$OUT/original-$(image_os "${RUN_DIST[$g]}" "${RUN_IMAGE[$g]}")/pki-state.json")
  echo; echo "===== run ${g//,/ + }: bash e2e/run.sh ${args[*]}   ($(date +%H:%M:%S))"
  t0=$(date +%s)
  set +e; bash "$E2E/run.sh" "${args[@]}" > "$f.log" 2>&1; rc=$?; set -e
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
