#pragma once
// One mpp-farm task on a worker: `/bin/sh -c command` in the isolated pool's child process,
// its output captured whole, so outputs of tasks never mix mid-line.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mpp::farm {

/// What the master sends for a task.
struct CommandOrder {
  std::uint64_t seq = 0;
  std::string command;
  std::vector<std::pair<std::string, std::string>> environment;
  std::string tag;         // nonempty: put before each output line, then a tab (--tag)
  std::string output_dir;  // nonempty: append the output to per-rank files there (--output)
  int slots_per_rank = 1;  // -j: for {%} and PARALLEL_JOBSLOT
  std::string run_id;      // names the slots of this run

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& seq& command& environment& tag& output_dir& slots_per_rank& run_id;
  }
};

/// How it went, in GNU parallel's joblog terms.
struct CommandOutcome {
  int exitval = 0;  // the exit status; 0 when a signal ended the shell (as GNU parallel logs it)
  int signal = 0;   // the signal that ended it, 0 if none
  double start_unix = 0;
  double runtime = 0;  // seconds
  std::uint64_t output_bytes = 0;
  std::string out;  // stdout and stderr, unless they went to --output files
  std::string err;
  std::string host;
  int slot = 0;

  bool failed() const { return exitval != 0 || signal != 0; }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& exitval& signal& start_unix& runtime& output_bytes& out& err& host& slot;
  }
};

/// Runs the order's command (in the calling process's child: call it in a pool task).
CommandOutcome run_command(CommandOrder order);

/// The files --output DIR holds for the worker `rank`: its stdout and stderr blocks.
std::string output_file(const std::string& dir, int rank, const char* stream);

}  // namespace mpp::farm
