#pragma once
// Processes, the worker's side: each Tag::process message becomes a child of this rank that
// runs the target (a SupervisedChild), however many run already. The rank's service loop
// tends them all between its own messages: it answers their calls, routes the replies and
// pipe messages that reach the rank to the child they are for, passes on terminate()/kill()
// and reports each child's exit code to the master when it ends.
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/child.hpp"
#include "mpp/detail/protocol.hpp"

namespace mpp::detail {

class ProcessChildren {
 public:
  ProcessChildren(MPI_Comm comm, int rank, std::string host);
  /// Kills the children left (the session ends).
  ~ProcessChildren();
  ProcessChildren(const ProcessChildren&) = delete;
  ProcessChildren& operator=(const ProcessChildren&) = delete;

  /// Forks the child that runs a Tag::process message's target.
  void start(const Bytes& message);
  bool empty() const { return running_.empty(); }
  /// One round for all children: relays (napping up to the backoff's pause while all are
  /// quiet), passes on stop requests and reports the children that ended. True if anything moved.
  bool tend(Backoff& backoff);

 private:
  struct Running {
    std::uint64_t task_id;
    ProcessStart words;
    std::chrono::steady_clock::time_point started;
    int signal_sent = 0;
    std::unique_ptr<SupervisedChild> child;
  };

  std::vector<SupervisedChild*> children() const;
  /// Sends the master a process's exit code (and the error report of a target that threw).
  void report_ending(const Running& process, const ChildEnding& ending);
  void report_failure(std::uint64_t task_id, const std::string& message);

  MPI_Comm comm_;
  int rank_;
  std::string host_;
  std::vector<Running> running_;
  std::chrono::steady_clock::time_point next_look_;
};

}  // namespace mpp::detail
