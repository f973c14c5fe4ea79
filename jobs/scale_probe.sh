#!/usr/bin/env bash
# How far one master goes: jobs/scale_probe at 3, 9, 17 and 33 ranks (or the counts given),
# one row each. On a machine with fewer cores than ranks the job is oversubscribed: the
# workers then share cores, so the task rates are the machine's, while the master's CPU per
# task is what the computation in docs/ARCHITECTURE.md ("How far one master goes") uses.
#   jobs/scale_probe.sh [RANKS...]      (from the project root, after tools/build.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
counts=("$@")
[[ ${#counts[@]} -gt 0 ]] || counts=(3 9 17 33)
echo "scale probe on $(nproc) cores$( ((counts[-1] > $(nproc))) && echo ", oversubscribed beyond $(nproc) ranks")"
header=--header
for n in "${counts[@]}"; do
  "$root/tools/mpprun" -np "$n" "$root/build/jobs/scale_probe" $header
  header=
done
