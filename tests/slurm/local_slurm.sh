#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for testing slurm/*.sbatch for real.
#
#   tests/slurm/local_slurm.sh start    start munged, slurmctld and slurmd (idempotent)
#   tests/slurm/local_slurm.sh stop     stop what start started and remove its state
#   tests/slurm/local_slurm.sh env      print `export SLURM_CONF=...` for sbatch/squeue/sacct
#
# The node declares 56 CPUs (SlurmdParameters=config_overrides), like the cluster's compute
# nodes, so full-node scripts are accepted on a small machine. Needs root and Debian's
# slurm-wlm and munge (tools/install-deps.sh --slurm); exits 77 (skipped) without them.
set -euo pipefail
dir=${MPP_SLURM_DIR:-/tmp/mpp-slurm}
conf=$dir/slurm.conf
host=$(hostname -s)

need_tools() {
  if [[ $(id -u) -ne 0 ]] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "local_slurm: needs root, slurm-wlm and munge (tools/install-deps.sh --slurm); skipping" >&2
    exit 77
  fi
}

write_config() {
  mkdir -p "$dir"/{state,spool,log}
  cat >"$conf" <<CONF
ClusterName=mpplocal
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
InactiveLimit=0
NodeName=$host CPUs=56 Boards=1 SocketsPerBoard=1 CoresPerSocket=56 ThreadsPerCore=1 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=60 State=UP
CONF
}

start_munge() {
  if munge -n </dev/null >/dev/null 2>&1; then return; fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  [[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  chmod 0400 /etc/munge/munge.key
  if id munge >/dev/null 2>&1; then
    su -s /bin/sh munge -c munged || munged --force
  else
    munged --force
  fi
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && return; sleep 0.1; done
  echo "local_slurm: munged did not start" >&2
  exit 1
}

node_ready() { SLURM_CONF=$conf sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; }

start() {
  need_tools
  write_config
  start_munge
  export SLURM_CONF=$conf
  pgrep -f "slurmctld -f $conf" >/dev/null || slurmctld -f "$conf"
  pgrep -f "slurmd -f $conf" >/dev/null || slurmd -f "$conf"
  for _ in $(seq 100); do
    if node_ready; then
      echo "local_slurm: node $host up with 56 CPUs (SLURM_CONF=$conf)"
      return
    fi
    scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 0.3
  done
  echo "local_slurm: the node did not come up; logs in $dir/log" >&2
  tail -20 "$dir"/log/*.log >&2 || true
  exit 1
}

stop() {
  [[ -f $conf ]] || return 0
  SLURM_CONF=$conf scancel --user="$(id -un)" >/dev/null 2>&1 || true
  pkill -f "slurmd -f $conf" 2>/dev/null || true
  pkill -f "slurmctld -f $conf" 2>/dev/null || true
  for _ in $(seq 50); do pgrep -f "slurm(ctld|d) -f $conf" >/dev/null || break; sleep 0.1; done
  rm -rf "$dir"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
