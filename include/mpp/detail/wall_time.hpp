#pragma once
// The job's wall clock, as the master sees it: when the allocation ends, and whether the
// scheduler has asked the job to wind down (SIGUSR1 or SIGTERM; see the README's
// "Long runs on a cluster").
#include <chrono>
#include <optional>

namespace mpp::detail {

/// When the batch job this process runs in ends: MPP_JOB_END_TIME (Unix seconds: other
/// schedulers, tests), else Slurm's SLURM_JOB_END_TIME, else `squeue -h -j $SLURM_JOB_ID -o %e`
/// (Slurm 22.05 sets no variable). nullopt outside a job or when it cannot be known. Asked once.
std::optional<std::chrono::system_clock::time_point> job_end_time();

}  // namespace mpp::detail
