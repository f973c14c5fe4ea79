#pragma once
// mpp::ProcessPoolExecutor: Python's concurrent.futures.ProcessPoolExecutor over the worker
// ranks (or, with PoolOptions::isolated, child processes of them).
//
//   mpp::ProcessPoolExecutor executor(8);                      // or executor(8, init, args...)
//   mpp::Future<int> f = executor.submit(square, 20);          // mpp/future.hpp
//   for (int y : executor.map(square, xs)) ...                 // lazily, in order
//   for (auto& f : mpp::as_completed(futures)) ...             // mpp/wait.hpp
//   executor.shutdown();                                       // the destructor does it too
//
// Functions and arguments as Pool's: plain functions, captureless lambdas, serializable values.
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpp/detail/call_types.hpp"
#include "mpp/detail/future_sink.hpp"
#include "mpp/errors.hpp"
#include "mpp/future.hpp"
#include "mpp/pool.hpp"

namespace mpp {

class ProcessPoolExecutor {
 public:
  /// Every worker rank.
  ProcessPoolExecutor() : pool_() {}
  /// `max_workers` worker ranks (more with PoolOptions::isolated, as Pool's processes).
  explicit ProcessPoolExecutor(int max_workers) : pool_(max_workers) {}
  explicit ProcessPoolExecutor(const PoolOptions& options) : pool_(options) {}
  /// initializer(initargs...) runs once in each worker before any task, as Python's
  /// initializer=; its exception is thrown here as mpp::RemoteError.
  template <class Init, class... InitArgs>
  ProcessPoolExecutor(int max_workers, Init initializer, InitArgs&&... initargs)
      : pool_(max_workers, initializer, std::forward<InitArgs>(initargs)...) {}
  template <class Init, class... InitArgs>
  ProcessPoolExecutor(const PoolOptions& options, Init initializer, InitArgs&&... initargs)
      : pool_(options, initializer, std::forward<InitArgs>(initargs)...) {}
  /// shutdown(true), as leaving Python's `with` block.
  ~ProcessPoolExecutor() {
    if (pool_.engine_.alive()) shutdown(true);  // else the session ended first and took the tasks along
  }
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;

  /// f(args...) on a worker; the future holds its result.
  template <class F, class... Args, class R = detail::apply_call_result_t<F, Args...>>
  Future<R> submit(F f, Args&&... args) {
    Pool::checked_call<F, Args...>();  // f and args can travel, or a static_assert says why
    require_open();
    auto state = std::make_shared<detail::FutureState<R>>();
    auto sink = std::make_shared<detail::FutureSink<R>>(state);
    state->drop_from_queue = [engine = pool_.engine_, lane = pool_.lane_,
                              weak = std::weak_ptr<detail::TaskSink>(sink)] {
      auto queued = weak.lock();
      return queued && engine.alive() && engine->cancel_queued(lane, queued.get());
    };
    pool_.submit_call(f, std::move(sink), 0, std::forward<Args>(args)...);
    return Future<R>(std::move(state), detail::Waiter(*pool_.engine_));
  }

  /// [f(x) for x in xs], every task submitted now, results handed out in order as iteration
  /// reaches them (an mpp::ImapResult); `chunksize` items travel together.
  template <class F, std::ranges::input_range Xs, class R = detail::map_result_t<false, F, Xs>>
  ImapResult<R> map(F f, Xs&& xs, std::size_t chunksize = 1) {
    require_open();
    return pool_.imap(f, std::forward<Xs>(xs), chunksize);
  }
  /// As map, but iterating throws mpp::TimeoutError once `timeout` has passed since this call.
  template <class F, std::ranges::input_range Xs, class Rep, class Period, class R = detail::map_result_t<false, F, Xs>>
  ImapResult<R> map(F f, Xs&& xs, std::chrono::duration<Rep, Period> timeout, std::size_t chunksize = 1) {
    const auto deadline = detail::deadline_after(timeout);
    auto results = map(f, std::forward<Xs>(xs), chunksize);
    results.stop_waiting_at(deadline);
    return results;
  }

  /// No more submissions; with `cancel_futures` the queued tasks are cancelled (their futures
  /// say cancelled()); with `wait` returns once every running task is done. Safe to repeat.
  void shutdown(bool wait = true, bool cancel_futures = false);

 private:
  void require_open() const;

  Pool pool_;
  bool shut_down_ = false;
};

inline void ProcessPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  if (cancel_futures) pool_.engine_->cancel_all_queued(pool_.lane_);
  if (!shut_down_) pool_.close();
  shut_down_ = true;
  if (wait) pool_.join();
}

inline void ProcessPoolExecutor::require_open() const {
  if (shut_down_) throw UsageError("mpp: cannot schedule new futures after shutdown(); create a new executor");
}

}  // namespace mpp
