"""IKEv2: the material of PATH/ikev2/1..N, Libreswan's NSS database, the CRL pluto fetches, and
ending a revoked user's sessions with whack."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import os
import re
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from typing import Optional

from .journal import LOG
from .secretsfiles import ensure_private_dir, write_atomically
from .settings import Limits

IKEV2_FORMAT = 1
# Nicknames in the NSS database; ipsec.conf's leftcert names the server's.
CA_NICKNAME = "vpn-gateway-ca"
SERVER_NICKNAME = "vpn-gateway-server"  # ipsec.ts SERVER_CERT_NAME (a test keeps them equal)
IKEV2_CONNECTION = "ikev2-cert"
# ipsec.conf's crlcheckinterval (ipsec.ts CRL_CHECK_INTERVAL): how often pluto may fetch crl_file
# (a CRL it fetched counts at once, seen in a held VM); sessions end after one such interval, and
# REVOCATION_WATCH covers a pluto that did not fetch it. Pluto queues that fetch only when it has
# no CRL of the CA or one past its nextUpdate (ours: the CA's end), so after the first import it
# did not fetch in the VM checks; NSS's own refresh (about 25 s) and the watch did the work.
CRL_CHECK_INTERVAL = 10
CRL_EFFECT_WAIT = CRL_CHECK_INTERVAL + 3
# How long a revoked user's IKEv2 sessions are still looked for and ended at every poll: NSS in a
# running pluto may keep a CRL it did not fetch itself for up to two minutes (its CRL cache checks
# the database's objects once a minute and fetches again a minute after), and meanwhile the user's
# client may reconnect (Libreswan 4.10 does not fetch the CRL from the distribution point).
REVOCATION_WATCH = 180
PIECE_PATTERN = re.compile(r"^[1-9][0-9]{0,3}$")
PEM_PATTERNS = {
    "caCert": re.compile(r"^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$"),
    "serverCert": re.compile(r"^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$"),
    "serverKey": re.compile(r"^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n?$"),
    "crl": re.compile(r"^-----BEGIN X509 CRL-----\n[A-Za-z0-9+/=\n]+-----END X509 CRL-----\n?$"),
}
SERIAL_PATTERN = re.compile(r"^[0-9a-f]{1,40}$")


@dataclass(frozen=True)
class Revoked:
    """A revoked certificate: its user's name (the IKE identity it carries) and its serial."""

    name: str
    serial: str


@dataclass(frozen=True)
class Ikev2:
    """The IKEv2 material: PEM texts as the program wrote them, and the revoked certificates."""

    ca_cert: str
    server_cert: str
    server_key: str
    crl: str
    revoked: tuple[Revoked, ...]



IKEV2_KEYS = {"format", "caCert", "serverCert", "serverKey", "crl", "revoked"}


def parse_ikev2(pieces: dict[int, str], limits: Limits) -> tuple[Optional[Ikev2], list[str]]:
    """PATH/ikev2/1..N joined -> base64 -> gzip -> JSON {format, caCert, serverCert, serverKey, crl, revoked}.

    A piece missing or a half-written set (another update under way) fails the gzip check or
    the JSON: the whole update is refused and the last good material stays in the NSS database.
    """
    numbers = sorted(pieces)
    if numbers != list(range(1, len(numbers) + 1)):
        return None, [f"pieces {', '.join(map(str, numbers))}: expected 1 to N without a gap"]
    text = "".join(pieces[n] for n in numbers)
    try:
        raw = json.loads(gzip.decompress(base64.b64decode(text, validate=True)).decode("utf-8"))
    # zlib.error (a deflate stream corrupted inside) is neither an OSError nor a ValueError.
    except (binascii.Error, ValueError, OSError, EOFError, UnicodeDecodeError, zlib.error) as e:
        return None, [f"not gzip+base64 JSON ({type(e).__name__}); a partly written update, or not the program's"]
    if not isinstance(raw, dict):
        return None, ["expected a JSON object"]
    problems = [f"{k}: unknown field; allowed: {', '.join(sorted(IKEV2_KEYS))}" for k in sorted(raw) if k not in IKEV2_KEYS]
    if type(raw.get("format")) is not int or raw.get("format") != IKEV2_FORMAT:  # JSON true is not 1
        problems.append(f"format: {json.dumps(raw.get('format'))}, expected {IKEV2_FORMAT}")
    for key, pattern in PEM_PATTERNS.items():
        value = raw.get(key)
        if not isinstance(value, str) or not pattern.match(value):
            problems.append(f"{key}: not one PEM block of the expected kind")
    revoked: list[Revoked] = []
    listed = raw.get("revoked")
    if not isinstance(listed, list):
        problems.append("revoked: expected a list of {name, serial}")
        listed = []
    for i, item in enumerate(listed):
        name = item.get("name") if isinstance(item, dict) else None
        serial = item.get("serial") if isinstance(item, dict) else None
        if not isinstance(name, str) or name == "" or limits.chap_word_problem(name) or len(name) > limits.name_max_length:
            problems.append(f"revoked[{i}].name: not a user name ({limits.chap_word_rule}, at most {limits.name_max_length})")
        elif not isinstance(serial, str) or not SERIAL_PATTERN.match(serial):
            problems.append(f"revoked[{i}].serial: not a lowercase hexadecimal serial")
        else:
            revoked.append(Revoked(name, serial))
    if problems:
        return None, problems
    return Ikev2(raw["caCert"], raw["serverCert"], raw["serverKey"], raw["crl"], tuple(revoked)), []



