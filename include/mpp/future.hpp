#pragma once
// mpp::Future<T>: Python's concurrent.futures.Future, as the executors' submit() returns it.
//
//   mpp::Future<int> f = executor.submit(square, 20);
//   f.add_done_callback([](const mpp::Future<int>& done) { std::cout << done.result(); });
//   if (f.cancel()) ...                  // true only while it waits in the queue
//   int r = f.result(std::chrono::seconds(1));   // mpp::TimeoutError, mpp::CancelledError, or the task's error
//
// A Future is a handle: copies share one result. Done callbacks run on the thread that sets the
// result (on the master for a ProcessPoolExecutor; a ThreadPoolExecutor's thread), at once on
// the caller's thread when the future is already done, as Python runs them.
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
#include "mpp/detail/future_state.hpp"
#include "mpp/detail/waiter.hpp"
#include "mpp/errors.hpp"

namespace mpp {

template <class T>
class Future;

template <class T>
class Future {
 public:
  Future(std::shared_ptr<detail::FutureState<T>> state, detail::Waiter waiter)
      : state_(std::move(state)), waiter_(std::move(waiter)) {}

  /// The task's result, waiting for it; rethrows the task's exception (from worker ranks an
  /// mpp::RemoteError), mpp::CancelledError when the future was cancelled.
  T result() const {
    wait_done();
    return value();
  }
  /// As result(), but throws mpp::TimeoutError when it is not done within `timeout`.
  template <class Rep, class Period>
  T result(std::chrono::duration<Rep, Period> timeout) const {
    wait_done(timeout);
    return value();
  }
  /// The task's exception, null when it succeeded; mpp::CancelledError when cancelled.
  std::exception_ptr exception() const {
    wait_done();
    return error();
  }
  template <class Rep, class Period>
  std::exception_ptr exception(std::chrono::duration<Rep, Period> timeout) const {
    wait_done(timeout);
    return error();
  }

  bool done() const noexcept { return state_->done(); }
  bool running() const noexcept { return state_->phase() == detail::FutureState<T>::Phase::running; }
  bool cancelled() const noexcept { return state_->phase() == detail::FutureState<T>::Phase::cancelled; }
  /// Cancels the task if it is still queued: true then (and when already cancelled); false
  /// when it runs or ran.
  bool cancel() const {
    if (cancelled()) return true;
    if (state_->phase() != detail::FutureState<T>::Phase::pending) return false;
    return state_->drop_from_queue && state_->drop_from_queue();
  }

  /// Calls fn(future) once the future is done (finished or cancelled), or at once if it is.
  /// An exception fn throws is reported on stderr and ignored, as Python logs it.
  template <class Fn>
  void add_done_callback(Fn fn) const {
    static_assert(std::is_invocable_v<Fn&, const Future<T>&>,
                  "mpp: a done callback takes the future: [](const mpp::Future<T>& f) { ... }");
    state_->when_done([fn = std::move(fn), self = *this]() mutable { fn(self); });
  }

  /// Copies of one future are equal.
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

  /// How this future waits: mpp::wait and mpp::as_completed wait on many through it.
  const detail::Waiter& waiter() const noexcept { return waiter_; }

 private:
  void wait_done() const {
    waiter_.wait_until([this] { return done(); });
  }
  template <class Rep, class Period>
  void wait_done(std::chrono::duration<Rep, Period> timeout) const {
    if (!waiter_.wait_until([this] { return done(); }, detail::deadline_after(timeout)))
      throw TimeoutError("mpp: the future was not done within the timeout (the task keeps running)");
  }
  std::exception_ptr error() const {
    if (cancelled()) throw CancelledError("mpp: the future was cancelled before its task ran");
    return state_->error();
  }
  T value() const {
    if (auto failure = error()) std::rethrow_exception(failure);
    if constexpr (!std::is_void_v<T>) return state_->value();
  }

  std::shared_ptr<detail::FutureState<T>> state_;
  detail::Waiter waiter_;
};

}  // namespace mpp
