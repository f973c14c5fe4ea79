#include "mpp/pool.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "mpp/process_info.hpp"

namespace mpp {

Pool::Pool() : Pool(PoolOptions{}) {}

Pool::Pool(int processes) : Pool(PoolOptions{.processes = checked_processes(processes)}) {}

int Pool::checked_processes(int processes) {
  if (processes < 1) throw std::invalid_argument("mpp: Pool(processes) needs processes >= 1");
  return processes;
}

namespace {

/// Python starts as many processes as asked, and so do we; but a user who asked for more than
/// the job's cores should know they share them.
void note_if_more_than_cores(int processes, int workers) {
  const Session& session = Session::current();
  const int cores = cpu_count() * session.nodes();
  if (processes <= cores) return;
  std::fprintf(stderr,
               "mpp: note: this isolated Pool runs %d processes on %d worker ranks; the job has %d cores (%d nodes "
               "x %d), so they share cores\n",
               processes, workers, cores, session.nodes(), cpu_count());
}

}  // namespace

Pool::Pool(const PoolOptions& options) : engine_(Session::current().engine(), "this Pool") {
  const int workers = engine_->worker_count();
  const int processes = options.processes == 0 ? workers : options.processes;
  if (processes < 1) throw std::invalid_argument("mpp: PoolOptions::processes must be 1 or more (0: every worker)");
  if (processes > workers && !options.isolated)
    throw std::invalid_argument("mpp: Pool(" + std::to_string(processes) + ") asks for more workers than the " +
                                std::to_string(workers) + " this job has; launch with `mpirun -np " +
                                std::to_string(processes + 1) +
                                "` (one master plus the workers), or add .isolated = true to run it as " +
                                std::to_string(processes) + " child processes of the workers");
  if (processes > workers) note_if_more_than_cores(processes, workers);
  if (options.maxtasksperchild < 0 || options.task_timeout.count() < 0)
    throw std::invalid_argument("mpp: PoolOptions::maxtasksperchild and task_timeout must be 0 (no limit) or more");
  if (!options.isolated && (options.maxtasksperchild > 0 || options.task_timeout.count() > 0))
    throw std::invalid_argument(
        "mpp: PoolOptions::maxtasksperchild and task_timeout act on the child processes of an isolated pool; "
        "add .isolated = true");
  std::optional<detail::IsolationHeader> isolation;
  if (options.isolated)
    isolation =
        detail::IsolationHeader{static_cast<std::uint64_t>(std::chrono::nanoseconds(options.task_timeout).count()), 0,
                                static_cast<std::uint32_t>(options.maxtasksperchild), 0, 0};
  lane_ = engine_->open_lane(processes, isolation);
}

Pool::~Pool() {
  if (!engine_.alive()) return;  // the session ended first: its engine took the lane down with it
  if (state_ != State::joined) terminate();
  engine_->close_lane(*lane_);
}

void Pool::close() {
  if (state_ == State::running) state_ = State::closed;
}

void Pool::terminate() {
  if (state_ == State::joined) return;
  engine_->terminate(lane_);
  state_ = State::terminated;
}

void Pool::join() {
  if (state_ == State::running) throw UsageError("mpp: Pool::join() needs close() or terminate() first, as in Python");
  engine_->wait_until([this] { return engine_->finished(*lane_); });
  state_ = State::joined;
}

void Pool::require_running(const char* method) const {
  if (state_ != State::running)
    throw UsageError(std::string("mpp: Pool::") + method +
                     " after close() or terminate(): the pool no longer accepts tasks; create a new Pool");
}

void Pool::run_initializers(std::vector<AsyncResult<void>> results) {
  for (auto& result : results) result.get();
}

}  // namespace mpp
