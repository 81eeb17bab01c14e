"""The agent's lines in the journal: one logger, and lists of names kept to one short line."""

from __future__ import annotations

import logging
from typing import Iterable

LOG = logging.getLogger("vpn-gateway-sync")

# How many names a summary line spells out before it says "and N more".
NAMES_SHOWN = 10


def names_list(names: Iterable[str]) -> str:
    """'a, b, c' with at most NAMES_SHOWN names spelled out: a first sync of 5,000 users stays one line."""
    ordered = sorted(names)
    shown = ", ".join(ordered[:NAMES_SHOWN])
    return shown + (f" and {len(ordered) - NAMES_SHOWN} more" if len(ordered) > NAMES_SHOWN else "")
