#!/usr/bin/env bash
# Builds mpp, its jobs and tests into build/ (Release), installing the Debian packages first
# when any is missing. Idempotent: a second run only rebuilds what changed.
#   tools/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$root/build" -j"$(nproc)"
