#pragma once
// mpp::Session: MPI up and down, and who does what.
//
//   int main(int argc, char** argv) {
//     mpp::Session session(argc, argv);  // ranks 1..N-1 serve tasks in here, then exit(0)
//     mpp::Pool pool;                    // only rank 0, the master, gets this far
//
// Embedded in a code that owns MPI: `mpp::Session session(comm);` — workers return from the
// constructor when the master's session ends; branch on session.is_master(). mpp never
// finalizes an MPI it did not initialise. MPP_VERBOSE=1 prints a start-up banner: ranks, nodes,
// workers per node, the launcher and, inside Slurm, the allocation; and at the end a summary:
// tasks and busy seconds per worker, load balance, the slowest tasks. MPP_SHARED_MB sizes the
// master's shared-object memory (default 64; workers get 1/16), and MPP_FORCE_RMA=1 makes
// ranks on one node reach each other's objects through MPI RMA, as ranks on other nodes do.
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mpp {

namespace detail {
class Engine;
class SharedSpace;
[[noreturn]] void end_session_and_exit(int status);
}  // namespace detail

class Session {
 public:
  /// Initialises MPI (MPI_THREAD_MULTIPLE). On worker ranks this serves tasks until the
  /// master's session ends, then finalizes MPI and exits the process with status 0.
  Session(int& argc, char**& argv);
  /// Embedded mode over `comm` (which must be initialised with MPI_THREAD_MULTIPLE): rank 0
  /// of `comm` is the master; the others serve tasks and return when the master's session ends.
  explicit Session(MPI_Comm comm);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  bool is_master() const noexcept { return rank_ == 0; }
  /// Ranks that run tasks: size() - 1.
  int workers() const noexcept { return size_ - 1; }
  const std::string& host() const noexcept { return host_; }
  /// Distinct hosts the session's ranks run on.
  int nodes() const noexcept { return nodes_; }

  /// The OS process id and host of `rank` (known on the master).
  int pid_of(int rank) const { return pids_.at(static_cast<std::size_t>(rank)); }
  const std::string& host_of(int rank) const { return hosts_.at(static_cast<std::size_t>(rank)); }
  /// The master's OS process id and host (known on every rank).
  int master_pid() const noexcept { return master_pid_; }
  const std::string& master_host() const noexcept { return master_host_; }
  /// mpp's private duplicate of the session's communicator.
  MPI_Comm communicator() const noexcept { return comm_; }

  /// The running session; throws mpp::UsageError when there is none.
  static Session& current();
  /// The master's task engine; throws mpp::UsageError on a worker rank.
  detail::Engine& engine();

 private:
  friend void detail::end_session_and_exit(int status);  // the wall time's stop

  void start(MPI_Comm comm);
  void describe_layout(bool verbose);
  void serve();  // a worker's life: tasks from the master until it stops the session
  std::chrono::microseconds idle_poll_interval() const;
  void end();

  bool owns_mpi_ = false;
  MPI_Comm comm_ = MPI_COMM_NULL;           // a private duplicate: mpp's messages never meet the user's
  MPI_Comm spawned_world_ = MPI_COMM_NULL;  // a program started alone and the workers it spawned
  int rank_ = 0;
  int size_ = 0;
  int nodes_ = 1;
  std::string host_;
  std::vector<int> pids_;           // on the master: every rank's process id
  std::vector<std::string> hosts_;  // on the master: every rank's host
  int master_pid_ = 0;
  std::string master_host_;
  std::unique_ptr<detail::SharedSpace> shared_;  // Value, Array, Lock, ... live here
  std::uint64_t doorbell_offset_ = 0;            // on a worker: where its doorbell lies in its segment
  std::unique_ptr<detail::Engine> engine_;
};

}  // namespace mpp
