#!/usr/bin/env bash
# Submits every slurm/*.sbatch to a local one-node Slurm (tests/slurm/local_slurm.sh) with
# `sbatch --wait` and checks each job's state, exit code and output; then checks that a task
# that throws and a rank that dies both end their job with a failure, promptly.
#
#   tests/slurm/test_sbatch_scripts.sh      (from anywhere; needs root, slurm-wlm and munge)
#
# Starts the cluster only if it is not already up, and stops only what it started.
# Exit 77 means skipped (no Slurm here).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
local_slurm=tests/slurm/local_slurm.sh
eval "$($local_slurm env)"
started=0
if ! sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then
  $local_slurm start || exit $?
  started=1
fi
out=$(mktemp -d /tmp/mpp-sbatch.XXXXXX)
cleanup() {
  [[ $started -eq 1 ]] && $local_slurm stop
  rm -rf "$out"
}
trap cleanup EXIT

failures=0
# check NAME WANT(completed|failed) MAX_SECONDS PATTERN... -- SBATCH_ARGS...
check() {
  local name=$1 want=$2 max_seconds=$3
  shift 3
  local patterns=()
  while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
  shift
  local log=$out/$name.out start=$SECONDS
  local id
  id=$(sbatch --parsable --wait -o "$log" "$@" 2>"$out/$name.err")
  local status=$? elapsed=$((SECONDS - start))
  id=${id%%;*}
  local state
  state=$(scontrol show job "$id" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1)
  local problems=()
  if [[ $want == completed ]]; then
    [[ $status -eq 0 ]] || problems+=("sbatch --wait returned $status")
    [[ $state == JobState=COMPLETED ]] || problems+=("state $state")
  else
    [[ $status -ne 0 ]] || problems+=("the job should have failed but returned 0")
    [[ $state == JobState=FAILED ]] || problems+=("state $state, wanted FAILED")
  fi
  [[ $elapsed -le $max_seconds ]] || problems+=("took ${elapsed}s, more than ${max_seconds}s")
  # An array's `sbatch --wait` can return before the last task's output file is complete:
  # give the files a few seconds to show every pattern.
  local missing=()
  for ((tries = 0; tries < 20; tries++)); do
    missing=()
    for p in "${patterns[@]}"; do
      cat "$out/$name".out* 2>/dev/null | grep -Eq -- "$p" || missing+=("output lacks /$p/")
    done
    [[ ${#missing[@]} -eq 0 ]] && break
    sleep 0.5
  done
  problems+=("${missing[@]}")
  if [[ ${#problems[@]} -eq 0 ]]; then
    echo "ok   $name (job $id, $state, ${elapsed}s)"
  else
    echo "FAIL $name (job $id): ${problems[*]}"
    cat "$out/$name".out* "$out/$name.err" 2>/dev/null | sed 's/^/     | /' | tail -25
    failures=$((failures + 1))
  fi
}

pi=(build/jobs/monte_carlo_pi --samples 20000000)
check pool_node.srun completed 300 \
  "launcher srun" "ranks: 56 \(1 master \+ 55 workers\) on 1 node" "idle: 55 workers used" "^result: pi ~= 3\.1" \
  -- slurm/pool_node.sbatch "${pi[@]}" --idle 1
check pool_node.mpirun completed 300 \
  "launcher: mpirun inside Slurm" "ranks: 56 \(1 master \+ 55 workers\)" "^result: pi ~= 3\.1" \
  -- --export=ALL,MPP_LAUNCHER=mpirun slurm/pool_node.sbatch "${pi[@]}"
check pool_node.default_job completed 300 "^result: pi ~= 3\.14" "idle: 55 workers" -- slurm/pool_node.sbatch
check pool_nodes.one_node completed 300 "Slurm job [0-9]+: 56 tasks on 1 node" "^result: pi" \
  -- -N 1 slurm/pool_nodes.sbatch "${pi[@]}"
check param_sweep completed 300 "array task 0" "array task 3" "--samples 80000000|from 80000000 samples" \
  "from 10000000 samples .*seed 0" "from 40000000 samples .*seed 2" -- -o "$out/param_sweep.out.%a" slurm/param_sweep.sbatch
check embedded completed 300 "analysis: 8 snapshots on 7 workers of 16 ranks" \
  "^result: total heat 1000\.000000 \(conserved: yes\), 16 ranks back" -- slurm/embedded.sbatch --steps 20
# The installed templates, submitted from another directory, find the installed mpp-launch on PATH.
prefix=$out/prefix
cmake --install build --prefix "$prefix" >/dev/null
[[ -x $prefix/bin/mpp-farm && -x $prefix/share/mpp/slurm/farm.sbatch ]] &&
  "$prefix/bin/mpp-farm" --help | grep -q "^EXIT STATUS" || {
  echo "FAIL installed: mpp-farm or farm.sbatch missing from $prefix"
  failures=$((failures + 1))
}
check installed.pool_node completed 300 "launcher srun" "^result: pi ~= 3\.1" \
  -- --chdir="$out" --export="ALL,PATH=$prefix/bin:$PATH" "$prefix/share/mpp/slurm/pool_node.sbatch" "$root/${pi[0]}" \
  "${pi[@]:1}"
check failure.task_throws failed 240 \
  "uncaught mpp::RemoteError: the random stream failed on purpose" "raised by item [0-9]+ on rank [0-9]+, host " \
  -- slurm/pool_node.sbatch "${pi[@]}" --fail
check failure.rank_dies.srun failed 240 "Signal: Aborted" "monte_carlo_pi failed with status" \
  -- slurm/pool_node.sbatch "${pi[@]}" --kill-worker
check failure.rank_dies.mpirun failed 240 "Signal: Aborted" "monte_carlo_pi failed with status" \
  -- --export=ALL,MPP_LAUNCHER=mpirun slurm/pool_node.sbatch "${pi[@]}" --kill-worker

# Waits for job ID and the chain of jobs it resubmitted (mpp-launch names each in LOG), for at
# most MAX_SECONDS in all; prints ID:STATE per allocation.
follow_resubmissions() {
  local id=$1 log=$2 max_seconds=$3 start=$SECONDS jobs=0
  while [[ -n $id && $((SECONDS - start)) -lt $max_seconds ]]; do
    jobs=$((jobs + 1))
    local state=
    while [[ $((SECONDS - start)) -lt $max_seconds ]]; do
      state=$(scontrol show job "$id" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2)
      [[ $state =~ ^(PENDING|RUNNING|CONFIGURING|COMPLETING|)$ ]] || break
      sleep 2
    done
    echo "$id:$state"
    id=$(grep -o "resubmitted as job [0-9]*" "$log" 2>/dev/null | sed -n "${jobs}p" | awk '{print $4}')
  done
}

# The joblog FILE holds exactly one row for each of tasks 1..N, every one with exit 0.
joblog_complete() {
  local file=$1 n=$2
  [[ $(tail -n +2 "$file" | cut -f1 | sort -n) == "$(seq "$n")" ]] &&
    tail -n +2 "$file" | awk -F'\t' '$7 != 0 || $8 != 0 { bad = 1 } END { exit bad }'
}

# The resumable sweep with a 1-minute limit and about 3 minutes of work (288 tasks of 2 s on 3
# workers): each allocation stops itself before its limit and resubmits the script; the chain
# ends COMPLETED, no job of it TIMEOUT, with a CSV identical to an unlimited run's.
check_resumable_sweep() {
  local dir=$out/sweep start=$SECONDS problems=()
  mkdir -p "$dir"
  tools/mpprun -np 5 build/jobs/resumable_sweep 24 1 "$dir/reference.journal" "$dir/reference.csv" \
    "$dir/reference.tsv" >"$dir/reference.out" 2>&1 ||
    problems+=("the reference run failed")
  local id states=()
  id=$(sbatch --parsable --time=1 --ntasks=4 -o "$out/sweep.out" slurm/sweep_resumable.sbatch 24 2000 \
    "$dir/sweep.journal" "$dir/sweep.csv" "$dir/sweep.tsv" 2>"$out/sweep.err")
  mapfile -t states < <(follow_resubmissions "$id" "$out/sweep.out" 900)
  [[ ${#states[@]} -ge 2 ]] || problems+=("it ran in ${#states[@]} allocation(s), not several")
  for s in "${states[@]}"; do [[ $s == *:COMPLETED ]] || problems+=("job $s"); done
  cmp -s "$dir/sweep.csv" "$dir/reference.csv" || problems+=("its CSV differs from an unlimited run's")
  grep -q "stopped for the wall time; resubmitted" "$out/sweep.out" || problems+=("no resubmission reported")
  # The status log, appended to by every allocation: each of the 288 items once with outcome ok.
  [[ $(awk -F'\t' 'NR > 1 && $10 == "ok" { print $1 }' "$dir/sweep.tsv" 2>/dev/null | sort -n) == "$(seq 0 287)" ]] ||
    problems+=("its status log is not a row per item")
  grep -q "mpp:   load balance" "$out/sweep.out" || problems+=("no MPP_VERBOSE summary in the job's log")
  if [[ ${#problems[@]} -eq 0 ]]; then
    echo "ok   sweep_resumable (${#states[@]} allocations: ${states[*]}, $((SECONDS - start))s)"
  else
    echo "FAIL sweep_resumable: ${problems[*]}"
    cat "$out/sweep.out" "$out/sweep.err" "$dir/reference.out" 2>/dev/null | sed 's/^/     | /' | tail -40
    failures=$((failures + 1))
  fi
}
check_resumable_sweep

# mpp-farm: the example task file in one allocation, every line run once; then a farm longer
# than its 1-minute limit (480 tasks of 1 s on 7 workers) resubmitting itself until done.
check farm.example completed 300 "wrote the example task file" "point 1000: 1000000 on " \
  -- slurm/farm.sbatch "$out/farm_tasks.txt"
joblog_complete "$out/farm_tasks.joblog" 1000 || {
  echo "FAIL farm.example: the joblog is not one successful row per task"
  failures=$((failures + 1))
}
check_farm_resubmitted() {
  local start=$SECONDS problems=() states=() id
  for i in $(seq 480); do echo "sleep 1; echo done $i"; done >"$out/long_tasks.txt"
  id=$(sbatch --parsable --time=1 --ntasks=8 -o "$out/long_farm.out" slurm/farm.sbatch "$out/long_tasks.txt" \
    "$out/long.joblog" 2>"$out/long_farm.err")
  mapfile -t states < <(follow_resubmissions "$id" "$out/long_farm.out" 600)
  [[ ${#states[@]} -ge 2 ]] || problems+=("it ran in ${#states[@]} allocation(s), not several")
  for s in "${states[@]}"; do [[ $s == *:COMPLETED ]] || problems+=("job $s"); done
  joblog_complete "$out/long.joblog" 480 || problems+=("the joblog is not one successful row per task")
  [[ $(grep -c "^done [0-9]*$" "$out/long_farm.out") -ge 480 ]] || problems+=("task output missing")
  if [[ ${#problems[@]} -eq 0 ]]; then
    echo "ok   farm.resubmitted (${#states[@]} allocations: ${states[*]}, $((SECONDS - start))s)"
  else
    echo "FAIL farm.resubmitted: ${problems[*]}"
    cat "$out/long_farm.out" "$out/long_farm.err" 2>/dev/null | sed 's/^/     | /' | tail -40
    failures=$((failures + 1))
  fi
}
check_farm_resubmitted

echo "$((13 - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
