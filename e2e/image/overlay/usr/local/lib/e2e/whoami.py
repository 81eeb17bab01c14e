#!/usr/bin/env python3
"""Test bed: an HTTP server that answers with the source address it sees (the far host / VPC host)."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = (self.client_address[0] + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))
        sys.stderr.flush()


ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()
