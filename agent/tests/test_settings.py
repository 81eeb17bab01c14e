"""sync.json (settings.py): missing or malformed means exit 2 and a clear message."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import unittest
from pathlib import Path
from typing import Any

from support import LIMITS, LIMITS_DOCUMENT, PATH, REGION, Unreachable, World, limits_of
from vpn_gateway_agent.cli import main
from vpn_gateway_agent.configuration import parse_users_value
from vpn_gateway_agent.settings import Forbidden, load_config, parse_limits


class ConfigFileTest(unittest.TestCase):
    """sync.json: missing or malformed means exit 2 and a clear message."""

    def setUp(self) -> None:
        self.world = World(self)

    def run_main(self, *argv: str) -> int:
        return main(list(argv), paths=self.world.paths, client=Unreachable())

    def test_missing_exits_2(self) -> None:
        self.assertEqual(self.run_main("once"), 2)
        self.assertIn("sync.json: missing", self.world.logs.text)
        self.assertFalse(Path(self.world.paths.chap_secrets).exists())

    def test_malformed_exits_2(self) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
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
        config = load_config(self.world.paths.config)
        self.assertEqual((config.region, config.path, config.server_name, str(config.pool), str(config.gateway), config.boot_timeout), (REGION, PATH, "l2tpd", "192.168.42.0/24", "192.168.42.1", 7.0))
        self.assertEqual((config.psk_name, config.users_prefix), (f"{PATH}/psk", f"{PATH}/users/"))
        self.world.write_config()
        self.assertEqual(load_config(self.world.paths.config).boot_timeout, 300.0)
        self.assertIsNone(load_config(self.world.paths.config).static_range)

    def test_reads_the_static_range(self) -> None:
        # As the user-data writes it: the lower half of the pool after the gateway's address.
        self.world.write_config(staticRange={"first": "192.168.42.2", "last": "192.168.42.127"})
        config = load_config(self.world.paths.config)
        self.assertEqual(config.static_range, (ipaddress.IPv4Address("192.168.42.2"), ipaddress.IPv4Address("192.168.42.127")))
        self.assertEqual(config.program_prefix, f"{PATH}/program/")


class LimitsTest(unittest.TestCase):
    """sync.json's "limits": the rules of components/config/settings.ts, required, and obeyed as given."""

    def setUp(self) -> None:
        self.world = World(self)

    def run_main(self, *argv: str) -> int:
        return main(list(argv), paths=self.world.paths, client=Unreachable())

    def test_a_sync_json_without_limits_is_refused_with_a_clear_line(self) -> None:
        document = json.loads(json.dumps(LIMITS_DOCUMENT))
        self.world.write_config()
        raw = json.loads(Path(self.world.paths.config).read_text())
        del raw["limits"]
        Path(self.world.paths.config).write_text(json.dumps(raw))
        for verb in ("once", "boot"):
            self.world.logs.lines.clear()
            self.assertEqual(self.run_main(verb), 2)
            self.assertEqual(len(self.world.logs.lines), 1, self.world.logs.text)
            line = self.world.logs.lines[0]
            self.assertTrue(line.startswith(f"error: {self.world.paths.config}: limits: missing; the user-data writes the limits of components/config/settings.ts"), line)
            self.assertTrue(line.endswith("; nothing done"), line)
        self.assertFalse(Path(self.world.paths.chap_secrets).exists())
        self.assertEqual(document, LIMITS_DOCUMENT)

    def test_every_limit_is_checked(self) -> None:
        cases: list[tuple[Any, str]] = [
            ("64", "limits: expected an object with chapWordForbidden, chapWordRule"),
            ({**LIMITS_DOCUMENT, "surprise": 1}, "limits: surprise: unknown limit"),
            ({k: v for k, v in LIMITS_DOCUMENT.items() if k != "pskMinLength"}, "limits: pskMinLength: missing"),
            ({**LIMITS_DOCUMENT, "nameMaxLength": "64"}, 'limits: nameMaxLength: "64" is not a positive whole number'),
            ({**LIMITS_DOCUMENT, "passwordMaxLength": 0}, "limits: passwordMaxLength: 0 is not a positive whole number"),
            ({**LIMITS_DOCUMENT, "pskMaxLength": True}, "limits: pskMaxLength: true is not a positive whole number"),
            ({**LIMITS_DOCUMENT, "pskMinLength": 200}, "limits: pskMinLength: more than pskMaxLength"),
            ({**LIMITS_DOCUMENT, "secretForbidden": []}, "limits: secretForbidden: expected a non-empty list"),
            ({**LIMITS_DOCUMENT, "chapWordForbidden": [{"characters": "#"}]}, "limits: chapWordForbidden: expected a non-empty list"),
            ({**LIMITS_DOCUMENT, "passwordFirstForbidden": "@"}, "limits: passwordFirstForbidden: expected"),
            ({**LIMITS_DOCUMENT, "chapWordRule": ""}, "limits: chapWordRule: expected a non-empty string"),
        ]
        for limits, expected in cases:
            with self.subTest(limits=limits):
                self.world.logs.lines.clear()
                self.world.write_config(limits=limits)
                self.assertEqual(self.run_main("once"), 2)
                self.assertIn(expected, self.world.logs.text)

    def test_reads_the_limits_as_given(self) -> None:
        self.world.write_config()
        config = load_config(self.world.paths.config)
        self.assertEqual(config.limits, LIMITS)
        self.assertEqual((LIMITS.name_max_length, LIMITS.password_max_length, LIMITS.psk_min_length, LIMITS.psk_max_length), (64, 128, 12, 128))
        self.assertEqual(LIMITS.chap_word_forbidden[0], Forbidden("#", "'#' (starts a comment in chap-secrets)"))
        self.assertEqual(parse_limits(LIMITS_DOCUMENT), (LIMITS, []))

    def test_the_agent_obeys_other_limits_it_is_given(self) -> None:
        # nothing of the rules is the agent's own: other limits, other checks
        other = limits_of(
            {
                **LIMITS_DOCUMENT,
                "nameMaxLength": 5,
                "chapWordForbidden": [{"characters": "!%", "problem": "a bang or percent"}],
                "passwordFirstForbidden": {"characters": "-", "problem": "starts with a dash"},
                "chapWordRule": "the other rule",
            }
        )
        config = dataclasses.replace(self.world.config, limits=other)

        def problems(name: str, password: str) -> list[str]:
            return parse_users_value(json.dumps({"format": 1, "users": [{"name": name, "password": password}]}), config)[1]

        self.assertEqual(problems("abcde", "a#b*c"), [])
        self.assertEqual(problems("abcdef", "pw"), ["users[0].name: longer than 5 characters"])
        self.assertEqual(problems("a%b", "pw"), ["users[0].name: contains a bang or percent; allowed: the other rule"])
        self.assertEqual(problems("ab", "-pw"), ["users[0].password: starts with a dash"])
        self.assertEqual(problems("ab", "@pw"), [])
        self.world.write_config(serverName="l2!tpd", limits={**LIMITS_DOCUMENT, "chapWordForbidden": [{"characters": "!", "problem": "a bang"}], "chapWordRule": "no bang"})
        self.assertEqual(self.run_main("once"), 2)
        self.assertIn('serverName: "l2!tpd" is not a chap-secrets word (no bang)', self.world.logs.text)

