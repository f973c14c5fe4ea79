#pragma once
// The job's wall clock, as the master sees it (mpp/wall_time.hpp): when the allocation ends,
// and whether the scheduler asked the job to wind down.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>

namespace mpp::detail {

/// When the batch job this process runs in ends: MPP_JOB_END_TIME (Unix seconds: other
/// schedulers, tests), else Slurm's SLURM_JOB_END_TIME, else `squeue -h -j $SLURM_JOB_ID -o %e`
/// (Slurm 22.05 sets no variable). nullopt outside a job or when it cannot be known. Asked once.
std::optional<std::chrono::system_clock::time_point> job_end_time();

/// MPP_WALLTIME_MARGIN in seconds; nullopt: unset (the engine derives one from task times).
std::optional<std::chrono::seconds> wall_time_margin_setting();

/// Master: SIGUSR1 and SIGTERM ask for a wind-down while `*pool_tasks` (queued or running)
/// is nonzero, and act as usual otherwise; a signal the program handles itself is left alone.
/// Null: no wind-down any more (the engine is gone).
void watch_wind_down_signals(const std::atomic<std::size_t>* pool_tasks);
/// Whether such a signal arrived.
bool wind_down_signalled();
/// Workers of a standalone session: SIGUSR1, which mpirun forwards to every rank, is the
/// master's business. (An embedding MPI code decides for its own ranks.)
void ignore_wind_down_signal();

/// Ends the session (workers sent home, MPI finalized) and the process with `status`.
[[noreturn]] void end_session_and_exit(int status);

}  // namespace mpp::detail
