#include "mpp/process_info.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "mpp/errors.hpp"
#include "mpp/process.hpp"
#include "mpp/session.hpp"

namespace mpp {

ProcessInfo current_process() {
  ProcessInfo info;
  info.pid = static_cast<int>(::getpid());
  try {
    const Session& session = Session::current();
    info.rank = session.rank();
    info.host = session.host();
    info.name = session.is_master() ? "MainProcess" : "PoolWorker-" + std::to_string(session.rank());
    if (const auto* process = detail::current_process_context()) info.name = process->name;
  } catch (const UsageError&) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    info.host = host;
    info.name = "MainProcess";
  }
  return info;
}

int cpu_count() {
  if (const char* slurm = std::getenv("SLURM_CPUS_ON_NODE")) {
    const int n = std::atoi(slurm);
    if (n > 0) return n;
  }
  // Like os.cpu_count(): the node's cores, not this rank's binding (mpirun binds ranks to cores).
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace mpp
