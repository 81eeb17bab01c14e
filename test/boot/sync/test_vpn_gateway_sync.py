"""Tests of the gateway's sync (templates/sync/vpn-gateway-sync.mustache) and its session hook
(templates/ppp/vpn-gateway-session.mustache).

The program runs unchanged: a real boto3 SSM client under botocore's Stubber (which checks every
request and response against the SSM API model, and fails on any call not expected), files,
/proc and /run in a temporary directory, and a kill function that records instead of killing.
Run with the distribution's Python and python3-boto3:

    /usr/bin/python3 -B -m unittest discover -s test/boot/sync -v
"""

from __future__ import annotations

import dataclasses
import base64
import datetime
import fcntl
import gzip
import hashlib
import importlib.machinery
import importlib.util
import ipaddress
import itertools
import json
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Any, Optional
from unittest import mock

sys.dont_write_bytecode = True  # no __pycache__ beside the template
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # a test never asks a metadata service

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
PROGRAM = ROOT / "templates" / "sync" / "vpn-gateway-sync.mustache"
HOOK = ROOT / "templates" / "ppp" / "vpn-gateway-session.mustache"


def load_program() -> Any:
    """The program as a module: it has no .py suffix, so through a SourceFileLoader."""
    loader = importlib.machinery.SourceFileLoader("vpn_gateway_sync", str(PROGRAM))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up while it loads
    loader.exec_module(module)
    return module


sync = load_program()

PATH = "/vpn-gateway/dev"
REGION = "eu-west-1"
PSK = "psk-Secret-Value-0123"
NEW_PSK = "psk-Other-Value-4567"
T0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


class Logs(logging.Handler):
    """Every line the program logs, formatted as the journal would show it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def user(name: str, password: str, ip: Optional[str] = None) -> dict[str, str]:
    """A users record as the parameter holds it."""
    return {"name": name, "password": password, **({"ip": ip} if ip else {})}


def users_value(*records: dict[str, Any]) -> str:
    """A users parameter's value."""
    return json.dumps({"format": 1, "users": list(records)})


