"""What the gateway serves, from the parameters' values: the PSK, the L2TP users and the IKEv2
material, checked with the rules of components/config/settings.ts (whole or nothing)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Optional

from .ikev2 import Ikev2, parse_ikev2
from .settings import SyncConfig, is_pool_host, parse_ipv4

USERS_FORMAT = 1


@dataclass(frozen=True)
class User:
    """One line of chap-secrets. ip None means an address of xl2tpd's pool."""

    name: str
    password: str
    ip: Optional[str] = None


FIELD_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
# What a users parameter holds, for messages (plain strings: no f-string escapes of braces).
RECORD_SHAPE = "{name, password, ip?}"
USERS_SHAPE = '{"format": ' + str(USERS_FORMAT) + ', "users": [' + RECORD_SHAPE + ", ...]}"


def describe_type(value: Any) -> str:
    """A JSON value's kind, for messages that must not show the value itself."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def parse_users_value(text: str, config: SyncConfig) -> tuple[list[tuple[int, User]], list[str]]:
    """One users parameter's value -> its good records (index, user) and the problems of the others
    ("users[2].password: ...").

    Checks each record alone; names and addresses must also be unique across all parameters,
    which check_configuration does.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        return [], [f"not JSON ({e.msg} at line {e.lineno} column {e.colno})"]
    if not isinstance(document, dict):
        return [], [f"expected a JSON object like {USERS_SHAPE}, got {describe_type(document)}"]
    problems = [
        f"{key if FIELD_NAME_PATTERN.match(key) else 'a field'}: unknown field; allowed: format, users"
        for key in document
        if key not in ("format", "users")
    ]
    fmt = document.get("format")
    if type(fmt) is not int or fmt != USERS_FORMAT:
        problems.append(f"format: must be {USERS_FORMAT}" + ("" if "format" in document else " (missing)"))
    records = document.get("users")
    if not isinstance(records, list):
        problems.append(f"users: expected a list of {RECORD_SHAPE}, got {describe_type(records)}")
        return [], problems
    users: list[tuple[int, User]] = []
    for i, record in enumerate(records):
        at = f"users[{i}]"
        if not isinstance(record, dict):
            problems.append(f"{at}: expected {RECORD_SHAPE}, got {describe_type(record)}")
            continue
        ok = True
        for key in record:
            if key not in ("name", "password", "ip"):
                shown = key if FIELD_NAME_PATTERN.match(key) else "a field"
                problems.append(f"{at}.{shown}: unknown field; allowed: name, password, ip")
                ok = False
        name, password, ip = record.get("name"), record.get("password"), record.get("ip")
        limits = config.limits
        for field_name, value, max_length in (("name", name, limits.name_max_length), ("password", password, limits.password_max_length)):
            if not isinstance(value, str) or value == "":
                kind = "missing" if field_name not in record else describe_type(value) if not isinstance(value, str) else "empty"
                problems.append(f"{at}.{field_name}: required, a non-empty string (got {kind})")
                ok = False
                continue
            problem = limits.chap_word_problem(value)
            if problem:
                problems.append(f"{at}.{field_name}: contains {problem}; allowed: {limits.chap_word_rule}")
                ok = False
            elif field_name == "password" and value[0] in limits.password_first_forbidden.characters:
                problems.append(f"{at}.password: {limits.password_first_forbidden.problem}")
                ok = False
            elif len(value) > max_length:
                problems.append(f"{at}.{field_name}: longer than {max_length} characters")
                ok = False
        static_ip: Optional[str] = None
        if ip is not None and ip != "":
            address = parse_ipv4(ip)
            if address is None:
                problems.append(f"{at}.ip: {json.dumps(ip) if isinstance(ip, str) and not limits.secret_problem(ip) else describe_type(ip)} is not an IPv4 address")
                ok = False
            elif not is_pool_host(address, config.pool):
                problems.append(f"{at}.ip: {address} is not a host address of the client pool {config.pool}")
                ok = False
            elif address == config.gateway:
                problems.append(f"{at}.ip: {address} is the gateway's own PPP address; use another address of {config.pool}")
                ok = False
            elif config.static_range is not None and not config.static_range[0] <= address <= config.static_range[1]:
                first, last = config.static_range
                problems.append(f"{at}.ip: {address} is outside the static addresses {first} to {last} (xl2tpd hands out the rest of {config.pool})")
                ok = False
            else:
                static_ip = str(address)
        if ok:
            users.append((i, User(str(name), str(password), static_ip)))
    return users, problems



@dataclass(frozen=True)
class Configuration:
    """What the gateway serves: the PSK, every L2TP user by name, and the IKEv2 material (None: no IKEv2 parameters)."""

    psk: str
    users: dict[str, User]
    ikev2: Optional[Ikev2] = None



def check_configuration(values: dict[str, str], config: SyncConfig) -> tuple[Optional[Configuration], list[str]]:
    """Parameter values by name -> the configuration, or every problem, each prefixed with its parameter.

    Whole or nothing: one problem anywhere and there is no configuration.
    """
    problems: list[str] = []
    psk = values.get(config.psk_name)
    if psk is None:
        problems.append(f"{config.psk_name}: missing; the PSK parameter is required (a SecureString)")
    else:
        problems += [f"{config.psk_name}: {p}" for p in config.limits.psk_problems(psk)]
    users: dict[str, User] = {}
    where_name: dict[str, str] = {}
    where_ip: dict[str, str] = {}
    for parameter in sorted(n for n in values if n.startswith(config.users_prefix)):
        shard_users, shard_problems = parse_users_value(values[parameter], config)
        problems += [f"{parameter}: {p}" for p in shard_problems]
        for i, user in shard_users:
            here = f"{parameter} users[{i}]"
            if user.name in where_name:
                problems.append(f"{parameter}: users[{i}].name: {json.dumps(user.name)} is also {where_name[user.name]}; names must be unique across all users parameters")
                continue
            if user.ip is not None and user.ip in where_ip:
                problems.append(f"{parameter}: users[{i}].ip: {user.ip} is also {where_ip[user.ip]}'s address; static addresses must be unique")
                continue
            where_name[user.name] = here
            if user.ip is not None:
                where_ip[user.ip] = here
            users[user.name] = user
    pieces = {int(n[len(config.ikev2_prefix) :]): values[n] for n in values if n.startswith(config.ikev2_prefix)}
    ikev2: Optional[Ikev2] = None
    if pieces:
        ikev2, ikev2_problems = parse_ikev2(pieces, config.limits)
        problems += [f"{config.ikev2_prefix}*: {p}" for p in ikev2_problems]
    # IKEv2-only users are not in the users parameters: with IKEv2 material, no L2TP user is fine.
    if not users and not pieces and not problems:
        problems.append(f"{config.users_prefix}*: no users; at least one is required")
    if problems:
        return None, problems
    assert psk is not None
    return Configuration(psk, users, ikev2), []
