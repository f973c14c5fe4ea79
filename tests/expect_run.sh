#!/usr/bin/env bash
# expect_run.sh zero|nonzero REGEX -- COMMAND...
# Runs COMMAND and passes when its exit status and its output are as expected. The output is
# streamed to a file as it comes, and COMMAND gets EXPECT_RUN_TIMEOUT seconds (default 150,
# below CTest's limit for these tests): a command that runs out of time is stopped, and what
# it had printed is shown with the reason, instead of CTest killing it silently.
set -u
want=$1 pattern=$2
shift 3
log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout --kill-after=10 "${EXPECT_RUN_TIMEOUT:-150}" "$@" >"$log" 2>&1
status=$?
cat "$log"
if [[ $status -eq 124 || $status -eq 137 ]]; then
  echo "expect_run: timed out after ${EXPECT_RUN_TIMEOUT:-150} s (the output above is all it printed)"
  exit 1
fi
if [[ $want == zero && $status -ne 0 ]]; then echo "expect_run: wanted exit 0, got $status"; exit 1; fi
if [[ $want == nonzero && $status -eq 0 ]]; then echo "expect_run: wanted a failing exit, got 0"; exit 1; fi
if ! grep -Eq -- "$pattern" "$log"; then echo "expect_run: output lacks /$pattern/"; exit 1; fi
echo "expect_run: ok (exit $status)"