def real_client() -> Any:
    """A real SSM client (fake credentials); calls are answered by a Stubber, never sent."""
    return boto3.session.Session().client("ssm", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


class Unreachable:
    """An SSM client whose every call fails the way an unreachable endpoint does."""

    def __init__(self) -> None:
        self.calls = 0

    def _fail(self, **_: Any) -> Any:
        self.calls += 1
        raise botocore.exceptions.EndpointConnectionError(endpoint_url=f"https://ssm.{REGION}.amazonaws.com/")

    get_parameters_by_path = _fail
    get_parameters = _fail


class World:
    """A gateway in a temporary directory, its parameters in a stubbed SSM."""

    def __init__(self, test: unittest.TestCase, pool: str = "192.168.42.0/24") -> None:
        self.test = test
        self.dir = Path(tempfile.mkdtemp(prefix="vpn-gateway-sync-"))
        test.addCleanup(shutil.rmtree, self.dir, True)
        d = self.dir
        self.paths = sync.Paths(
            config=str(d / "etc/vpn-gateway/sync.json"),
            state=str(d / "var/lib/vpn-gateway/sync-state.json"),
            lock=str(d / "var/lib/vpn-gateway/sync.lock"),
            chap_secrets=str(d / "etc/ppp/chap-secrets"),
            ipsec_secrets=str(d / "etc/ipsec.secrets"),
            sessions=str(d / "run/vpn-gateway/sessions"),
            session_ends=str(d / "run/vpn-gateway/session-ends.json"),
            proc=str(d / "proc"),
            pluto_ctl=str(d / "run/pluto/pluto.ctl"),
            nss_dir=str(d / "var/lib/ipsec/nss"),
            crl_file=str(d / "var/lib/vpn-gateway/ikev2-crl.der"),
        )
        for sub in ("etc/ppp", "etc/vpn-gateway", "run/pluto", "run/vpn-gateway/sessions", "proc"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        network = ipaddress.IPv4Network(pool)
        self.config = sync.SyncConfig(REGION, PATH, "l2tpd", network, network.network_address + 1)
        self.params: dict[str, dict[str, Any]] = {}
        self.clock = 0
        self.up_since(1000)
        self.killed: list[tuple[int, int]] = []
        self.rereads = 0
        self.reread_ok = True
        # More of Sync's injected functions (install and end_ikev2 in the IKEv2 tests).
        self.options: dict[str, Any] = {}
        self.client = real_client()
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        test.addCleanup(self.stubber.deactivate)
        self.logs = Logs()
        logger = logging.getLogger("vpn-gateway-sync")
        logger.addHandler(self.logs)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        test.addCleanup(logger.removeHandler, self.logs)

    # -- SSM -----------------------------------------------------------------------------------

    def put(self, suffix: str, value: str, type: str = "SecureString") -> None:
        """PutParameter with Overwrite: a new version."""
        name = f"{PATH}/{suffix}"
        self.clock += 1
        old = self.params.get(name)
        self.params[name] = {"value": value, "type": type, "version": (old["version"] + 1) if old else 1, "modified": T0 + datetime.timedelta(seconds=self.clock)}

    def put_users(self, shard: str, *records: dict[str, Any]) -> None:
        self.put(f"users/{shard}", users_value(*records))

    def put_ikev2(self, document: dict[str, Any], size: int = 4096) -> list[str]:
        """PATH/ikev2/1..N as components/pki/parameters.ts writes them (pieces of one version
        deleted when the new one has fewer); returns the suffixes written, all new versions."""
        pieces = ikev2_pieces(document, size)
        for name in [n for n in self.params if n.startswith(f"{PATH}/ikev2/")]:
            piece = name[len(f"{PATH}/ikev2/") :]
            if piece.isdigit() and not piece.startswith("0") and int(piece) > len(pieces):
                del self.params[name]
        for i, piece in enumerate(pieces):
            self.put(f"ikev2/{i + 1}", piece)
        return [f"ikev2/{i + 1}" for i in range(len(pieces))]

    def delete(self, suffix: str) -> None:
        del self.params[f"{PATH}/{suffix}"]

    def _listed(self, name: str) -> dict[str, Any]:
        p = self.params[name]
        # Without decryption SSM returns a SecureString's ciphertext: never what the sync may use.
        value = "AQICAHhCiphertext==" if p["type"] == "SecureString" else p["value"]
        return {"Name": name, "Type": p["type"], "Value": value, "Version": p["version"], "LastModifiedDate": p["modified"], "ARN": f"arn:aws:ssm:{REGION}:123456789012:parameter{name}", "DataType": "text"}

    def expect_listing(self, pages: Optional[list[list[str]]] = None) -> None:
        """The GetParametersByPath calls one poll makes: pages of names (default: 10 per page)."""
        names = sorted(self.params)
        if pages is None:
            pages = [names[i : i + 10] for i in range(0, len(names), 10)] or [[]]
        else:
            pages = [[f"{PATH}/{n}" for n in page] for page in pages]
        for i, page in enumerate(pages):
            expected: dict[str, Any] = {"Path": PATH, "Recursive": True, "WithDecryption": False, "MaxResults": 10}
            if i > 0:
                expected["NextToken"] = f"token-{i}"
            response: dict[str, Any] = {"Parameters": [self._listed(n) for n in page]}
            if i < len(pages) - 1:
                response["NextToken"] = f"token-{i + 1}"
            self.stubber.add_response("get_parameters_by_path", response, expected)

    def expect_decrypt(self, suffixes: list[str], gone: tuple[str, ...] = ()) -> None:
        """The GetParameters calls decrypting exactly these (sorted, 10 a call)."""
        names = sorted(f"{PATH}/{s}" for s in suffixes)
        for i in range(0, len(names), 10):
            chunk = names[i : i + 10]
            parameters = []
            for n in chunk:
                if n in gone or n not in self.params:
                    continue
                p = {**self._listed(n), "Value": self.params[n]["value"]}
                parameters.append(p)
            response: dict[str, Any] = {"Parameters": parameters}
            invalid = [n for n in chunk if n in gone or n not in self.params]
            if invalid:  # the API model: absent rather than empty
                response["InvalidParameters"] = invalid
            self.stubber.add_response("get_parameters", response, {"Names": chunk, "WithDecryption": True})

    # -- the gateway ---------------------------------------------------------------------------

    def sync(self, client: Any = None, **kwargs: Any) -> Any:
        return sync.Sync(self.config, client if client is not None else self.client, self.paths, kill=self.kill, reread_secrets=self.reread, **{**self.options, **kwargs})

    def poll(self, decrypt: Optional[list[str]] = None, pages: Optional[list[list[str]]] = None) -> int:
        """One `once` that lists and decrypts exactly as given (Stubber fails on anything else)."""
        self.expect_listing(pages)
        if decrypt:
            self.expect_decrypt(decrypt)
        status = self.sync().once()
        try:
            self.stubber.assert_no_pending_responses()
        except AssertionError as e:
            self.test.fail(f"{e}\nlog:\n{self.logs.text}")
        return status

    def kill(self, pid: int, sig: int) -> None:
        """Records the signal; the pppd exits (its /proc entry goes)."""
        self.killed.append((pid, sig))
        shutil.rmtree(self.dir / "proc" / str(pid), ignore_errors=True)

    def up_since(self, seconds: float) -> None:
        """/proc/uptime: seconds since boot (two decimals, as Linux writes it), and idle time."""
        (self.dir / "proc/uptime").write_text(f"{seconds:.2f} {seconds * 3:.2f}\n")
        self.uptime = seconds

    def now(self) -> int:
        """The uptime in clock ticks, the unit of pppd's start time."""
        return round(self.uptime * sync.CLOCK_TICKS)

    def reread(self) -> bool:
        self.rereads += 1
        return self.reread_ok

    def process(self, pid: int, comm: str = "pppd", start: Optional[int] = None) -> None:
        """A process in /proc: its comm, and with a start time (clock ticks since boot) its stat."""
        (self.dir / "proc" / str(pid)).mkdir(parents=True, exist_ok=True)
        (self.dir / "proc" / str(pid) / "comm").write_text(comm + "\n")
        if start is not None:
            (self.dir / "proc" / str(pid) / "stat").write_text(stat_line(pid, comm, start))

    def session(self, pid: int, name: str, start: Optional[int] = None) -> None:
        """A pppd serving name, as the ip-up hook records it (with a start time: as it does now;
        without: as an older hook did)."""
        self.process(pid, start=start)
        self.record(pid, name, start)

    def record(self, pid: int, name: str, start: Optional[int] = None) -> None:
        """The hook's record alone (its pppd may be gone, or its PID someone else's)."""
        (self.dir / "run/vpn-gateway/sessions" / str(pid)).write_text(name + "\n" + ("" if start is None else f"{start}\n"))

    def pluto_running(self, running: bool = True) -> None:
        ctl = self.dir / "run/pluto/pluto.ctl"
        if running:
            ctl.touch()
        elif ctl.exists():
            ctl.unlink()

    def chap(self) -> str:
        return Path(self.paths.chap_secrets).read_text()

    def ipsec(self) -> str:
        return Path(self.paths.ipsec_secrets).read_text()

    def state(self) -> dict[str, Any]:
        return json.loads(Path(self.paths.state).read_text())

    def write_config(self, **overrides: Any) -> None:
        document = {"region": REGION, "path": PATH, "serverName": "l2tpd", "clientPool": str(self.config.pool), "gatewayAddress": str(self.config.gateway), **overrides}
        Path(self.paths.config).write_text(json.dumps(document))

    def standard(self) -> None:
        """The PSK and two shards: alice and bob in a, carol (static address) in b; applied."""
        self.put("psk", PSK)
        self.put_users("a", user("alice", "Pw-alice-7Qx9"), user("bob", "Pw-bob-3Kd2"))
        self.put_users("b", user("carol", "Pw-carol-8Zm4", "192.168.42.10"))
        status = self.poll(decrypt=["psk", "users/a", "users/b"])
        self.test.assertEqual(status, 0, self.logs.text)
        self.logs.lines.clear()


def stat_line(pid: int, comm: str, start: int) -> str:
    """/proc/PID/stat as Linux writes it: start time (clock ticks since boot) in field 22."""
    after = ["S", "1", str(pid), str(pid), "0", "-1", "4194560", "120", "0", "0", "0", "3", "5", "0", "0", "20", "0", "1", "0", str(start), "9416704", "1234"] + ["0"] * 30
    return f"{pid} ({comm}) " + " ".join(after) + "\n"


def pem(label: str, seed: str, size: int = 120) -> str:
    """A PEM block of the given label as the program writes them (64 characters a line, a final
    newline): its body is bytes derived from seed, so two seeds give two different blocks."""
    der = b"".join(hashlib.sha256(f"{seed}/{i}".encode()).digest() for i in range(size // 32 + 1))[:size]
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def material(seed: str = "1", revoked: tuple[tuple[str, str], ...] = (), **overrides: Any) -> dict[str, Any]:
    """The IKEv2 material's JSON (components/pki/parameters.ts GatewayPki); seed varies the PEMs,
    overrides replace fields (caCert, crl, ...) or add unknown ones."""
    document: dict[str, Any] = {
        "format": 1,
        "caCert": pem("CERTIFICATE", "ca"),
        "serverCert": pem("CERTIFICATE", f"server-{seed}"),
        "serverKey": pem("PRIVATE KEY", f"key-{seed}"),
        "crl": pem("X509 CRL", f"crl-{seed}-{revoked}"),
        "revoked": [{"name": n, "serial": s} for n, s in revoked],
    }
    document.update(overrides)
    return document


def ikev2_pieces(document: dict[str, Any], size: int = 4096) -> list[str]:
    """boot/parameters.ts gzipPieces(JSON.stringify(material)): gzip, base64, cut every size characters."""
    packed = base64.b64encode(gzip.compress(json.dumps(document, separators=(",", ":")).encode(), 9)).decode()
    return [packed[i : i + size] for i in range(0, len(packed), size)]


def as_ikev2(document: dict[str, Any]) -> Any:
    """The Ikev2 the program makes of a document (for comparing what install was handed)."""
    ikev2, problems = sync.parse_ikev2(dict(enumerate(ikev2_pieces(document), 1)))
    assert ikev2 is not None, problems
    return ikev2


SECRETS = [PSK, NEW_PSK, "Pw-alice-7Qx9", "Pw-bob-3Kd2", "Pw-carol-8Zm4", "Pw-alice-NEW1", "Pw-dave-5Tt5"]


def assert_no_secret(test: unittest.TestCase, text: str, secrets: list[str]) -> None:
    for secret in secrets:
        test.assertNotIn(secret, text, "a secret in the log")


# =============================================================================================
class ValidationTest(unittest.TestCase):
    """The rules of components/settings.ts, record by record."""

    def setUp(self) -> None:
        self.config = World(self).config

    def problems(self, *records: Any, raw: Optional[str] = None) -> list[str]:
        return sync.parse_users_value(raw if raw is not None else json.dumps({"format": 1, "users": list(records)}), self.config)[1]

    def test_accepts_good_users_and_psk(self) -> None:
        users, problems = sync.parse_users_value(users_value(user("alice", "p!$%&()+,-./:;<=>?[]^_`{|}~x"), user("bob", "b", "192.168.42.254")), self.config)
        self.assertEqual(problems, [])
        self.assertEqual([u.name for _, u in users], ["alice", "bob"])
        self.assertEqual(users[1][1].ip, "192.168.42.254")
        self.assertEqual(sync.psk_problems("a#b*c" + "x" * 7), [])  # '#' and '*' are fine in ipsec.secrets

    def test_name_and_password_rules(self) -> None:
        cases = [
            ("name", "al ice", "users[0].name: contains whitespace"),
            ("name", 'al"ice', "users[0].name: contains quote characters"),
            ("name", "al'ice", "users[0].name: contains quote characters"),
            ("name", "al\\ice", "users[0].name: contains backslash"),
            ("name", "al#ice", "users[0].name: contains '#'"),
            ("name", "al*ice", "users[0].name: contains '*'"),
            ("name", "alicé", "users[0].name: contains a non-ASCII character"),
            ("name", "al\tice", "users[0].name: contains a control character"),
            ("name", "a" * 65, "users[0].name: longer than 64 characters"),
            ("name", "", "users[0].name: required, a non-empty string"),
            ("name", 42, "users[0].name: required, a non-empty string (got a number)"),
            ("password", "pass word", "users[0].password: contains whitespace"),
            ("password", 'pa"ss', "users[0].password: contains quote characters"),
            ("password", "pa\\ss", "users[0].password: contains backslash"),
            ("password", "pa#ss", "users[0].password: contains '#'"),
            ("password", "pa*ss", "users[0].password: contains '*'"),
            ("password", "@file", "users[0].password: starts with '@'"),
            ("password", "p" * 129, "users[0].password: longer than 128 characters"),
            ("password", True, "users[0].password: required, a non-empty string (got a boolean)"),
        ]
        for field, value, expected in cases:
            with self.subTest(field=field, value=value):
                record: dict[str, Any] = {"name": "alice", "password": "good-pass"}
                record[field] = value
                problems = self.problems(record)
                self.assertEqual(len(problems), 1, problems)
                self.assertTrue(problems[0].startswith(expected), problems)
        self.assertEqual(self.problems({"name": "a" * 64, "password": "p" * 128}), [])
        self.assertEqual(self.problems({"name": "alice"}), ["users[0].password: required, a non-empty string (got missing)"])

    def test_psk_rules(self) -> None:
        self.assertEqual(sync.psk_problems("x" * 11), ["is 11 characters; allowed: 12 to 128"])
        self.assertEqual(sync.psk_problems("x" * 129), ["is 129 characters; allowed: 12 to 128"])
        self.assertEqual(sync.psk_problems("x" * 12), [])
        self.assertEqual(sync.psk_problems("x" * 128), [])
        for bad, why in [("with space-xxxxx", "whitespace"), ('with"quote-xxxxx', "quote"), ("with\\slash-xxxxx", "backslash"), ("nonascii-é-xxxxx", "non-ASCII")]:
            with self.subTest(bad=bad):
                problems = sync.psk_problems(bad)
                self.assertEqual(len(problems), 1)
                self.assertIn(why, problems[0])
                self.assertNotIn(bad, problems[0])

    def test_ip_rules(self) -> None:
        cases = [
            ("192.168.42.0", "is not a host address of the client pool 192.168.42.0/24"),
            ("192.168.42.255", "is not a host address of the client pool"),
            ("192.168.43.10", "is not a host address of the client pool"),
            ("192.168.42.1", "is the gateway's own PPP address"),
            ("192.168.042.10", "is not an IPv4 address"),
            ("192.168.42", "is not an IPv4 address"),
            (10, "a number is not an IPv4 address"),
        ]
        for ip, expected in cases:
            with self.subTest(ip=ip):
                problems = self.problems({"name": "alice", "password": "pw-123", "ip": ip})
                self.assertEqual(len(problems), 1, problems)
                self.assertIn(expected, problems[0])
        for absent in ("", None):
            users, problems = sync.parse_users_value(json.dumps({"format": 1, "users": [{"name": "a", "password": "p", "ip": absent}]}), self.config)
            self.assertEqual((problems, users[0][1].ip), ([], None))

    def test_ip_inside_the_static_range(self) -> None:
        """With sync.json's staticRange, a static address outside it (in xl2tpd's range) is refused."""
        config = dataclasses.replace(self.config, static_range=(ipaddress.IPv4Address("192.168.42.2"), ipaddress.IPv4Address("192.168.42.127")))
        for ip in ("192.168.42.2", "192.168.42.127"):
            self.assertEqual(sync.parse_users_value(users_value(user("alice", "pw-123", ip)), config)[1], [], ip)
        for ip in ("192.168.42.128", "192.168.42.254"):
            with self.subTest(ip=ip):
                problems = sync.parse_users_value(users_value(user("alice", "pw-123", ip)), config)[1]
                self.assertEqual(problems, [f"users[0].ip: {ip} is outside the static addresses 192.168.42.2 to 192.168.42.127 (xl2tpd hands out the rest of 192.168.42.0/24)"])
        # the gateway's own address keeps its own message
        self.assertIn("gateway's own PPP address", sync.parse_users_value(users_value(user("alice", "pw-123", "192.168.42.1")), config)[1][0])

    def test_unknown_fields_format_and_shape(self) -> None:
        self.assertEqual(self.problems(raw='{"format": 2, "users": []}'), ["format: must be 1"])
        self.assertEqual(self.problems(raw='{"format": true, "users": []}'), ["format: must be 1"])
        self.assertEqual(self.problems(raw='{"users": []}'), ["format: must be 1 (missing)"])
        self.assertEqual(self.problems(raw='{"format": 1, "users": [], "extra": 1}'), ["extra: unknown field; allowed: format, users"])
        self.assertEqual(self.problems({"name": "a", "password": "p", "pasword": "x"}), ["users[0].pasword: unknown field; allowed: name, password, ip"])
        self.assertEqual(self.problems(raw='{"format": 1, "users": {}}'), ["users: expected a list of {name, password, ip?}, got an object"])
        self.assertEqual(self.problems(raw='{"format": 1, "users": ["alice"]}'), ["users[0]: expected {name, password, ip?}, got a string"])
        self.assertTrue(self.problems(raw='[{"name": "a"}]')[0].startswith('expected a JSON object like {"format": 1'))
        self.assertTrue(self.problems(raw='{"format": 1, "users": [')[0].startswith("not JSON ("))
        # A field name that could be a secret pasted in the wrong place is not echoed.
        self.assertEqual(self.problems({"name": "a", "password": "p", "s3cr3t pass!": 1}), ["users[0].a field: unknown field; allowed: name, password, ip"])

    def test_names_and_addresses_unique_across_parameters(self) -> None:
        values = {
            f"{PATH}/psk": PSK,
            f"{PATH}/users/a": users_value(user("alice", "p1", "192.168.42.10"), user("bob", "p2")),
            f"{PATH}/users/b": users_value(user("carol", "p3", "192.168.42.10"), user("alice", "p4")),
        }
        configuration, problems = sync.check_configuration(values, self.config)
        self.assertIsNone(configuration)
        self.assertEqual(
            problems,
            [
                f"{PATH}/users/b: users[0].ip: 192.168.42.10 is also {PATH}/users/a users[0]'s address; static addresses must be unique",
                f'{PATH}/users/b: users[1].name: "alice" is also {PATH}/users/a users[0]; names must be unique across all users parameters',
            ],
        )
        same_shard = {f"{PATH}/psk": PSK, f"{PATH}/users/a": users_value(user("alice", "p1"), user("alice", "p2"))}
        self.assertEqual(len(sync.check_configuration(same_shard, self.config)[1]), 1)

    def test_psk_and_at_least_one_user_required(self) -> None:
        _, problems = sync.check_configuration({f"{PATH}/users/a": users_value(user("alice", "p"))}, self.config)
        self.assertEqual(problems, [f"{PATH}/psk: missing; the PSK parameter is required (a SecureString)"])
        _, problems = sync.check_configuration({f"{PATH}/psk": PSK, f"{PATH}/users/a": users_value()}, self.config)
        self.assertEqual(problems, [f"{PATH}/users/*: no users; at least one is required"])
        _, problems = sync.check_configuration({f"{PATH}/psk": PSK}, self.config)
        self.assertEqual(len(problems), 1)
        configuration, problems = sync.check_configuration({f"{PATH}/psk": PSK, f"{PATH}/users/a": users_value(), f"{PATH}/users/b": users_value(user("x", "y"))}, self.config)
        self.assertEqual((problems, sorted(configuration.users)), ([], ["x"]))

    def test_problems_never_show_the_value(self) -> None:
        for bad in ['Secret"Quote9', "Secret Space9", "Secret#Hash9", "@SecretAt9", "SecretÜmlaut9", "Secret\nLine9", "S" * 129]:
            with self.subTest(bad=bad):
                problems = self.problems({"name": "alice", "password": bad}, {"name": bad, "password": "x"})
                # a name may start with '@' (only a password may not)
                self.assertEqual(len(problems), 1 if bad.startswith("@") else 2, problems)
                for p in problems:
                    self.assertNotIn("Secret", p)
                    self.assertNotIn(bad, p)


# =============================================================================================
class ConfigFileTest(unittest.TestCase):
    """sync.json: missing or malformed means exit 2 and a clear message."""

    def setUp(self) -> None:
        self.world = World(self)

    def run_main(self, *argv: str) -> int:
        return sync.main(list(argv), paths=self.world.paths, client=Unreachable())

    def test_missing_exits_2(self) -> None:
        self.assertEqual(self.run_main("once"), 2)
        self.assertIn("sync.json: missing", self.world.logs.text)
        self.assertFalse(Path(self.world.paths.chap_secrets).exists())

    def test_malformed_exits_2(self) -> None:
        cases = [
            ({"region": "Europe"}, "region:"),
            ({"path": "/vpn-gateway/dev/"}, "path:"),
            ({"path": "vpn-gateway"}, "path:"),
            ({"serverName": "l2 tpd"}, "serverName:"),
            ({"clientPool": "192.168.42.1/24"}, "clientPool:"),
            ({"gatewayAddress": "10.0.0.1"}, "gatewayAddress: 10.0.0.1 is not a host address of 192.168.42.0/24"),
            ({"bootTimeoutSeconds": True}, "bootTimeoutSeconds:"),
            ({"bootTimeoutSeconds": 0}, "bootTimeoutSeconds:"),
            ({"surprise": 1}, "surprise: unknown setting"),
            ({"staticRange": "192.168.42.2-192.168.42.127"}, 'staticRange: expected {"first": ADDRESS, "last": ADDRESS}'),
            ({"staticRange": {"first": "192.168.42.9", "last": "192.168.42.2"}}, "staticRange: expected"),
            ({"staticRange": {"first": "192.168.42.2", "last": "192.168.43.5"}}, "staticRange: 192.168.42.2-192.168.43.5 is not inside the host addresses of 192.168.42.0/24"),
            ({"staticRange": {"first": "192.168.42.1", "last": "192.168.42.127"}}, "staticRange: 192.168.42.1-192.168.42.127 holds the gateway's address 192.168.42.1"),
            ({"staticRange": {"first": "192.168.42.2", "last": "192.168.42.127", "more": 1}}, "staticRange: expected"),
        ]
        for override, expected in cases:
            with self.subTest(override=override):
                self.world.logs.lines.clear()
                self.world.write_config(**override)
                self.assertEqual(self.run_main("once"), 2)
                self.assertIn(expected, self.world.logs.text)
        Path(self.world.paths.config).write_text("{not json")
        self.assertEqual(self.run_main("boot"), 2)
        self.assertIn("not JSON", self.world.logs.text)

    def test_reads_a_good_config(self) -> None:
        self.world.write_config(bootTimeoutSeconds=7)
        config = sync.load_config(self.world.paths.config)
        self.assertEqual((config.region, config.path, config.server_name, str(config.pool), str(config.gateway), config.boot_timeout), (REGION, PATH, "l2tpd", "192.168.42.0/24", "192.168.42.1", 7.0))
        self.assertEqual((config.psk_name, config.users_prefix), (f"{PATH}/psk", f"{PATH}/users/"))
        self.world.write_config()
        self.assertEqual(sync.load_config(self.world.paths.config).boot_timeout, 300.0)
        self.assertIsNone(sync.load_config(self.world.paths.config).static_range)

    def test_reads_the_static_range(self) -> None:
        # As the user-data writes it: the lower half of the pool after the gateway's address.
        self.world.write_config(staticRange={"first": "192.168.42.2", "last": "192.168.42.127"})
        config = sync.load_config(self.world.paths.config)
        self.assertEqual(config.static_range, (ipaddress.IPv4Address("192.168.42.2"), ipaddress.IPv4Address("192.168.42.127")))
        self.assertEqual(config.program_prefix, f"{PATH}/program/")

    def test_usage(self) -> None:
        for argv in ([], ["sync"], ["once", "boot"]):
            with self.subTest(argv=argv), mock.patch("sys.stderr"):
                self.assertEqual(sync.main(argv, paths=self.world.paths, client=Unreachable()), 2)


# =============================================================================================
class FilesTest(unittest.TestCase):
    """The files pppd and pluto read, and the state: 0600, atomic, rewritten only on change."""

    def setUp(self) -> None:
        self.world = World(self)
        self.configuration = sync.Configuration(PSK, {"bob": sync.User("bob", "pb"), "alice": sync.User("alice", "pa", "192.168.42.10")})

    def test_chap_secrets_format(self) -> None:
        text = sync.render_chap_secrets(self.configuration, self.world.config)
        lines = text.split("\n")
        self.assertTrue(lines[0].startswith("# Written by vpn-gateway-sync"))
        self.assertEqual(lines[1:], ["# client\tserver\tsecret\tIP addresses", '"alice"\tl2tpd\t"pa"\t192.168.42.10', '"bob"\tl2tpd\t"pb"\t*', ""])

    def test_ipsec_secrets_format(self) -> None:
        text = sync.render_ipsec_secrets(self.configuration, self.world.config)
        self.assertEqual(text.split("\n")[1:], [f'%any %any : PSK "{PSK}"', ""])
        self.assertTrue(text.startswith("# Written by vpn-gateway-sync from /vpn-gateway/dev/psk."))

    def test_written_0600_by_rename_with_no_temporary_left(self) -> None:
        target = Path(self.world.paths.chap_secrets)
        target.write_text("old\n")
        os.chmod(target, 0o644)
        before = target.stat().st_ino
        old_umask = os.umask(0)
        try:
            self.assertTrue(sync.write_atomically(str(target), "new\n"))
        finally:
            os.umask(old_umask)
        self.assertEqual(target.read_text(), "new\n")
        self.assertEqual(stat.S_IMODE(target.stat().st_mode), 0o600)
        self.assertNotEqual(target.stat().st_ino, before, "replaced by rename, not rewritten in place")
        self.assertEqual(sorted(os.listdir(target.parent)), ["chap-secrets"])

    def test_fsynced_before_the_rename(self) -> None:
        target = str(Path(self.world.paths.chap_secrets))
        events: list[str] = []
        real_fsync, real_replace = os.fsync, os.replace
        renames: list[tuple[str, str]] = []
        with mock.patch.object(sync.os, "fsync", side_effect=lambda fd: (events.append("fsync"), real_fsync(fd))[1]), mock.patch.object(
            sync.os, "replace", side_effect=lambda a, b: (events.append("replace"), renames.append((a, b)), real_replace(a, b))[2]
        ):
            sync.write_atomically(target, "x\n")
        self.assertEqual(events[:2], ["fsync", "replace"])
        # rename(2) is atomic within one file system: the temporary file sits beside the target.
        self.assertEqual([os.path.dirname(a) for a, _ in renames], [os.path.dirname(target)])
        self.assertEqual([b for _, b in renames], [target])

    def test_a_failed_write_leaves_the_old_file(self) -> None:
        target = Path(self.world.paths.chap_secrets)
        target.write_text("old\n")
        with mock.patch.object(sync.os, "fsync", side_effect=OSError(28, "No space left on device")):
            with self.assertRaises(OSError):
                sync.write_atomically(str(target), "new\n")
        self.assertEqual(target.read_text(), "old\n")
        self.assertEqual(sorted(os.listdir(target.parent)), ["chap-secrets"])

    def test_unchanged_content_is_not_rewritten(self) -> None:
        target = Path(self.world.paths.ipsec_secrets)
        self.assertTrue(sync.write_atomically(str(target), "same\n"))
        inode = target.stat().st_ino
        self.assertFalse(sync.write_atomically(str(target), "same\n"))
        self.assertEqual(target.stat().st_ino, inode)

    def test_state_is_private(self) -> None:
        self.world.standard()
        state_dir = Path(self.world.paths.state).parent
        self.assertEqual(stat.S_IMODE(state_dir.stat().st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(Path(self.world.paths.state).stat().st_mode), 0o600)
        for f in (self.world.paths.chap_secrets, self.world.paths.ipsec_secrets):
            self.assertEqual(stat.S_IMODE(Path(f).stat().st_mode), 0o600)
        self.assertEqual(self.world.state()["applied"][f"{PATH}/psk"]["value"], PSK)


# =============================================================================================
class PollTest(unittest.TestCase):
    """`once` against a stubbed SSM: what is listed, decrypted, written, ended and logged."""

    def setUp(self) -> None:
        self.world = World(self)

    def test_pages_short_and_empty_with_tokens(self) -> None:
        w = self.world
        w.put("psk", PSK)
        w.put_users("a", user("alice", "Pw-alice-7Qx9"))
        w.put_users("b", user("bob", "Pw-bob-3Kd2"))
        # An empty first page with a token, a short one, another empty one, then the last.
        status = w.poll(pages=[[], ["psk"], [], ["users/a", "users/b"]], decrypt=["psk", "users/a", "users/b"])
        self.assertEqual(status, 0, w.logs.text)
        self.assertIn('"alice"\tl2tpd\t"Pw-alice-7Qx9"\t*', w.chap())
        self.assertIn('"bob"', w.chap())
        self.assertIn(f'PSK "{PSK}"', w.ipsec())

    def test_decrypts_ten_names_a_call(self) -> None:
        w = self.world
        w.put("psk", PSK)
        for i in range(23):
            w.put_users(f"s{i:02d}", user(f"user{i:02d}", f"pw-{i:02d}"))
        status = w.poll(decrypt=["psk"] + [f"users/s{i:02d}" for i in range(23)])  # 24 names: 3 calls
        self.assertEqual(status, 0, w.logs.text)
        self.assertEqual(w.chap().count("\tl2tpd\t"), 23)

    def test_only_changed_parameters_are_decrypted(self) -> None:
        w = self.world
        w.standard()
        w.put_users("b", user("carol", "Pw-carol-8Zm4", "192.168.42.11"))
        self.assertEqual(w.poll(decrypt=["users/b"]), 0, w.logs.text)
        self.assertIn('"carol"\tl2tpd\t"Pw-carol-8Zm4"\t192.168.42.11', w.chap())
        self.assertEqual(w.logs.lines, ["applied: 1 address changed (carol); 3 users; no sessions to end"])

    def test_nothing_changed_nothing_decrypted_nothing_written(self) -> None:
        w = self.world
        w.standard()
        chap, ipsec, state = (os.stat(p) for p in (w.paths.chap_secrets, w.paths.ipsec_secrets, w.paths.state))
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.logs.lines, [])
        for before, path in ((chap, w.paths.chap_secrets), (ipsec, w.paths.ipsec_secrets), (state, w.paths.state)):
            after = os.stat(path)
            self.assertEqual((after.st_ino, after.st_mtime_ns), (before.st_ino, before.st_mtime_ns), path)

    def test_a_removed_users_sessions_end_and_nobody_elses(self) -> None:
        w = self.world
        w.standard()
        w.session(101, "alice")
        w.session(102, "bob")
        w.session(103, "bob")
        w.session(104, "carol")
        w.put_users("a", user("alice", "Pw-alice-7Qx9"))
        self.assertEqual(w.poll(decrypt=["users/a"]), 0, w.logs.text)
        self.assertEqual(sorted(w.killed), [(102, signal.SIGTERM), (103, signal.SIGTERM)])
        self.assertNotIn('"bob"', w.chap())
        self.assertEqual(w.logs.lines, ["applied: 1 removed (bob); 2 users; ended 2 sessions (bob x2)"])

    def test_a_changed_password_ends_every_session_of_that_user(self) -> None:
        w = self.world
        w.standard()
        w.session(201, "alice")
        w.session(202, "alice")
        w.session(203, "bob")
        w.put_users("a", user("alice", "Pw-alice-NEW1"), user("bob", "Pw-bob-3Kd2"))
        self.assertEqual(w.poll(decrypt=["users/a"]), 0, w.logs.text)
        self.assertEqual(sorted(pid for pid, _ in w.killed), [201, 202])
        self.assertIn('"alice"\tl2tpd\t"Pw-alice-NEW1"\t*', w.chap())
        self.assertEqual(w.logs.lines, ["applied: 1 password changed (alice); 3 users; ended 2 sessions (alice x2)"])

    def test_a_changed_static_address_ends_that_users_sessions(self) -> None:
        w = self.world
        w.standard()
        w.session(251, "carol")
        w.session(252, "alice")
        w.put_users("b", user("carol", "Pw-carol-8Zm4", "192.168.42.11"))
        self.assertEqual(w.poll(decrypt=["users/b"]), 0, w.logs.text)
        self.assertEqual(w.killed, [(251, signal.SIGTERM)])
        self.assertEqual(w.logs.lines, ["applied: 1 address changed (carol); 3 users; ended 1 session (carol)"])

    def test_a_new_user_ends_nobodys_session(self) -> None:
        w = self.world
        w.standard()
        w.session(301, "alice")
        w.session(302, "carol")
        w.put_users("c", user("dave", "Pw-dave-5Tt5"))
        self.assertEqual(w.poll(decrypt=["users/c"]), 0, w.logs.text)
        self.assertEqual(w.killed, [])
        self.assertIn('"dave"', w.chap())
        self.assertEqual(w.logs.lines, ["applied: 1 added (dave); 4 users"])

    def test_summary_names_and_counts_every_change(self) -> None:
        w = self.world
        w.put("psk", PSK)
        w.put_users("a", user("alice", "Pw-alice-7Qx9"), user("bob", "Pw-bob-3Kd2"), user("erin", "Pw-erin-1"))
        self.assertEqual(w.poll(decrypt=["psk", "users/a"]), 0)
        self.assertEqual(w.logs.lines, ["applied: 3 added (alice, bob, erin), psk set; 3 users"])
        w.logs.lines.clear()
        w.session(1, "alice")
        w.session(2, "alice")
        w.session(3, "bob")
        w.session(4, "erin")
        w.pluto_running()
        w.put("psk", NEW_PSK)
        w.put_users("a", user("alice", "Pw-alice-NEW1"), user("erin", "Pw-erin-1"), user("carol", "Pw-carol-8Zm4"))
        w.put_users("b", user("dave", "Pw-dave-5Tt5"))
        self.assertEqual(w.poll(decrypt=["psk", "users/a", "users/b"]), 0, w.logs.text)
        self.assertEqual(
            w.logs.lines,
            ["applied: 2 added (carol, dave), 1 removed (bob), 1 password changed (alice), psk changed; 4 users; ended 3 sessions (alice x2, bob)", "pluto re-read " + w.paths.ipsec_secrets],
        )
        self.assertEqual(sorted(pid for pid, _ in w.killed), [1, 2, 3])

    def test_a_long_list_of_names_stays_one_short_line(self) -> None:
        w = self.world
        w.put("psk", PSK)
        w.put_users("a", *[user(f"u{i:03d}", "pw") for i in range(25)])
        self.assertEqual(w.poll(decrypt=["psk", "users/a"]), 0)
        self.assertEqual(w.logs.lines, ["applied: 25 added (u000, u001, u002, u003, u004, u005, u006, u007, u008, u009 and 15 more), psk set; 25 users"])

    def test_a_bad_record_refuses_the_whole_update_once(self) -> None:
        w = self.world
        w.standard()
        w.session(401, "alice")
        w.session(402, "carol")
        files = {p: (Path(p).read_bytes(), os.stat(p).st_mtime_ns) for p in (w.paths.chap_secrets, w.paths.ipsec_secrets)}
        bad = 'Pw"carol-BAD5'
        w.put_users("a", user("alice", "Pw-alice-NEW1"), user("bob", "Pw-bob-3Kd2"))  # good on its own
        w.put_users("b", user("carol", bad, "192.168.42.10"))
        self.assertEqual(w.poll(decrypt=["users/a", "users/b"]), 1)
        self.assertEqual(
            w.logs.lines,
            [
                f"refused: {PATH}/users/b: users[0].password: contains quote characters; allowed: printable ASCII without whitespace, quotes, backslash, '#' or '*'",
                "refused the update (1 problem): the last good configuration stays applied (3 users)",
            ],
        )
        assert_no_secret(self, w.logs.text, SECRETS + [bad, "carol-BAD5"])
        for p, (content, mtime) in files.items():
            self.assertEqual((Path(p).read_bytes(), os.stat(p).st_mtime_ns), (content, mtime), p)
        self.assertEqual(w.killed, [], "nobody's session ends on a refused update")
        self.assertEqual(w.state()["applied"][f"{PATH}/users/a"]["version"], 1, "the last good configuration is still the applied one")
        # The next polls: the listing only (Stubber fails on any GetParameters), and not a word.
        w.logs.lines.clear()
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.logs.lines, [])
        # Fixed: only the fixed parameter is decrypted (users/a's good version was kept), and it applies.
        w.put_users("b", user("carol", "Pw-carol-FIX6", "192.168.42.10"))
        self.assertEqual(w.poll(decrypt=["users/b"]), 0, w.logs.text)
        self.assertEqual(w.logs.lines, ["applied: 2 password changed (alice, carol); 3 users; ended 2 sessions (alice, carol)"])
        self.assertEqual(sorted(pid for pid, _ in w.killed), [401, 402])

    def test_a_refused_version_is_not_decrypted_when_another_parameter_changes(self) -> None:
        w = self.world
        w.standard()
        w.put_users("b", user("carol", "@file"))
        self.assertEqual(w.poll(decrypt=["users/b"]), 1)
        w.logs.lines.clear()
        w.put_users("c", user("dave", "Pw-dave-5Tt5"))
        self.assertEqual(w.poll(decrypt=["users/c"]), 1)  # users/b version 2 is not asked for again
        self.assertEqual(
            w.logs.lines,
            [f"refused: {PATH}/users/b version 2 still refused (see earlier lines)", "refused the update (1 problem): the last good configuration stays applied (3 users)"],
        )
        self.assertNotIn('"dave"', w.chap())

    def test_problems_across_parameters_refuse_the_update(self) -> None:
        w = self.world
        w.standard()
        w.put_users("c", user("alice", "Pw-alice-NEW1"))
        self.assertEqual(w.poll(decrypt=["users/c"]), 1)
        self.assertIn(f'refused: {PATH}/users/c: users[0].name: "alice" is also {PATH}/users/a users[0]; names must be unique across all users parameters', w.logs.lines)
        assert_no_secret(self, w.logs.text, SECRETS)
        w.logs.lines.clear()
        self.assertEqual(w.poll(), 0)  # same listing: nothing decrypted, nothing said
        self.assertEqual(w.logs.lines, [])
        w.delete("users/c")
        self.assertEqual(w.poll(), 0)  # back to the applied listing
        self.assertEqual(w.logs.lines, [])

    def test_a_missing_psk_refuses_the_update(self) -> None:
        w = self.world
        w.standard()
        w.delete("psk")
        self.assertEqual(w.poll(), 1)
        self.assertIn(f"refused: {PATH}/psk: missing; the PSK parameter is required (a SecureString)", w.logs.lines)
        self.assertIn(f'PSK "{PSK}"', w.ipsec())

    def test_a_psk_change_rewrites_ipsec_secrets_and_rereads_once(self) -> None:
        w = self.world
        w.standard()
        w.pluto_running()
        w.session(501, "alice")
        chap = os.stat(w.paths.chap_secrets)
        w.put("psk", NEW_PSK)
        self.assertEqual(w.poll(decrypt=["psk"]), 0, w.logs.text)
        self.assertEqual(w.ipsec().split("\n")[1], f'%any %any : PSK "{NEW_PSK}"')
        self.assertEqual(w.rereads, 1)
        self.assertEqual(w.killed, [], "a PSK change ends no PPP session")
        self.assertEqual(os.stat(w.paths.chap_secrets).st_ino, chap.st_ino, "chap-secrets untouched")
        self.assertEqual(w.logs.lines, ["applied: psk changed; 3 users", f"pluto re-read {w.paths.ipsec_secrets}"])
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.rereads, 1)

    def test_a_failed_reread_is_tried_again_at_the_next_poll(self) -> None:
        w = self.world
        w.standard()
        w.pluto_running()
        w.reread_ok = False
        w.put("psk", NEW_PSK)
        self.assertEqual(w.poll(decrypt=["psk"]), 1)
        self.assertEqual(w.rereads, 1)
        self.assertTrue(w.state()["pskRereadPending"])
        w.reread_ok = True
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.rereads, 2)
        self.assertFalse(w.state()["pskRereadPending"])
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.rereads, 2)

    def test_no_reread_when_pluto_is_not_running(self) -> None:
        w = self.world
        w.standard()
        w.pluto_running(False)
        w.put("psk", NEW_PSK)
        self.assertEqual(w.poll(decrypt=["psk"]), 0)
        self.assertEqual(w.rereads, 0)
        self.assertIn(NEW_PSK, w.ipsec())

    def test_a_plain_string_parameter_is_refused_without_decryption(self) -> None:
        w = self.world
        w.standard()
        w.put("users/c", users_value(user("dave", "Pw-dave-5Tt5")), type="String")
        self.assertEqual(w.poll(), 1)  # no GetParameters at all
        self.assertIn(f"refused: {PATH}/users/c: is a String parameter; it must be a SecureString", w.logs.lines)
        w.logs.lines.clear()
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.logs.lines, [])

    def test_other_names_are_ignored_and_reported_once(self) -> None:
        w = self.world
        w.standard()
        w.put("notes", "not ours")
        w.put("users/a/deeper", users_value(user("x", "y")))
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.logs.lines, [f"warning: ignoring {PATH}/notes, {PATH}/users/a/deeper: only {PATH}/psk, {PATH}/users/<shard> and {PATH}/ikev2/<N> are read"])
        w.logs.lines.clear()
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.logs.lines, [])

    def test_its_own_release_is_neither_read_nor_reported(self) -> None:
        """PATH/program/N (this program, for vpn-gateway-sync-install) is listed but never decrypted or warned about."""
        w = self.world
        w.put("program/1", "H4sIAAAAAAAC")
        w.put("program/2", "A0tMTEoEAA==")
        w.put("psk", PSK)
        w.put_users("a", user("alice", "Pw-alice-7Qx9"))
        self.assertEqual(w.poll(decrypt=["psk", "users/a"]), 0)
        self.assertEqual([line for line in w.logs.lines if not line.startswith("applied:")], [])
        self.assertEqual(sorted(w.state()["applied"]), [f"{PATH}/psk", f"{PATH}/users/a"])
        self.assertEqual(w.state()["ignored"], [])
        w.logs.lines.clear()
        w.put("program/1", "H4sIAAAAAAAD")
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.logs.lines, [])

    def test_a_removed_parameter_drops_its_users(self) -> None:
        w = self.world
        w.standard()
        w.session(601, "carol")
        w.delete("users/b")
        self.assertEqual(w.poll(), 0, w.logs.text)
        self.assertNotIn("carol", w.chap())
        self.assertEqual([pid for pid, _ in w.killed], [601])
        self.assertNotIn(f"{PATH}/users/b", w.state()["applied"])

    def test_a_recreated_parameter_with_the_same_version_is_decrypted(self) -> None:
        w = self.world
        w.standard()
        w.delete("users/b")
        w.put_users("b", user("carol", "Pw-carol-NEW2"))  # version 1 again, a later LastModifiedDate
        self.assertEqual(w.params[f"{PATH}/users/b"]["version"], 1)
        self.assertEqual(w.poll(decrypt=["users/b"]), 0, w.logs.text)
        self.assertIn("Pw-carol-NEW2", w.chap())

    def test_a_parameter_deleted_between_listing_and_decryption(self) -> None:
        w = self.world
        w.standard()
        w.put_users("c", user("dave", "Pw-dave-5Tt5"))
        w.expect_listing()
        w.expect_decrypt(["users/c"], gone=(f"{PATH}/users/c",))
        self.assertEqual(w.sync().once(), 0, w.logs.text)
        w.stubber.assert_no_pending_responses()
        self.assertNotIn("dave", w.chap())

    def test_once_with_ssm_unreachable_keeps_everything(self) -> None:
        w = self.world
        w.standard()
        w.session(701, "alice")
        before = {p: (Path(p).read_bytes(), os.stat(p).st_mtime_ns) for p in (w.paths.chap_secrets, w.paths.ipsec_secrets, w.paths.state)}
        self.assertEqual(w.sync(client=Unreachable()).once(), 1)
        self.assertEqual(len(w.logs.lines), 1)
        self.assertRegex(w.logs.lines[0], r"^error: SSM Parameter Store unreachable \(GetParametersByPath /vpn-gateway/dev: Could not connect to the endpoint URL")
        for p, (content, mtime) in before.items():
            self.assertEqual((Path(p).read_bytes(), os.stat(p).st_mtime_ns), (content, mtime), p)
        self.assertEqual(w.killed, [])

    def test_once_with_a_real_client_and_no_endpoint(self) -> None:
        w = self.world
        w.standard()
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        client = boto3.session.Session().client(
            "ssm", region_name=REGION, endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="t", aws_secret_access_key="t",
            config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}),
        )
        self.assertEqual(w.sync(client=client).once(), 1)
        self.assertIn("SSM Parameter Store unreachable", w.logs.text)
        self.assertIn("Pw-alice-7Qx9", w.chap())

    def test_a_poll_during_another_run_is_skipped(self) -> None:
        w = self.world
        w.standard()
        with open(w.paths.lock, "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            self.assertEqual(w.sync().once(), 0)  # no SSM call at all (the Stubber has no response)
        self.assertEqual(w.logs.lines, ["another vpn-gateway-sync is running; this poll is skipped"])
        self.assertEqual(w.poll(), 0)  # and the lock is free again

    def test_access_denied_counts_as_unreachable(self) -> None:
        w = self.world
        w.standard()
        w.stubber.add_client_error("get_parameters_by_path", "AccessDeniedException", "not authorized to perform ssm:GetParametersByPath", 400)
        self.assertEqual(w.sync().once(), 1)
        self.assertIn("AccessDeniedException", w.logs.text)
        self.assertIn("Pw-alice-7Qx9", w.chap())


# =============================================================================================
class BootTest(unittest.TestCase):
    """`boot`: SSM if it answers within the bound, else the last good configuration, else fail."""

    def setUp(self) -> None:
        self.world = World(self)
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def boot(self, client: Any, timeout: float = 300.0) -> int:
        w = self.world
        w.config = sync.SyncConfig(REGION, PATH, "l2tpd", w.config.pool, w.config.gateway, timeout)
        return w.sync(client=client, sleep=self.sleep, monotonic=lambda: self.now).boot()

    def test_boot_applies_what_ssm_holds(self) -> None:
        w = self.world
        w.put("psk", PSK)
        w.put_users("a", user("alice", "Pw-alice-7Qx9"))
        w.expect_listing()
        w.expect_decrypt(["psk", "users/a"])
        self.assertEqual(self.boot(w.client), 0, w.logs.text)
        self.assertIn("Pw-alice-7Qx9", w.chap())
        self.assertEqual(self.sleeps, [])

    def test_boot_waits_for_ssm_with_backoff(self) -> None:
        w = self.world
        w.put("psk", PSK)
        w.put_users("a", user("alice", "Pw-alice-7Qx9"))
        w.expect_listing()
        w.expect_decrypt(["psk", "users/a"])
        failing = Unreachable()

        class ThirdTime:
            def get_parameters_by_path(self, **kw: Any) -> Any:
                return failing.get_parameters_by_path(**kw) if failing.calls < 3 else w.client.get_parameters_by_path(**kw)

            def get_parameters(self, **kw: Any) -> Any:
                return w.client.get_parameters(**kw)

        self.assertEqual(self.boot(ThirdTime()), 0, w.logs.text)
        self.assertEqual(self.sleeps, [1.0, 2.0, 4.0])
        self.assertIn("Pw-alice-7Qx9", w.chap())

    def test_boot_unreachable_serves_the_last_good_state(self) -> None:
        w = self.world
        w.standard()
        os.unlink(w.paths.chap_secrets)
        os.unlink(w.paths.ipsec_secrets)
        self.assertEqual(self.boot(Unreachable(), timeout=60), 0)
        self.assertIn('"alice"\tl2tpd\t"Pw-alice-7Qx9"\t*', w.chap())
        self.assertIn(f'PSK "{PSK}"', w.ipsec())
        self.assertEqual(stat.S_IMODE(os.stat(w.paths.chap_secrets).st_mode), 0o600)
        self.assertRegex(w.logs.lines[-1], r"^warning: serving the last good users from .*sync-state.json \(3 users, applied 20")
        assert_no_secret(self, w.logs.text, SECRETS)

    def test_boot_unreachable_without_state_fails_after_the_bound(self) -> None:
        w = self.world
        client = Unreachable()
        self.assertEqual(self.boot(client, timeout=300), 1)
        self.assertAlmostEqual(sum(self.sleeps), 300.0)
        self.assertEqual(self.sleeps[:6], [1.0, 2.0, 4.0, 8.0, 16.0, 30.0])
        self.assertLessEqual(max(self.sleeps), 30.0)
        self.assertEqual(client.calls, len(self.sleeps) + 1)
        self.assertIn("SSM Parameter Store unreachable after", w.logs.text)
        self.assertIn("no good configuration to serve: SSM Parameter Store was unreachable, and there is no last good one on disk", w.logs.lines[-1])
        self.assertFalse(Path(w.paths.chap_secrets).exists())

    def test_boot_bound_holds_in_real_time(self) -> None:
        w = self.world
        w.write_config(bootTimeoutSeconds=1)
        started = time.monotonic()
        self.assertEqual(sync.main(["boot"], paths=w.paths, client=Unreachable()), 1)
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 10)

    def test_boot_with_a_refused_update_serves_the_last_good_one(self) -> None:
        w = self.world
        w.standard()
        os.unlink(w.paths.chap_secrets)
        w.put("psk", "short")
        w.expect_listing()
        w.expect_decrypt(["psk"])
        self.assertEqual(self.boot(w.client), 0, w.logs.text)
        self.assertIn(f"refused: {PATH}/psk: is 5 characters; allowed: 12 to 128", w.logs.lines)
        self.assertIn("Pw-alice-7Qx9", w.chap())
        self.assertIn(f'PSK "{PSK}"', w.ipsec())

    def test_first_boot_with_a_refused_update_fails(self) -> None:
        w = self.world
        w.put("psk", PSK)
        w.put_users("a", user("alice", "bad pass"))
        w.expect_listing()
        w.expect_decrypt(["psk", "users/a"])
        self.assertEqual(self.boot(w.client), 1)
        self.assertIn("the one in SSM Parameter Store is refused", w.logs.lines[-1])
        self.assertFalse(Path(w.paths.chap_secrets).exists())


