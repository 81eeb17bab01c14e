#!/bin/bash
# Runs inside e2e/lib/aws-standin-dryrun.sh's namespaces, chrooted into the overlay of an image:
# the image's testbed.sh, the SSM stand-in as its unit runs it, and the product's sync against it.
# Prints OK/FAIL lines; exit 0 when all are OK. Not for the VM, and not for the host directly.
set -u
export PATH=/e2e-stubs:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
fails=0
ssm=/usr/local/lib/e2e/ssm-standin
# verdict "$?" WANT DESCRIPTION: OK when the status (the previous command's: "$?" first, expanded
# before any command substitution in DESCRIPTION) is WANT (0 or "fail").
verdict() {
  local rc=$1 want=$2; shift 2
  if { [ "$want" = 0 ] && [ "$rc" = 0 ]; } || { [ "$want" = fail ] && [ "$rc" != 0 ]; }; then echo "OK   $*"
  else echo "FAIL $* (exit $rc)"; fails=$((fails + 1)); fi
}
gw_sync() { /e2e-product/vpn-gateway-sync once 2>&1 | tail -n 1; return "${PIPESTATUS[0]}"; }
standin_start() {  # the unit: ExecStart in the background, ExecStartPost until ready
  setsid "$ssm" run > "/run/e2e/aws-standin-$1.log" 2>&1 < /dev/null &
  sp=$!
  timeout 300 "$ssm" ready > "/run/ready-$1.out" 2>&1
}

if ! /usr/local/lib/e2e/testbed.sh > /run/testbed.out 2>&1; then echo "FAIL testbed.sh"; cat /run/testbed.out; exit 1; fi
echo "OK   testbed.sh: $(tail -n 1 /run/testbed.out)"
grep -q 'start --no-block e2e-aws-standin.service' /run/e2e/systemctl-calls.log
verdict "$?" 0 "testbed.sh starts e2e-aws-standin.service without waiting"
line=$(grep '# e2e-testbed$' /etc/hosts)
verdict "$?" 0 "/etc/hosts: $line"
t0=$(date +%s)
if ! standin_start 1; then echo "FAIL stand-in not ready"; cat /run/ready-1.out /run/e2e/aws-standin-1.log; exit 1; fi
echo "OK   stand-in ready in $(( $(date +%s) - t0 )) s: $(tail -n 1 /run/ready-1.out)"
python3 -c 'import boto3, botocore; print("     gateway side: python3-boto3", boto3.__version__, "botocore", botocore.__version__)'

out=$(gw_sync); verdict "$?" 0 "product sync (first): $out"
grep -q '^"alice"' /etc/ppp/chap-secrets; verdict "$?" 0 "chap-secrets written from SSM"
"$ssm" put /vpn-gateway/dryrun/users/0 SecureString '{"format": 1, "users": [{"name": "dave", "password": "dave-pass-123"}]}' > /dev/null
out=$(gw_sync); verdict "$?" 0 "harness put, product sync: $out"
grep -q '^"dave"' /etc/ppp/chap-secrets; verdict "$?" 0 "the harness's change reached chap-secrets"
out=$(gw_sync); verdict "$?" 0 "product sync, nothing changed: ${out:-(nothing logged)}"
python3 -c 'import boto3; boto3.client("ssm", region_name="eu-west-1").put_parameter(Name="/x", Value="v" * 4097, Type="SecureString")' 2>&1 \
  | grep -q 'ValidationException.*4096'
verdict "$?" 0 "a value of 4097 characters is refused as AWS refuses it"
python3 -c 'import boto3; boto3.client("ssm", region_name="eu-west-1").get_parameters_by_path(Path="/", MaxResults=11)' 2>&1 \
  | grep -q "ValidationException.*less than or equal to 10"
verdict "$?" 0 "MaxResults=11 is refused as AWS refuses it"
"$ssm" down > /dev/null
out=$(gw_sync); verdict "$?" fail "endpoint down (refused): $out"
"$ssm" up > /dev/null
out=$(gw_sync); verdict "$?" 0 "endpoint up again: ${out:-(nothing logged)}"
"$ssm" block; t0=$(date +%s)
out=$(gw_sync); verdict "$?" fail "endpoint blocked ($(( $(date +%s) - t0 )) s): $out"
"$ssm" unblock
out=$(gw_sync); verdict "$?" 0 "endpoint unblocked: ${out:-(nothing logged)}"
"$ssm" pages short > /dev/null; "$ssm" put /vpn-gateway/dryrun/psk SecureString 'dry-run-psk-changed-1' > /dev/null
out=$(gw_sync); verdict "$?" 0 "empty pages with a NextToken, PSK changed: $out"
"$ssm" pages normal > /dev/null
python3 - <<'PY'
import json
creds = {c["AccessKeyId"] for c in json.load(open("/run/e2e/imds-credentials.json"))["credentials"]}
rows = [json.loads(line) for line in open("/run/e2e/aws/ssm-requests.log")]
gw = [r for r in rows if r["listener"] == "public" and r.get("status") == 200]
assert gw, "no request from the gateway"
for r in gw:
    assert r["access_key"] in creds and r["peer"] == "203.0.113.10", r
    q = r["request"]
    if r["action"] == "GetParametersByPath":
        assert q.get("MaxResults", 10) <= 10 and q.get("WithDecryption") is False, r
    print("    ", r["action"], r["status"], q, "(empty page injected)" if r.get("injected_empty_page") else "")
PY
verdict "$?" 0 "every request signed with the IMDS role's key, from the EIP, MaxResults <= 10, decryption only by GetParameters"
imds=$(grep -c '^IMDS GET /latest/meta-data/iam/security-credentials/' /run/e2e/imds.log)
[ "$imds" -gt 0 ] && ! grep '^IMDS GET' /run/e2e/imds.log | grep -q 'token=no'
verdict "$?" 0 "credentials fetched $imds times from IMDS, always with an IMDSv2 token"
before=$("$ssm" list /vpn-gateway)
kill -TERM "$sp"; wait "$sp" 2>/dev/null
standin_start 2; verdict "$?" 0 "the stand-in started again"
[ "$before" = "$("$ssm" list /vpn-gateway)" ] && grep -q '"restored": true' /run/ready-2.out
verdict "$?" 0 "stop and start: the store came back with the same versions and dates"
kill -TERM "$sp"; wait "$sp" 2>/dev/null
for p in /run/e2e/*.pid; do kill "$(cat "$p")" 2>/dev/null; done
echo "dry run: $fails failure(s)"
exit $(( fails > 0 ))
