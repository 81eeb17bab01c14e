#!/bin/bash
# The project's tests from a fresh clone: installs what they need, then runs the fast suite
# (type check, validation, rendering, the AWS side under Pulumi's mock runtime).
# With --e2e it then boots the gateway in a VM and dials in with real clients.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--e2e" ]; then
    bash scripts/setup.sh test vm
else
    bash scripts/setup.sh test
fi
. scripts/node-env.sh   # Node 24 from .tools/node-24 where setup installed it
echo "test: Node $(node --version) ($(command -v node)), npm $(npm --version 2>/dev/null)"
npm test
if [ "${1:-}" = "--e2e" ]; then
    npm run test:e2e
fi