# =============================================================================================
class SessionsTest(unittest.TestCase):
    """The ip-up/ip-down hook and the sync's reading of its records."""

    def setUp(self) -> None:
        self.world = World(self)
        self.sessions = Path(self.world.paths.sessions)

    def hook(self, event: str, real_proc: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
        """Runs the hook as pppd would via run-parts: $0 in ip-up.d or ip-down.d, pppd's environment
        only; its records in the world's sessions directory, its /proc the world's (or the real one)."""
        script = self.world.dir / "etc/ppp" / f"ip-{event}.d" / "vpn-gateway-session"
        script.parent.mkdir(parents=True, exist_ok=True)
        text = HOOK.read_text()
        for line in ("dir=/run/vpn-gateway/sessions\n", "proc=/proc\n"):
            self.assertEqual(text.count(line), 1, line)
        text = text.replace("dir=/run/vpn-gateway/sessions\n", f"dir={self.sessions}\n")
        if not real_proc:
            text = text.replace("proc=/proc\n", f"proc={self.world.paths.proc}\n")
        script.write_text(text)
        script.chmod(0o755)
        args = ["ppp0", "/dev/pts/3", "0", "192.168.42.1", "192.168.42.10", "203.0.113.7"]
        return subprocess.run(["/bin/sh", str(script), *args], env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **env}, capture_output=True, text=True, check=True)

    def test_hook_records_on_up_and_removes_on_down(self) -> None:
        shutil.rmtree(self.sessions.parent)
        self.world.process(4242, start=987654)
        self.hook("up", PPPD_PID="4242", PEERNAME="alice", IFNAME="ppp0")
        self.assertEqual((self.sessions / "4242").read_text(), "alice\n987654\n")
        self.assertEqual(stat.S_IMODE(self.sessions.stat().st_mode), 0o700)
        self.assertEqual(os.listdir(self.sessions), ["4242"], "no temporary file left")
        self.hook("down", PPPD_PID="4242", PEERNAME="alice")
        self.assertEqual(os.listdir(self.sessions), [])

    def test_hook_records_the_start_time_after_the_last_parenthesis(self) -> None:
        """Field 2 of /proc/PID/stat is the command, which may hold spaces, ')' and digits."""
        for pid, comm in ((51, "pppd"), (52, "p) S 1 2 3 (d"), (53, "a b)) 7 8 9")):
            with self.subTest(comm=comm):
                self.world.process(pid, comm=comm, start=1000 + pid)
                self.hook("up", PPPD_PID=str(pid), PEERNAME="alice")
                self.assertEqual((self.sessions / str(pid)).read_text(), f"alice\n{1000 + pid}\n")
                self.assertEqual(sync.process_start(self.world.paths, pid), 1000 + pid)

    def test_hook_without_a_readable_start_time_records_the_name_alone(self) -> None:
        w = self.world
        w.process(61)  # comm only, no stat
        w.process(62)
        (w.dir / "proc/62/stat").write_text("62 (pppd) S 1 2\n")  # too few fields
        w.process(63)
        (w.dir / "proc/63/stat").write_text(stat_line(63, "pppd", 5).replace(" 5 9416704 ", " x5 9416704 "))
        for pid in (61, 62, 63):
            self.hook("up", PPPD_PID=str(pid), PEERNAME="alice")
            self.assertEqual((self.sessions / str(pid)).read_text(), "alice\n", pid)
            self.assertIsNone(sync.process_start(w.paths, pid), pid)

    def test_hook_and_sync_read_the_same_start_time_from_the_real_proc(self) -> None:
        child = subprocess.Popen(["sleep", "60"])
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        self.hook("up", real_proc=True, PPPD_PID=str(child.pid), PEERNAME="alice")
        name, start = (self.sessions / str(child.pid)).read_text().split("\n")[:2]
        self.assertEqual(name, "alice")
        self.assertEqual(int(start), sync.process_start(sync.Paths(), child.pid))
        with open(f"/proc/{child.pid}/stat") as f:
            self.assertEqual(int(start), int(f.read().split(")")[-1].split()[19]))

    def test_a_reused_pid_is_not_taken_for_the_old_session(self) -> None:
        """alice's pppd 21 was killed with SIGKILL (no ip-down: her record stays); PID 21 is now
        another pppd, not yet at its ip-up. Removing alice ends her live session only."""
        w = self.world
        w.record(21, "alice", start=5000)
        w.process(21, start=7000)
        w.session(22, "alice", start=6000)
        ended = sync.end_sessions({"alice"}, w.paths, w.kill)
        self.assertEqual(ended, {"alice": 1})
        self.assertEqual(w.killed, [(22, signal.SIGTERM)])
        # left for the new pppd's ip-up to replace (removing it could race with that)
        self.assertEqual((self.sessions / "21").read_text(), "alice\n5000\n")
        # once that pppd is gone, the record is stale and goes
        shutil.rmtree(w.dir / "proc/21")
        self.assertEqual(sync.end_sessions({"alice"}, w.paths, w.kill), {})
        self.assertEqual(os.listdir(self.sessions), [])

    def test_a_record_without_a_start_time_falls_back_to_the_command(self) -> None:
        """A record an older hook wrote (the name alone) counts while its PID is a pppd's."""
        w = self.world
        w.session(31, "alice")
        w.session(32, "alice", start=None)
        w.process(32, start=4000)  # a stat to read, but nothing in the record to match
        w.record(33, "alice")
        w.process(33, comm="sshd", start=4100)
        self.assertEqual(sync.end_sessions({"alice"}, w.paths, w.kill), {"alice": 2})
        self.assertEqual(sorted(w.killed), [(31, signal.SIGTERM), (32, signal.SIGTERM)])
        self.assertNotIn("33", os.listdir(self.sessions))

    def test_hook_ignores_a_pid_that_is_not_digits(self) -> None:
        for pid in ("", "12a", "../../etc/passwd", "-1", "1 2"):
            with self.subTest(pid=pid):
                self.hook("up", PPPD_PID=pid, PEERNAME="alice")
                self.assertEqual(os.listdir(self.sessions), [])
        self.hook("up", PEERNAME="alice")  # no PPPD_PID at all
        self.hook("up", PPPD_PID="77")  # no PEERNAME: nothing authenticated
        self.assertEqual(os.listdir(self.sessions), [])

    def test_stale_records_are_removed(self) -> None:
        w = self.world
        w.session(11, "alice", start=900)
        w.record(12, "alice", start=800)  # pppd gone without its ip-down
        w.process(13, comm="sshd", start=850)  # PID now belongs to something else
        w.record(13, "alice", start=700)
        w.record(15, "bob", start=600)  # not a name to end, stale all the same
        (self.sessions / ".14.tmp").write_text("alice\n")  # the hook's temporary file: not a record
        ended = sync.end_sessions({"alice"}, w.paths, w.kill)
        self.assertEqual(ended, {"alice": 1})
        self.assertEqual(w.killed, [(11, signal.SIGTERM)])
        self.assertEqual(sorted(os.listdir(self.sessions)), [".14.tmp", "11"])

    def test_no_sessions_directory_is_no_session(self) -> None:
        shutil.rmtree(self.sessions)
        self.assertEqual(sync.end_sessions({"alice"}, self.world.paths, self.world.kill), {})

    def test_hook_records_are_what_the_sync_ends(self) -> None:
        w = self.world
        w.standard()
        for pid, name in ((901, "alice"), (902, "bob"), (903, "alice"), (904, "carol")):
            w.process(pid, start=10000 + pid)
            self.hook("up", PPPD_PID=str(pid), PEERNAME=name)
        # carol's pppd 904 is killed with SIGKILL (no ip-down); bob's next pppd gets PID 904
        w.process(904, start=20000)
        w.put_users("a", user("bob", "Pw-bob-3Kd2"))
        w.put_users("b", user("dave", "Pw-dave-5Tt5"))
        self.assertEqual(w.poll(decrypt=["users/a", "users/b"]), 0, w.logs.text)
        self.assertEqual(sorted(pid for pid, _ in w.killed), [901, 903])
        self.assertIn("ended 2 sessions (alice x2)", w.logs.text)
        self.hook("down", PPPD_PID="901", PEERNAME="alice")
        # 903's pppd is gone too (w.kill), without its ip-down here: the poll's late pass found its
        # record stale; 904's stays for bob's pppd to replace
        self.assertEqual(sorted(os.listdir(self.sessions)), ["902", "904"])
        self.hook("up", PPPD_PID="904", PEERNAME="bob")  # bob's pppd reaches ip-up: its own record
        self.assertEqual((self.sessions / "904").read_text(), "bob\n20000\n")


