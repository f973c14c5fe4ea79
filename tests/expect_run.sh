#!/usr/bin/env bash
# expect_run.sh zero|nonzero REGEX -- COMMAND...
# Runs COMMAND and passes when its exit status and its output are as expected.
set -u
want=$1 pattern=$2
shift 3
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
if [[ $want == zero && $status -ne 0 ]]; then echo "expect_run: wanted exit 0, got $status"; exit 1; fi
if [[ $want == nonzero && $status -eq 0 ]]; then echo "expect_run: wanted a failing exit, got 0"; exit 1; fi
if ! grep -Eq -- "$pattern" <<<"$output"; then echo "expect_run: output lacks /$pattern/"; exit 1; fi
echo "expect_run: ok (exit $status)"
