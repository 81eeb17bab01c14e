"""The journal's lines (journal.py): one logger, and lists of names that stay one short line."""

from __future__ import annotations

import logging
import unittest

from vpn_gateway_agent.journal import LOG, NAMES_SHOWN, names_list


class JournalTest(unittest.TestCase):
    def test_the_logger_is_the_units_name(self) -> None:
        self.assertIs(LOG, logging.getLogger("vpn-gateway-sync"))

    def test_names_sorted_and_cut_after_names_shown(self) -> None:
        self.assertEqual(names_list([]), "")
        self.assertEqual(names_list(["carol", "alice", "bob"]), "alice, bob, carol")
        names = [f"u{i:04d}" for i in range(5000)]
        line = names_list(reversed(names))
        self.assertEqual(line, ", ".join(names[:NAMES_SHOWN]) + f" and {5000 - NAMES_SHOWN} more")
        self.assertEqual(names_list(names[: NAMES_SHOWN + 1]), ", ".join(names[:NAMES_SHOWN]) + " and 1 more")
        self.assertEqual(names_list(names[:NAMES_SHOWN]), ", ".join(names[:NAMES_SHOWN]))
