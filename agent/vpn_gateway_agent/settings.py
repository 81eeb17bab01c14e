"""The agent's settings: sync.json as the user-data writes it (where the parameters are, the
client pool, and the limits of components/config/settings.ts), and the files it reads or writes."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Optional

DEFAULT_BOOT_TIMEOUT = 300.0
BOOT_TIMEOUT_MAX = 3600.0


class ConfigFileError(Exception):
    """sync.json is missing or malformed: the sync cannot know what to follow."""



@dataclass(frozen=True)
class Paths:
    """Every file the sync reads or writes; tests point each one into a temporary directory."""

    config: str = "/etc/vpn-gateway/sync.json"
    state: str = "/var/lib/vpn-gateway/sync-state.json"
    lock: str = "/var/lib/vpn-gateway/sync.lock"
    chap_secrets: str = "/etc/ppp/chap-secrets"
    ipsec_secrets: str = "/etc/ipsec.secrets"
    # Written by the ip-up/ip-down hook vpn-gateway-session: one file per pppd, named by its PID.
    sessions: str = "/run/vpn-gateway/sessions"
    # The users whose sessions were ended lately and when their change applied (clock ticks since
    # boot): names and times only, on tmpfs like the ticks it holds (see end_late_sessions).
    session_ends: str = "/run/vpn-gateway/session-ends.json"
    proc: str = "/proc"
    # pluto's control socket (IPSEC_RUNDIR is /run/pluto in Libreswan 4.x and 5.x): no socket,
    # no running pluto, and it reads ipsec.secrets when it starts.
    pluto_ctl: str = "/run/pluto/pluto.ctl"
    # Libreswan's NSS database on Debian and Ubuntu (not /etc/ipsec.d): certificates, keys, CRLs.
    nss_dir: str = "/var/lib/ipsec/nss"
    # The CRL as pluto fetches it: the users' certificates name it as their distribution point
    # (pki/ledger.ts CRL_URL).
    crl_file: str = "/var/lib/vpn-gateway/ikev2-crl.der"


@dataclass(frozen=True)
class SyncConfig:
    """The non-secret settings the user-data writes to sync.json."""

    region: str
    path: str
    server_name: str
    pool: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    # What names, passwords and the PSK may be (components/config/settings.ts, through sync.json).
    limits: Limits
    boot_timeout: float = DEFAULT_BOOT_TIMEOUT
    # Where a static address may be (first, last), or None for any host of the pool but the gateway's.
    static_range: Optional[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]] = None

    @property
    def psk_name(self) -> str:
        """The PSK's parameter name."""
        return f"{self.path}/psk"

    @property
    def users_prefix(self) -> str:
        """Every users shard's parameter name starts with this."""
        return f"{self.path}/users/"

    @property
    def ikev2_prefix(self) -> str:
        """The IKEv2 material's pieces: PATH/ikev2/1, PATH/ikev2/2, ..."""
        return f"{self.path}/ikev2/"

    @property
    def program_prefix(self) -> str:
        """This program's own release (vpn-gateway-sync-install reads it at the first boot): not the sync's to read."""
        return f"{self.path}/program/"


# ---------------------------------------------------------------------------------------------
# sync.json

CONFIG_KEYS = {"region", "path", "serverName", "clientPool", "gatewayAddress", "bootTimeoutSeconds", "staticRange", "limits"}
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
# SSM names: letters, digits, '_', '.', '-' and '/' separators; a path has no trailing '/'.
SSM_PATH_PATTERN = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")
OCTET_PATTERN = re.compile(r"^(0|[1-9][0-9]{0,2})$")


def parse_ipv4(text: Any) -> Optional[ipaddress.IPv4Address]:
    """A dotted quad as components/ipv4.ts parses it (no leading zeros, no spaces), or None."""
    if not isinstance(text, str):
        return None
    parts = text.split(".")
    if len(parts) != 4 or not all(OCTET_PATTERN.match(p) and int(p) <= 255 for p in parts):
        return None
    return ipaddress.IPv4Address(text)


