#!/usr/bin/env bash
# farm_test.sh NP FARM MPIEXEC...
# mpp-farm end to end at NP ranks (NP-1 workers): placeholders and the environment, the joblog
# parsed back, exit codes, retries, resume and resume-failed, --timeout killing a task and what
# it started, --halt now and soon, disBatch directives (REPEAT, BARRIER, BARRIER CHECK), output
# never interleaved (stdout and --output files), the wall time and SIGUSR1 with a resumed rerun,
# and a run started alone (no launcher).
set -u
np=$1 farm=$2
shift 2
mpiexec=("$@")
workers=$((np - 1))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() {
  echo "farm_test (np $np): $*"
  for f in *.out *.err *.log; do [[ -f $f ]] && { echo "--- $f"; head -40 "$f"; }; done
  exit 1
}
# Runs the farm, stdout to $name.out, stderr to $name.err; sets status.
farm() {
  local name=$1
  shift
  timeout --kill-after=10 120 "${mpiexec[@]}" -q -np "$np" "$farm" "$@" >"$name.out" 2>"$name.err"
  status=$?
}
rows() { tail -n +2 "$1"; } # a joblog without its header
# Durations of the tasks that must be killed, unique to this run: farms of other tests may run beside.
long=100.$$ longer=60.$$
gone() { ! pgrep -f "$1" >/dev/null; }

# --- placeholders, the slot and the environment --------------------------------------------
farm place -j 2 --joblog place.log 'echo {#} {%} $PARALLEL_SEQ $PARALLEL_JOBSLOT {.} {}' ::: a.txt b.txt c.txt d.txt e.txt
[[ $status -eq 0 ]] || fail "placeholders: exit $status"
[[ $(wc -l <place.out) -eq 5 ]] || fail "placeholders: wanted 5 output lines"
awk -v slots=$((workers * 2)) '$1 != $3 || $2 != $4 || $2 < 1 || $2 > slots || $5 ".txt" != $6 { bad = 1 }
     END { exit bad }' place.out || fail "placeholders: {#}/{%}/PARALLEL_* or {.} wrong"
[[ $(awk '{print $1}' place.out | sort -n | tr '\n' ' ') == "1 2 3 4 5 " ]] || fail "placeholders: seqs"

# --- the joblog, parsed back ---------------------------------------------------------------
[[ $(head -1 place.log) == $'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand' ]] ||
  fail "joblog header"
rows place.log | awk -F'\t' -v host="$(hostname)" 'NF != 9 || $2 != host || $3 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ ||
     $4 + 0 < 0 || $5 != 0 || $6 < 6 || $7 != 0 || $8 != 0 || $9 !~ /^echo [0-9]+ .* [a-e]\.txt$/ { bad = 1 }
     END { exit bad || NR != 5 }' || fail "joblog rows malformed"
[[ $(rows place.log | cut -f1 | sort -n | uniq | wc -l) -eq 5 ]] || fail "joblog: each seq once"

# --- exit codes: the failed count, capped at 101 -------------------------------------------
farm codes 'exit {}' ::: 0 1 2 0 3
[[ $status -eq 3 ]] || fail "3 failing tasks: wanted exit 3, got $status"
farm many 'exit 1' ::: $(seq 105)
[[ $status -eq 101 ]] || fail "105 failing tasks: wanted exit 101, got $status"

# --- retries: a task runs up to N times; one that mends stops there -----------------------
farm retry --retries 3 --joblog retry.log 'echo run >> runs.{}; [ {} = mends ] && [ $(wc -l < runs.{}) -ge 2 ]' ::: never mends
[[ $status -eq 1 ]] || fail "retries: wanted exit 1 (one task never mends), got $status"
[[ $(wc -l <runs.never) -eq 3 && $(wc -l <runs.mends) -eq 2 ]] || fail "retries: runs $(wc -l <runs.never)/$(wc -l <runs.mends), wanted 3/2"
[[ $(rows retry.log | wc -l) -eq 2 ]] || fail "retries: the joblog has one row per task"

