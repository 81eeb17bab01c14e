"""What the agent's tests share: a gateway in a temporary directory with its parameters in a
stubbed SSM (World), the limits sync.json carries, IKEv2 material, and the journal's lines.

The package runs unchanged: a real boto3 SSM client under botocore's Stubber (which checks every
request and response against the SSM API model, and fails on any call not expected), files,
/proc and /run in a temporary directory, and a kill function that records instead of killing.
Run with the distribution's Python, python3-boto3 and python3-pytest (npm run test:agent):

    python3 -m pytest -q agent/tests
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import ipaddress
import json
import logging
import os
import shutil
import tempfile
import unittest
from pathlib import Path
from typing import Any, Optional

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # a test never asks a metadata service

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from vpn_gateway_agent.ikev2 import Ikev2, parse_ikev2  # noqa: E402
from vpn_gateway_agent.l2tp_sessions import CLOCK_TICKS  # noqa: E402
from vpn_gateway_agent.settings import Limits, Paths, SyncConfig, parse_limits  # noqa: E402
from vpn_gateway_agent.sync import Sync  # noqa: E402

# The repository: the agent is agent/vpn_gateway_agent, the files the gateway gets are under files/.
ROOT = Path(__file__).resolve().parents[2]
AGENT = ROOT / "agent"
PACKAGE = AGENT / "vpn_gateway_agent"
HOOK = ROOT / "files" / "ppp" / "vpn-gateway-session"
# sync.json's "limits" as components/boot/sync.ts writes them (test/boot/sync.test.ts checks that
# this file is exactly what syncConfig writes, so these tests cannot drift from the TypeScript side).
LIMITS_JSON = Path(__file__).resolve().parent / "limits.json"
LIMITS_DOCUMENT: dict[str, Any] = json.loads(LIMITS_JSON.read_text())


def limits_of(document: dict[str, Any]) -> Limits:
    """The Limits of a sync.json "limits" object (it must be a good one)."""
    limits, problems = parse_limits(document)
    assert limits is not None, problems
    return limits


LIMITS = limits_of(LIMITS_DOCUMENT)

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
        self.paths = Paths(
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
        self.config = SyncConfig(REGION, PATH, "l2tpd", network, network.network_address + 1, LIMITS)
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

    def sync(self, client: Any = None, **kwargs: Any) -> Sync:
        return Sync(self.config, client if client is not None else self.client, self.paths, kill=self.kill, reread_secrets=self.reread, **{**self.options, **kwargs})

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
        return round(self.uptime * CLOCK_TICKS)

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
        document: dict[str, Any] = json.loads(Path(self.paths.state).read_text())
        return document

    def write_config(self, **overrides: Any) -> None:
        document = {"region": REGION, "path": PATH, "serverName": "l2tpd", "clientPool": str(self.config.pool), "gatewayAddress": str(self.config.gateway), "limits": LIMITS_DOCUMENT, **overrides}
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


def as_ikev2(document: dict[str, Any]) -> Ikev2:
    """The Ikev2 the program makes of a document (for comparing what install was handed)."""
    ikev2, problems = parse_ikev2(dict(enumerate(ikev2_pieces(document), 1)), LIMITS)
    assert ikev2 is not None, problems
    return ikev2


SECRETS = [PSK, NEW_PSK, "Pw-alice-7Qx9", "Pw-bob-3Kd2", "Pw-carol-8Zm4", "Pw-alice-NEW1", "Pw-dave-5Tt5"]


def assert_no_secret(test: unittest.TestCase, text: str, secrets: list[str]) -> None:
    for secret in secrets:
        test.assertNotIn(secret, text, "a secret in the log")
