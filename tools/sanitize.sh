#!/usr/bin/env bash
# Builds mpp, its jobs and tests with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ and runs the suite there (the Slurm and packaging tests aside: those build their
# own, unsanitized, copies of mpp). Any sanitizer report fails its test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPP_SANITIZE=ON >/dev/null
cmake --build "$root/build-asan" -j"$(nproc)"
# Open MPI's own allocations are never freed at exit: leak reports would be about it, not mpp.
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j2 -E '^(slurm|packaging)\.' "$@"
