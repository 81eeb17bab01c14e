#!/usr/bin/env python3
"""Test bed: the harness's side of the SSM stand-in (aws_standin.py), over its admin listener.

Must run in the `aws` network namespace (the `ssm-standin` command puts it there). Plain HTTP
to 127.0.0.1:5000, SSM's JSON protocol as the real API takes it (moto needs no signature; the
Authorization header only names the region and service). The stand-in applies SSM's limits here
too (a Standard value over 4096 characters is refused), so the harness cannot store what AWS
would not. Standard library only.

  ssm_admin.py --region R seed FILE           FILE: JSON array of {"name","type","value"} (optional
                                              "tier", "key_id", "description"); overwrites
  ssm_admin.py --region R put NAME TYPE [VALUE] VALUE or, without it, standard input; overwrites
                          [--tier T]
  ssm_admin.py --region R delete NAME...      a missing NAME is an error (as DeleteParameter)
  ssm_admin.py --region R get NAME            the decrypted value on standard output
  ssm_admin.py --region R list [PATH]         one line per parameter: name, type, version, date
  ssm_admin.py --region R control ACTION      status | front/up | front/down | pages/short |
                                              pages/normal | save (prints the stand-in's answer)
  ssm_admin.py --region R wait [SECONDS]      until the admin listener answers (default 600)
"""
import argparse
import datetime
import http.client
import json
import sys
import time

ADMIN = ("127.0.0.1", 5000)


class SsmError(Exception):
    pass


def call(region, action, payload=None, path="/", method="POST"):
    conn = http.client.HTTPConnection(*ADMIN, timeout=60)
    headers = {}
    body = None
    if action:
        body = json.dumps(payload or {}).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonSSM." + action,
            # moto takes the region (and service) from the credential scope; nothing checks this
            # signature on the admin listener
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAE2EADMIN00000000/%s/%s/ssm/aws4_request, "
                             "SignedHeaders=host, Signature=0" % (time.strftime("%Y%m%d", time.gmtime()), region),
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        }
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    try:
        doc = json.loads(data) if data else {}
    except ValueError:
        doc = {"raw": data.decode(errors="replace")}
    if resp.status >= 300:
        raise SsmError("%s: HTTP %d %s: %s" % (action or path, resp.status, doc.get("__type", ""), doc.get("message", doc)))
    return doc


def put(region, name, ptype, value, tier=None, key_id=None, description=None):
    req = {"Name": name, "Type": ptype, "Value": value, "Overwrite": True}
    if tier:
        req["Tier"] = tier
    if key_id:
        req["KeyId"] = key_id
    if description:
        req["Description"] = description
    return call(region, "PutParameter", req)


def list_parameters(region, path):
    out, token = [], None
    while True:
        req = {"Path": path, "Recursive": True, "WithDecryption": False, "MaxResults": 10}
        if token:
            req["NextToken"] = token
        doc = call(region, "GetParametersByPath", req)
        out += doc.get("Parameters", [])
        token = doc.get("NextToken")
        if not token:
            return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--region", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("seed")
    p.add_argument("file")
    p = sub.add_parser("put")
    p.add_argument("name")
    p.add_argument("type", choices=["String", "StringList", "SecureString"])
    p.add_argument("value", nargs="?")
    p.add_argument("--tier", choices=["Standard", "Advanced", "Intelligent-Tiering"])
    p = sub.add_parser("delete")
    p.add_argument("names", nargs="+")
    p = sub.add_parser("get")
    p.add_argument("name")
    p = sub.add_parser("list")
    p.add_argument("path", nargs="?", default="/")
    p = sub.add_parser("control")
    p.add_argument("action", choices=["status", "front/up", "front/down", "pages/short", "pages/normal", "save"])
    p = sub.add_parser("wait")
    p.add_argument("seconds", nargs="?", type=float, default=600)
    a = ap.parse_args()
    try:
        if a.cmd == "seed":
            with open(a.file) as f:
                items = json.load(f)
            if not isinstance(items, list):
                raise SsmError("%s: a JSON array of {name, type, value} expected" % a.file)
            for i, item in enumerate(items):
                if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("name", "type", "value")):
                    raise SsmError("%s: item %d: name, type and value (strings) expected" % (a.file, i))
                put(a.region, item["name"], item["type"], item["value"], item.get("tier"), item.get("key_id"), item.get("description"))
            print("seeded %d parameter(s)" % len(items))
        elif a.cmd == "put":
            value = a.value if a.value is not None else sys.stdin.read()
            doc = put(a.region, a.name, a.type, value, a.tier)
            print("%s version %s" % (a.name, doc.get("Version")))
        elif a.cmd == "delete":
            for name in a.names:
                call(a.region, "DeleteParameter", {"Name": name})
        elif a.cmd == "get":
            doc = call(a.region, "GetParameter", {"Name": a.name, "WithDecryption": True})
            sys.stdout.write(doc["Parameter"]["Value"])
        elif a.cmd == "list":
            for prm in list_parameters(a.region, a.path):
                when = datetime.datetime.fromtimestamp(float(prm.get("LastModifiedDate", 0)), datetime.timezone.utc)
                print("%s %s %s %s" % (prm["Name"], prm["Type"], prm["Version"], when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
        elif a.cmd == "control":
            method = "GET" if a.action == "status" else "POST"
            print(json.dumps(call(a.region, None, path="/e2e/" + a.action, method=method), sort_keys=True))
        elif a.cmd == "wait":
            deadline = time.time() + a.seconds
            while True:
                try:
                    call(a.region, None, path="/e2e/status", method="GET")
                    break
                except (OSError, SsmError):
                    if time.time() > deadline:
                        raise SsmError("the stand-in's admin listener did not answer within %g s" % a.seconds)
                    time.sleep(1)
    except SsmError as e:
        print("ssm_admin: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
