"""IKEv2 (ikev2.py): the material's pieces, the NSS database's tools, whack's sessions."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import shutil
import stat
import tempfile
import unittest
from pathlib import Path
from typing import Any
from unittest import mock

from support import LIMITS, Logs, PATH, PSK, World, as_ikev2, ikev2_pieces, material, pem, user, users_value
from vpn_gateway_agent.configuration import check_configuration
from vpn_gateway_agent.ikev2 import Revoked, TRAFFIC_ID, dn_common_name, end_ikev2_sessions, identity_name, install_ikev2, parse_ikev2


class Ikev2ParseTest(unittest.TestCase):
    """PATH/ikev2/1..N: joined, base64, gzip, JSON, every field checked; whole or nothing."""

    def setUp(self) -> None:
        self.config = World(self).config

    def test_pieces_are_joined_in_number_order(self) -> None:
        document = material(revoked=(("bob", "0a1b"), ("a,b=c+d", "7f")))
        pieces = ikev2_pieces(document, size=100)
        self.assertGreater(len(pieces), 3)
        # Handed in the reverse order: a join in the dict's order (not by number) breaks the gzip.
        ikev2, problems = parse_ikev2({i + 1: p for i, p in reversed(list(enumerate(pieces)))}, LIMITS)
        self.assertEqual(problems, [])
        assert ikev2 is not None
        self.assertEqual(ikev2.ca_cert, document["caCert"])
        self.assertEqual(ikev2.server_cert, document["serverCert"])
        self.assertEqual(ikev2.server_key, document["serverKey"])
        self.assertEqual(ikev2.crl, document["crl"])
        self.assertEqual(ikev2.revoked, (Revoked("bob", "0a1b"), Revoked("a,b=c+d", "7f")))

    def test_a_gap_a_missing_last_piece_and_a_mixed_set_are_refused_not_raised(self) -> None:
        pieces = ikev2_pieces(material(), size=100)
        numbered = dict(enumerate(pieces, 1))
        del numbered[2]
        self.assertEqual(parse_ikev2(numbered, LIMITS), (None, [f"pieces 1, {', '.join(map(str, range(3, len(pieces) + 1)))}: expected 1 to N without a gap"]))
        # The last piece not written yet: the gzip stream ends early.
        truncated = dict(enumerate(pieces[:-1], 1))
        self.assertEqual(parse_ikev2(truncated, LIMITS)[0], None)
        self.assertRegex(parse_ikev2(truncated, LIMITS)[1][0], r"^not gzip\+base64 JSON \(\w+\); a partly written update, or not the program's$")
        # A deflate stream corrupted inside (a piece of another version in the middle, with the
        # same length): zlib's own error, which is neither an OSError nor a ValueError.
        packed = bytearray(gzip.compress(json.dumps(material(), separators=(",", ":")).encode(), 9))
        for i in range(40, 80):
            packed[i] ^= 0x5A
        with self.assertRaises(Exception) as raised:
            gzip.decompress(bytes(packed))
        self.assertEqual(type(raised.exception).__name__, "error")  # zlib.error: the case under test
        text = base64.b64encode(bytes(packed)).decode()
        ikev2, problems = parse_ikev2({1: text[:200], 2: text[200:]}, LIMITS)
        self.assertIsNone(ikev2)
        self.assertEqual(problems, ["not gzip+base64 JSON (error); a partly written update, or not the program's"])
        for bad in ("not base64!", base64.b64encode(b"not gzip").decode(), base64.b64encode(gzip.compress(b"[1, 2]")).decode()):
            self.assertIsNone(parse_ikev2({1: bad}, LIMITS)[0], bad)

    def test_every_field_is_checked(self) -> None:
        def problems(document: dict[str, Any]) -> list[str]:
            ikev2, found = parse_ikev2(dict(enumerate(ikev2_pieces(document), 1)), LIMITS)
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
                "revoked[0].name: not a user name (" + LIMITS.chap_word_rule + ", at most 64)",
                "revoked[1].serial: not a lowercase hexadecimal serial",
                "revoked[2].serial: not a lowercase hexadecimal serial",
                "revoked[3].name: not a user name (" + LIMITS.chap_word_rule + ", at most 64)",
                "revoked[4].name: not a user name (" + LIMITS.chap_word_rule + ", at most 64)",
                "revoked[5].serial: not a lowercase hexadecimal serial",
            ],
        )

    def test_check_configuration_with_ikev2_whole_or_nothing(self) -> None:
        config = self.config
        values = {f"{PATH}/psk": PSK, **{f"{PATH}/ikev2/{i}": p for i, p in enumerate(ikev2_pieces(material(revoked=(("bob", "01"),)), size=300), 1)}}
        # IKEv2 users are not in the users parameters: material and no L2TP user is a configuration.
        configuration, problems = check_configuration(values, config)
        self.assertEqual(problems, [])
        assert configuration is not None
        self.assertEqual(configuration.users, {})
        self.assertEqual(configuration.ikev2, as_ikev2(material(revoked=(("bob", "01"),))))
        # Without material, no users is still refused.
        self.assertEqual(check_configuration({f"{PATH}/psk": PSK}, config), (None, [f"{PATH}/users/*: no users; at least one is required"]))
        # Without IKEv2 parameters there is no material (and users alone are fine).
        configuration, problems = check_configuration({f"{PATH}/psk": PSK, f"{PATH}/users/a": users_value(user("alice", "pw"))}, config)
        assert configuration is not None
        self.assertEqual((problems, configuration.ikev2), ([], None))
        # Bad material refuses good users with it, each problem naming the pieces.
        values[f"{PATH}/users/a"] = users_value(user("alice", "pw"))
        values[f"{PATH}/ikev2/2"] = "A" * 8
        configuration, problems = check_configuration(values, config)
        self.assertIsNone(configuration)
        self.assertEqual(len(problems), 1)
        self.assertTrue(problems[0].startswith(f"{PATH}/ikev2/*: not gzip+base64 JSON ("), problems)
        values[f"{PATH}/ikev2/2"] = ikev2_pieces(material(revoked=(("bob", "01"),)), size=300)[1]
        values[f"{PATH}/psk"] = "short"
        self.assertIsNone(check_configuration(values, config)[0], "a bad PSK refuses good material with it")


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
        patcher = mock.patch("vpn_gateway_agent.ikev2.run_tool", self.run_tool)
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
        self.assertEqual(install_ikev2(new, None, self.nss, True), [])
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
        self.assertEqual(install_ikev2(new, None, self.nss, True, crl_file), [])
        self.assertEqual(Path(crl_file).read_bytes(), base64.b64decode("".join(new.crl.splitlines()[1:-1])))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(crl_file)).st_mode), 0o700)
        # it cannot be written: a problem named, nothing told to pluto
        self.commands.clear()
        Path(crl_file).unlink()
        os.chmod(os.path.dirname(crl_file), 0o500)
        self.addCleanup(os.chmod, os.path.dirname(crl_file), 0o700)
        if os.geteuid() != 0:  # root writes anyway
            problems = install_ikev2(new, None, self.nss, True, crl_file)
            self.assertEqual(len(problems), 1)
            self.assertIn("the CRL pluto fetches", problems[0])
            self.assertNotIn("ipsec", [c[0] for c in self.commands])

    def test_no_connection_added_again_when_pluto_is_not_running(self) -> None:
        self.existing_database()
        self.assertEqual(install_ikev2(as_ikev2(material()), None, self.nss, False), [])
        self.assertNotIn("ipsec", [c[0] for c in self.commands])
        self.assertNotIn(["certutil", "-N", "-d", f"sql:{self.nss}", "--empty-password"], self.commands, "the database exists")

    def test_an_unchanged_ca_and_server_are_skipped_when_the_database_has_them(self) -> None:
        self.existing_database()
        old = as_ikev2(material())
        new = as_ikev2(material(revoked=(("bob", "0a"),)))  # a new CRL only
        self.assertEqual(install_ikev2(new, old, self.nss, True), [])
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
        self.assertEqual(install_ikev2(new, old, self.nss, False), [])
        self.assertEqual([c[:2] for c in self.commands], [["certutil", "-L"], ["certutil", "-L"], ["openssl", "pkcs12"], ["certutil", "-F"], ["pk12util", "-i"], ["crlutil", "-I"]])
        # A new CA (and so a new server certificate): both go in without asking.
        self.commands.clear()
        self.missing = set()
        renewed = as_ikev2(material("2", caCert=pem("CERTIFICATE", "ca-2")))
        self.assertEqual(install_ikev2(renewed, old, self.nss, False), [])
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
        self.assertEqual(install_ikev2(new, old, self.nss, True), [])
        self.assertEqual([c[:2] for c in self.commands if c[0] == "crlutil"], [["crlutil", "-I"]])
        # The same CRL again (at boot) is refused by NSS: then deleted and imported.
        self.commands.clear()
        self.failing_once = ("crlutil", "-I")
        self.assertEqual(install_ikev2(new, old, self.nss, False), [])
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
                self.assertEqual(install_ikev2(as_ikev2(material()), None, self.nss, True), [f"{named}: it failed"])
                self.assertEqual(tuple(self.commands[-1][: len(prefix)]), prefix, "nothing after the failing step")
        # Removing what is not there (the first boot) is no failure.
        for prefix in (("certutil", "-D"), ("certutil", "-F"), ("crlutil", "-D")):
            with self.subTest(ignored=prefix):
                self.commands.clear()
                self.failing = prefix
                self.assertEqual(install_ikev2(as_ikev2(material()), None, self.nss, True), [])
                self.assertEqual(self.commands[-1], ["ipsec", "addconn", "--config", "/etc/ipsec.conf", "ikev2-cert"])

    def test_traffic_status_lines_of_libreswan_5_and_4(self) -> None:
        lines = self.TRAFFIC.splitlines()
        matches = [TRAFFIC_ID.match(lines[i]) for i in (0, 2, 5)]
        self.assertEqual([m.group("conn", "id") if m else None for m in matches], [("ikev2-cert", "CN=alice"), ("ikev2-cert", "CN=a\\,b"), ("l2tp-psk", "CN=dave")])
        self.assertIsNone(TRAFFIC_ID.match("000 Total IPsec connections: loaded 2, active 1"))

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
            self.assertEqual(dn_common_name(identity), name, identity)

    def test_identity_name_in_every_form_pluto_prints(self) -> None:
        # measured on Libreswan 5.2: strongSwan sending its name as an FQDN shows as '@alice'
        cases = {"CN=alice": "alice", "@alice": "alice", "alice@example.com": "alice@example.com", "CN=a\\,b": "a,b", "CN=alice, O=Elsewhere": None, "@": None, "": None}
        for identity, name in cases.items():
            self.assertEqual(identity_name(identity), name, identity)

    def test_end_ikev2_sessions_ends_a_session_whose_client_sent_its_name(self) -> None:
        self.answers[("ipsec", "whack", "--trafficstatus")] = (
            True,
            "#7: \"ikev2-cert\"[3] 198.51.100.2, type=ESP, add_time=1795852013, inBytes=0, outBytes=0, maxBytes=2^63B, id='@bob', lease=192.168.43.3/32\n",
        )
        self.assertEqual(end_ikev2_sessions({"bob"}), {"bob": 1})
        self.assertEqual(self.commands[-1], ["ipsec", "whack", "--deleteid", "--name", "@bob"])

    def test_end_ikev2_sessions_deletes_each_revoked_identity(self) -> None:
        self.answers[("ipsec", "whack", "--trafficstatus")] = (True, self.TRAFFIC)
        ended = end_ikev2_sessions({"alice", "a,b", "carol", "dave", "erin"})
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
        self.assertEqual(end_ikev2_sessions({"alice"}), {})
        self.assertEqual(self.commands, [["ipsec", "whack", "--trafficstatus"]])
        self.assertIn("error: ipsec whack --trafficstatus: connect(pluto_ctl) failed; revoked users' IKEv2 sessions are not ended", self.logs.lines)
        self.commands.clear()
        self.answers[("ipsec", "whack", "--trafficstatus")] = (True, self.TRAFFIC)
        self.answers[("ipsec", "whack", "--deleteid", "--name", "CN=alice")] = (False, "no such state")
        self.assertEqual(end_ikev2_sessions({"alice", "bob"}), {"bob": 1})
        self.assertIn("error: ipsec whack --deleteid for alice: no such state", self.logs.lines)
