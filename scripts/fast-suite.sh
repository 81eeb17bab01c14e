#!/bin/bash
# The fast suite (`npm test`): each step with its duration, then the total. A step that fails
# stops the suite with its exit status.
#   VPN_GATEWAY_TEST_COMMANDS=ts-node  runs the command-line tests through ts-node, as before the
#                                      package was compiled (scripts/bench-suite.sh compares both)
#   MOCHA_SERIAL=1                     one mocha process instead of one per core
set -euo pipefail
cd "$(dirname "$0")/.."
start=$EPOCHREALTIME
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%6.1f", b - a }'; }
step() {
    local name=$1
    shift
    local t0=$EPOCHREALTIME
    "$@"
    printf 'fast suite: %-10s %s s\n' "$name" "$(seconds_since "$t0")"
}
step build npm run -s build
step typecheck npx tsc --noEmit -p .
# eslint and prettier; shellcheck runs in mocha (test/shellcheck.test.ts), pyflakes3 and mypy in test:agent
step lint npm run -s lint:ts
step agent npm run -s test:agent
if [ "${MOCHA_SERIAL:-}" = 1 ]; then
    step mocha npx mocha
else
    # One worker per core: each test file in its own process (the mock runtime is per process).
    step mocha npx mocha --parallel --jobs "$(nproc)"
fi
printf 'fast suite: %-10s %s s\n' total "$(seconds_since "$start")"
