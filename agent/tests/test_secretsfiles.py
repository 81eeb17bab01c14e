"""chap-secrets and ipsec.secrets (secretsfiles.py): 0600, atomic, rewritten only on change."""

from __future__ import annotations

import os
import stat
import unittest
from pathlib import Path
from unittest import mock

from support import PSK, World
from vpn_gateway_agent.configuration import Configuration, User
from vpn_gateway_agent.secretsfiles import render_chap_secrets, render_ipsec_secrets, write_atomically


class FilesTest(unittest.TestCase):
    """The files pppd and pluto read, and the state: 0600, atomic, rewritten only on change."""

    def setUp(self) -> None:
        self.world = World(self)
        self.configuration = Configuration(PSK, {"bob": User("bob", "pb"), "alice": User("alice", "pa", "192.168.42.10")})

    def test_chap_secrets_format(self) -> None:
        text = render_chap_secrets(self.configuration, self.world.config)
        lines = text.split("\n")
        self.assertTrue(lines[0].startswith("# Written by vpn-gateway-sync"))
        self.assertEqual(lines[1:], ["# client\tserver\tsecret\tIP addresses", '"alice"\tl2tpd\t"pa"\t192.168.42.10', '"bob"\tl2tpd\t"pb"\t*', ""])

    def test_ipsec_secrets_format(self) -> None:
        text = render_ipsec_secrets(self.configuration, self.world.config)
        self.assertEqual(text.split("\n")[1:], [f'%any %any : PSK "{PSK}"', ""])
        self.assertTrue(text.startswith("# Written by vpn-gateway-sync from /vpn-gateway/dev/psk."))

    def test_written_0600_by_rename_with_no_temporary_left(self) -> None:
        target = Path(self.world.paths.chap_secrets)
        target.write_text("old\n")
        os.chmod(target, 0o644)
        before = target.stat().st_ino
        old_umask = os.umask(0)
        try:
            self.assertTrue(write_atomically(str(target), "new\n"))
        finally:
            os.umask(old_umask)
        self.assertEqual(target.read_text(), "new\n")
        self.assertEqual(stat.S_IMODE(target.stat().st_mode), 0o600)
        self.assertNotEqual(target.stat().st_ino, before, "replaced by rename, not rewritten in place")
        self.assertEqual(sorted(os.listdir(target.parent)), ["chap-secrets"])

    def test_fsynced_before_the_rename(self) -> None:
        target = str(Path(self.world.paths.chap_secrets))
        events: list[str] = []
        real_fsync, real_replace = os.fsync, os.replace
        renames: list[tuple[str, str]] = []

        def fsync(fd: int) -> None:
            events.append("fsync")
            real_fsync(fd)

        def replace(a: str, b: str) -> None:
            events.append("replace")
            renames.append((a, b))
            real_replace(a, b)

        with mock.patch.object(os, "fsync", side_effect=fsync), mock.patch.object(os, "replace", side_effect=replace):
            write_atomically(target, "x\n")
        self.assertEqual(events[:2], ["fsync", "replace"])
        # rename(2) is atomic within one file system: the temporary file sits beside the target.
        self.assertEqual([os.path.dirname(a) for a, _ in renames], [os.path.dirname(target)])
        self.assertEqual([b for _, b in renames], [target])

    def test_a_failed_write_leaves_the_old_file(self) -> None:
        target = Path(self.world.paths.chap_secrets)
        target.write_text("old\n")
        with mock.patch.object(os, "fsync", side_effect=OSError(28, "No space left on device")):
            with self.assertRaises(OSError):
                write_atomically(str(target), "new\n")
        self.assertEqual(target.read_text(), "old\n")
        self.assertEqual(sorted(os.listdir(target.parent)), ["chap-secrets"])

    def test_unchanged_content_is_not_rewritten(self) -> None:
        target = Path(self.world.paths.ipsec_secrets)
        self.assertTrue(write_atomically(str(target), "same\n"))
        inode = target.stat().st_ino
        self.assertFalse(write_atomically(str(target), "same\n"))
        self.assertEqual(target.stat().st_ino, inode)

