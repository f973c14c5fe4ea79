#pragma once
// The summary a session prints at its end under MPP_VERBOSE=1: tasks and busy time per worker,
// how evenly the work was spread, and the slowest tasks — which worker was slow, and on what.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mpp::detail {

class TaskStatistics {
 public:
  /// For a session of `ranks` ranks (rank 0, the master, runs no tasks).
  explicit TaskStatistics(int ranks);

  /// A pool task ran on `rank` for `run_ns`; `first_index` is its first map item, or no_item.
  void record(int rank, std::uint64_t run_ns, std::uint64_t first_index);
  /// The summary, one "mpp: " line each; `hosts` names every rank's host.
  std::string summary(const std::vector<std::string>& hosts) const;

 private:
  struct Worker {
    std::uint64_t tasks = 0;
    std::uint64_t busy_ns = 0;
  };
  struct Slow {
    std::uint64_t run_ns;
    int rank;
    std::uint64_t first_index;
  };

  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::vector<Worker> workers_;  // indexed by rank
  std::vector<Slow> slowest_;    // the longest few, longest first
};

}  // namespace mpp::detail
