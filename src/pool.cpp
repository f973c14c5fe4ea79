#include "mpp/pool.hpp"

#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>

#include "mpp/detail/settings.hpp"
#include "mpp/detail/wall_time.hpp"
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

std::unique_ptr<detail::MapRun> Pool::plan_long_run(LongRunOptions& options, std::size_t items, std::size_t chunksize,
                                                    const detail::JournalIdentity& identity) {
  if (!options.progress && detail::env_flag("MPP_PROGRESS")) options.progress = Progress{};
  if (!options.journal && options.retries == 0 && !options.progress && !options.status_log) return nullptr;
  std::unique_ptr<detail::JournalFile> journal;
  if (options.journal) {
    journal = std::make_unique<detail::JournalFile>(options.journal->path, identity, chunksize,
                                                    options.journal->commit_interval);
    chunksize = journal->chunksize();
  }
  std::unique_ptr<detail::StatusLogFile> status_log;
  if (options.status_log) status_log = std::make_unique<detail::StatusLogFile>(options.status_log->path);
  return std::make_unique<detail::MapRun>(items, chunksize, std::move(journal), options.retries, std::move(status_log));
}

void Pool::submit_map(std::vector<detail::Task> tasks, const std::shared_ptr<detail::TaskSink>& sink,
                      detail::MapRun* run, const LongRunOptions& options) {
  if (!run) {
    engine_->submit(lane_, std::move(tasks));
    return;
  }
  std::vector<detail::Task> to_run;
  std::vector<std::pair<std::uint64_t, const detail::JournalFile::Saved*>> replays;
  std::size_t replayed_items = 0;
  for (auto& task : tasks) {
    if (const auto* saved = run->plan(task)) {
      replays.emplace_back(task.first_index, saved);
      replayed_items += saved->count;
    } else {
      to_run.push_back(std::move(task));
    }
  }
  if (options.progress) {
    auto interval = options.progress->plain_interval;
    if (interval.count() == 0)
      interval = std::chrono::seconds(detail::env_integer("MPP_PROGRESS_INTERVAL", 60, 1, 86400));
    run->show_progress(detail::ProgressMeter(run->items(), replayed_items, stderr, isatty(STDERR_FILENO) == 1, interval,
                                             detail::job_end_time()));
  }
  run->set_resubmit([engine = &*engine_, weak_lane = std::weak_ptr<detail::Lane>(lane_),
                     weak_sink = std::weak_ptr<detail::TaskSink>(sink)](detail::Bytes wire, std::uint64_t first,
                                                                        int avoid_rank) {
    auto lane = weak_lane.lock();
    auto owner = weak_sink.lock();
    if (!lane || !owner) return false;
    std::vector<detail::Task> retry(1);
    retry[0] =
        detail::Task{.wire = std::move(wire), .sink = std::move(owner), .first_index = first, .avoid_rank = avoid_rank};
    engine->submit(lane, std::move(retry));
    return true;
  });
  // Nothing of this map runs yet, so its sink is ours alone while the journal answers.
  for (const auto& [first, saved] : replays) {
    detail::Reader results(saved->results);
    sink->deliver(first, results);
  }
  if (run->journal()) run->journal()->forget_saved();
  engine_->submit(lane_, std::move(to_run));
}

void Pool::run_initializers(std::vector<AsyncResult<void>> results) {
  for (auto& result : results) result.get();
}

}  // namespace mpp