def run_tool(command: list[str], output: bool = False) -> tuple[bool, str]:
    """Runs one of NSS's or Libreswan's tools; (succeeded, its whole output if asked for, else
    what it said, shortened for a log line)."""
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    if output and result.returncode == 0:
        return True, result.stdout
    return result.returncode == 0, (result.stderr or result.stdout).strip()[:300]


def pem_to_der(pem: str) -> bytes:
    """The one PEM block's bytes (parse_ikev2 checked its shape)."""
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    return base64.b64decode(body)


def install_ikev2(new: Ikev2, old: Optional[Ikev2], nss_dir: str, pluto_running: bool, crl_file: Optional[str] = None) -> list[str]:
    """Puts the CA, the server's certificate and key, and the CRL into the NSS database, each only
    when it changed (or is not there), and the CRL at crl_file, where pluto fetches it from (every
    CRL_CHECK_INTERVAL on Libreswan 5: only that makes a running pluto use a new one at once); a
    running pluto takes a new server certificate by adding its connection again. Problems, or []
    when all went in."""
    db = f"sql:{nss_dir}"
    if not os.path.exists(os.path.join(nss_dir, "cert9.db")):
        os.makedirs(nss_dir, mode=0o700, exist_ok=True)
        ok, said = run_tool(["certutil", "-N", "-d", db, "--empty-password"])
        if not ok:
            return [f"certutil -N (a new NSS database in {nss_dir}): {said}"]

    def has(nickname: str) -> bool:
        """Whether the database holds a certificate of this nickname."""
        return run_tool(["certutil", "-L", "-d", db, "-n", nickname])[0]

    with tempfile.TemporaryDirectory(prefix="vpn-gateway-ikev2-") as tmp:  # 0700: the key passes through
        if old is None or old.ca_cert != new.ca_cert or not has(CA_NICKNAME):
            ca = os.path.join(tmp, "ca.pem")
            with open(ca, "w", encoding="ascii") as f:
                f.write(new.ca_cert)
            run_tool(["certutil", "-D", "-d", db, "-n", CA_NICKNAME])  # absent at the first boot
            ok, said = run_tool(["certutil", "-A", "-d", db, "-n", CA_NICKNAME, "-t", "CT,,", "-a", "-i", ca])
            if not ok:
                return [f"certutil -A (the CA): {said}"]
        server_changed = old is None or (old.server_cert, old.server_key) != (new.server_cert, new.server_key) or not has(SERVER_NICKNAME)
        if server_changed:
            cert, key, p12, password = (os.path.join(tmp, n) for n in ("server.pem", "server.key", "server.p12", "password"))
            for path, text in ((cert, new.server_cert), (key, new.server_key), (password, base64.b16encode(os.urandom(16)).decode())):
                with open(path, "w", encoding="ascii") as f:
                    f.write(text)
            # NSS imports a key only inside a PKCS#12; this one lives for the next two commands.
            ok, said = run_tool(["openssl", "pkcs12", "-export", "-in", cert, "-inkey", key, "-name", SERVER_NICKNAME, "-passout", f"file:{password}", "-out", p12])
            if not ok:
                return [f"openssl pkcs12 (the server's certificate and key): {said}"]
            run_tool(["certutil", "-F", "-d", db, "-n", SERVER_NICKNAME])  # the old certificate and its key
            ok, said = run_tool(["pk12util", "-i", p12, "-d", db, "-w", password])
            if not ok:
                return [f"pk12util (the server's certificate and key): {said}"]
        crl = os.path.join(tmp, "crl.der")
        with open(crl, "wb") as binary:
            binary.write(pem_to_der(new.crl))
        # Imported over the CA's current CRL (NSS keeps one per issuer and replaces it with a newer
        # one): a running pluto sees the change only that way. Deleting it first and importing
        # anew left pluto with the deleted one even after --rereadcerts (measured on 5.2). Only an
        # import that fails (the same or an older CRL in the way, as at boot) deletes and retries.
        ok, said = run_tool(["crlutil", "-I", "-d", db, "-i", crl])
        if not ok:
            run_tool(["crlutil", "-D", "-d", db, "-n", CA_NICKNAME])
            ok, said = run_tool(["crlutil", "-I", "-d", db, "-i", crl])
        if not ok:
            return [f"crlutil -I (the CRL): {said}"]
    if crl_file is not None:
        try:
            ensure_private_dir(os.path.dirname(crl_file))
            write_atomically(crl_file, pem_to_der(new.crl))
        except OSError as e:
            return [f"{crl_file} (the CRL pluto fetches): {e}"]
    if pluto_running and server_changed:
        # A running pluto loaded the connection's certificate when it added it: added again, it
        # takes the new one (its IKEv2 sessions end; L2TP's stay). Not `whack --rereadcerts`:
        # Libreswan 4.10 crashed on it (segfault, measured), taking every session down.
        run_tool(["ipsec", "whack", "--delete", "--name", IKEV2_CONNECTION])
        ok, said = run_tool(["ipsec", "addconn", "--config", "/etc/ipsec.conf", IKEV2_CONNECTION])
        if not ok:
            return [f"ipsec addconn {IKEV2_CONNECTION} (the new server certificate): {said}"]
    return []


