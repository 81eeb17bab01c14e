"""The zipapp (build.py): what the gateway runs as /usr/local/sbin/vpn-gateway-sync, byte for byte
the same whenever and wherever it is built."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path

from support import AGENT, LIMITS_DOCUMENT, PACKAGE

sys.path.insert(0, str(AGENT))
import build  # noqa: E402


class BuildTest(unittest.TestCase):
    """python3 agent/build.py OUT."""

    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vpn-gateway-build-"))
        self.addCleanup(shutil.rmtree, self.dir, True)

    def built(self, name: str = "vpn-gateway-sync.pyz") -> Path:
        out = self.dir / "dist" / name
        subprocess.run([sys.executable, str(AGENT / "build.py"), str(out)], check=True, capture_output=True)
        return out

    def test_deterministic_and_executable(self) -> None:
        first, second = self.built("a.pyz"), self.built("b.pyz")
        self.assertEqual(first.read_bytes(), second.read_bytes())
        self.assertEqual(first.read_bytes(), build.zipapp_bytes())
        self.assertEqual(stat.S_IMODE(first.stat().st_mode), 0o755)
        self.assertTrue(first.read_bytes().startswith(b"#!/usr/bin/python3\n"))
        self.assertEqual(sorted(os.listdir(self.dir / "dist")), ["a.pyz", "b.pyz"], "no temporary file left")

    def test_entries_stored_sorted_dated_1980_without_pycache(self) -> None:
        # a __pycache__ beside the sources (an import of the package made one) stays out
        cache = PACKAGE / "__pycache__"
        existed = cache.exists()
        cache.mkdir(exist_ok=True)
        stray = cache / "stray.cpython-311.pyc"
        stray.write_bytes(b"\0")
        try:
            out = self.built()
        finally:
            stray.unlink()
            if not existed:
                cache.rmdir()
        with zipfile.ZipFile(out) as archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            self.assertEqual(names, sorted(names))
            expected = ["__main__.py"] + sorted(f"vpn_gateway_agent/{p.name}" for p in PACKAGE.glob("*.py"))
            self.assertEqual(names, sorted(expected))
            for info in infos:
                self.assertEqual(info.compress_type, zipfile.ZIP_STORED, info.filename)
                self.assertEqual(info.date_time, (1980, 1, 1, 0, 0, 0), info.filename)
                self.assertEqual(info.external_attr, 0o100644 << 16, info.filename)
                self.assertEqual(info.create_system, 3, info.filename)
                self.assertNotIn("__pycache__", info.filename)
            for p in PACKAGE.glob("*.py"):
                self.assertEqual(archive.read(f"vpn_gateway_agent/{p.name}"), p.read_bytes(), p.name)

    def test_the_zipapp_runs_the_command_line(self) -> None:
        out = self.built()
        usage = subprocess.run([str(out)], capture_output=True, text=True)
        self.assertEqual(usage.returncode, 2, usage.stderr)
        self.assertEqual(usage.stderr.strip(), "usage: vpn-gateway-sync boot|once")
        # sync.json without its limits: refused with a clear line, nothing done
        config = self.dir / "sync.json"
        config.write_text('{"region": "eu-west-1", "path": "/vpn-gateway/dev", "serverName": "l2tpd", "clientPool": "192.168.42.0/24", "gatewayAddress": "192.168.42.1"}')
        run = subprocess.run(
            [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from vpn_gateway_agent import cli, settings; sys.exit(cli.main(['once'], paths=settings.Paths(config=sys.argv[2])))", str(out), str(config)],
            capture_output=True,
            text=True,
        )
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("limits: missing", run.stderr)
        self.assertTrue(run.stderr.startswith(f"error: {config}: "), run.stderr)
        self.assertTrue(run.stderr.rstrip().endswith("; nothing done"), run.stderr)
        self.assertIn("nameMaxLength", LIMITS_DOCUMENT)

    def test_usage(self) -> None:
        self.assertEqual(build.main([]), 2)


class SourceTest(unittest.TestCase):
    """What the gateway gets holds no hook for tests and no Mustache tag."""

    def test_program_has_no_test_hooks(self) -> None:
        for path in sorted(PACKAGE.glob("*.py")):
            source = path.read_text()
            for text in ("endpoint_url", "os.environ", "{{", "}}"):
                self.assertFalse(text in source, f"{path.name} contains {text!r}")
        self.assertTrue(build.SHEBANG == b"#!/usr/bin/python3\n")
