"""python3 -m vpn_gateway_agent boot|once (the zipapp's __main__.py does the same)."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
