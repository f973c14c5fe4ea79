#pragma once
// ThreadWorkers: threads of this process that run queued jobs, first in first out: the
// engine of ThreadPool and ThreadPoolExecutor. Nothing here touches MPI, so thread pools work
// without a launcher and inside a worker's task.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mpp/detail/waiter.hpp"
#include "mpp/errors.hpp"

namespace mpp::detail {

class ThreadWorkers {
 public:
  struct Job {
    /// Runs the job; returns whether a result changed, so that its waiters look again (a map
    /// chunk other than the last changes none: waking the caller for it only costs a switch).
    std::function<bool()> run;
    std::function<void()> dropped;  // the job leaves the queue without running (may be empty)
  };

  /// `threads` threads named "<name_prefix><k>" (k from 1), each running `initializer` first
  /// (when given); returns once every initializer ran, throwing the first one's exception.
  ThreadWorkers(int threads, std::string name_prefix, std::function<void()> initializer);
  /// Drops the queued jobs and waits for the running ones.
  ~ThreadWorkers();
  ThreadWorkers(const ThreadWorkers&) = delete;
  ThreadWorkers& operator=(const ThreadWorkers&) = delete;

  int size() const { return thread_count_; }
  /// Queues a job; its id names it for drop().
  std::uint64_t push(Job job);
  /// Queues jobs at once (a map's chunks): one lock and one wake-up call for all.
  void push(std::vector<Job> jobs);
  /// Takes the job out of the queue and calls its `dropped`; false when it runs or ran.
  bool drop(std::uint64_t id);
  /// Drops every queued job; running ones go on.
  void drop_all();
  /// Waits until the queue is empty and no job runs.
  void wait_idle();
  /// Ends the threads once the queue is empty, waiting for them.
  void stop();

  /// Signalled after every job; results of the jobs wait on it.
  const std::shared_ptr<ThreadSignal>& signal() const { return signal_; }

 private:
  void serve(const std::function<void()>& initializer);
  /// Calls the dropped jobs' `dropped` outside the lock.
  void cancel(std::vector<Job> jobs);

  const int thread_count_;
  std::mutex mutex_;
  std::condition_variable work_or_stop_;
  std::condition_variable idle_;
  std::deque<std::pair<std::uint64_t, Job>> queue_;
  std::uint64_t next_id_ = 1;
  int running_ = 0;
  int initialized_ = 0;
  std::exception_ptr initializer_error_;
  bool stopping_ = false;
  std::shared_ptr<ThreadSignal> signal_ = std::make_shared<ThreadSignal>();
  std::vector<std::thread> threads_;
};

/// The name of the calling thread: a thread pool's "Thread-3", else "MainThread" (Python's
/// threading.current_thread().name).
const std::string& current_thread_name();

/// A local exception described as a task's failure (for error callbacks): its type, message,
/// and this process's rank and host.
RemoteError describe_local_exception(std::exception_ptr error);

}  // namespace mpp::detail
