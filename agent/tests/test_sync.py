"""The sync (sync.py): `once` and `boot` against a stubbed SSM, with IKEv2 material, and no secret in any log line."""

from __future__ import annotations

import dataclasses
import fcntl
import itertools
import os
import signal
import socket
import stat
import time
import unittest
from pathlib import Path
from typing import Any, Optional

import boto3
from botocore.config import Config

from support import LIMITS, NEW_PSK, PATH, PSK, REGION, SECRETS, Unreachable, World, as_ikev2, assert_no_secret, ikev2_pieces, material, user, users_value
from vpn_gateway_agent.cli import main
from vpn_gateway_agent.settings import SyncConfig
from vpn_gateway_agent.ikev2 import CRL_CHECK_INTERVAL, CRL_EFFECT_WAIT, REVOCATION_WATCH


class PollTest(unittest.TestCase):
    """`once` against a stubbed SSM: what is listed, decrypted, written, ended and logged."""

    def setUp(self) -> None:
        self.world = World(self)

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
        w.config = SyncConfig(REGION, PATH, "l2tpd", w.config.pool, w.config.gateway, LIMITS, timeout)
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
        self.assertEqual(main(["boot"], paths=w.paths, client=Unreachable()), 1)
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
        self.assertEqual(self.gateway.calls, [self.install(m1, None, True), self.install(m2, m1, True), ("sleep", CRL_EFFECT_WAIT), ("end", {"bob", "carol"})])
        self.assertIn("ended IKEv2 sessions of revoked users: bob (1), carol (1)", w.logs.lines)
        # bob's re-issued certificate revoked too: a new pair, so bob again; carol is not new.
        m3 = material(revoked=(("bob", "0a"), ("carol", "0b"), ("bob", "0c"), ("dave", "0d")))
        self.assertEqual(self.apply(m3), 0, w.logs.text)
        self.assertEqual(self.gateway.calls[4:], [self.install(m3, m2, True), ("sleep", CRL_EFFECT_WAIT), ("end", {"bob", "dave"})])
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
        self.assertEqual(self.gateway.calls[-2], ("sleep", CRL_CHECK_INTERVAL + 3))
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
        self.assertEqual(w.state()["ikev2Watch"], {"bob": now[0] + REVOCATION_WATCH})

        def ends() -> list[tuple[Any, ...]]:
            return [c for c in self.gateway.calls if c[0] == "end"]

        for elapsed in (30, 60, REVOCATION_WATCH - 1):
            now[0] = 1_000_000.0 + elapsed
            self.assertEqual(w.poll(), 0, w.logs.text)
        self.assertEqual(len(ends()), 4, "once at the install, then at each poll of the watch")
        self.assertIn("ended IKEv2 sessions of revoked users made before the CRL counted: bob (1)", w.logs.lines)
        now[0] = 1_000_000.0 + REVOCATION_WATCH + 1
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
        self.assertEqual(self.gateway.calls[2:], [self.install(m2, None, True), ("sleep", CRL_EFFECT_WAIT), ("end", {"carol"})])
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
            [self.install(m2, m1, True), self.install(m2, None, True), self.install(m3, None, True), ("sleep", CRL_EFFECT_WAIT), ("end", {"carol", "dave"})],
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
        w.config = SyncConfig(REGION, PATH, "l2tpd", w.config.pool, w.config.gateway, LIMITS, 0.01)
        w.sync(client=Unreachable(), sleep=lambda s: None).boot()
        text = w.logs.text
        self.assertIn("applied: 1 added (dave), 1 password changed (alice), psk changed; 4 users; ended 1 session (alice)", text)
        assert_no_secret(self, text, SECRETS + bad + ["bad psk with spaces", "pass-Q"])
