#!/bin/bash
# The fast suite (`npm test`): the build, then the type check, static analysis and the agent's
# tests beside mocha (one mocha process per core), each step's duration printed, then the total.
# Any step that fails fails the suite, after every step has finished and printed its output.
#   SERIAL=1                           one step after another and one mocha process, as before
#   VPN_GATEWAY_TEST_COMMANDS=ts-node  the command-line tests through ts-node, as before the
#                                      package was compiled (scripts/bench-suite.sh compares both)
set -uo pipefail
cd "$(dirname "$0")/.." || exit
start=$EPOCHREALTIME
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%6.1f", b - a }'; }
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=()

# step NAME COMMAND...: runs it here, its output as it comes.
step() {
    local name=$1 t0=$EPOCHREALTIME
    shift
    "$@" || failed+=("$name")
    printf 'fast suite: %-10s %s s\n' "$name" "$(seconds_since "$t0")"
}
# beside NAME COMMAND...: runs it in the background, its output kept for later (report).
beside() {
    local name=$1
    shift
    (
        t0=$EPOCHREALTIME
        "$@" >"$logs/$name.log" 2>&1
        echo "$? $(seconds_since "$t0")" >"$logs/$name.status"
    ) &
}
report() {
    local name=$1 rc seconds
    wait
    read -r rc seconds <"$logs/$name.status"
    cat "$logs/$name.log"
    [ "$rc" = 0 ] || failed+=("$name")
    printf 'fast suite: %-10s %s s (beside mocha)\n' "$name" "$seconds"
}

step build npm run -s build
[ ${#failed[@]} = 0 ] || exit 1   # every later step needs the build
if [ "${SERIAL:-}" = 1 ]; then
    step typecheck npx tsc --noEmit -p .
    # eslint and prettier; shellcheck runs in mocha (test/shellcheck.test.ts), pyflakes3 and mypy in test:agent
    step lint npm run -s lint:ts
    step agent npm run -s test:agent
    step mocha npx mocha
else
    beside typecheck npx tsc --noEmit -p .
    beside lint npm run -s lint:ts
    beside agent npm run -s test:agent
    # One worker per core: each test file in its own process (the mock runtime is per process).
    step mocha npx mocha --parallel --jobs "$(nproc)"
    for name in typecheck lint agent; do report "$name"; done
fi
printf 'fast suite: %-10s %s s\n' total "$(seconds_since "$start")"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fast suite: FAILED: ${failed[*]}" >&2
    exit 1
fi
