#!/usr/bin/env python3
"""Test bed: an EC2 instance metadata service with IMDSv2 required.

PUT /latest/api/token (header X-aws-ec2-metadata-token-ttl-seconds: 1..21600) returns a token;
every GET needs header X-aws-ec2-metadata-token with a valid token, else 401 (as with
HttpTokens=required). Each request is logged so the harness can see how the gateway asked.

The instance profile's role credentials, as EC2 serves them:
  /latest/meta-data/iam/security-credentials/        the role name
  /latest/meta-data/iam/security-credentials/ROLE    JSON: Code, LastUpdated, Type, AccessKeyId,
                                                     SecretAccessKey, Token, Expiration
  /latest/meta-data/iam/info                         JSON: Code, LastUpdated, InstanceProfileArn,
                                                     InstanceProfileId
Credentials last 6 hours; new ones are issued an hour before the old ones expire (and on SIGUSR1,
to let a test rotate them), the old ones staying valid until they expire, as on EC2. Every
credential issued and not yet expired is written to --credentials-file (mode 0600) so that the
SSM stand-in (aws_standin.py) accepts requests signed with them and nothing else.
"""
import argparse
import datetime
import json
import os
import secrets
import signal
import string
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--public-ip", required=True)
ap.add_argument("--local-ip", required=True)
ap.add_argument("--mac", required=True)
ap.add_argument("--region", default="us-east-1")
ap.add_argument("--role", default="vpn-gateway-e2e-role")
ap.add_argument("--account", default="123456789012")
ap.add_argument("--credentials-file", default="")
ap.add_argument("--listen", default="169.254.169.254")
ap.add_argument("--port", type=int, default=80)
args = ap.parse_args()

META = {
    "public-ipv4": args.public_ip,
    "local-ipv4": args.local_ip,
    "mac": args.mac,
    "instance-id": "i-0e2e0000000000001",
    "instance-type": "t3.micro",
    "hostname": "ip-" + args.local_ip.replace(".", "-") + ".ec2.internal",
    "local-hostname": "ip-" + args.local_ip.replace(".", "-") + ".ec2.internal",
    "placement/availability-zone": args.region + "a",
    "placement/region": args.region,
    "network/interfaces/macs/%s/local-ipv4s" % args.mac: args.local_ip,
    "network/interfaces/macs/%s/public-ipv4s" % args.mac: args.public_ip,
    "network/interfaces/macs/%s/vpc-ipv4-cidr-block" % args.mac: "172.31.0.0/16",
}
TOKENS = {}

CRED_LIFETIME = 6 * 3600
CRED_RENEW_BEFORE = 3600
CREDS = []  # issued, newest last: dicts as served (Expiration as text) + "_expires" (epoch)
CREDS_LOCK = threading.Lock()


def iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_credentials():
    """New temporary credentials for the role (caller holds CREDS_LOCK)."""
    now = time.time()
    alnum = string.ascii_uppercase + string.digits
    cred = {
        "Code": "Success",
        "LastUpdated": iso(now),
        "Type": "AWS-HMAC",
        "AccessKeyId": "ASIA" + "".join(secrets.choice(alnum) for _ in range(16)),
        "SecretAccessKey": secrets.token_urlsafe(30)[:40],
        "Token": secrets.token_urlsafe(300),
        "Expiration": iso(now + CRED_LIFETIME),
        "_expires": now + CRED_LIFETIME,
    }
    CREDS[:] = [c for c in CREDS if c["_expires"] > now] + [cred]
    write_credentials_file()
    sys.stderr.write("IMDS-CREDENTIALS issued %s expires %s\n" % (cred["AccessKeyId"], cred["Expiration"]))
    sys.stderr.flush()


def write_credentials_file():
    if not args.credentials_file:
        return
    doc = {
        "role": args.role,
        "account": args.account,
        "credentials": [{k: v for k, v in c.items() if not k.startswith("_")} for c in CREDS],
    }
    tmp = args.credentials_file + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    os.rename(tmp, args.credentials_file)


def current_credentials():
    with CREDS_LOCK:
        if not CREDS or CREDS[-1]["_expires"] - time.time() < CRED_RENEW_BEFORE:
            issue_credentials()
        return {k: v for k, v in CREDS[-1].items() if not k.startswith("_")}


def rotate(_signum, _frame):
    with CREDS_LOCK:
        issue_credentials()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body="", ctype="text/plain"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        if self.path != "/latest/api/token":
            return self.reply(404, "Not Found")
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            return self.reply(400, "Bad Request")
        if not 1 <= ttl <= 21600:
            return self.reply(400, "Bad Request")
        tok = secrets.token_urlsafe(32)
        TOKENS[tok] = time.time() + ttl
        self.reply(200, tok)

    def do_GET(self):
        tok = self.headers.get("X-aws-ec2-metadata-token")
        if not tok or TOKENS.get(tok, 0) < time.time():
            return self.reply(401, "Unauthorized")
        path = self.path.split("?")[0]
        prefix = "/latest/meta-data/"
        if path in ("/latest/meta-data", prefix):
            return self.reply(200, "\n".join(sorted({k.split("/")[0] for k in META} | {"iam"})))
        sub = path[len(prefix):] if path.startswith(prefix) else None
        if sub in META:
            return self.reply(200, META[sub])
        if sub in ("iam", "iam/"):
            return self.reply(200, "info\nsecurity-credentials/")
        if sub == "iam/info":
            cred = current_credentials()
            return self.reply(200, json.dumps({
                "Code": "Success",
                "LastUpdated": cred["LastUpdated"],
                "InstanceProfileArn": "arn:aws:iam::%s:instance-profile/%s" % (args.account, args.role),
                "InstanceProfileId": "AIPAE2E0000000000001",
            }, indent=2), "application/json")
        if sub in ("iam/security-credentials", "iam/security-credentials/"):
            return self.reply(200, args.role)
        if sub in ("iam/security-credentials/" + args.role, "iam/security-credentials/" + args.role + "/"):
            return self.reply(200, json.dumps(current_credentials(), indent=2), "application/json")
        self.reply(404, "Not Found")

    def log_message(self, fmt, *args):
        sys.stderr.write("IMDS %s %s token=%s\n" % (
            self.command, self.path, "yes" if self.headers.get("X-aws-ec2-metadata-token") else "no"))
        sys.stderr.flush()


signal.signal(signal.SIGUSR1, rotate)
current_credentials()  # issue the first ones now: the SSM stand-in learns them from the file
ThreadingHTTPServer((args.listen, args.port), Handler).serve_forever()
