#include "mpp/detail/thread_workers.hpp"

#include <algorithm>
#include <utility>

#include "mpp/detail/worker.hpp"
#include "mpp/process_info.hpp"

namespace mpp::detail {
namespace {

thread_local std::string thread_name = "MainThread";

}  // namespace

const std::string& current_thread_name() { return thread_name; }

RemoteError describe_local_exception(std::exception_ptr error) {
  ErrorReport report;
  try {
    std::rethrow_exception(std::move(error));
  } catch (...) {
    report = describe_current_exception();
  }
  const ProcessInfo me = current_process();
  return RemoteError(report.type, report.message, me.rank, me.host, std::nullopt, report.thrown_as);
}

ThreadWorkers::ThreadWorkers(int threads, std::string name_prefix, std::function<void()> initializer)
    : thread_count_(threads) {
  threads_.reserve(static_cast<std::size_t>(threads));
  for (int k = 1; k <= threads; ++k)
    threads_.emplace_back([this, initializer, name = name_prefix + std::to_string(k)] {
      thread_name = name;
      serve(initializer);
    });
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return initialized_ == size(); });
  if (!initializer_error_) return;
  lock.unlock();
  stop();
  std::rethrow_exception(initializer_error_);
}

ThreadWorkers::~ThreadWorkers() {
  drop_all();
  stop();
}

std::uint64_t ThreadWorkers::push(Job job) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    queue_.emplace_back(id, std::move(job));
  }
  work_or_stop_.notify_one();
  return id;
}

void ThreadWorkers::push(std::vector<Job> jobs) {
  {
    std::lock_guard lock(mutex_);
    for (auto& job : jobs) queue_.emplace_back(next_id_++, std::move(job));
  }
  if (jobs.size() == 1)
    work_or_stop_.notify_one();
  else
    work_or_stop_.notify_all();
}

bool ThreadWorkers::drop(std::uint64_t id) {
  std::vector<Job> dropped;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(queue_.begin(), queue_.end(), [id](const auto& entry) { return entry.first == id; });
    if (it == queue_.end()) return false;
    dropped.push_back(std::move(it->second));
    queue_.erase(it);
  }
  cancel(std::move(dropped));
  return true;
}

void ThreadWorkers::drop_all() {
  std::vector<Job> dropped;
  {
    std::lock_guard lock(mutex_);
    for (auto& entry : queue_) dropped.push_back(std::move(entry.second));
    queue_.clear();
  }
  cancel(std::move(dropped));
}

void ThreadWorkers::cancel(std::vector<Job> jobs) {
  for (auto& job : jobs)
    if (job.dropped) job.dropped();
  idle_.notify_all();
  signal_->notify();
}

void ThreadWorkers::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

void ThreadWorkers::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_or_stop_.notify_all();
  for (auto& thread : threads_)
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
}

void ThreadWorkers::serve(const std::function<void()>& initializer) {
  std::exception_ptr error;
  if (initializer) {
    try {
      initializer();
    } catch (...) {
      error = std::current_exception();
    }
  }
  std::unique_lock lock(mutex_);
  if (error && !initializer_error_) initializer_error_ = error;
  if (++initialized_ == size()) idle_.notify_all();
  while (true) {
    work_or_stop_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left
    Job job = std::move(queue_.front().second);
    queue_.pop_front();
    ++running_;
    lock.unlock();
    const bool changed = job.run();  // a job catches its own exceptions: they belong to its result
    job = {};                        // what it captured goes before the next one starts
    if (changed) signal_->notify();
    lock.lock();
    if (--running_ == 0 && queue_.empty()) idle_.notify_all();
  }
}

}  // namespace mpp::detail
