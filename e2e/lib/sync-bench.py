#!/usr/bin/python3
"""Benchmark of the gateway's agent (agent/vpn_gateway_agent, run from the zipapp agent/build.py
builds, as the gateway runs it). Prints figures;
asserts nothing. No AWS, no VM: a real boto3 SSM client under botocore's Stubber.

    /usr/bin/python3 -B e2e/lib/sync-bench.py [--repeat R] [N ...]   (default: 3 runs of 100 1000 5000 users)

e2e/bench.sh (npm run bench) runs it first and prints its table among its figures (--sync-args
passes arguments, --sync-only runs nothing else, --skip-sync leaves it out).

For each N, in a fresh process (so that each peak RSS is its own): N users (24-character
passwords, every tenth with a static address) packed into users parameters of at most 4096
characters each (the standard tier's limit), plus the PSK. Figures:
  - start: interpreter start to the program loaded from its zipapp and the client made (import of boto3 included),
    with the RSS at that point: what every 30-second poll pays before its first request;
  - first apply (wall seconds, CPU seconds in brackets): one `once` from no state: list every version (10 a page), decrypt every
    parameter (10 a call), check everything, write chap-secrets, ipsec.secrets and the state;
  - no-change poll: one `once` afterwards, nothing changed: the listing only;
  - one change: one shard's password changed: the listing, one decryption, an apply;
  - peak RSS of the process (ru_maxrss).
Each figure is the median of R runs (the fsyncs make single runs noisy on a busy machine).
The Stubber validates each request and response against the API model but sends nothing: network
round trips (about 10-30 ms each from EC2 to SSM in the same region) are not included; the count
of calls is printed so that they can be added.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import resource
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "agent" / "build.py"
# sync.json's limits, as components/boot/sync.ts writes them (test/boot/sync.test.ts keeps this file equal to them)
LIMITS = ROOT / "agent" / "tests" / "limits.json"
PATH = "/vpn-gateway/bench"
SHARD_LIMIT = 4096
ALPHABET = string.ascii_letters + string.digits + "!$%&()+,-./:;<=>?[]^_`{|}~"


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_program(zipapp: str) -> Any:
    """The agent's modules, imported from its zipapp (as python3 runs /usr/local/sbin/vpn-gateway-sync)."""
    sys.path.insert(0, zipapp)
    from types import SimpleNamespace

    from vpn_gateway_agent import settings
    from vpn_gateway_agent import sync as agent_sync

    return SimpleNamespace(Paths=settings.Paths, SyncConfig=settings.SyncConfig, Sync=agent_sync.Sync, parse_limits=settings.parse_limits)


def shards(users: list[dict[str, str]]) -> list[str]:
    """Users packed in order into JSON values of at most SHARD_LIMIT characters."""
    out: list[str] = []
    current: list[dict[str, str]] = []
    for u in users:
        candidate = json.dumps({"format": 1, "users": current + [u]}, separators=(",", ":"))
        if len(candidate) > SHARD_LIMIT and current:
            out.append(json.dumps({"format": 1, "users": current}, separators=(",", ":")))
            current = [u]
        else:
            current.append(u)
    out.append(json.dumps({"format": 1, "users": current}, separators=(",", ":")))
    assert all(len(s) <= SHARD_LIMIT for s in out)
    return out


