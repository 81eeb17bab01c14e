# shellcheck shell=bash
# Sourced by run.sh: the run's verdict from the VM's cleaned console. What to expect is what the
# harness announced (its PLAN line, printed before it waits for cloud-init): an announced check
# that never reported fails, a reported check that was not announced fails, and a run whose
# harness announced nothing fails. test/e2eResults.test.ts runs it against made-up consoles.
#   plan_results CONSOLE_TXT TIMED_OUT(yes|no)  -> prints CHECK lines and "N passed, M failed";
#                                                returns 0 only when nothing failed
# E2E_STOP_AFTER (run.sh --stop-after): announced checks after the harness stopped early are SKIP.
plan_results() {
  local console=$1 timed_out=$2 planned name l pass=0 fail=0 why="the VM did not get that far"
  [ "$timed_out" = yes ] && why="$why, timeout"
  planned=$(grep -a '^PLAN ' "$console" | head -n 1 | cut -d' ' -f2- || true)
  if [ -z "$planned" ]; then echo "CHECK harness_plan FAIL the harness announced no checks ($why)"; fail=$((fail+1)); fi
  echo "the harness announced $(echo "$planned" | wc -w) checks"
  for name in $planned; do
    l=$(grep -a "^CHECK $name " "$console" | tail -n 1 || true)
    if [ -z "$l" ] && [ -n "${E2E_STOP_AFTER:-}" ] && grep -aq '^INFO stopping early' "$console"; then echo "CHECK $name SKIP not run (--stop-after $E2E_STOP_AFTER)"
    elif [ -z "$l" ]; then echo "CHECK $name FAIL missing ($why)"; fail=$((fail+1))
    elif [[ "$l" == "CHECK $name PASS"* ]]; then echo "$l"; pass=$((pass+1))
    else echo "$l"; fail=$((fail+1)); fi
  done
  # reported but not announced (the harness fails these itself; counted here too)
  while read -r name; do
    [[ " $planned " == *" $name "* ]] || { echo "CHECK $name FAIL reported but not announced in the harness's PLAN"; fail=$((fail+1)); }
  done < <(grep -aoE '^CHECK [a-z0-9_]+ ' "$console" | awk '{print $2}' | sort -u)
  [ "$timed_out" = yes ] && { echo "CHECK run_within_timeout FAIL"; fail=$((fail+1)); }
  echo "${pass} passed, ${fail} failed"
  [ $fail -eq 0 ]
}
