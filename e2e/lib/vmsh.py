#!/usr/bin/env python3
"""Debugging aid: run one shell command in the VM of the last run (or a given run dir) through
the root shell on its second serial port, and print the output.
Usage: python3 e2e/lib/vmsh.py 'ip xfrm state' [RUN_DIR] [TIMEOUT_S]"""
import os
import socket
import sys
import time

cmd = sys.argv[1]
run = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", ".work", "last")
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 60
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.path.join(run, "shell.sock"))
# The marker is computed by the shell, so the echoed command line never contains it.
marker = "__E2E_DONE_%d__" % (os.getpid() + 1)
s.sendall(("\nstty -echo 2>/dev/null; { %s ; } 2>&1; echo __E2E_DONE_$((%d+1))__\n" % (cmd, os.getpid())).encode())
buf, end = b"", time.time() + timeout
s.settimeout(1)
while time.time() < end:
    try:
        data = s.recv(65536)
    except socket.timeout:
        continue
    if not data:
        break
    buf += data
    if marker.encode() in buf:
        break
out = buf.decode(errors="replace").replace("\r", "")
if marker in out:
    out = out[: out.rfind(marker)]
    out = out[out.find("\n", out.find("stty -echo")) + 1:] if "stty -echo" in out else out
print(out)
