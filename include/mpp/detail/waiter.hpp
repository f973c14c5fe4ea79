#pragma once
// Waiter: how a result handle (AsyncResult, imap result, Future) waits for its result. Results
// from worker ranks arrive through the session's engine, which the waiting thread helps drive;
// results of a ThreadPool are set by its threads, which signal a condition variable. The
// handles are the same types either way, so mpp::wait and mpp::as_completed take both.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "mpp/detail/engine.hpp"
#include "mpp/detail/session_bound.hpp"

namespace mpp::detail {

/// Set by threads of this process: whoever changes a result calls notify() afterwards.
class ThreadSignal {
 public:
  using Clock = std::chrono::steady_clock;

  void notify() {
    { std::lock_guard lock(mutex_); }  // a waiter between its check and its sleep sees the change
    changed_.notify_all();
  }
  template <class Done>
  bool wait_until(Done&& done, std::optional<Clock::time_point> deadline) {
    std::unique_lock lock(mutex_);
    if (!deadline) {
      changed_.wait(lock, done);
      return true;
    }
    return changed_.wait_until(lock, *deadline, done);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
};

class Waiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// Results delivered by the running session's engine.
  explicit Waiter(Engine& engine) : engine_(std::in_place, engine, "this result") {}
  /// Results set by threads of this process.
  explicit Waiter(std::shared_ptr<ThreadSignal> signal) : signal_(std::move(signal)) {}

  /// Whether results of both arrive the same way (one wait serves both).
  bool same_source(const Waiter& other) const noexcept { return signal_ ? signal_ == other.signal_ : !other.signal_; }

  /// Waits until done() holds or the deadline passes; false on timeout.
  template <class Done>
  bool wait_until(Done&& done, std::optional<Clock::time_point> deadline = std::nullopt) const {
    if (signal_) return signal_->wait_until(std::forward<Done>(done), deadline);
    return (*engine_)->wait_until(std::forward<Done>(done), deadline);
  }

 private:
  std::optional<SessionPtr<Engine>> engine_;
  std::shared_ptr<ThreadSignal> signal_;
};

}  // namespace mpp::detail
