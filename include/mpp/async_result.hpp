#pragma once
// mpp::AsyncResult<T>: Python's AsyncResult, for apply_async/map_async/starmap_async.
//
//   mpp::AsyncResult<int> r = pool.apply_async(square, 20);
//   if (r.wait(std::chrono::seconds(1))) std::cout << r.get();   // or r.get(timeout)
#include <atomic>
#include <chrono>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <type_traits>
#include <variant>

#include "mpp/callbacks.hpp"
#include "mpp/detail/engine.hpp"
#include "mpp/detail/result_state.hpp"
#include "mpp/detail/waiter.hpp"
#include "mpp/errors.hpp"

namespace mpp {

template <class T>
class AsyncResult {
 public:
  AsyncResult(std::shared_ptr<detail::ResultState<T>> state, detail::Waiter waiter)
      : state_(std::move(state)), waiter_(std::move(waiter)) {}

  /// The result; rethrows the task's exception (mpp::RemoteError).
  T get() const {
    wait();
    return value();
  }
  /// As get(), but throws mpp::TimeoutError when the result is not there within `timeout`.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) const {
    if (!wait(timeout)) throw TimeoutError("mpp: the result was not ready within the timeout (the task keeps running)");
    return value();
  }

  void wait() const {
    waiter_.wait_until([this] { return state_->ready(); });
  }
  /// True when the result arrived within `timeout`.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) const {
    const auto deadline = detail::deadline_after(timeout);
    return waiter_.wait_until([this] { return state_->ready(); }, deadline);
  }

  bool ready() const noexcept { return state_->ready(); }
  /// Whether the task finished without an exception; throws mpp::UsageError if not ready yet.
  bool successful() const {
    if (!ready()) throw UsageError("mpp: AsyncResult::successful() called before the result is ready");
    return state_->successful();
  }

 private:
  T value() const {
    state_->rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) return state_->value();
  }

  std::shared_ptr<detail::ResultState<T>> state_;
  detail::Waiter waiter_;
};

}  // namespace mpp