# `ipsec whack --trafficstatus`: Libreswan 5.x prints `#5: "ikev2-cert"[1] 198.51.100.66, type=ESP,
# ..., id='CN=alice', lease=...`; 4.x (Debian 12, Ubuntu 24.04) starts each line with whack's code, `006 #5: ...`.
TRAFFIC_ID = re.compile(r"""^(?:[0-9]{3} )?#[0-9]+: "(?P<conn>[^"]+)"\[[0-9]+\].* id='(?P<id>[^']*)'""")


def dn_common_name(identity: str) -> Optional[str]:
    """'CN=alice' (as pluto prints a certificate's subject) -> 'alice'; None for any other form.
    The program's certificates have a subject of one CN; RFC 4514 escapes are undone."""
    if not identity.startswith("CN="):
        return None
    out, escaped = [], False
    for ch in identity[3:]:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",+;":
            return None  # a second attribute: not one of ours
        else:
            out.append(ch)
    return "".join(out)


def identity_name(identity: str) -> Optional[str]:
    """The user an IKEv2 peer's ID names, in the forms pluto prints it: the certificate's subject
    ('CN=alice'), a name the client sent ('@alice': Apple's LocalIdentifier, Android's IPsec
    identifier), or an e-mail-like name as it is ('alice@example.com'). None for any other DN."""
    if identity.startswith("@"):
        return identity[1:] or None
    if "=" in identity.split(",")[0]:
        return dn_common_name(identity)
    return identity or None


def end_ikev2_sessions(names: set[str]) -> dict[str, int]:
    """Ends every IKEv2 session whose certificate names one of these users (each device of theirs):
    pluto deletes the IKE SA and tells the client. By name, so a user re-issued a certificate also
    loses the session of the new one, and reconnects with it."""
    ok, status = run_tool(["ipsec", "whack", "--trafficstatus"], output=True)
    if not ok:
        LOG.error("error: ipsec whack --trafficstatus: %s; revoked users' IKEv2 sessions are not ended", status)
        return {}
    found: dict[str, str] = {}
    for line in status.splitlines():
        match = TRAFFIC_ID.match(line.strip())
        if match and match.group("conn") == IKEV2_CONNECTION:
            name = identity_name(match.group("id"))
            if name in names:
                found[match.group("id")] = name
    ended: dict[str, int] = {}
    for identity, name in sorted(found.items()):
        ok, said = run_tool(["ipsec", "whack", "--deleteid", "--name", identity])
        if ok:
            ended[name] = ended.get(name, 0) + 1
        else:
            LOG.error("error: ipsec whack --deleteid for %s: %s", name, said)
    return ended
