"""The command line: vpn-gateway-sync boot|once."""

from __future__ import annotations

import logging
import sys
from typing import Any, Optional

from .journal import LOG
from .settings import ConfigFileError, Paths, load_config
from .ssm import make_client
from .sync import Sync

USAGE = "usage: vpn-gateway-sync boot|once"


def main(argv: list[str], *, paths: Optional[Paths] = None, client: Any = None) -> int:
    """Entry point. Exit status: 0 done, 1 see the log, 2 usage or sync.json problems."""
    if not LOG.handlers:
        # The sync's own lines only: botocore's INFO lines ("Found credentials from IAM Role")
        # would fill the journal every 30 seconds. Its warnings still reach stderr.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
        LOG.propagate = False
    if len(argv) != 1 or argv[0] not in ("boot", "once"):
        print(USAGE, file=sys.stderr)
        return 2
    paths = paths or Paths()
    try:
        config = load_config(paths.config)
    except ConfigFileError as e:
        LOG.error("error: %s; nothing done", e)
        return 2
    sync = Sync(config, client if client is not None else make_client(config), paths)
    return sync.boot() if argv[0] == "boot" else sync.once()
