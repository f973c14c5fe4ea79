#!/usr/bin/env bash
# check.sh add_subdirectory|find_package <mpp source dir> <scratch dir> <mpiexec...>
# Builds tests/consumer against mpp one of the two documented ways and runs it.
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
"$@" -np 2 "$scratch/build/consumer"