def load_config(file: str) -> SyncConfig:
    """Reads sync.json; raises ConfigFileError naming every problem, so a bad deploy is obvious."""
    try:
        with open(file, encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise ConfigFileError(f"{file}: missing; the user-data writes it (region, path, serverName, clientPool, gatewayAddress, limits)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigFileError(f"{file}: cannot be read: {e}") from None
    except json.JSONDecodeError as e:
        raise ConfigFileError(f"{file}: not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(raw, dict):
        raise ConfigFileError(f"{file}: expected a JSON object")
    problems = [f"{key}: unknown setting; known: {', '.join(sorted(CONFIG_KEYS))}" for key in sorted(raw) if key not in CONFIG_KEYS]
    region = raw.get("region")
    if not isinstance(region, str) or not REGION_PATTERN.match(region):
        problems.append(f"region: {json.dumps(region)} is not an AWS region like eu-west-1")
    path = raw.get("path")
    if not isinstance(path, str) or not SSM_PATH_PATTERN.match(path):
        problems.append(f"path: {json.dumps(path)} is not a parameter path like /vpn-gateway/dev (no trailing '/')")
    limits, limits_problems = parse_limits(raw.get("limits"))
    problems += [f"limits: {p}" for p in limits_problems]
    server_name = raw.get("serverName")
    if not isinstance(server_name, str) or server_name == "" or (limits is not None and limits.chap_word_problem(server_name)):
        rule = f" ({limits.chap_word_rule})" if limits is not None else ""
        problems.append(f"serverName: {json.dumps(server_name)} is not a chap-secrets word{rule}")
    pool: Optional[ipaddress.IPv4Network] = None
    pool_text = raw.get("clientPool")
    match = re.match(r"^([0-9.]+)/(0|[1-9][0-9]?)$", pool_text) if isinstance(pool_text, str) else None
    if match and parse_ipv4(match.group(1)) and int(match.group(2)) <= 30:
        try:
            pool = ipaddress.IPv4Network(pool_text, strict=True)
        except ValueError:
            pool = None
    if pool is None:
        problems.append(f"clientPool: {json.dumps(pool_text)} is not an IPv4 CIDR block with host bits zero, /30 or larger")
    gateway = parse_ipv4(raw.get("gatewayAddress"))
    if gateway is None:
        problems.append(f"gatewayAddress: {json.dumps(raw.get('gatewayAddress'))} is not an IPv4 address")
    elif pool is not None and not is_pool_host(gateway, pool):
        problems.append(f"gatewayAddress: {gateway} is not a host address of {pool}")
    static_range = None
    if "staticRange" in raw:
        static_range, problem = parse_static_range(raw["staticRange"], pool, gateway)
        if problem:
            problems.append(f"staticRange: {problem}")
    boot_timeout = raw.get("bootTimeoutSeconds", DEFAULT_BOOT_TIMEOUT)
    if isinstance(boot_timeout, bool) or not isinstance(boot_timeout, (int, float)) or not 0 < boot_timeout <= BOOT_TIMEOUT_MAX:
        problems.append(f"bootTimeoutSeconds: {json.dumps(boot_timeout)} is not a number of seconds from 1 to {int(BOOT_TIMEOUT_MAX)}")
    if problems:
        raise ConfigFileError(f"{file}: " + "; ".join(problems))
    assert pool is not None and gateway is not None and limits is not None
    return SyncConfig(str(region), str(path), str(server_name), pool, gateway, limits, float(boot_timeout), static_range)


def parse_static_range(
    raw: Any, pool: Optional[ipaddress.IPv4Network], gateway: Optional[ipaddress.IPv4Address]
) -> tuple[Optional[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]], Optional[str]]:
    """sync.json's optional {"first", "last"}: the hosts of the pool a static address may be (the
    rest of the pool is xl2tpd's). Returns the range, or why it is not one."""
    first = parse_ipv4(raw.get("first")) if isinstance(raw, dict) else None
    last = parse_ipv4(raw.get("last")) if isinstance(raw, dict) else None
    if not isinstance(raw, dict) or set(raw) != {"first", "last"} or first is None or last is None or first > last:
        return None, 'expected {"first": ADDRESS, "last": ADDRESS} with first <= last'
    if pool is not None and not (is_pool_host(first, pool) and is_pool_host(last, pool)):
        return None, f"{first}-{last} is not inside the host addresses of {pool}"
    if gateway is not None and first <= gateway <= last:
        return None, f"{first}-{last} holds the gateway's address {gateway}"
    return (first, last), None


def is_pool_host(address: ipaddress.IPv4Address, pool: ipaddress.IPv4Network) -> bool:
    """A host address of the pool: inside it, neither its network nor its broadcast address."""
    return address in pool and address not in (pool.network_address, pool.broadcast_address)



# ---------------------------------------------------------------------------------------------
# Limits: the rules of components/config/settings.ts, handed over in sync.json's "limits" (one
# source: the TypeScript side exports them and syncConfig writes them). A problem names the field
# and what is wrong, never the value (a password's characters are a secret too, even one of them).

LIMITS_KEYS = {
    "nameMaxLength",
    "passwordMaxLength",
    "pskMinLength",
    "pskMaxLength",
    "secretForbidden",
    "chapWordForbidden",
    "passwordFirstForbidden",
    "secretRule",
    "chapWordRule",
}


@dataclass(frozen=True)
class Forbidden:
    """Characters a value may not hold (or, for a password, start with), and the problem each names."""

    characters: str
    problem: str


@dataclass(frozen=True)
class Limits:
    """What a name, a password and the PSK may be, as the Pulumi program checks its stack config.

    The mechanism is the agent's (printable ASCII, then the forbidden characters in order); the
    values and the wording are the TypeScript side's."""

    name_max_length: int
    password_max_length: int
    psk_min_length: int
    psk_max_length: int
    # In every secret and chap-secrets word (beyond printable ASCII), in the order they are checked.
    secret_forbidden: tuple[Forbidden, ...]
    # Also in a chap-secrets word (a name, a password).
    chap_word_forbidden: tuple[Forbidden, ...]
    # A password's first character.
    password_first_forbidden: Forbidden
    # The rules in words, for messages: the PSK's, and a chap-secrets word's.
    secret_rule: str
    chap_word_rule: str

    def secret_problem(self, value: str) -> Optional[str]:
        """Characters that change the meaning of a chap-secrets or ipsec.secrets line, or that clients mistype."""
        for ch in value:
            code = ord(ch)
            if code > 0x7E:
                return "a non-ASCII character"
            if code < 0x20 or code == 0x7F:
                return "a control character, e.g. a newline or tab"
            for forbidden in self.secret_forbidden:
                if ch in forbidden.characters:
                    return forbidden.problem
        return None

    def chap_word_problem(self, value: str) -> Optional[str]:
        """chap-secrets is parsed in words (e.g. '#' starts a comment, '*' is a wildcard)."""
        basic = self.secret_problem(value)
        if basic:
            return basic
        for forbidden in self.chap_word_forbidden:
            if any(ch in value for ch in forbidden.characters):
                return forbidden.problem
        return None

    def psk_problems(self, value: str) -> list[str]:
        """What is wrong with a PSK, if anything (its length is no secret worth keeping)."""
        problem = self.secret_problem(value)
        if problem:
            return [f"contains {problem}; allowed: {self.secret_rule}"]
        if not self.psk_min_length <= len(value) <= self.psk_max_length:
            return [f"is {len(value)} characters; allowed: {self.psk_min_length} to {self.psk_max_length}"]
        return []


def parse_forbidden(raw: Any) -> Optional[Forbidden]:
    """{"characters": "...", "problem": "..."}, both non-empty strings, or None."""
    if not isinstance(raw, dict) or set(raw) != {"characters", "problem"}:
        return None
    characters, problem = raw["characters"], raw["problem"]
    if not isinstance(characters, str) or not isinstance(problem, str) or characters == "" or problem == "":
        return None
    return Forbidden(characters, problem)


def parse_limits(raw: Any) -> tuple[Optional[Limits], list[str]]:
    """sync.json's "limits": the Limits, or every problem (each naming its key)."""
    if raw is None:
        return None, ["missing; the user-data writes the limits of components/config/settings.ts (an older sync.json?)"]
    if not isinstance(raw, dict):
        return None, ["expected an object with " + ", ".join(sorted(LIMITS_KEYS))]
    problems = [f"{key}: unknown limit; known: {', '.join(sorted(LIMITS_KEYS))}" for key in sorted(raw) if key not in LIMITS_KEYS]
    problems += [f"{key}: missing" for key in sorted(LIMITS_KEYS) if key not in raw]
    lengths: dict[str, int] = {}
    for key in ("nameMaxLength", "passwordMaxLength", "pskMinLength", "pskMaxLength"):
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            lengths[key] = value
        elif key in raw:
            problems.append(f"{key}: {json.dumps(value)} is not a positive whole number")
    if "pskMinLength" in lengths and "pskMaxLength" in lengths and lengths["pskMinLength"] > lengths["pskMaxLength"]:
        problems.append("pskMinLength: more than pskMaxLength")
    lists: dict[str, tuple[Forbidden, ...]] = {}
    for key in ("secretForbidden", "chapWordForbidden"):
        value = raw.get(key)
        items = [parse_forbidden(item) for item in value] if isinstance(value, list) else []
        if key in raw and (not isinstance(value, list) or not items or any(item is None for item in items)):
            problems.append(key + ': expected a non-empty list of {"characters", "problem"}')
        elif key in raw:
            lists[key] = tuple(item for item in items if item is not None)
    first = parse_forbidden(raw.get("passwordFirstForbidden"))
    if "passwordFirstForbidden" in raw and first is None:
        problems.append('passwordFirstForbidden: expected {"characters", "problem"}')
    for key in ("secretRule", "chapWordRule"):
        value = raw.get(key)
        if key in raw and (not isinstance(value, str) or value == ""):
            problems.append(f"{key}: expected a non-empty string")
    if problems:
        return None, problems
    assert first is not None
    return (
        Limits(
            name_max_length=lengths["nameMaxLength"],
            password_max_length=lengths["passwordMaxLength"],
            psk_min_length=lengths["pskMinLength"],
            psk_max_length=lengths["pskMaxLength"],
            secret_forbidden=lists["secretForbidden"],
            chap_word_forbidden=lists["chapWordForbidden"],
            password_first_forbidden=first,
            secret_rule=str(raw["secretRule"]),
            chap_word_rule=str(raw["chapWordRule"]),
        ),
        [],
    )