# --- resume and resume-failed --------------------------------------------------------------
farm first --joblog resume.log 'echo {} >> ran; exit {}' ::: 0 1 0 2
[[ $status -eq 2 && $(wc -l <ran) -eq 4 ]] || fail "resume: the first run"
farm again --joblog resume.log --resume 'echo {} >> ran; exit {}' ::: 0 1 0 2
[[ $status -eq 0 && $(wc -l <ran) -eq 4 ]] || fail "--resume ran logged tasks again (exit $status)"
farm failed --joblog resume.log --resume-failed 'echo {} >> ran; exit 0' ::: 0 1 0 2
[[ $status -eq 0 && $(wc -l <ran) -eq 6 ]] || fail "--resume-failed: wanted the 2 failed tasks rerun (exit $status)"
[[ $(sort ran | tr '\n' ' ') == "0 0 1 1 2 2 " ]] || fail "--resume-failed reran the wrong tasks: $(sort ran | tr '\n' ' ')"
farm changed --joblog resume.log --resume 'true {}' ::: 0 1 0 2
grep -q "4 task(s) skipped by --resume have another command" changed.err || fail "--resume: no note that the commands changed"

# --- timeout: the task and what it started are killed --------------------------------------
start=$SECONDS
farm timeout --timeout 1 --joblog timeout.log 'sleep {} & wait' ::: "$long" 0.1
[[ $status -eq 1 ]] || fail "--timeout: wanted exit 1, got $status"
((SECONDS - start < 60)) || fail "--timeout: took $((SECONDS - start)) s"
rows timeout.log | awk -F'\t' '$1 == 1 && $7 == -1 && $8 == 9 { found = 1 } END { exit !found }' ||
  fail "--timeout: no row with Exitval -1 and Signal 9"
gone "sleep $long" || fail "--timeout: the task's sleep survived"

# --- halt ----------------------------------------------------------------------------------
start=$SECONDS
farm halt -j 2 --halt now,fail=1 --joblog halt.log "[ {} = fail ] && exit 4; sleep $longer" ::: fail s1 s2 s3
[[ $status -eq 4 ]] || fail "--halt now,fail=1: wanted the failed task's exit status 4, got $status"
((SECONDS - start < 50)) || fail "--halt now: the running tasks were not killed"
gone "sleep $longer" || fail "--halt now: a task survived"
# The first task fails at once, while those sent with it run for 2 s.
farm soon --halt soon,fail=1 --joblog soon.log '[ {} = 1 ] && exit 1; sleep 2' ::: 1 0 0 0 0 0 0 0 0 0 0 0
[[ $status -eq 1 ]] || fail "--halt soon,fail=1: wanted exit 1, got $status"
ran=$(rows soon.log | wc -l)
# Those running at the failure, and the one each rank held ready behind them.
((ran >= 1 && ran <= 2 * workers)) || fail "--halt soon: $ran tasks ran, wanted at most $((2 * workers))"

# --- disBatch directives -------------------------------------------------------------------
cat >Tasks <<EOF
#DISBATCH PREFIX cd $work && 
#DISBATCH REPEAT 4 start 10 step 5 sleep 0.3; date +%s.%N > before.\$DISBATCH_REPEAT_INDEX
#DISBATCH BARRIER
#DISBATCH SUFFIX ; echo \$DISBATCH_TASKID \$DISBATCH_NAMETASKS
date +%s.%N > after
EOF
farm disbatch --joblog disbatch.log Tasks
[[ $status -eq 0 ]] || fail "disBatch file: exit $status"
[[ $(ls before.* | tr '\n' ' ') == "before.10 before.15 before.20 before.25 " ]] || fail "REPEAT indexes: $(ls before.*)"
last_before=$(cat before.* | sort -n | tail -1)
awk -v b="$last_before" '{ exit !($1 >= b) }' after || fail "BARRIER: a later task started before an earlier one ended"
grep -qx "4 Tasks" disbatch.out || fail "SUFFIX/DISBATCH_TASKID/DISBATCH_NAMETASKS: got $(cat disbatch.out)"
printf '%s\n' 'exit 3' '#DISBATCH BARRIER CHECK' "touch $work/never" >Checked
farm checked Checked
[[ $status -ne 0 && ! -e never ]] || fail "BARRIER CHECK: the task after a failed barrier ran (exit $status)"

# --- output never interleaved --------------------------------------------------------------
farm lines -j 2 --tag 'for i in $(seq 300); do echo line-$i-of-{}; done' ::: a b c d
[[ $status -eq 0 && $(wc -l <lines.out) -eq 1200 ]] || fail "output: wanted 1200 lines"
# Each task's lines arrive together and whole: the tag changes 3 times in 1200 lines.
[[ $(cut -f1 lines.out | uniq | wc -l) -eq 4 ]] || fail "output: the tasks' lines were interleaved"
awk -F'\t' '$2 != "line-" (NR - 1) % 300 + 1 "-of-" $1 { bad = 1 } END { exit bad }' lines.out ||
  fail "output: a line was cut or tagged wrongly"
