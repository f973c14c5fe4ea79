#pragma once
// Python's multiprocessing.current_process() and os.cpu_count().
//
//   auto me = mpp::current_process();   // me.name "MainProcess" or "PoolWorker-3", me.pid, me.rank, me.host
//   mpp::Pool pool(mpp::cpu_count() - 1);
#include <string>

namespace mpp {

struct ProcessInfo {
  std::string name;  // "MainProcess" on the master, the Process's name inside one, else "PoolWorker-<rank>"
  int pid = 0;       // the OS process id
  int rank = -1;     // rank in the session's communicator (-1 outside a session)
  std::string host;
};

/// Who is running this code.
ProcessInfo current_process();

/// Cores of this node for this job: Slurm's allocation (SLURM_CPUS_ON_NODE) inside a Slurm
/// job, otherwise the node's online cores, like Python's os.cpu_count().
int cpu_count();

}  // namespace mpp
