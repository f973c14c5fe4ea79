#include "mpp/process_info.hpp"

#include <unistd.h>

#include <string>
#include <thread>

#include "mpp/detail/settings.hpp"
#include "mpp/errors.hpp"
#include "mpp/process.hpp"
#include "mpp/session.hpp"

namespace mpp {

namespace {

/// The running session, or nullptr outside one (the program is then the main process).
const Session* running_session() {
  try {
    return &Session::current();
  } catch (const UsageError&) {
    return nullptr;
  }
}

}  // namespace

ProcessInfo current_process() {
  ProcessInfo info;
  info.pid = static_cast<int>(::getpid());
  const Session* session = running_session();
  if (!session) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    info.host = host;
    info.name = "MainProcess";
    return info;
  }
  info.rank = session->rank();
  info.host = session->host();
  info.name = session->is_master() ? "MainProcess" : "PoolWorker-" + std::to_string(session->rank());
  info.daemon = !session->is_master();  // Python's pool workers are daemonic
  if (const auto* process = detail::current_process_context()) {
    info.name = process->name;
    info.daemon = process->daemon;
  }
  return info;
}

std::optional<ProcessInfo> parent_process() {
  if (const auto* process = detail::current_process_context()) return process->parent;
  const Session* session = running_session();
  if (!session || session->is_master()) return std::nullopt;
  return ProcessInfo{"MainProcess", session->master_pid(), 0, session->master_host(), false};
}

std::vector<ProcessInfo> active_children() {
  std::vector<ProcessInfo> children;
  const Session* session = running_session();
  if (!session) return children;
  for (const auto& state : detail::running_processes()) {
    if (state->published) continue;  // another process's child
    const int rank = state->rank();
    const int pid = state->words.space().load<std::int32_t>(detail::child_pid_word(state->words));
    children.push_back(ProcessInfo{state->name, pid, rank,
                                   rank >= 0 && session->is_master() ? session->host_of(rank) : std::string(),
                                   state->daemon});
  }
  return children;
}

int cpu_count() {
  constexpr int unset = 0;
  if (const auto slurm = detail::env_integer("SLURM_CPUS_ON_NODE", unset, 1, 1 << 20); slurm != unset)
    return static_cast<int>(slurm);
  // Like os.cpu_count(): the node's cores, not this rank's binding (mpirun binds ranks to cores).
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace mpp
