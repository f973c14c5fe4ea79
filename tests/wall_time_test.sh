#!/usr/bin/env bash
# wall_time_test.sh NP SWEEP MPIEXEC...
# The wall time, end to end, with jobs/resumable_sweep at NP ranks:
#  1. SIGUSR1 mid-run (as `#SBATCH --signal=USR1@...` sends it): running tasks finish, the
#     program says how far it got and exits with mpp::wall_time_exit_code (75);
#  2. the rerun computes only the missing items and writes a CSV identical to an unstopped run;
#     the status log holds a row for each task that ran, over both runs, each item once;
#  3. a job end (MPP_JOB_END_TIME) near: the program stops by itself before it, with 75;
#  4. MPP_VERBOSE=1 ends the session with the per-worker summary.
set -u
np=$1 sweep=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "wall_time_test: $*"; for f in *.out; do echo "--- $f"; cat "$f"; done; exit 1; }
seeds=2 # 24 tasks of 0.3 s
run() { timeout --kill-after=10 120 "$@" -np "$np" "$sweep" "$seeds" 300 "$journal" "$csv" "$journal.tsv"; }
# The status log's rows (its first line names the columns) with outcome ok: their item column, sorted.
logged_items() { awk -F'\t' 'NR > 1 && $10 == "ok" { print $1 }' "$1" | sort -n; }

journal=stopped.journal csv=stopped.csv
run "$@" >signal.out 2>&1 &
pid=$!
launcher() { pgrep -P "$(pgrep -P "$pid" -x timeout)"; }  # run's timeout's child: mpirun
# Signal once the first result is journaled (the header is 40 bytes): the map is running.
for _ in $(seq 600); do
  [[ -f $journal && $(stat -c %s "$journal") -gt 40 ]] && break
  sleep 0.1
done
kill -USR1 "$(launcher)"  # mpirun forwards it to every rank
wait "$pid"
status=$?
[[ $status -eq 75 ]] || fail "SIGUSR1: wanted exit 75, got $status"
done_line=$(grep -Eo "map: [0-9]+ of 24 items done, journal $journal" signal.out) || fail "no wall-time report"
stopped_at=$(echo "$done_line" | awk '{print $2}')
[[ $stopped_at -lt 24 ]] || fail "the map finished before the signal; nothing was tested"
[[ -f $csv ]] && fail "a stopped sweep wrote its CSV"
[[ $(logged_items "$journal.tsv" | wc -l) -eq $stopped_at ]] || fail "the status log lacks rows of the stopped run"

run "$@" >rerun.out 2>&1 || fail "the rerun failed"
grep -q "24/24 items (100%).*$stopped_at from the journal" rerun.out || fail "the rerun did not resume from $stopped_at items"
[[ $(logged_items "$journal.tsv") == "$(seq 0 23)" ]] || fail "the status log of both runs is not every item once"

journal=whole.journal csv=whole.csv
MPP_VERBOSE=1 run "$@" >whole.out 2>&1 || fail "the unstopped run failed"
grep -q "mpp: summary: 24 pool tasks on $((np - 1)) workers" whole.out || fail "no MPP_VERBOSE summary"
grep -q "mpp:   load balance: mean busy" whole.out || fail "the summary lacks the load balance"
cmp stopped.csv whole.csv || fail "a stopped and resumed sweep differs from an unstopped one"

journal=deadline.journal csv=deadline.csv seeds=8 # 96 tasks: at least 7 s at 4 workers, beyond the end
start=$(date +%s)
MPP_JOB_END_TIME=$((start + 5)) run "$@" >deadline.out 2>&1
status=$?
took=$(($(date +%s) - start))
[[ $status -eq 75 ]] || fail "job end near: wanted exit 75, got $status"
grep -q "the job's time limit is near" deadline.out || fail "no time-limit report"
[[ $took -le 6 ]] || fail "it ended after the job's end ($took s)"
echo "wall_time_test: ok (stopped at $stopped_at of 24 items, resumed identical; stopped itself ${took} s after start)"
