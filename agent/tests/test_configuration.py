"""The parameters' values checked (configuration.py): the rules of components/config/settings.ts, record by record."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import unittest
from typing import Any, Optional

from support import LIMITS, PATH, PSK, World, user, users_value
from vpn_gateway_agent.configuration import check_configuration, parse_users_value


class ValidationTest(unittest.TestCase):
    """The rules of components/config/settings.ts (through sync.json's limits), record by record."""

    def setUp(self) -> None:
        self.config = World(self).config

    def problems(self, *records: Any, raw: Optional[str] = None) -> list[str]:
        return parse_users_value(raw if raw is not None else json.dumps({"format": 1, "users": list(records)}), self.config)[1]

    def test_accepts_good_users_and_psk(self) -> None:
        users, problems = parse_users_value(users_value(user("alice", "p!$%&()+,-./:;<=>?[]^_`{|}~x"), user("bob", "b", "192.168.42.254")), self.config)
        self.assertEqual(problems, [])
        self.assertEqual([u.name for _, u in users], ["alice", "bob"])
        self.assertEqual(users[1][1].ip, "192.168.42.254")
        self.assertEqual(LIMITS.psk_problems("a#b*c" + "x" * 7), [])  # '#' and '*' are fine in ipsec.secrets

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
        self.assertEqual(LIMITS.psk_problems("x" * 11), ["is 11 characters; allowed: 12 to 128"])
        self.assertEqual(LIMITS.psk_problems("x" * 129), ["is 129 characters; allowed: 12 to 128"])
        self.assertEqual(LIMITS.psk_problems("x" * 12), [])
        self.assertEqual(LIMITS.psk_problems("x" * 128), [])
        for bad, why in [("with space-xxxxx", "whitespace"), ('with"quote-xxxxx', "quote"), ("with\\slash-xxxxx", "backslash"), ("nonascii-é-xxxxx", "non-ASCII")]:
            with self.subTest(bad=bad):
                problems = LIMITS.psk_problems(bad)
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
            users, problems = parse_users_value(json.dumps({"format": 1, "users": [{"name": "a", "password": "p", "ip": absent}]}), self.config)
            self.assertEqual((problems, users[0][1].ip), ([], None))

    def test_ip_inside_the_static_range(self) -> None:
        """With sync.json's staticRange, a static address outside it (in xl2tpd's range) is refused."""
        config = dataclasses.replace(self.config, static_range=(ipaddress.IPv4Address("192.168.42.2"), ipaddress.IPv4Address("192.168.42.127")))
        for ip in ("192.168.42.2", "192.168.42.127"):
            self.assertEqual(parse_users_value(users_value(user("alice", "pw-123", ip)), config)[1], [], ip)
        for ip in ("192.168.42.128", "192.168.42.254"):
            with self.subTest(ip=ip):
                problems = parse_users_value(users_value(user("alice", "pw-123", ip)), config)[1]
                self.assertEqual(problems, [f"users[0].ip: {ip} is outside the static addresses 192.168.42.2 to 192.168.42.127 (xl2tpd hands out the rest of 192.168.42.0/24)"])
        # the gateway's own address keeps its own message
        self.assertIn("gateway's own PPP address", parse_users_value(users_value(user("alice", "pw-123", "192.168.42.1")), config)[1][0])

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
        configuration, problems = check_configuration(values, self.config)
        self.assertIsNone(configuration)
        self.assertEqual(
            problems,
            [
                f"{PATH}/users/b: users[0].ip: 192.168.42.10 is also {PATH}/users/a users[0]'s address; static addresses must be unique",
                f'{PATH}/users/b: users[1].name: "alice" is also {PATH}/users/a users[0]; names must be unique across all users parameters',
            ],
        )
        same_shard = {f"{PATH}/psk": PSK, f"{PATH}/users/a": users_value(user("alice", "p1"), user("alice", "p2"))}
        self.assertEqual(len(check_configuration(same_shard, self.config)[1]), 1)

    def test_psk_and_at_least_one_user_required(self) -> None:
        _, problems = check_configuration({f"{PATH}/users/a": users_value(user("alice", "p"))}, self.config)
        self.assertEqual(problems, [f"{PATH}/psk: missing; the PSK parameter is required (a SecureString)"])
        _, problems = check_configuration({f"{PATH}/psk": PSK, f"{PATH}/users/a": users_value()}, self.config)
        self.assertEqual(problems, [f"{PATH}/users/*: no users; at least one is required"])
        _, problems = check_configuration({f"{PATH}/psk": PSK}, self.config)
        self.assertEqual(len(problems), 1)
        configuration, problems = check_configuration({f"{PATH}/psk": PSK, f"{PATH}/users/a": users_value(), f"{PATH}/users/b": users_value(user("x", "y"))}, self.config)
        assert configuration is not None
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
