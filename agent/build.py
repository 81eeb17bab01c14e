#!/usr/bin/python3
"""Builds the agent as the gateway runs it: one zipapp, /usr/local/sbin/vpn-gateway-sync.

    python3 agent/build.py OUT        (npm run build:agent: OUT is dist/agent/vpn-gateway-sync.pyz)

A shebang line (#!/usr/bin/python3) and a zip of the package's modules and a __main__.py that
calls its command line: python3 runs a zip that starts with a shebang, so the file is executable
as it is. Byte-for-byte deterministic, since the user-data pins its SHA-256: entries stored (no
compression: no zlib version can change a byte), sorted, each dated 1980-01-01 00:00:00 with the
same attributes, no __pycache__ and nothing but the package's .py files.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import zipfile
from pathlib import Path

SHEBANG = b"#!/usr/bin/python3\n"
PACKAGE = "vpn_gateway_agent"
SOURCE = Path(__file__).resolve().parent / PACKAGE
# zip's earliest date; every entry has it, whenever and wherever it was built.
DATE_TIME = (1980, 1, 1, 0, 0, 0)
# A regular file, rw-r--r--, as Unix (create_system 3) records it.
EXTERNAL_ATTR = (0o100644 << 16)
MAIN = b'''"""vpn-gateway-sync: the gateway's agent (agent/vpn_gateway_agent), as one zipapp."""

import sys

from vpn_gateway_agent.cli import main

sys.exit(main(sys.argv[1:]))
'''


def entries(source: Path = SOURCE) -> list[tuple[str, bytes]]:
    """(name in the zip, bytes) of every file the zipapp holds, sorted by name."""
    files = [(f"{PACKAGE}/{p.name}", p.read_bytes()) for p in source.glob("*.py") if p.is_file()]
    return sorted([("__main__.py", MAIN), *files])


def zipapp_bytes(source: Path = SOURCE) -> bytes:
    """The zipapp: the shebang, then the zip."""
    out = io.BytesIO()
    out.write(SHEBANG)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in entries(source):
            info = zipfile.ZipInfo(name, date_time=DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = EXTERNAL_ATTR
            archive.writestr(info, data)
    return out.getvalue()


def build(target: str, source: Path = SOURCE) -> bytes:
    """Writes the zipapp to target (0755, by rename: never half a file); returns its bytes."""
    data = zipapp_bytes(source)
    directory = os.path.dirname(os.path.abspath(target))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".vpn-gateway-sync.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temporary, 0o755)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return data


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 agent/build.py OUT", file=sys.stderr)
        return 2
    build(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