def one(n: int, zipapp: str) -> dict[str, Any]:
    """The figures for n users, in this process."""
    import boto3
    from botocore.stub import Stubber

    sync = load_program(zipapp)
    client = boto3.session.Session().client("ssm", region_name="eu-west-1", aws_access_key_id="b", aws_secret_access_key="b")
    start_s, start_mb = time.perf_counter() - STARTED, rss_mb()

    rng = random.Random(n)
    users = [{"name": f"user{i:05d}", "password": "".join(rng.choice(ALPHABET) for _ in range(24)), **({"ip": f"10.8.{i // 250}.{i % 250 + 2}"} if i % 10 == 0 else {})} for i in range(n)]
    t0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    params = {f"{PATH}/psk": "bench-psk-0123456789abcdef"}
    params.update({f"{PATH}/users/{i:04d}": v for i, v in enumerate(shards(users))})
    versions = {name: 1 for name in params}

    def entry(name: str, decrypted: bool) -> dict[str, Any]:
        return {"Name": name, "Type": "SecureString", "Value": params[name] if decrypted else "AQICAHh==", "Version": versions[name], "LastModifiedDate": t0 + datetime.timedelta(seconds=versions[name]), "ARN": f"arn:aws:ssm:eu-west-1:123456789012:parameter{name}", "DataType": "text"}

    stubber = Stubber(client)
    calls = {"list": 0, "decrypt": 0}

    def expect(decrypt: list[str]) -> None:
        names = sorted(params)
        pages = [names[i : i + 10] for i in range(0, len(names), 10)]
        for i, page in enumerate(pages):
            expected = {"Path": PATH, "Recursive": True, "WithDecryption": False, "MaxResults": 10, **({"NextToken": f"t{i}"} if i else {})}
            stubber.add_response("get_parameters_by_path", {"Parameters": [entry(p, False) for p in page], **({"NextToken": f"t{i + 1}"} if i < len(pages) - 1 else {})}, expected)
        calls["list"] += len(pages)
        wanted = sorted(decrypt)
        for i in range(0, len(wanted), 10):
            chunk = wanted[i : i + 10]
            stubber.add_response("get_parameters", {"Parameters": [entry(p, True) for p in chunk]}, {"Names": chunk, "WithDecryption": True})
            calls["decrypt"] += 1

    work = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    try:
        for d in ("etc/ppp", "var/lib/vpn-gateway", "run/pluto"):
            (work / d).mkdir(parents=True)
        paths = sync.Paths(config=str(work / "sync.json"), state=str(work / "var/lib/vpn-gateway/state.json"), lock=str(work / "var/lib/vpn-gateway/lock"), chap_secrets=str(work / "etc/ppp/chap-secrets"), ipsec_secrets=str(work / "etc/ipsec.secrets"), sessions=str(work / "run/sessions"), session_ends=str(work / "run/session-ends.json"), proc=str(work / "proc"), pluto_ctl=str(work / "run/pluto/pluto.ctl"))
        import ipaddress

        limits, problems = sync.parse_limits(json.loads(LIMITS.read_text()))
        assert limits is not None, problems
        config = sync.SyncConfig("eu-west-1", PATH, "l2tpd", ipaddress.IPv4Network("10.8.0.0/16"), ipaddress.IPv4Address("10.8.0.1"), limits)
        import logging

        logging.getLogger("vpn-gateway-sync").addHandler(logging.NullHandler())
        logging.getLogger("vpn-gateway-sync").propagate = False
        runner = sync.Sync(config, client, paths, kill=lambda pid, sig: None, reread_secrets=lambda: True)
        stubber.activate()

        def timed(decrypt: list[str]) -> tuple[float, float]:
            """Wall and CPU seconds of one `once`."""
            expect(decrypt)
            started, cpu = time.perf_counter(), time.process_time()
            status = runner.once()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            stubber.assert_no_pending_responses()
            assert status == 0, status
            return elapsed, cpu

        first_calls = dict(calls)
        first, first_cpu = timed(list(params))
        first_calls = {k: calls[k] - first_calls[k] for k in calls}
        first_mb = rss_mb()
        unchanged, _ = timed([])
        changed_name = f"{PATH}/users/0000"
        document = json.loads(params[changed_name])
        document["users"][0]["password"] = "changed-" + document["users"][0]["password"][8:]
        params[changed_name] = json.dumps(document, separators=(",", ":"))
        versions[changed_name] += 1
        change, change_cpu = timed([changed_name])
        chap_kb = os.path.getsize(paths.chap_secrets) / 1024
        state_kb = os.path.getsize(paths.state) / 1024
        assert sum(1 for line in open(paths.chap_secrets) if line.startswith('"')) == n
    finally:
        shutil.rmtree(work)
    return {
        "users": n, "parameters": len(params), "start_s": start_s, "start_mb": start_mb, "first_s": first, "first_cpu_s": first_cpu, "first_calls": first_calls,
        "first_peak_mb": first_mb, "unchanged_s": unchanged, "change_s": change, "change_cpu_s": change_cpu, "peak_mb": rss_mb(), "chap_kb": chap_kb, "state_kb": state_kb,
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(one(int(argv[1]), argv[2])))
        return 0
    repeat = 3
    if argv[:1] == ["--repeat"]:
        repeat, argv = int(argv[1]), argv[2:]
    sizes = [int(a) for a in argv] or [100, 1000, 5000]
    import boto3
    import botocore

    build = tempfile.mkdtemp(prefix="sync-bench-build-")
    zipapp = os.path.join(build, "vpn-gateway-sync.pyz")
    subprocess.run([sys.executable, str(BUILD), zipapp], check=True)
    print(f"vpn-gateway-sync bench: Python {sys.version.split()[0]}, boto3 {boto3.__version__}, botocore {botocore.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; stubbed SSM (no network); median of {repeat}")
    print(f"{'users':>6} {'params':>6} {'start s':>8} {'start MB':>8} | {'first apply s (cpu)':>19} {'calls list/decrypt':>18} | {'no-change s':>11} {'1 change s (cpu)':>16} | {'peak RSS MB':>11} {'chap KB':>7} {'state KB':>8}")
    for n in sizes:
        runs = []
        for _ in range(repeat):
            r = subprocess.run([sys.executable, "-B", __file__, "--one", str(n), zipapp], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{n}: failed\n{r.stderr}", file=sys.stderr)
                shutil.rmtree(build)
                return 1
            runs.append(json.loads(r.stdout))
        f = {k: statistics.median(r[k] for r in runs) if isinstance(v, (int, float)) else v for k, v in runs[0].items()}
        calls = f"{f['first_calls']['list']}/{f['first_calls']['decrypt']}"
        first = f"{f['first_s']:.3f} ({f['first_cpu_s']:.3f})"
        change = f"{f['change_s']:.3f} ({f['change_cpu_s']:.3f})"
        print(f"{f['users']:>6} {f['parameters']:>6} {f['start_s']:>8.2f} {f['start_mb']:>8.1f} | {first:>19} {calls:>18} | {f['unchanged_s']:>11.3f} {change:>16} | {f['peak_mb']:>11.1f} {f['chap_kb']:>7.0f} {f['state_kb']:>8.0f}")
    shutil.rmtree(build)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
