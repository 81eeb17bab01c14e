"""The command line (cli.py)."""

from __future__ import annotations

import unittest
from unittest import mock

from support import Unreachable, World
from vpn_gateway_agent.cli import main


class CliTest(unittest.TestCase):
    """vpn-gateway-sync boot|once, nothing else."""

    def setUp(self) -> None:
        self.world = World(self)

    def test_usage(self) -> None:
        cases: list[list[str]] = [[], ["sync"], ["once", "boot"]]
        for argv in cases:
            with self.subTest(argv=argv), mock.patch("sys.stderr"):
                self.assertEqual(main(argv, paths=self.world.paths, client=Unreachable()), 2)