mkdir outdir
farm files -j 2 --output outdir 'for i in $(seq 300); do echo {}-$i; done; echo problem-{} >&2' ::: a b c d
[[ $status -eq 0 && ! -s files.out ]] || fail "--output: the output went to stdout"
[[ $(cat outdir/rank-*.out | grep -c '^==> task') -eq 4 ]] || fail "--output: wanted 4 task headers"
for f in outdir/rank-*.out; do
  awk '/^==> task/ { if (NR > 1 && n != 300) bad = 1; n = 0; next }
       { dash = index($0, "-"); arg = substr($0, 1, dash - 1); if (n == 0) first = arg
         n++; if (arg != first || substr($0, dash + 1) != n) bad = 1 }
       END { exit bad || n != 300 }' "$f" || fail "--output: a block in $f was interleaved or cut"
done
[[ $(cat outdir/rank-*.err | grep -c '^problem-') -eq 4 ]] || fail "--output: stderr blocks missing"

# --- wall time: stop before the job's end, resume the rest ---------------------------------
tasks=$((workers * 8))
MPP_JOB_END_TIME=$(($(date +%s) + 9)) MPP_PROGRESS_INTERVAL=1 farm limited --joblog wall.log --progress \
  'sleep 1; echo {}' ::: $(seq "$tasks")
[[ $status -eq 75 ]] || fail "wall time: wanted exit 75, got $status"
grep -q "run again with --resume" limited.err || fail "wall time: no advice to resume"
grep -Eq "^mpp-farm: [0-9]+/$tasks tasks" limited.err || fail "--progress: no progress lines"
done_first=$(rows wall.log | wc -l)
((done_first > 0 && done_first < tasks)) || fail "wall time: $done_first of $tasks done in the limited run"
farm resumed --joblog wall.log --resume 'sleep 1; echo {}' ::: $(seq "$tasks")
[[ $status -eq 0 ]] || fail "wall time: the resumed run, exit $status"
[[ $(rows wall.log | cut -f1 | sort -n | uniq | wc -l) -eq $tasks && $(rows wall.log | wc -l) -eq $tasks ]] ||
  fail "wall time: the joblog does not have every task exactly once"
[[ $(cat limited.out resumed.out | sort -n | uniq | wc -l) -eq $tasks ]] || fail "wall time: outputs missing"

# --- SIGUSR1: the running tasks finish, nothing more starts ---------------------------------
timeout --kill-after=10 120 "${mpiexec[@]}" -q -np "$np" "$farm" --joblog usr1.log 'sleep 0.7' ::: $(seq 100) \
  >usr1.out 2>usr1.err &
pid=$!
for _ in $(seq 300); do
  [[ $(rows usr1.log 2>/dev/null | wc -l) -ge 1 ]] && break
  sleep 0.1
done
kill -USR1 "$(pgrep -P "$pid")" # timeout's child, mpirun, forwards it to the ranks
wait "$pid"
status=$?
[[ $status -eq 75 ]] || fail "SIGUSR1: wanted exit 75, got $status"
ran=$(rows usr1.log | wc -l)
((ran < 100)) || fail "SIGUSR1: every task ran"
grep -q "0 unfinished task(s)" usr1.err || fail "SIGUSR1: running tasks were killed instead of finishing"

# --- started alone, as GNU parallel is: it spawns its workers ------------------------------
# (tasks on stdin: Open MPI's helper daemon of a program started alone must not take them)
printf 'a\nb\nc\n' | MPP_WORKERS=2 timeout 120 "$farm" 'echo alone-{}' >alone.out 2>alone.err
status=$?
[[ $status -eq 0 && $(sort alone.out | tr '\n' ' ') == "alone-a alone-b alone-c " ]] ||
  fail "started alone: exit $status, $(cat alone.out alone.err)"
[[ $("$farm" --dry-run 'echo {#}' ::: a b | tail -1) == "echo 2 b" ]] || fail "--dry-run"
"$farm" --halt sometimes tasks.txt 2>usage.err
[[ $? -eq 2 ]] && grep -q "^mpp-farm: --halt sometimes" usage.err || fail "a usage error: $(cat usage.err)"
"$farm" --help | grep -q "^EXIT STATUS" || fail "--help"
echo "farm_test (np $np): all checks passed"
