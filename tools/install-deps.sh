#!/usr/bin/env bash
# Installs the Debian 12 packages mpp needs to build, test and benchmark, when any is missing.
# Usage: tools/install-deps.sh [--slurm]   (--slurm adds the local Slurm test cluster's packages)
set -euo pipefail

packages=(g++ cmake make openmpi-bin libopenmpi-dev libboost-mpi-dev libboost-serialization-dev
          libgtest-dev python3 python3-mpi4py parallel)
if [[ "${1:-}" == "--slurm" ]]; then
  packages+=(slurm-wlm munge)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "mpp: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
