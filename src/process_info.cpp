#include "mpp/process_info.hpp"

#include <unistd.h>

#include <string>
#include <thread>

#include "mpp/detail/settings.hpp"
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
  constexpr int unset = 0;
  if (const auto slurm = detail::env_integer("SLURM_CPUS_ON_NODE", unset, 1, 1 << 20); slurm != unset)
    return static_cast<int>(slurm);
  // Like os.cpu_count(): the node's cores, not this rank's binding (mpirun binds ranks to cores).
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace mpp