# =============================================================================================
class LateSessionsTest(unittest.TestCase):
    """A session that authenticated with the old password just before chap-secrets was rewritten,
    whose record (ip-up) comes after the sync's scan: ended at a later poll, within the window."""

    def setUp(self) -> None:
        self.world = World(self)
        self.world.standard()
        self.sessions = Path(self.world.paths.sessions)
        self.ends = Path(self.world.paths.session_ends)

    def change_alice(self) -> int:
        """alice's password changes at uptime 1000 s; returns the change time in ticks."""
        w = self.world
        w.up_since(1000)
        w.put_users("a", user("alice", "Pw-alice-NEW1"), user("bob", "Pw-bob-3Kd2"))
        self.assertEqual(w.poll(decrypt=["users/a"]), 0, w.logs.text)
        return w.now()

    def later(self, seconds: float) -> list[str]:
        """One poll (nothing changed in SSM) seconds after the change; its log lines."""
        w = self.world
        w.logs.lines.clear()
        w.up_since(1000 + seconds)
        self.assertEqual(w.poll(), 0, w.logs.text)
        return list(w.logs.lines)

    def test_a_session_recorded_after_the_change_is_ended_at_the_next_poll(self) -> None:
        w = self.world
        w.process(701, start=w.now() - 300)  # alice's pppd: authenticated, not at ip-up yet
        w.session(702, "bob", start=w.now() - 300)
        changed = self.change_alice()
        self.assertEqual(w.logs.lines, ["applied: 1 password changed (alice); 3 users; no sessions to end"])
        self.assertEqual(w.killed, [])
        w.record(701, "alice", start=changed - 300)  # its ip-up, after the scan
        self.assertEqual(self.later(30), ["ended 1 session recorded late (alice): started before the user's change"])
        self.assertEqual(w.killed, [(701, signal.SIGTERM)], "bob's session stays")
        self.assertEqual(self.later(60), [])
        self.assertEqual(w.killed, [(701, signal.SIGTERM)])

    def test_a_session_started_after_the_change_is_not_ended(self) -> None:
        w = self.world
        changed = self.change_alice()
        w.session(711, "alice", start=changed)  # the same tick as the change: maybe after it
        w.session(712, "alice", start=changed + 1)
        w.session(713, "alice", start=changed + 50 * sync.CLOCK_TICKS)
        w.session(714, "alice")  # an older hook's record: no start time to judge by
        for seconds in (10, 40, 70, 100):
            self.assertEqual(self.later(seconds), [])
        self.assertEqual(w.killed, [])

    def test_a_late_record_is_ended_whatever_ssm_answers(self) -> None:
        w = self.world
        changed = self.change_alice()
        w.session(721, "alice", start=changed - 1)
        w.up_since(1030)
        self.assertEqual(w.sync(client=Unreachable()).once(), 1)
        self.assertEqual(w.killed, [(721, signal.SIGTERM)])
        self.assertIn("ended 1 session recorded late (alice): started before the user's change", w.logs.lines)

    def test_changes_are_forgotten_after_the_window(self) -> None:
        w = self.world
        changed = self.change_alice()
        self.assertEqual(json.loads(self.ends.read_text()), {"format": 1, "users": {"alice": {"changed": changed, "ended": []}}})
        w.session(731, "alice", start=changed - 10)
        self.assertEqual(self.later(sync.LATE_SESSION_WINDOW), ["ended 1 session recorded late (alice): started before the user's change"])
        w.session(732, "alice", start=changed - 20)
        self.assertEqual(self.later(sync.LATE_SESSION_WINDOW + 0.01), [])
        self.assertEqual(w.killed, [(731, signal.SIGTERM)])
        self.assertFalse(self.ends.exists(), "nothing left to remember: no file")

    def test_a_session_is_signalled_once_while_its_pppd_exits(self) -> None:
        w = self.world
        w.session(741, "alice", start=w.now() - 100)
        changed = self.change_alice()
        self.assertEqual(w.killed, [(741, signal.SIGTERM)])
        w.process(741, start=changed - 100)  # still there: pppd takes seconds to exit after SIGTERM
        w.session(742, "alice", start=changed - 50)
        self.assertEqual(self.later(30), ["ended 1 session recorded late (alice): started before the user's change"])
        w.process(742, start=changed - 50)
        self.assertEqual(self.later(60), [])
        self.assertEqual(w.killed, [(741, signal.SIGTERM), (742, signal.SIGTERM)])
        self.assertEqual(json.loads(self.ends.read_text())["users"]["alice"]["ended"], [f"741:{changed - 100}", f"742:{changed - 50}"])

    def test_a_later_change_moves_the_time_and_a_removed_user_is_remembered_too(self) -> None:
        w = self.world
        first = self.change_alice()
        w.up_since(1050)
        w.put_users("a", user("alice", "Pw-alice-7Qx9"))  # alice's password again, bob removed
        self.assertEqual(w.poll(decrypt=["users/a"]), 0, w.logs.text)
        second = w.now()
        self.assertEqual({n: e["changed"] for n, e in json.loads(self.ends.read_text())["users"].items()}, {"alice": second, "bob": second})
        w.session(751, "alice", start=first + 10)  # the first new password, before the second change
        w.session(752, "bob", start=second - 1)
        w.session(753, "carol", start=first - 1)
        self.assertEqual(self.later(60), ["ended 2 sessions recorded late (alice, bob): started before the user's change"])
        self.assertEqual(sorted(w.killed), [(751, signal.SIGTERM), (752, signal.SIGTERM)])
        self.assertEqual(self.later(60 + sync.LATE_SESSION_WINDOW), [])
        self.assertFalse(self.ends.exists())

    def test_the_file_is_private_and_holds_no_secret(self) -> None:
        w = self.world
        self.change_alice()
        self.assertEqual(stat.S_IMODE(self.ends.stat().st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(self.ends.parent.stat().st_mode), 0o700)
        assert_no_secret(self, self.ends.read_text(), SECRETS)
        self.assertEqual(sorted(os.listdir(self.ends.parent)), ["session-ends.json", "sessions"], "no temporary file left")

    def test_a_change_from_another_boot_or_a_bad_file_is_forgotten(self) -> None:
        w = self.world
        changed = self.change_alice()
        w.session(761, "alice", start=5)
        w.up_since(20)  # fewer ticks than the change: not this boot's (the file is on tmpfs)
        w.logs.lines.clear()
        self.assertEqual(w.poll(), 0)
        self.assertEqual((w.killed, w.logs.lines), ([], []))
        self.assertFalse(self.ends.exists())
        self.ends.write_text('{"format": 1, "users": {"alice": {"changed": "soon"}}}')
        w.up_since(1000 + changed / sync.CLOCK_TICKS)
        self.assertEqual(w.poll(), 0)
        self.assertEqual(w.logs.lines, [f"error: {self.ends} cannot be read (ValueError); removed: sessions recorded late for earlier changes are not ended"])
        self.assertFalse(self.ends.exists())

    def test_without_proc_uptime_sessions_still_end_now(self) -> None:
        w = self.world
        w.session(771, "alice", start=50)
        (w.dir / "proc/uptime").unlink()
        w.put_users("a", user("alice", "Pw-alice-NEW1"), user("bob", "Pw-bob-3Kd2"))
        self.assertEqual(w.poll(decrypt=["users/a"]), 0, w.logs.text)
        self.assertEqual(w.killed, [(771, signal.SIGTERM)])
        self.assertEqual(
            w.logs.lines,
            [f"error: {w.dir}/proc/uptime cannot be read; sessions of alice recorded after this change are not ended", "applied: 1 password changed (alice); 3 users; ended 1 session (alice)"],
        )
        self.assertFalse(self.ends.exists())

    def test_boot_ticks_reads_uptime_in_decimal(self) -> None:
        w = self.world
        for text, seconds in (("12.34 50.00\n", "12.34"), ("0.29 0.50\n", "0.29"), ("98765.43 1.00\n", "98765.43")):
            (w.dir / "proc/uptime").write_text(text)
            whole, hundredths = seconds.split(".")
            self.assertEqual(sync.boot_ticks(w.paths), (int(whole) * 100 + int(hundredths)) * sync.CLOCK_TICKS // 100, text)
        self.assertGreater(sync.boot_ticks(sync.Paths()), 0)
        with open("/proc/self/stat") as f:
            self.assertLessEqual(int(f.read().rpartition(")")[2].split()[19]), sync.boot_ticks(sync.Paths()))


# =============================================================================================
class Ikev2ParseTest(unittest.TestCase):
    """PATH/ikev2/1..N: joined, base64, gzip, JSON, every field checked; whole or nothing."""

    def setUp(self) -> None:
        self.config = World(self).config

    def test_pieces_are_joined_in_number_order(self) -> None:
        document = material(revoked=(("bob", "0a1b"), ("a,b=c+d", "7f")))
        pieces = ikev2_pieces(document, size=100)
        self.assertGreater(len(pieces), 3)
        # Handed in the reverse order: a join in the dict's order (not by number) breaks the gzip.
        ikev2, problems = sync.parse_ikev2({i + 1: p for i, p in reversed(list(enumerate(pieces)))})
        self.assertEqual(problems, [])
        self.assertEqual(ikev2.ca_cert, document["caCert"])
        self.assertEqual(ikev2.server_cert, document["serverCert"])
        self.assertEqual(ikev2.server_key, document["serverKey"])
        self.assertEqual(ikev2.crl, document["crl"])
        self.assertEqual(ikev2.revoked, (sync.Revoked("bob", "0a1b"), sync.Revoked("a,b=c+d", "7f")))

    def test_a_gap_a_missing_last_piece_and_a_mixed_set_are_refused_not_raised(self) -> None:
        pieces = ikev2_pieces(material(), size=100)
        numbered = dict(enumerate(pieces, 1))
        del numbered[2]
        self.assertEqual(sync.parse_ikev2(numbered), (None, [f"pieces 1, {', '.join(map(str, range(3, len(pieces) + 1)))}: expected 1 to N without a gap"]))
        # The last piece not written yet: the gzip stream ends early.
        truncated = dict(enumerate(pieces[:-1], 1))
        self.assertEqual(sync.parse_ikev2(truncated)[0], None)
        self.assertRegex(sync.parse_ikev2(truncated)[1][0], r"^not gzip\+base64 JSON \(\w+\); a partly written update, or not the program's$")
        # A deflate stream corrupted inside (a piece of another version in the middle, with the
        # same length): zlib's own error, which is neither an OSError nor a ValueError.
        packed = bytearray(gzip.compress(json.dumps(material(), separators=(",", ":")).encode(), 9))
        for i in range(40, 80):
            packed[i] ^= 0x5A
        with self.assertRaises(Exception) as raised:
            gzip.decompress(bytes(packed))
        self.assertEqual(type(raised.exception).__name__, "error")  # zlib.error: the case under test
        text = base64.b64encode(bytes(packed)).decode()
        ikev2, problems = sync.parse_ikev2({1: text[:200], 2: text[200:]})
        self.assertIsNone(ikev2)
        self.assertEqual(problems, ["not gzip+base64 JSON (error); a partly written update, or not the program's"])
        for bad in ("not base64!", base64.b64encode(b"not gzip").decode(), base64.b64encode(gzip.compress(b"[1, 2]")).decode()):
            self.assertIsNone(sync.parse_ikev2({1: bad})[0], bad)

    def test_every_field_is_checked(self) -> None:
        def problems(document: dict[str, Any]) -> list[str]:
            ikev2, found = sync.parse_ikev2(dict(enumerate(ikev2_pieces(document), 1)))
            self.assertEqual(ikev2 is None, bool(found))
            return found

        self.assertEqual(problems(material()), [])
        self.assertEqual(problems(material(extra=1)), ["extra: unknown field; allowed: caCert, crl, format, revoked, serverCert, serverKey"])
        self.assertEqual(problems(material(format=2)), ["format: 2, expected 1"])
        # JSON true is not the format 1 (Python's True == 1 would let it through).
        self.assertEqual(problems(material(format=True)), ["format: true, expected 1"])
        self.assertEqual(problems(material(format=1.0)), ["format: 1.0, expected 1"])
        # A PEM block of another kind, two blocks, Windows line ends, a missing field.
        self.assertEqual(problems(material(caCert=pem("PRIVATE KEY", "x"))), ["caCert: not one PEM block of the expected kind"])
        self.assertEqual(problems(material(serverKey=pem("CERTIFICATE", "x"))), ["serverKey: not one PEM block of the expected kind"])
        self.assertEqual(problems(material(serverCert=pem("CERTIFICATE", "x") + pem("CERTIFICATE", "y"))), ["serverCert: not one PEM block of the expected kind"])
        self.assertEqual(problems(material(crl=pem("X509 CRL", "x").replace("\n", "\r\n"))), ["crl: not one PEM block of the expected kind"])
        document = material()
        del document["crl"]
        self.assertEqual(problems(document), ["crl: not one PEM block of the expected kind"])
        document = material()
        document["revoked"] = {"name": "a"}
        self.assertEqual(problems(document), ["revoked: expected a list of {name, serial}"])
        bad = [{"name": "al ice", "serial": "01"}, {"name": "bob", "serial": "0A"}, {"name": "carol"}, "dave", {"name": "x" * 65, "serial": "01"}, {"name": "erin", "serial": "f" * 41}]
        document["revoked"] = bad
        self.assertEqual(
            problems(document),
            [
                "revoked[0].name: not a user name (" + sync.CHAP_WORD_RULE + ", at most 64)",
                "revoked[1].serial: not a lowercase hexadecimal serial",
                "revoked[2].serial: not a lowercase hexadecimal serial",
                "revoked[3].name: not a user name (" + sync.CHAP_WORD_RULE + ", at most 64)",
                "revoked[4].name: not a user name (" + sync.CHAP_WORD_RULE + ", at most 64)",
                "revoked[5].serial: not a lowercase hexadecimal serial",
            ],
        )

    def test_check_configuration_with_ikev2_whole_or_nothing(self) -> None:
        config = self.config
        values = {f"{PATH}/psk": PSK, **{f"{PATH}/ikev2/{i}": p for i, p in enumerate(ikev2_pieces(material(revoked=(("bob", "01"),)), size=300), 1)}}
        # IKEv2 users are not in the users parameters: material and no L2TP user is a configuration.
        configuration, problems = sync.check_configuration(values, config)
        self.assertEqual(problems, [])
        self.assertEqual(configuration.users, {})
        self.assertEqual(configuration.ikev2, as_ikev2(material(revoked=(("bob", "01"),))))
        # Without material, no users is still refused.
        self.assertEqual(sync.check_configuration({f"{PATH}/psk": PSK}, config), (None, [f"{PATH}/users/*: no users; at least one is required"]))
        # Without IKEv2 parameters there is no material (and users alone are fine).
        configuration, problems = sync.check_configuration({f"{PATH}/psk": PSK, f"{PATH}/users/a": users_value(user("alice", "pw"))}, config)
        self.assertEqual((problems, configuration.ikev2), ([], None))
        # Bad material refuses good users with it, each problem naming the pieces.
        values[f"{PATH}/users/a"] = users_value(user("alice", "pw"))
        values[f"{PATH}/ikev2/2"] = "A" * 8
        configuration, problems = sync.check_configuration(values, config)
        self.assertIsNone(configuration)
        self.assertEqual(len(problems), 1)
        self.assertTrue(problems[0].startswith(f"{PATH}/ikev2/*: not gzip+base64 JSON ("), problems)
        values[f"{PATH}/ikev2/2"] = ikev2_pieces(material(revoked=(("bob", "01"),)), size=300)[1]
        values[f"{PATH}/psk"] = "short"
        self.assertIsNone(sync.check_configuration(values, config)[0], "a bad PSK refuses good material with it")


class Ikev2Gateway:
    """Sync's install and end_ikev2, recorded in one list so their order shows; install fails
    with the problems queued in failures (one call each)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.failures: list[str] = []

    def install(self, new: Any, old: Any, nss_dir: str, running: bool, crl_file: Optional[str] = None) -> list[str]:
        self.calls.append(("install", new, old, nss_dir, running))
        self.crl_file = crl_file
        return [self.failures.pop(0)] if self.failures else []

    def sleep(self, seconds: float) -> None:
        self.calls.append(("sleep", seconds))

    def end(self, names: set[str]) -> dict[str, int]:
        self.calls.append(("end", set(names)))
        return {n: 1 for n in names}


class Ikev2SyncTest(unittest.TestCase):
    """The sync with IKEv2 material: what is installed when, with which old material, and whose
    IKEv2 sessions end."""

    def setUp(self) -> None:
        self.world = World(self)
        self.gateway = Ikev2Gateway()
        # each reading 1000 s after the last: a revocation's watch is over by the next poll
        self.readings = itertools.count(1_000_000, 1000)
        self.world.options = {"install": self.gateway.install, "end_ikev2": self.gateway.end, "sleep": self.gateway.sleep, "clock": lambda: float(next(self.readings))}
        self.world.standard()

    def apply(self, document: dict[str, Any], size: int = 4096) -> int:
        w = self.world
        return w.poll(decrypt=w.put_ikev2(document, size))

    def install(self, new: dict[str, Any], old: Optional[dict[str, Any]], running: bool) -> tuple[Any, ...]:
        return ("install", as_ikev2(new), None if old is None else as_ikev2(old), self.world.paths.nss_dir, running)

    def test_pieces_are_read_and_other_names_under_ikev2_ignored(self) -> None:
        w = self.world
        for suffix in ("ikev2/0", "ikev2/01", "ikev2/x", "ikev2/1/deeper"):
            w.put(suffix, "not ours")
        pieces = w.put_ikev2(material(), size=200)
        self.assertGreater(len(pieces), 2)
        self.assertEqual(w.poll(decrypt=pieces), 0, w.logs.text)
        ignored = ", ".join(f"{PATH}/{s}" for s in ("ikev2/0", "ikev2/01", "ikev2/1/deeper", "ikev2/x"))
        self.assertIn(f"warning: ignoring {ignored}: only {PATH}/psk, {PATH}/users/<shard> and {PATH}/ikev2/<N> are read", w.logs.lines)
        self.assertEqual(self.gateway.calls, [self.install(material(), None, False)])
        self.assertEqual(sorted(n for n in w.state()["applied"] if "/ikev2/" in n), sorted(f"{PATH}/{p}" for p in pieces))

    def test_new_or_changed_material_is_installed_with_the_old_one(self) -> None:
        w = self.world
        m1 = material(revoked=(("bob", "0a"),))
        self.assertEqual(self.apply(m1), 0, w.logs.text)
        self.assertEqual(self.gateway.calls, [self.install(m1, None, False)])
        self.assertIn(f"IKEv2: CA, server certificate and CRL (1 revoked) in {w.paths.nss_dir}", w.logs.lines)
        # Nothing new, or only users changed: nothing installed.
        self.assertEqual(w.poll(), 0)
        w.put_users("b", user("carol", "Pw-carol-8Zm4", "192.168.42.11"))
        self.assertEqual(w.poll(decrypt=["users/b"]), 0)
        self.assertEqual(len(self.gateway.calls), 1)
        m2 = material(revoked=(("bob", "0a"), ("carol", "0b")))
        self.assertEqual(self.apply(m2), 0, w.logs.text)
        self.assertEqual(self.gateway.calls[1:], [self.install(m2, m1, False)])
        # Pluto not running: no session to end, and nothing left to end later.
        self.assertEqual(w.state()["ikev2End"], [])
        self.assertFalse(w.state()["ikev2Pending"])

    def test_only_newly_revoked_users_sessions_end_after_the_install(self) -> None:
        w = self.world
        w.pluto_running()
        m1 = material()
        self.assertEqual(self.apply(m1), 0, w.logs.text)
        m2 = material(revoked=(("bob", "0a"), ("carol", "0b")))
        self.assertEqual(self.apply(m2), 0, w.logs.text)
        self.assertEqual(self.gateway.calls, [self.install(m1, None, True), self.install(m2, m1, True), ("sleep", sync.CRL_EFFECT_WAIT), ("end", {"bob", "carol"})])
        self.assertIn("ended IKEv2 sessions of revoked users: bob (1), carol (1)", w.logs.lines)
        # bob's re-issued certificate revoked too: a new pair, so bob again; carol is not new.
        m3 = material(revoked=(("bob", "0a"), ("carol", "0b"), ("bob", "0c"), ("dave", "0d")))
        self.assertEqual(self.apply(m3), 0, w.logs.text)
        self.assertEqual(self.gateway.calls[4:], [self.install(m3, m2, True), ("sleep", sync.CRL_EFFECT_WAIT), ("end", {"bob", "dave"})])
        # A renewed server certificate, nobody newly revoked: installed, no session ended.
        m4 = material("2", revoked=(("bob", "0a"), ("carol", "0b"), ("bob", "0c"), ("dave", "0d")))
        self.assertEqual(self.apply(m4), 0, w.logs.text)
        self.assertEqual(self.gateway.calls[7:], [self.install(m4, m3, True)])
        self.assertEqual(w.killed, [], "no PPP session ends for a revocation")

    def test_sessions_end_only_once_pluto_has_fetched_the_crl(self) -> None:
        w = self.world
        w.pluto_running()
        m1 = material()
        self.assertEqual(self.apply(m1), 0, w.logs.text)
        m2 = material("2", revoked=(("bob", "0a"),))
        self.assertEqual(self.apply(m2), 0, w.logs.text)
        kinds = [c[0] for c in self.gateway.calls]
        self.assertEqual(kinds[-3:], ["install", "sleep", "end"])
        self.assertEqual(self.gateway.calls[-2], ("sleep", sync.CRL_CHECK_INTERVAL + 3))
        self.assertEqual(self.gateway.crl_file, w.paths.crl_file)

    def test_a_revoked_users_sessions_are_ended_again_at_every_poll_for_the_watch(self) -> None:
        # NSS in a running pluto may hold the old CRL for up to two minutes (Libreswan 4.10 does not
        # fetch the distribution point): a reconnection meanwhile is ended at the next poll.
        w = self.world
        w.pluto_running()
        now = [1_000_000.0]
        w.options["clock"] = lambda: now[0]
        self.assertEqual(self.apply(material()), 0, w.logs.text)
        self.assertEqual(self.apply(material(revoked=(("bob", "0a"),))), 0, w.logs.text)
        self.assertEqual(self.gateway.calls[-1], ("end", {"bob"}))
        self.assertEqual(w.state()["ikev2Watch"], {"bob": now[0] + sync.REVOCATION_WATCH})
        ends = lambda: [c for c in self.gateway.calls if c[0] == "end"]  # noqa: E731
        for elapsed in (30, 60, sync.REVOCATION_WATCH - 1):
            now[0] = 1_000_000.0 + elapsed
            self.assertEqual(w.poll(), 0, w.logs.text)
        self.assertEqual(len(ends()), 4, "once at the install, then at each poll of the watch")
        self.assertIn("ended IKEv2 sessions of revoked users made before the CRL counted: bob (1)", w.logs.lines)
        now[0] = 1_000_000.0 + sync.REVOCATION_WATCH + 1
        self.assertEqual(w.poll(), 0, w.logs.text)
        self.assertEqual(len(ends()), 4, "the watch is over")
        self.assertEqual(w.state()["ikev2Watch"], {})

    def test_a_failed_install_is_tried_again_whole_and_then_ends_the_sessions(self) -> None:
        w = self.world
        w.pluto_running()
        m1 = material()
        self.assertEqual(self.apply(m1), 0, w.logs.text)
        w.logs.lines.clear()
        self.gateway.failures = ["certutil -A (the CA): SEC_ERROR_BAD_DATABASE"]
        m2 = material(revoked=(("carol", "0b"),))
        self.apply(m2)
        self.assertEqual(self.gateway.calls[1:], [self.install(m2, m1, True)], "no session ends before the CRL is in")
        self.assertIn("error: IKEv2: certutil -A (the CA): SEC_ERROR_BAD_DATABASE", w.logs.lines)
        self.assertIn("error: IKEv2: the NSS database keeps what it had (tried again at the next poll)", w.logs.lines)
        self.assertTrue(w.state()["ikev2Pending"])
        self.assertEqual(w.state()["ikev2End"], ["carol"])
        # The next poll, nothing new in SSM: everything again (the database may hold anything).
        self.assertEqual(w.poll(), 0, w.logs.text)
        self.assertEqual(self.gateway.calls[2:], [self.install(m2, None, True), ("sleep", sync.CRL_EFFECT_WAIT), ("end", {"carol"})])
        self.assertFalse(w.state()["ikev2Pending"])
        self.assertEqual(w.state()["ikev2End"], [])
        self.assertEqual(w.poll(), 0)
        self.assertEqual(len(self.gateway.calls), 5)

    def test_new_material_after_failed_installs_goes_in_whole_and_keeps_the_ends(self) -> None:
        w = self.world
        w.pluto_running()
        m1 = material()
        self.assertEqual(self.apply(m1), 0, w.logs.text)
        self.gateway.failures = ["pk12util (the server's certificate and key): failed", "pk12util (the server's certificate and key): failed"]
        m2 = material(revoked=(("carol", "0b"),))
        self.apply(m2)
        m3 = material("3", revoked=(("carol", "0b"), ("dave", "0d")))
        self.assertEqual(self.apply(m3), 0, w.logs.text)
        self.assertEqual(
            self.gateway.calls[1:],
            [self.install(m2, m1, True), self.install(m2, None, True), self.install(m3, None, True), ("sleep", sync.CRL_EFFECT_WAIT), ("end", {"carol", "dave"})],
        )

    def test_boot_installs_the_applied_material_again_whole(self) -> None:
        w = self.world
        m1 = material(revoked=(("bob", "0a"),))
        self.assertEqual(self.apply(m1), 0, w.logs.text)
        self.gateway.calls.clear()
        # SSM unreachable: the last good material from the state goes in again, whole.
        w.config = dataclasses.replace(w.config, boot_timeout=0.01)
        self.assertEqual(w.sync(client=Unreachable(), sleep=lambda s: None).boot(), 0, w.logs.text)
        self.assertEqual(self.gateway.calls, [self.install(m1, None, False)])
        # SSM answering with nothing new: the same.
        w.expect_listing()
        self.assertEqual(w.sync().boot(), 0, w.logs.text)
        w.stubber.assert_no_pending_responses()
        self.assertEqual(self.gateway.calls[1:], [self.install(m1, None, False)])

    def test_a_half_written_set_is_refused_and_the_pieces_kept_for_the_rest(self) -> None:
        w = self.world
        m1 = material()
        self.assertEqual(self.apply(m1, size=200), 0, w.logs.text)
        w.logs.lines.clear()
        m2 = material("2", revoked=(("bob", "0a"),))
        new = ikev2_pieces(m2, size=200)
        self.assertEqual(len(new), len(ikev2_pieces(m1, size=200)))
        w.put("ikev2/1", new[0])  # the program has written the first piece only
        self.assertEqual(w.poll(decrypt=["ikev2/1"]), 1)
        self.assertRegex(w.logs.lines[0], rf"^refused: {PATH}/ikev2/\*: not gzip\+base64 JSON \(\w+\); a partly written update, or not the program's$")
        self.assertEqual(len(self.gateway.calls), 1)
        for i, piece in enumerate(new[1:], 2):
            w.put(f"ikev2/{i}", piece)
        # ikev2/1 is not decrypted again: it was good on its own.
        self.assertEqual(w.poll(decrypt=[f"ikev2/{i}" for i in range(2, len(new) + 1)]), 0, w.logs.text)
        self.assertEqual(self.gateway.calls[1:], [self.install(m2, m1, False)])


class Ikev2ToolsTest(unittest.TestCase):
    """install_ikev2 and end_ikev2_sessions, with run_tool recording the commands instead of running them."""

    TRAFFIC = "\n".join(
        [
            # Libreswan 5.2
            "#5: \"ikev2-cert\"[1] 198.51.100.66, type=ESP, add_time=1795851969, inBytes=900, outBytes=0, maxBytes=2^63B, id='CN=alice', lease=192.168.43.2/32",
            "#7: \"ikev2-cert\"[2] 198.51.100.67, type=ESP, add_time=1795851970, inBytes=100, outBytes=5, maxBytes=2^63B, id='CN=alice', lease=192.168.43.3/32",
            # Libreswan 4.x (Debian 12, Ubuntu 24.04): whack's lines start with the code 006
            "006 #9: \"ikev2-cert\"[3] 198.51.100.68, type=ESP, add_time=1795851971, inBytes=0, outBytes=0, maxBytes=2^63B, id='CN=a\\,b', lease=192.168.43.4/32",
            "#11: \"ikev2-cert\"[4] 198.51.100.69, type=ESP, add_time=1795851972, inBytes=0, outBytes=0, maxBytes=2^63B, id='CN=bob', lease=192.168.43.5/32",
            "#12: \"ikev2-cert\"[5] 198.51.100.70, type=ESP, add_time=1795851973, inBytes=0, outBytes=0, maxBytes=2^63B, id='CN=carol, O=Elsewhere', lease=192.168.43.6/32",
            "#13: \"l2tp-psk\"[6] 198.51.100.71, type=ESP, add_time=1795851974, inBytes=0, outBytes=0, maxBytes=2^63B, id='CN=dave'",
            "",
        ]
    )

    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vpn-gateway-nss-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.nss = str(self.dir / "nss")
        self.commands: list[list[str]] = []
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, int] = {}
        self.failing: tuple[str, ...] = ()
        self.failing_once: tuple[str, ...] = ()
        self.missing: set[str] = set()
        self.answers: dict[tuple[str, ...], tuple[bool, str]] = {}
        patcher = mock.patch.object(sync, "run_tool", self.run_tool)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.logs = Logs()
        logger = logging.getLogger("vpn-gateway-sync")
        logger.addHandler(self.logs)
        self.addCleanup(logger.removeHandler, self.logs)

    def run_tool(self, command: list[str], output: bool = False) -> tuple[bool, str]:
        """Records the command and the files it reads (they are gone once install returns)."""
        self.commands.append(list(command))
        for arg in command:
            path = arg[len("file:") :] if arg.startswith("file:") else arg
            if path.startswith("/") and os.path.isfile(path):
                self.files[os.path.basename(path)] = Path(path).read_bytes()
                self.modes[os.path.basename(path)] = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
        for prefix, answer in self.answers.items():
            if tuple(command[: len(prefix)]) == prefix:
                return answer
        if self.failing and tuple(command[: len(self.failing)]) == self.failing:
            return False, "it failed"
        if self.failing_once and tuple(command[: len(self.failing_once)]) == self.failing_once:
            self.failing_once = ()
            return False, "SEC_ERROR_OLD_CRL"
        if command[:2] == ["certutil", "-L"]:
            return command[-1] not in self.missing, ""
        return True, ""

    def shown(self) -> list[str]:
        """The commands, the temporary directory written TMP and the database DB."""
        tmp = next((os.path.dirname(a) for c in self.commands for a in c if a.endswith("crl.der")), "?")
        return [" ".join(c).replace(tmp, "TMP").replace(f"sql:{self.nss}", "DB") for c in self.commands]

    def existing_database(self) -> None:
        os.makedirs(self.nss)
        (Path(self.nss) / "cert9.db").write_bytes(b"")

    def test_a_new_database_gets_everything_in_order(self) -> None:
        new = as_ikev2(material(revoked=(("bob", "0a"),)))
        self.assertEqual(sync.install_ikev2(new, None, self.nss, True), [])
        self.assertEqual(
            self.shown(),
            [
                "certutil -N -d DB --empty-password",
                "certutil -D -d DB -n vpn-gateway-ca",
                "certutil -A -d DB -n vpn-gateway-ca -t CT,, -a -i TMP/ca.pem",
                "openssl pkcs12 -export -in TMP/server.pem -inkey TMP/server.key -name vpn-gateway-server -passout file:TMP/password -out TMP/server.p12",
                "certutil -F -d DB -n vpn-gateway-server",
                "pk12util -i TMP/server.p12 -d DB -w TMP/password",
                "crlutil -I -d DB -i TMP/crl.der",
                "ipsec whack --delete --name ikev2-cert",
                "ipsec addconn --config /etc/ipsec.conf ikev2-cert",
            ],
        )
        self.assertEqual(stat.S_IMODE(os.stat(self.nss).st_mode), 0o700)
        self.assertEqual(self.files["ca.pem"].decode(), new.ca_cert)
        self.assertEqual(self.files["server.pem"].decode(), new.server_cert)
        self.assertEqual(self.files["server.key"].decode(), new.server_key)
        self.assertRegex(self.files["password"].decode(), r"^[0-9A-F]{32}$")
        body = "".join(new.crl.splitlines()[1:-1])
        self.assertEqual(self.files["crl.der"], base64.b64decode(body))
        self.assertEqual(set(self.modes.values()), {0o700}, "the key passes through a private directory")
        tmp = os.path.dirname(self.commands[2][-1])
        self.assertFalse(os.path.exists(tmp), "the key and its PKCS#12 are removed")

    def test_the_crl_is_written_where_pluto_fetches_it_as_der(self) -> None:
        # pluto uses a CRL another process imported only after minutes; the one it fetches from the
        # users' certificates' distribution point (this file), at once (measured on 5.2).
        new = as_ikev2(material(revoked=(("bob", "0a"),)))
        crl_file = str(self.dir / "vpn-gateway" / "ikev2-crl.der")
        self.assertEqual(sync.install_ikev2(new, None, self.nss, True, crl_file), [])
        self.assertEqual(Path(crl_file).read_bytes(), base64.b64decode("".join(new.crl.splitlines()[1:-1])))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(crl_file)).st_mode), 0o700)
        # it cannot be written: a problem named, nothing told to pluto
        self.commands.clear()
        Path(crl_file).unlink()
        os.chmod(os.path.dirname(crl_file), 0o500)
        self.addCleanup(os.chmod, os.path.dirname(crl_file), 0o700)
        if os.geteuid() != 0:  # root writes anyway
            problems = sync.install_ikev2(new, None, self.nss, True, crl_file)
            self.assertEqual(len(problems), 1)
            self.assertIn("the CRL pluto fetches", problems[0])
            self.assertNotIn("ipsec", [c[0] for c in self.commands])

    def test_no_connection_added_again_when_pluto_is_not_running(self) -> None:
        self.existing_database()
        self.assertEqual(sync.install_ikev2(as_ikev2(material()), None, self.nss, False), [])
        self.assertNotIn("ipsec", [c[0] for c in self.commands])
        self.assertNotIn(["certutil", "-N", "-d", f"sql:{self.nss}", "--empty-password"], self.commands, "the database exists")

    def test_an_unchanged_ca_and_server_are_skipped_when_the_database_has_them(self) -> None:
        self.existing_database()
        old = as_ikev2(material())
        new = as_ikev2(material(revoked=(("bob", "0a"),)))  # a new CRL only
        self.assertEqual(sync.install_ikev2(new, old, self.nss, True), [])
        self.assertEqual(
            self.shown(),
            [
                "certutil -L -d DB -n vpn-gateway-ca",
                "certutil -L -d DB -n vpn-gateway-server",
                "crlutil -I -d DB -i TMP/crl.der",
            ],
        )
        # The server's certificate lost from the database: it goes in again, the CA does not.
        self.commands.clear()
        self.missing = {"vpn-gateway-server"}
        self.assertEqual(sync.install_ikev2(new, old, self.nss, False), [])
        self.assertEqual([c[:2] for c in self.commands], [["certutil", "-L"], ["certutil", "-L"], ["openssl", "pkcs12"], ["certutil", "-F"], ["pk12util", "-i"], ["crlutil", "-I"]])
        # A new CA (and so a new server certificate): both go in without asking.
        self.commands.clear()
        self.missing = set()
        renewed = as_ikev2(material("2", caCert=pem("CERTIFICATE", "ca-2")))
        self.assertEqual(sync.install_ikev2(renewed, old, self.nss, False), [])
        self.assertEqual(
            [c[:2] for c in self.commands],
            [["certutil", "-D"], ["certutil", "-A"], ["openssl", "pkcs12"], ["certutil", "-F"], ["pk12util", "-i"], ["crlutil", "-I"]],
        )
        self.assertEqual(self.files["ca.pem"].decode(), renewed.ca_cert)

    def test_the_crl_goes_over_the_current_one_and_is_replaced_whole_only_when_that_fails(self) -> None:
        # Over it: a running pluto (5.2) kept a deleted-then-imported CRL's predecessor even after
        # --rereadcerts, and let a revoked user in (VM run of 2026-11-28).
        self.existing_database()
        old = as_ikev2(material())
        new = as_ikev2(material(revoked=(("bob", "0a"),)))
        self.assertEqual(sync.install_ikev2(new, old, self.nss, True), [])
        self.assertEqual([c[:2] for c in self.commands if c[0] == "crlutil"], [["crlutil", "-I"]])
        # The same CRL again (at boot) is refused by NSS: then deleted and imported.
        self.commands.clear()
        self.failing_once = ("crlutil", "-I")
        self.assertEqual(sync.install_ikev2(new, old, self.nss, False), [])
        self.assertEqual([c[:2] for c in self.commands if c[0] == "crlutil"], [["crlutil", "-I"], ["crlutil", "-D"], ["crlutil", "-I"]])

    def test_a_failing_step_is_named_and_stops_the_install(self) -> None:
        steps = [
            (("certutil", "-N"), f"certutil -N (a new NSS database in {self.nss})"),
            (("certutil", "-A"), "certutil -A (the CA)"),
            (("openssl", "pkcs12"), "openssl pkcs12 (the server's certificate and key)"),
            (("pk12util",), "pk12util (the server's certificate and key)"),
            (("crlutil", "-I"), "crlutil -I (the CRL)"),
            (("ipsec", "addconn"), "ipsec addconn ikev2-cert (the new server certificate)"),
        ]
        for prefix, named in steps:
            with self.subTest(step=named):
                shutil.rmtree(self.nss, ignore_errors=True)
                self.commands.clear()
                self.failing = prefix
                self.assertEqual(sync.install_ikev2(as_ikev2(material()), None, self.nss, True), [f"{named}: it failed"])
                self.assertEqual(tuple(self.commands[-1][: len(prefix)]), prefix, "nothing after the failing step")
        # Removing what is not there (the first boot) is no failure.
        for prefix in (("certutil", "-D"), ("certutil", "-F"), ("crlutil", "-D")):
            with self.subTest(ignored=prefix):
                self.commands.clear()
                self.failing = prefix
                self.assertEqual(sync.install_ikev2(as_ikev2(material()), None, self.nss, True), [])
                self.assertEqual(self.commands[-1], ["ipsec", "addconn", "--config", "/etc/ipsec.conf", "ikev2-cert"])

    def test_traffic_status_lines_of_libreswan_5_and_4(self) -> None:
        lines = self.TRAFFIC.splitlines()
        self.assertEqual(sync.TRAFFIC_ID.match(lines[0]).group("conn", "id"), ("ikev2-cert", "CN=alice"))
        self.assertEqual(sync.TRAFFIC_ID.match(lines[2]).group("conn", "id"), ("ikev2-cert", "CN=a\\,b"))
        self.assertEqual(sync.TRAFFIC_ID.match(lines[5]).group("conn", "id"), ("l2tp-psk", "CN=dave"))
        self.assertIsNone(sync.TRAFFIC_ID.match("000 Total IPsec connections: loaded 2, active 1"))

    def test_dn_common_name(self) -> None:
        cases = {
            "CN=alice": "alice",
            "CN=a\\,b": "a,b",
            "CN=a\\,b\\=c\\+d": "a,b=c+d",
            "CN=x\\\\y": "x\\y",
            "CN=alice, O=Elsewhere": None,
            "CN=a+O=b": None,
            "CN=a;b": None,
            "O=Elsewhere, CN=alice": None,
            "alice": None,
            "@alice": None,
            "192.0.2.1": None,
            "cn=alice": None,
        }
        for identity, name in cases.items():
            self.assertEqual(sync.dn_common_name(identity), name, identity)

    def test_identity_name_in_every_form_pluto_prints(self) -> None:
        # measured on Libreswan 5.2: strongSwan sending its name as an FQDN shows as '@alice'
        cases = {"CN=alice": "alice", "@alice": "alice", "alice@example.com": "alice@example.com", "CN=a\\,b": "a,b", "CN=alice, O=Elsewhere": None, "@": None, "": None}
        for identity, name in cases.items():
            self.assertEqual(sync.identity_name(identity), name, identity)

    def test_end_ikev2_sessions_ends_a_session_whose_client_sent_its_name(self) -> None:
        self.answers[("ipsec", "whack", "--trafficstatus")] = (
            True,
            "#7: \"ikev2-cert\"[3] 198.51.100.2, type=ESP, add_time=1795852013, inBytes=0, outBytes=0, maxBytes=2^63B, id='@bob', lease=192.168.43.3/32\n",
        )
        self.assertEqual(sync.end_ikev2_sessions({"bob"}), {"bob": 1})
        self.assertEqual(self.commands[-1], ["ipsec", "whack", "--deleteid", "--name", "@bob"])

    def test_end_ikev2_sessions_deletes_each_revoked_identity(self) -> None:
        self.answers[("ipsec", "whack", "--trafficstatus")] = (True, self.TRAFFIC)
        ended = sync.end_ikev2_sessions({"alice", "a,b", "carol", "dave", "erin"})
        self.assertEqual(ended, {"alice": 1, "a,b": 1})
        self.assertEqual(
            self.commands,
            [
                ["ipsec", "whack", "--trafficstatus"],
                ["ipsec", "whack", "--deleteid", "--name", "CN=a\\,b"],
                ["ipsec", "whack", "--deleteid", "--name", "CN=alice"],  # once: it deletes both of alice's
            ],
        )

    def test_end_ikev2_sessions_when_whack_fails(self) -> None:
        self.answers[("ipsec", "whack", "--trafficstatus")] = (False, "connect(pluto_ctl) failed")
        self.assertEqual(sync.end_ikev2_sessions({"alice"}), {})
        self.assertEqual(self.commands, [["ipsec", "whack", "--trafficstatus"]])
        self.assertIn("error: ipsec whack --trafficstatus: connect(pluto_ctl) failed; revoked users' IKEv2 sessions are not ended", self.logs.lines)
        self.commands.clear()
        self.answers[("ipsec", "whack", "--trafficstatus")] = (True, self.TRAFFIC)
        self.answers[("ipsec", "whack", "--deleteid", "--name", "CN=alice")] = (False, "no such state")
        self.assertEqual(sync.end_ikev2_sessions({"alice", "bob"}), {"bob": 1})
        self.assertIn("error: ipsec whack --deleteid for alice: no such state", self.logs.lines)


# =============================================================================================
class SecretsInLogsTest(unittest.TestCase):
    """No password or PSK in any line, through applies, refusals, boots and failures."""

    def test_no_secret_in_any_log_line(self) -> None:
        w = World(self)
        w.pluto_running()
        w.standard()
        w.session(1, "alice")
        bad = ["Bad pass-Q1", "Bad#pass-Q2", "@Bad-pass-Q3", "Bad'pass-Q4", "Bad\\pass-Q5"]
        w.put_users("a", user("alice", "Pw-alice-NEW1"), user("bob", "Pw-bob-3Kd2"))
        w.put_users("b", *[user(f"c{i}", p) for i, p in enumerate(bad)])
        w.put("psk", "bad psk with spaces")
        self.assertEqual(w.poll(decrypt=["psk", "users/a", "users/b"]), 1)
        self.assertEqual(len([line for line in w.logs.lines if line.startswith("refused: ")]), len(bad) + 1)
        w.put("psk", NEW_PSK)
        w.put_users("b", user("carol", "Pw-carol-8Zm4", "192.168.42.10"), user("dave", "Pw-dave-5Tt5"))
        self.assertEqual(w.poll(decrypt=["psk", "users/b"]), 0, w.logs.text)
        w.sync(client=Unreachable()).once()
        w.config = sync.SyncConfig(REGION, PATH, "l2tpd", w.config.pool, w.config.gateway, 0.01)
        w.sync(client=Unreachable(), sleep=lambda s: None).boot()
        text = w.logs.text
        self.assertIn("applied: 1 added (dave), 1 password changed (alice), psk changed; 4 users; ended 1 session (alice)", text)
        assert_no_secret(self, text, SECRETS + bad + ["bad psk with spaces", "pass-Q"])


# =============================================================================================
class ClientTest(unittest.TestCase):
    """The product's own client: boto3's defaults, the region from sync.json, no endpoint setting."""

    def test_make_client(self) -> None:
        config = World(self).config
        with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}):
            client = sync.make_client(config)
        self.assertEqual(client.meta.region_name, REGION)
        self.assertEqual(client.meta.endpoint_url, f"https://ssm.{REGION}.amazonaws.com")
        self.assertEqual(client.meta.config.connect_timeout, 5)

    def test_program_has_no_test_hooks(self) -> None:
        source = PROGRAM.read_text()
        for text in ("endpoint_url", "os.environ", "{{", "}}"):
            self.assertFalse(text in source, f"{PROGRAM.name} contains {text!r}")
        self.assertTrue(source.startswith("#!/usr/bin/python3\n"))


if __name__ == "__main__":
    unittest.main()
