#!/bin/bash
# The project's tests from a fresh clone: installs what they need, then runs the fast suite
# (type check, validation, rendering, the AWS side under Pulumi's mock runtime).
# With --e2e it then boots the gateway in a VM and dials in with real clients.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--e2e" ]; then
    bash scripts/setup.sh test vm
    npm test
    npm run test:e2e
else
    bash scripts/setup.sh test
    npm test
fi
