#!/bin/bash
# Try the gateway without AWS: boots it in a local VM from a stack config (the example stack by
# default) and connects a demo client through it. Usage: scripts/try.sh [--config FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh vm
. scripts/node-env.sh   # Node 24 from .tools/node-24 where setup installed it
exec bash e2e/try.sh "$@"
