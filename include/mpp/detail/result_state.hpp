#pragma once
// The state behind an AsyncResult: the value or error a task's result fills in, the callbacks
// that run with it, and the sink the engine delivers an apply_async result to.
#include <atomic>
#include <chrono>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "mpp/callbacks.hpp"
#include "mpp/detail/engine.hpp"
#include "mpp/detail/waiter.hpp"
#include "mpp/errors.hpp"

namespace mpp::detail {

template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// Written under the engine's progress mutex; read by any thread once ready() says so.
template <class T>
class ResultState {
 public:
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

  void store(stored_t<T> value) { value_ = std::move(value); }
  void store_error(std::exception_ptr error) { error_ = std::move(error); }
  void publish() noexcept { ready_.store(true, std::memory_order_release); }

  bool successful() const noexcept { return !error_; }
  void rethrow_if_failed() const {
    if (error_) std::rethrow_exception(error_);
  }
  const stored_t<T>& value() const { return *value_; }
  stored_t<T> take() { return std::move(*value_); }

 private:
  std::atomic<bool> ready_{false};
  std::optional<stored_t<T>> value_;
  std::exception_ptr error_;
};

/// A callback's own exception cannot reach the caller: report it where the user will see it.
template <class Call>
void run_callback(Call&& call) {
  try {
    call();
  } catch (const std::exception& e) {
    std::cerr << "mpp: a callback threw (ignored): " << e.what() << '\n';
  } catch (...) {
    std::cerr << "mpp: a callback threw a non-standard exception (ignored)\n";
  }
}

/// Completes a ResultState from a job's outcome, running the callbacks first, as Python does.
template <class T>
void complete(ResultState<T>& state, const Callbacks<T>& callbacks, std::optional<stored_t<T>> value,
              std::exception_ptr error, const RemoteError* remote) {
  if (value) {
    state.store(std::move(*value));
    if (callbacks.on_result) {
      if constexpr (std::is_void_v<T>) {
        run_callback([&] { callbacks.on_result(); });
      } else {
        run_callback([&] { callbacks.on_result(state.value()); });
      }
    }
  } else {
    state.store_error(std::move(error));
    if (remote && callbacks.on_error) run_callback([&] { callbacks.on_error(*remote); });
  }
  state.publish();
}

inline std::exception_ptr terminated_error() {
  return std::make_exception_ptr(TerminatedError("mpp: Pool.terminate() ended the pool before this task finished"));
}

/// The sink of one apply_async task, holding the state its AsyncResult reads: one allocation
/// per task, freed by whichever lets go last (usually the caller, whose thread allocated it).
template <class T>
class ApplySink final : public TaskSink {
 public:
  /// `callbacks` only when apply_async was given some: each construction and move of an empty
  /// std::function clears it, and a task's Callbacks built and moved down to here were ~5% of
  /// the master's samples in a stream of apply_async.
  explicit ApplySink(std::optional<Callbacks<T>>&& callbacks) : callbacks_(std::move(callbacks)) {}

  /// A new sink and its state, which shares the sink's ownership.
  static std::pair<std::shared_ptr<ApplySink>, std::shared_ptr<ResultState<T>>> make(
      std::optional<Callbacks<T>>&& callbacks) {
    auto sink = std::make_shared<ApplySink>(std::move(callbacks));
    std::shared_ptr<ResultState<T>> state(sink, &sink->state_);
    return {std::move(sink), std::move(state)};
  }

  void deliver(std::uint64_t, Reader& results) override {
    std::optional<stored_t<T>> value;
    std::exception_ptr error;
    try {
      if constexpr (std::is_void_v<T>) {
        value.emplace();
      } else {
        value.emplace(results.read<T>());
      }
    } catch (...) {
      error = std::current_exception();
    }
    complete(state_, callbacks(), std::move(value), error, nullptr);
  }
  void fail(std::uint64_t, const RemoteError& remote) override {
    auto error = thrown_on_master(remote);
    complete(state_, callbacks(), std::nullopt, error, remote_error_in(error));
  }
  void cancel(std::uint64_t) override { complete(state_, callbacks(), std::nullopt, terminated_error(), nullptr); }

 private:
  const Callbacks<T>& callbacks() const {
    static const Callbacks<T> none;
    return callbacks_ ? *callbacks_ : none;
  }

  ResultState<T> state_;
  std::optional<Callbacks<T>> callbacks_;
};

}  // namespace mpp::detail
