#!/usr/bin/env python3
"""Test bed: an EC2 instance metadata service with IMDSv2 required.

PUT /latest/api/token (header X-aws-ec2-metadata-token-ttl-seconds: 1..21600) returns a token;
every GET needs header X-aws-ec2-metadata-token with a valid token, else 401 (as with
HttpTokens=required). Each request is logged so the harness can see how the gateway asked.
"""
import argparse
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--public-ip", required=True)
ap.add_argument("--local-ip", required=True)
ap.add_argument("--mac", required=True)
args = ap.parse_args()

META = {
    "public-ipv4": args.public_ip,
    "local-ipv4": args.local_ip,
    "mac": args.mac,
    "instance-id": "i-0e2e0000000000001",
    "instance-type": "t3.micro",
    "hostname": "ip-" + args.local_ip.replace(".", "-") + ".ec2.internal",
    "local-hostname": "ip-" + args.local_ip.replace(".", "-") + ".ec2.internal",
    "placement/availability-zone": "us-east-1a",
    "placement/region": "us-east-1",
    "network/interfaces/macs/%s/local-ipv4s" % args.mac: args.local_ip,
    "network/interfaces/macs/%s/public-ipv4s" % args.mac: args.public_ip,
    "network/interfaces/macs/%s/vpc-ipv4-cidr-block" % args.mac: "172.31.0.0/16",
}
TOKENS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body=""):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
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
            return self.reply(200, "\n".join(sorted({k.split("/")[0] for k in META})))
        if path.startswith(prefix) and path[len(prefix):] in META:
            return self.reply(200, META[path[len(prefix):]])
        self.reply(404, "Not Found")

    def log_message(self, fmt, *args):
        sys.stderr.write("IMDS %s %s token=%s\n" % (
            self.command, self.path, "yes" if self.headers.get("X-aws-ec2-metadata-token") else "no"))
        sys.stderr.flush()


ThreadingHTTPServer(("169.254.169.254", 80), Handler).serve_forever()
