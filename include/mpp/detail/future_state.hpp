#pragma once
// A Future's state: pending, running, then finished or cancelled, with its value or error and
// done callbacks; executors move it along, any thread reads it.
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpp/async_result.hpp"
#include "mpp/detail/waiter.hpp"
#include "mpp/errors.hpp"

namespace mpp::detail {

/// A future's result and where it stands: pending (queued), running, then done (finished or
/// cancelled). Whoever moves it along is the executor's backend; any thread may read it.
template <class T>
class FutureState {
 public:
  enum class Phase { pending, running, finished, cancelled };

  /// Drops the queued task from its executor's queue; true when it was still queued, and
  /// then the backend calls finish_cancelled(). Set once by the executor before submitting.
  std::function<bool()> drop_from_queue;

  Phase phase() const noexcept { return phase_.load(std::memory_order_acquire); }
  bool done() const noexcept {
    const Phase now = phase();
    return now == Phase::finished || now == Phase::cancelled;
  }
  /// The task left the queue to run: cancel() can no longer stop it.
  void mark_running() noexcept {
    Phase expected = Phase::pending;
    phase_.compare_exchange_strong(expected, Phase::running, std::memory_order_acq_rel);
  }

  void finish(std::optional<stored_t<T>> value, std::exception_ptr error) {
    {
      std::lock_guard lock(mutex_);
      if (value) {
        value_ = std::move(*value);
      } else {
        error_ = std::move(error);
      }
    }
    settle(Phase::finished);
  }
  void finish_cancelled() { settle(Phase::cancelled); }

  std::exception_ptr error() const { return error_; }
  const stored_t<T>& value() const { return *value_; }

  /// Runs `callback` when the future is done, at once when it is already.
  void when_done(std::function<void()> callback) {
    {
      std::lock_guard lock(mutex_);
      if (!done()) {
        callbacks_.push_back(std::move(callback));
        return;
      }
    }
    run_callback(callback);
  }

 private:
  void settle(Phase final_phase) {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex_);
      phase_.store(final_phase, std::memory_order_release);
      callbacks.swap(callbacks_);
    }
    for (auto& callback : callbacks) run_callback(callback);
  }

  std::atomic<Phase> phase_{Phase::pending};
  std::mutex mutex_;  // the value and the callbacks, against a callback added meanwhile
  std::optional<stored_t<T>> value_;
  std::exception_ptr error_;
  std::vector<std::function<void()>> callbacks_;
};

}  // namespace mpp::detail
