#pragma once
// The worker side: the service loop every rank but the master runs inside its Session.
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "mpp/detail/protocol.hpp"

namespace mpp::detail {

/// Runs task batches from rank 0 until it sends Tag::stop; idle, it polls at least every `max_nap`.
void serve(MPI_Comm comm, int rank, const std::string& host, std::chrono::microseconds max_nap);

/// Where a task child shows its parent rank what it runs: a page both share across the fork.
struct RunningTask {
  std::atomic<std::uint64_t> id{0};         // the task running; 0 between tasks
  std::atomic<std::int64_t> started_ns{0};  // when it started (steady clock, the same in both)
  std::uint64_t item = 0;                   // the map item being run; read once the child is gone
  std::atomic<std::uint32_t> retiring{0};   // the child leaves on purpose (maxtasksperchild)
};

/// Runs a batch ([TaskHeader][args] repeated) and sends its results to the master. Each task
/// is shown in `shown` when given; at most `budget` tasks run, and their results are sent
/// before it returns how many ran.
std::size_t run_batch(MPI_Comm comm, std::span<const char> batch, int rank, const std::string& host,
                      RunningTask* shown = nullptr, std::size_t budget = std::numeric_limits<std::size_t>::max());

/// Runs a batch's tasks, keeping no result; a task's exception propagates (a pool initializer
/// run again in a new child process).
void run_quietly(std::span<const char> batch);

/// Type and message of the exception being handled (call inside a catch block).
ErrorReport describe_current_exception();

}  // namespace mpp::detail
