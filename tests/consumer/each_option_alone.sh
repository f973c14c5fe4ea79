#!/usr/bin/env bash
# each_option_alone.sh <mpp source dir> <scratch dir>
# Configures and generates mpp with each of its options switched off on its own.
set -euo pipefail
source=$1 scratch=$2
for option in MPP_BUILD_JOBS MPP_BUILD_TESTS MPP_INSTALL; do
  rm -rf "$scratch/$option"
  if ! log=$(cmake -S "$source" -B "$scratch/$option" -D$option=OFF 2>&1); then
    printf '%s\n' "$log" | tail -20
    echo "-D$option=OFF fails to configure"
    exit 1
  fi
  echo "-D$option=OFF configures"
done
