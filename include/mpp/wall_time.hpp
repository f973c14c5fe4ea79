#pragma once
// Wall time: a map inside a batch job stops in time instead of being killed mid-task.
//
// The master knows when the job ends (Slurm: SLURM_JOB_END_TIME, else `squeue -o %e`; any
// scheduler: MPP_JOB_END_TIME in Unix seconds). Once the end is nearer than the margin, or once
// the master gets SIGUSR1 or SIGTERM while pool tasks run, it starts no more pool tasks, lets
// the running ones finish, flushes every map's journal, prints
//   mpp: wall time: map: 812 of 2000 items done, journal sweep.journal; resubmit the same job to continue
// and ends the program with mpp::wall_time_exit_code, which slurm/mpp-launch turns into a
// resubmission when MPP_RESUBMIT=1. The margin: MPP_WALLTIME_MARGIN seconds, or by default
// twice the longest task seen plus two seconds for the journal flush and the exit.
//
// Signals: `#SBATCH --signal=USR1@300` signals the job's steps (srun-launched ranks), and
// `--signal=B:USR1@300` only the batch shell, which must pass it on (slurm/mpp-launch does, to
// mpirun, which forwards SIGUSR1 to the ranks). Worker ranks ignore SIGUSR1 (in an embedding
// MPI code, its own ranks' handling stands). With no pool task queued or running a signal keeps
// its usual effect (the program ends), and so does a signal the program handles itself.
namespace mpp {

/// EX_TEMPFAIL: "try again later" — the job stopped for its wall time with work left.
inline constexpr int wall_time_exit_code = 75;

}  // namespace mpp
