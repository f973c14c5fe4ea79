#pragma once
// Python's multiprocessing.current_process(), parent_process(), active_children() and
// os.cpu_count().
//
//   auto me = mpp::current_process();   // me.name "MainProcess" or "PoolWorker-3", me.pid, me.rank, me.host
//   mpp::Pool pool(mpp::cpu_count() - 1);
#include <optional>
#include <string>
#include <vector>

namespace mpp {

struct ProcessInfo {
  std::string name;  // "MainProcess" on the master, the Process's name inside one, else "PoolWorker-<rank>"
  int pid = 0;       // the OS process id
  int rank = -1;     // rank in the session's communicator (-1 outside a session)
  std::string host;
  bool daemon = false;  // a daemon Process (Python's daemon flag)

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& name& pid& rank& host& daemon;
  }
};

/// Who is running this code. (Python's current_process().exitcode is always None: a running
/// process has none; Process::exitcode() is where an ended one's is.)
ProcessInfo current_process();

/// Who started this code: in a Process target, the process that started it (the master's
/// program, "MainProcess", or the Process whose target did); in a pool task, the master's
/// program; empty in the master itself, as Python's None.
std::optional<ProcessInfo> parent_process();

/// The Processes this program (the master, or a Process target) started that have not ended
/// yet, in the order they started (pid 0 while one has not reached its rank; the host is known
/// on the master only).
std::vector<ProcessInfo> active_children();

/// Cores of this node for this job: Slurm's allocation (SLURM_CPUS_ON_NODE) inside a Slurm
/// job, otherwise the node's online cores, like Python's os.cpu_count().
int cpu_count();

}  // namespace mpp
