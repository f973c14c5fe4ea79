#pragma once
// mpp-farm's master: hands the tasks to an isolated pool one at a time as its processes free
// up, keeps the joblog, the halt policy, the barriers, the retries and the wall time.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "command_run.hpp"
#include "farm_options.hpp"
#include "joblog.hpp"
#include "task_list.hpp"

namespace mpp {
class Pool;
namespace detail {
class ProgressMeter;
}
}  // namespace mpp

namespace mpp::farm {

class Farm {
 public:
  /// Runs `tasks` (skipping those `options` resumes past) on every worker rank of the session.
  Farm(FarmOptions options, std::vector<FarmTask> tasks);
  ~Farm();
  Farm(const Farm&) = delete;
  Farm& operator=(const Farm&) = delete;

  /// Runs them all, or until the halt policy or the wall time stops it; the exit status.
  int run();

 private:
  struct Ended {
    std::size_t index;                      // into tasks_
    std::optional<CommandOutcome> outcome;  // none: the pool reported an error instead
    std::string error_type;
    std::string error_message;
    std::string host;
  };
  enum class Stop { none, soon, now, wall_time };

  void submit(std::size_t index);
  void note(Ended ended);
  /// Notes the tasks that ended, waiting up to `longest_wait` for one.
  void take_ended(std::chrono::milliseconds longest_wait);
  /// Whether the next task may start now (a barrier waits for the running ones).
  bool may_start_next() const;
  /// Stops sending tasks when the wall time or a signal says so.
  void look_at_clock_and_signals();
  int exit_status() const;
  void say_wall_time_stop() const;

  FarmOptions options_;
  std::vector<FarmTask> tasks_;
  std::deque<std::size_t> todo_;  // indices into tasks_, in order; retries go first
  std::vector<int> runs_;         // per task: how many times it was started
  std::vector<bool> running_;     // per task: submitted and not ended
  std::size_t in_flight_ = 0;
  std::size_t skipped_ = 0;  // resumed past
  std::size_t succeeded_ = 0;
  std::size_t failed_ = 0;
  bool barrier_failed_ = false;  // a BARRIER CHECK found a failure
  int halting_exitval_ = 0;      // the exit status of the task that made --halt fail=1 stop
  Stop stop_ = Stop::none;
  std::optional<std::chrono::steady_clock::time_point> job_end_;
  std::string run_id_;

  std::mutex ended_mutex_;  // the pool's callbacks hand ended tasks over to run()
  std::condition_variable ended_cv_;
  std::deque<Ended> ended_;

  std::unique_ptr<JobLog> joblog_;
  std::unique_ptr<detail::ProgressMeter> progress_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace mpp::farm
