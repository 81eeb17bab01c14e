"""L2TP sessions (l2tp_sessions.py) and the ip-up/ip-down hook that records them (files/ppp/vpn-gateway-session)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import unittest
from pathlib import Path

from support import HOOK, SECRETS, Unreachable, World, assert_no_secret, stat_line, user
from vpn_gateway_agent.l2tp_sessions import CLOCK_TICKS, LATE_SESSION_WINDOW, boot_ticks, end_sessions, process_start
from vpn_gateway_agent.settings import Paths


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
                self.assertEqual(process_start(self.world.paths, pid), 1000 + pid)

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
            self.assertIsNone(process_start(w.paths, pid), pid)

    def test_hook_and_sync_read_the_same_start_time_from_the_real_proc(self) -> None:
        child = subprocess.Popen(["sleep", "60"])
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        self.hook("up", real_proc=True, PPPD_PID=str(child.pid), PEERNAME="alice")
        name, start = (self.sessions / str(child.pid)).read_text().split("\n")[:2]
        self.assertEqual(name, "alice")
        self.assertEqual(int(start), process_start(Paths(), child.pid))
        with open(f"/proc/{child.pid}/stat") as f:
            self.assertEqual(int(start), int(f.read().split(")")[-1].split()[19]))

    def test_a_reused_pid_is_not_taken_for_the_old_session(self) -> None:
        """alice's pppd 21 was killed with SIGKILL (no ip-down: her record stays); PID 21 is now
        another pppd, not yet at its ip-up. Removing alice ends her live session only."""
        w = self.world
        w.record(21, "alice", start=5000)
        w.process(21, start=7000)
        w.session(22, "alice", start=6000)
        ended = end_sessions({"alice"}, w.paths, w.kill)
        self.assertEqual(ended, {"alice": 1})
        self.assertEqual(w.killed, [(22, signal.SIGTERM)])
        # left for the new pppd's ip-up to replace (removing it could race with that)
        self.assertEqual((self.sessions / "21").read_text(), "alice\n5000\n")
        # once that pppd is gone, the record is stale and goes
        shutil.rmtree(w.dir / "proc/21")
        self.assertEqual(end_sessions({"alice"}, w.paths, w.kill), {})
        self.assertEqual(os.listdir(self.sessions), [])

    def test_a_record_without_a_start_time_falls_back_to_the_command(self) -> None:
        """A record an older hook wrote (the name alone) counts while its PID is a pppd's."""
        w = self.world
        w.session(31, "alice")
        w.session(32, "alice", start=None)
        w.process(32, start=4000)  # a stat to read, but nothing in the record to match
        w.record(33, "alice")
        w.process(33, comm="sshd", start=4100)
        self.assertEqual(end_sessions({"alice"}, w.paths, w.kill), {"alice": 2})
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
        ended = end_sessions({"alice"}, w.paths, w.kill)
        self.assertEqual(ended, {"alice": 1})
        self.assertEqual(w.killed, [(11, signal.SIGTERM)])
        self.assertEqual(sorted(os.listdir(self.sessions)), [".14.tmp", "11"])

    def test_no_sessions_directory_is_no_session(self) -> None:
        shutil.rmtree(self.sessions)
        self.assertEqual(end_sessions({"alice"}, self.world.paths, self.world.kill), {})

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
        w.session(713, "alice", start=changed + 50 * CLOCK_TICKS)
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
        self.assertEqual(self.later(LATE_SESSION_WINDOW), ["ended 1 session recorded late (alice): started before the user's change"])
        w.session(732, "alice", start=changed - 20)
        self.assertEqual(self.later(LATE_SESSION_WINDOW + 0.01), [])
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
        self.assertEqual(self.later(60 + LATE_SESSION_WINDOW), [])
        self.assertFalse(self.ends.exists())

    def test_the_file_is_private_and_holds_no_secret(self) -> None:
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
        w.up_since(1000 + changed / CLOCK_TICKS)
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
            self.assertEqual(boot_ticks(w.paths), (int(whole) * 100 + int(hundredths)) * CLOCK_TICKS // 100, text)
        now = boot_ticks(Paths())
        assert now is not None
        self.assertGreater(now, 0)
        with open("/proc/self/stat") as f:
            self.assertLessEqual(int(f.read().rpartition(")")[2].split()[19]), now)
