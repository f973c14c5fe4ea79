#!/usr/bin/env bash
# check.sh add_subdirectory|find_package <mpp source dir> <scratch dir> <mpiexec...>
# Builds tests/consumer against mpp one of the two documented ways and runs it; an installed mpp
# runs it through its own bin/mpprun, and its Slurm helpers must be there and find each other.
set -euo pipefail
mode=$1 source=$2 scratch=$3
shift 3
rm -rf "$scratch" && mkdir -p "$scratch"
if [[ $mode == add_subdirectory ]]; then
  cmake -S "$source/tests/consumer" -B "$scratch/build" -DMPP_SOURCE_DIR="$source" >/dev/null
else
  cmake -S "$source" -B "$scratch/mpp-build" -DMPP_BUILD_TESTS=OFF -DMPP_BUILD_JOBS=OFF >/dev/null
  cmake --build "$scratch/mpp-build" -j2 >/dev/null
  cmake --install "$scratch/mpp-build" --prefix "$scratch/prefix" >/dev/null
  cmake -S "$source/tests/consumer" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
fi
cmake --build "$scratch/build" -j2 >/dev/null
if [[ $mode == add_subdirectory ]]; then
  "$@" -np 2 "$scratch/build/consumer"
  exit
fi
prefix=$scratch/prefix
for script in pool_node pool_nodes param_sweep embedded; do
  [[ -x $prefix/share/mpp/slurm/$script.sbatch ]] || { echo "not installed: share/mpp/slurm/$script.sbatch"; exit 1; }
done
launch_says=$(cd / && env -u SLURM_JOB_ID PATH="$prefix/bin:$PATH" mpp-launch true 2>&1 || true)
grep -q "not inside a Slurm allocation" <<<"$launch_says" ||
  { echo "the installed mpp-launch is not on PATH or does not run: $launch_says"; exit 1; }
cd / && "$prefix/bin/mpprun" -np 2 "$scratch/build/consumer"
