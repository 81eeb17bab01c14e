#!/usr/bin/env python3
"""Send a well-formed L2TP SCCRQ (Start-Control-Connection-Request) in clear UDP to HOST:1701
and report whether anything answers within TIMEOUT seconds. Exit 0 = answered, 1 = silence."""
import socket
import struct
import sys

host, timeout = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 5.0


def avp(attr, value, mandatory=True):
    return struct.pack("!HHH", (0x8000 if mandatory else 0) | (6 + len(value)), 0, attr) + value


body = (avp(0, struct.pack("!H", 1))            # Message Type: SCCRQ
        + avp(2, struct.pack("!BB", 1, 0))      # Protocol Version 1.0
        + avp(3, struct.pack("!I", 3))          # Framing Capabilities
        + avp(7, b"e2e-probe")                  # Host Name
        + avp(9, struct.pack("!H", 4242))       # Assigned Tunnel ID
        + avp(10, struct.pack("!H", 4)))        # Receive Window Size
hdr_len = 12
pkt = struct.pack("!HHHHHH", 0xC802, hdr_len + len(body), 0, 0, 0, 0) + body  # T,L,S bits; v2

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(timeout)
s.sendto(pkt, (host, 1701))
try:
    data, peer = s.recvfrom(4096)
    print("ANSWER %d bytes from %s:%d" % (len(data), peer[0], peer[1]))
    sys.exit(0)
except socket.timeout:
    print("NO-ANSWER within %.0fs" % timeout)
    sys.exit(1)
