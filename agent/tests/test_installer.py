"""Tests of the first boot's installer of the agent (files/sync/vpn-gateway-sync-install), which
fetches the zipapp from PATH/program/1..N, checks its SHA-256 over the bytes and installs it.

The installer is a file the gateway gets as it is, not a module of the package: a script without a
.py suffix, loaded here through a SourceFileLoader. It runs unchanged against a real boto3 SSM
client under botocore's Stubber (every request and response checked against the SSM API model), in
a temporary directory, with a fake clock.

    python3 -m pytest -q agent/tests/test_installer.py
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Any
from unittest import mock

sys.dont_write_bytecode = True  # no __pycache__ beside the installer
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "files" / "sync" / "vpn-gateway-sync-install"
sys.path.insert(0, str(ROOT / "agent"))
import build  # noqa: E402
PATH = "/vpn-gateway/dev"
REGION = "eu-west-1"
# Hex digits compress to about half: a program of several 4096-character chunks.
PROGRAM = b"#!/usr/bin/python3\n" + b"\n".join(f"# {hashlib.sha256(str(i).encode()).hexdigest()}".encode() for i in range(200)) + b"\n"


def load() -> Any:
    loader = importlib.machinery.SourceFileLoader("vpn_gateway_sync_install", str(INSTALLER))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


install = load()


def chunks_of(program: bytes, size: int = 4096) -> list[str]:
    """As components/boot/sync.ts stores the program: gzip, base64, pieces of at most size."""
    packed = base64.b64encode(gzip.compress(program, 9)).decode()
    return [packed[i : i + size] for i in range(0, len(packed), size)]


DIGEST = hashlib.sha256(PROGRAM).hexdigest()


class Bed:
    """A gateway directory, sync.json, and a stubbed SSM client."""

    def __init__(self, test: unittest.TestCase) -> None:
        self.test = test
        self.dir = Path(tempfile.mkdtemp(prefix="vpn-gateway-sync-install-"))
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.target = self.dir / "vpn-gateway-sync"
        self.config = self.dir / "sync.json"
        self.config.write_text(json.dumps({"region": REGION, "path": PATH, "serverName": "l2tpd", "clientPool": "192.168.42.0/24", "gatewayAddress": "192.168.42.1", "bootTimeoutSeconds": 20}))
        self.client = boto3.session.Session().client("ssm", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        test.addCleanup(self.stubber.deactivate)
        self.clock = 0.0
        self.slept: list[float] = []

    def answer(self, values: dict[int, str], count: int) -> None:
        """One GetParameters call for program/1..count, answered with the given chunks."""
        names = [f"{PATH}/program/{i}" for i in range(1, count + 1)]
        for start in range(0, count, 10):
            batch = names[start : start + 10]
            parameters = [
                {"Name": n, "Type": "SecureString", "Value": values[int(n.rsplit("/", 1)[1])], "Version": 1, "ARN": f"arn:aws:ssm:{REGION}:123456789012:parameter{n}", "DataType": "text"}
                for n in batch
                if int(n.rsplit("/", 1)[1]) in values
            ]
            response: dict[str, Any] = {"Parameters": parameters}
            missing = [n for n in batch if int(n.rsplit("/", 1)[1]) not in values]
            if missing:
                response["InvalidParameters"] = missing
            self.stubber.add_response("get_parameters", response, {"Names": batch, "WithDecryption": True})

    def fail(self, code: str = "ThrottlingException") -> None:
        self.stubber.add_client_error("get_parameters", service_error_code=code, http_status_code=400)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock += seconds

    def run(self, *argv: str) -> tuple[int, str]:
        with mock.patch("sys.stderr") as err:
            status = install.main(list(argv), client=self.client, target=str(self.target), config=str(self.config), sleep=self.sleep, monotonic=lambda: self.clock)
        text = "".join(str(c.args[0]) for c in err.write.call_args_list)
        self.stubber.assert_no_pending_responses()
        return status, text


class InstallTest(unittest.TestCase):
    def setUp(self) -> None:
        self.bed = Bed(self)

    def test_installs_the_program_the_digest_names(self) -> None:
        chunks = chunks_of(PROGRAM)
        self.assertEqual(len(chunks), 3)
        self.bed.answer(dict(enumerate(chunks, 1)), len(chunks))
        status, log = self.bed.run(DIGEST, str(len(chunks)))
        self.assertEqual(status, 0, log)
        self.assertEqual(self.bed.target.read_bytes(), PROGRAM)
        self.assertEqual(stat.S_IMODE(self.bed.target.stat().st_mode), 0o755)
        self.assertIn(f"installed {self.bed.target}", log)
        self.assertEqual([p.name for p in self.bed.dir.iterdir() if p.name.startswith(".")], [])

    def test_more_than_ten_chunks_take_several_calls(self) -> None:
        big = os.urandom(40000)
        chunks = chunks_of(big, 4000)
        self.assertGreater(len(chunks), 10)
        self.bed.answer(dict(enumerate(chunks, 1)), len(chunks))
        status, log = self.bed.run(hashlib.sha256(big).hexdigest(), str(len(chunks)))
        self.assertEqual(status, 0, log)
        self.assertEqual(self.bed.target.read_bytes(), big)

    def test_nothing_to_do_when_installed(self) -> None:
        self.bed.target.write_bytes(PROGRAM)
        status, log = self.bed.run(DIGEST, "5")
        self.assertEqual(status, 0)
        self.assertIn("installed already", log)

    def test_waits_for_ssm_and_for_a_missing_chunk(self) -> None:
        chunks = chunks_of(PROGRAM)
        values = dict(enumerate(chunks, 1))
        self.bed.fail()
        self.bed.answer({k: v for k, v in values.items() if k != 2}, len(chunks))
        self.bed.answer(values, len(chunks))
        status, log = self.bed.run(DIGEST, str(len(chunks)))
        self.assertEqual(status, 0, log)
        self.assertEqual(self.bed.slept, [1.0, 2.0])
        self.assertIn("ThrottlingException", log)
        self.assertIn(f"not every one of {PATH}/program/1 to {len(chunks)} exists", log)

    def test_refuses_a_program_other_than_the_one_named(self) -> None:
        other = chunks_of(PROGRAM + b"# tampered\n")
        for _ in range(6):  # at 0, 1, 3, 7, 15 and 20 s: the last one at the bound
            self.bed.answer(dict(enumerate(other, 1)), len(other))
        status, log = self.bed.run(DIGEST, str(len(other)))
        self.assertEqual(status, 1)
        self.assertFalse(self.bed.target.exists())
        self.assertIn(f"do not give the program of sha256 {DIGEST[:12]}", log)
        self.assertIn("gave up after 6 attempts in 20 s", log)
        self.assertEqual(self.bed.clock, 20)

    def test_garbage_chunks_are_not_a_program(self) -> None:
        self.assertIsNone(install.assemble(["not base64 at all!"], DIGEST))
        self.assertIsNone(install.assemble([base64.b64encode(b"not gzip").decode()], DIGEST))
        self.assertEqual(install.assemble(chunks_of(PROGRAM), DIGEST), PROGRAM)

    def test_usage_and_config(self) -> None:
        cases: list[list[str]] = [[], [DIGEST], ["xyz", "3"], [DIGEST, "0"], [DIGEST, "three"]]
        for argv in cases:
            with self.subTest(argv=argv):
                self.assertEqual(self.bed.run(*argv)[0], 2)
        self.bed.config.write_text("{}")
        status, log = self.bed.run(DIGEST, "3")
        self.assertEqual(status, 2)
        self.assertIn("KeyError", log)

    def test_installs_the_agents_zipapp_byte_for_byte_and_it_runs(self) -> None:
        # the gateway's program is a zip: bytes that are not UTF-8, hashed and written as bytes
        program = build.zipapp_bytes()
        with self.assertRaises(UnicodeDecodeError):
            program.decode("utf-8")
        chunks = chunks_of(program)
        digest = hashlib.sha256(program).hexdigest()
        self.bed.answer(dict(enumerate(chunks, 1)), len(chunks))
        status, log = self.bed.run(digest, str(len(chunks)))
        self.assertEqual(status, 0, log)
        self.assertEqual(self.bed.target.read_bytes(), program)
        self.assertEqual(stat.S_IMODE(self.bed.target.stat().st_mode), 0o755)
        usage = subprocess.run([str(self.bed.target)], capture_output=True, text=True)
        self.assertEqual((usage.returncode, usage.stderr.strip()), (2, "usage: vpn-gateway-sync boot|once"))
        status, log = self.bed.run(digest, str(len(chunks)))
        self.assertEqual(status, 0)
        self.assertIn("installed already", log)
