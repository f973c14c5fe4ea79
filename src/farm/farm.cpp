#include "farm.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "mpp/detail/engine.hpp"
#include "mpp/detail/progress_meter.hpp"
#include "mpp/detail/settings.hpp"
#include "mpp/detail/wall_time.hpp"
#include "mpp/pool.hpp"
#include "mpp/session.hpp"
#include "mpp/wall_time.hpp"

namespace mpp::farm {
namespace {

using Clock = std::chrono::steady_clock;

/// Running tasks are killed this long before the allocation ends, so the joblog is complete
/// and the ranks have left before Slurm kills them.
constexpr auto kill_margin = std::chrono::seconds(2);

volatile std::sig_atomic_t asked_to_wind_down = 0;  // SIGUSR1: start no more tasks
volatile std::sig_atomic_t asked_to_stop = 0;       // SIGTERM: and kill the running ones

extern "C" void on_farm_signal(int signal) {
  if (signal == SIGTERM) {
    if (asked_to_stop) {  // asked twice: what SIGTERM does without us
      std::signal(SIGTERM, SIG_DFL);
      std::raise(SIGTERM);
    }
    asked_to_stop = 1;
  }
  asked_to_wind_down = 1;
}

/// The farm handles SIGUSR1 and SIGTERM itself (mpp's engine leaves a handled signal alone):
/// unlike a map's tasks, a farm's may run for hours, so a SIGTERM kills them at once.
void handle_wind_down_signals() {
  struct sigaction action {};
  action.sa_handler = on_farm_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void write_out(std::FILE* stream, const std::string& text) {
  if (text.empty()) return;
  std::fwrite(text.data(), 1, text.size(), stream);
  std::fflush(stream);
}

}  // namespace

Farm::Farm(FarmOptions options, std::vector<FarmTask> tasks)
    : options_(std::move(options)), tasks_(std::move(tasks)), runs_(tasks_.size(), 0), running_(tasks_.size(), false) {
  std::map<std::uint64_t, JobLog::Entry> past;
  if (options_.resume || options_.resume_failed) past = JobLog::read(options_.joblog);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    const auto entry = past.find(tasks_[i].seq);
    // --resume-failed skips only successes; --resume alone skips whatever is logged.
    if (entry != past.end() && !(options_.resume_failed && entry->second.failed)) {
      ++skipped_;
      if (entry->second.command != tasks_[i].command) ++changed;
    } else {
      todo_.push_back(i);
    }
  }
  if (changed > 0)
    std::cerr << "mpp-farm: note: " << changed << " task(s) skipped by --resume have another command in "
              << options_.joblog << " than now (the task list changed?); tasks are matched by Seq\n";
  if (!options_.joblog.empty()) joblog_ = std::make_unique<JobLog>(options_.joblog);
  job_end_ = [] {
    const auto end = detail::job_end_time();
    if (!end) return std::optional<Clock::time_point>();
    return std::optional<Clock::time_point>(Clock::now() + (*end - std::chrono::system_clock::now()));
  }();
  if (options_.progress) {
    const auto interval = std::chrono::seconds(detail::env_integer("MPP_PROGRESS_INTERVAL", 60, 1, 86400));
    progress_ = std::make_unique<detail::ProgressMeter>(tasks_.size(), skipped_, stderr, isatty(STDERR_FILENO) == 1,
                                                        interval, detail::job_end_time(),
                                                        detail::ProgressWords{"mpp-farm:", "tasks", "the joblog"});
  }
  const Session& session = Session::current();
  run_id_ = session.master_host() + "." + std::to_string(session.master_pid());
  pool_ = std::make_unique<Pool>(PoolOptions{
      .processes = session.workers() * options_.jobs_per_rank, .isolated = true, .task_timeout = options_.timeout});
  handle_wind_down_signals();
}

Farm::~Farm() = default;

void Farm::submit(std::size_t index) {
  const FarmTask& task = tasks_[index];
  CommandOrder order{task.seq,
                     task.command,
                     task.environment,
                     options_.tag ? task.tag : std::string(),
                     options_.output_dir,
                     options_.jobs_per_rank,
                     run_id_};
  ++runs_[index];
  running_[index] = true;
  ++in_flight_;
  pool_->apply_async(run_command, std::move(order), mpp::callback([this, index](const CommandOutcome& outcome) {
                       std::lock_guard lock(ended_mutex_);
                       ended_.push_back(Ended{index, outcome, {}, {}, outcome.host});
                       ended_cv_.notify_one();
                     }),
                     mpp::error_callback([this, index](const RemoteError& error) {
                       std::lock_guard lock(ended_mutex_);
                       ended_.push_back(Ended{index, std::nullopt, error.type(), error.message(), error.host()});
                       ended_cv_.notify_one();
                     }));
}

bool Farm::may_start_next() const {
  if (todo_.empty() || stop_ != Stop::none) return false;
  const FarmTask& next = tasks_[todo_.front()];
  return !next.after_barrier || in_flight_ == 0;
}

void Farm::look_at_clock_and_signals() {
  // The engine's rule for the time (a margin of MPP_WALLTIME_MARGIN, or twice the longest task
  // and 2 s): from then on it sends no queued task either.
  if (asked_to_stop || (stop_ == Stop::none && (asked_to_wind_down || Session::current().engine().winding_down())))
    stop_ = Stop::wall_time;
}

void Farm::note(Ended ended) {
  FarmTask& task = tasks_[ended.index];
  running_[ended.index] = false;
  --in_flight_;
  CommandOutcome outcome;
  if (ended.outcome) {
    outcome = std::move(*ended.outcome);
  } else {
    // The pool's report: the timeout killed the task, or its process died some other way.
    const bool timed_out = ended.error_type == "mpp::TimeoutError";
    outcome.exitval = -1;
    outcome.signal = timed_out ? SIGKILL : 0;
    outcome.host = ended.host;
    outcome.runtime = timed_out ? std::chrono::duration<double>(options_.timeout).count() : 0;
    outcome.start_unix =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() - outcome.runtime;
    std::cerr << "mpp-farm: task " << task.seq << " (" << task.command << "): "
              << (timed_out ? "killed after --timeout " + std::to_string(options_.timeout.count()) + " ms"
                            : ended.error_message)
              << '\n';
  }
  write_out(stdout, outcome.out);
  write_out(stderr, outcome.err);
  const bool failed = outcome.failed();
  if (failed && runs_[ended.index] < options_.tries && stop_ == Stop::none) {
    todo_.push_front(ended.index);  // runs again, on whichever rank is free first
    return;
  }
  if (joblog_) joblog_->write(task, outcome);
  if (progress_) progress_->add(1);
  if (failed) {
    ++failed_;
    if (halting_exitval_ == 0) halting_exitval_ = outcome.exitval > 0 && outcome.exitval < 256 ? outcome.exitval : 1;
  } else {
    ++succeeded_;
  }
  if (stop_ == Stop::none && options_.halt.reached(failed_, succeeded_, tasks_.size())) {
    stop_ = options_.halt.when == HaltPolicy::When::now ? Stop::now : Stop::soon;
    std::cerr << "mpp-farm: --halt: " << failed_ << " failed, " << succeeded_ << " succeeded; "
              << (stop_ == Stop::now ? "killing the running tasks" : "waiting for the running tasks") << '\n';
  }
}

void Farm::take_ended(std::chrono::milliseconds longest_wait) {
  std::unique_lock lock(ended_mutex_);
  ended_cv_.wait_for(lock, longest_wait, [this] { return !ended_.empty(); });
  std::deque<Ended> batch;
  batch.swap(ended_);
  lock.unlock();
  for (auto& ended : batch) note(std::move(ended));
}

int Farm::run() {
  // One task waits on each rank behind its running ones, so a freed process starts the next
  // at once instead of after a round trip to the master.
  const std::size_t window = static_cast<std::size_t>(pool_->size() + Session::current().workers());
  while (true) {
    look_at_clock_and_signals();
    // A BARRIER CHECK lets nothing after it start once a task before it failed.
    if (!todo_.empty() && in_flight_ == 0 && tasks_[todo_.front()].barrier_checks && failed_ > 0 &&
        stop_ == Stop::none) {
      barrier_failed_ = true;
      stop_ = Stop::soon;
      std::cerr << "mpp-farm: #DISBATCH BARRIER CHECK: " << failed_ << " task(s) before the barrier failed; stopping\n";
    }
    while (in_flight_ < window && may_start_next()) {
      const std::size_t index = todo_.front();
      todo_.pop_front();
      submit(index);
    }
    if (in_flight_ == 0) break;
    const bool kill_now = stop_ == Stop::now || asked_to_stop ||
                          (stop_ == Stop::wall_time && job_end_ && Clock::now() + kill_margin >= *job_end_);
    // Tasks still queued when the engine winds down never start: nothing left to wait for.
    const bool only_queued = stop_ == Stop::wall_time && Session::current().engine().running_pool_tasks() == 0;
    if (kill_now || only_queued) break;
    take_ended(std::chrono::milliseconds(200));
  }
  take_ended(std::chrono::milliseconds(0));  // what ended while we decided to stop
  std::vector<std::uint64_t> killed;
  for (std::size_t i = 0; i < tasks_.size(); ++i)
    if (running_[i]) killed.push_back(tasks_[i].seq);
  if (in_flight_ > 0) {
    pool_->terminate();  // kills the tasks' processes, and every process they started
  } else {
    pool_->close();
  }
  pool_->join();
  if (progress_) progress_->finish();
  if (stop_ == Stop::wall_time) {
    say_wall_time_stop();
    std::cerr << "mpp-farm: wall time: " << killed.size() << " unfinished task(s) killed or never started";
    for (std::size_t i = 0; i < killed.size() && i < 20; ++i) std::cerr << (i ? ", " : " (seq ") << killed[i];
    std::cerr << (killed.empty() ? "" : killed.size() > 20 ? ", ...)" : ")") << '\n';
  } else if (!killed.empty()) {
    std::cerr << "mpp-farm: " << killed.size() << " running task(s) killed by --halt now\n";
  }
  return exit_status();
}

void Farm::say_wall_time_stop() const {
  const std::size_t left = todo_.size() + std::count(running_.begin(), running_.end(), true);
  std::cerr << "mpp-farm: wall time: "
            << (asked_to_stop        ? "SIGTERM: the running tasks are killed"
                : asked_to_wind_down ? "SIGUSR1: no more tasks start"
                                     : "the job's time limit is near: no more tasks start")
            << "; " << succeeded_ + failed_ << " task(s) ended in this run, " << left << " left";
  if (!options_.joblog.empty()) std::cerr << "; run again with --resume --joblog " << options_.joblog;
  std::cerr << '\n';
}

int Farm::exit_status() const {
  const std::size_t left = todo_.size() + std::count(running_.begin(), running_.end(), true);
  if (stop_ == Stop::wall_time && left > 0) return wall_time_exit_code;
  if (failed_ == 0 && !barrier_failed_) return 0;
  const HaltPolicy& halt = options_.halt;
  if (halt.when != HaltPolicy::When::never && halt.count == HaltPolicy::Count::fail &&
      (stop_ == Stop::soon || stop_ == Stop::now)) {
    if (halt.percent)
      return static_cast<int>(
          std::clamp(100.0 * static_cast<double>(failed_) / static_cast<double>(tasks_.size()), 1.0, 100.0));
    if (halt.threshold == 1) return halting_exitval_;
  }
  return static_cast<int>(std::min<std::size_t>(failed_, 101));
}

}  // namespace mpp::farm
