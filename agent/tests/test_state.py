"""The state on disk (state.py): private, and what it remembers."""

from __future__ import annotations

import json
import logging
import stat
import unittest
from pathlib import Path

from support import PATH, PSK, Logs, World
from vpn_gateway_agent.state import Decrypted, Revision, State, load_state


class StateTest(unittest.TestCase):
    """sync-state.json."""

    def setUp(self) -> None:
        self.world = World(self)

    def test_state_is_private(self) -> None:
        self.world.standard()
        state_dir = Path(self.world.paths.state).parent
        self.assertEqual(stat.S_IMODE(state_dir.stat().st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(Path(self.world.paths.state).stat().st_mode), 0o600)
        for f in (self.world.paths.chap_secrets, self.world.paths.ipsec_secrets):
            self.assertEqual(stat.S_IMODE(Path(f).stat().st_mode), 0o600)
        self.assertEqual(self.world.state()["applied"][f"{PATH}/psk"]["value"], PSK)

    def test_round_trip_of_everything_it_remembers(self) -> None:
        state = State(
            applied={f"{PATH}/psk": Decrypted(Revision(3, "2025-01-01T00:00:03+00:00"), PSK)},
            applied_at="2025-01-01T00:00:04+00:00",
            pending={f"{PATH}/users/a": Decrypted(Revision(1, "2025-01-01T00:00:05+00:00"), "{}")},
            refused={f"{PATH}/users/b": Revision(2, "2025-01-01T00:00:06+00:00")},
            refused_listing={f"{PATH}/psk": Revision(3, "2025-01-01T00:00:03+00:00")},
            ignored=[f"{PATH}/other"],
            psk_reread_pending=True,
            ikev2_pending=True,
            ikev2_end=["bob"],
            ikev2_watch={"bob": 1234.5},
        )
        document = json.loads(json.dumps(state.to_json()))
        self.assertEqual(document["format"], 1)
        self.assertEqual(State.from_json(document), state)
        self.assertEqual(State.from_json(State().to_json()), State())

    def test_a_file_it_did_not_write_is_an_empty_state_and_logged(self) -> None:
        path = Path(self.world.paths.state)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.assertEqual(load_state(str(path)), State())  # none yet: nothing to say
        logs = Logs()
        logger = logging.getLogger("vpn-gateway-sync")
        logger.addHandler(logs)
        self.addCleanup(logger.removeHandler, logs)
        for text in ("{not json", '{"format": 2}', "[]", '{"format": 1, "applied": {"x": {"version": "v"}}}'):
            with self.subTest(text=text):
                logs.lines.clear()
                path.write_text(text)
                self.assertEqual(load_state(str(path)), State())
                self.assertEqual(len(logs.lines), 1)
                self.assertIn("cannot be read", logs.lines[0])
                self.assertIn("starting without a last good configuration", logs.lines[0])

