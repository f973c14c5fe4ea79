#pragma once
// mpp::ThreadPoolExecutor: Python's concurrent.futures.ThreadPoolExecutor, on threads of the
// calling process (see mpp/thread_pool.hpp for what that allows: captures, any types, no launcher).
//
//   mpp::ThreadPoolExecutor executor(8);
//   mpp::Future<std::string> page = executor.submit(fetch, url);
//   for (auto& f : mpp::as_completed(futures)) ...
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>

#include "mpp/errors.hpp"
#include "mpp/future.hpp"
#include "mpp/process_info.hpp"
#include "mpp/thread_pool.hpp"

namespace mpp {

class ThreadPoolExecutor {
 public:
  /// min(32, cpu_count() + 4) threads, as Python's default.
  ThreadPoolExecutor() : ThreadPoolExecutor(std::min(32, cpu_count() + 4)) {}
  explicit ThreadPoolExecutor(int max_workers) : pool_(max_workers, "ThreadPoolExecutor-", std::function<void()>{}) {}
  /// initializer(initargs...) runs first in each thread; its exception is thrown here.
  template <class Init, class... InitArgs>
  ThreadPoolExecutor(int max_workers, Init initializer, InitArgs&&... initargs)
      : pool_(max_workers, "ThreadPoolExecutor-",
              ThreadPool::bind_initializer(initializer, std::forward<InitArgs>(initargs)...)) {}
  /// shutdown(true), as leaving Python's `with` block.
  ~ThreadPoolExecutor() { shutdown(true); }
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  /// f(args...) on a thread; the future holds its result or its exception (as itself).
  template <class F, class... Args, class R = detail::thread_apply_result_t<F, Args...>>
  Future<R> submit(F&& f, Args&&... args) {
    static_assert(!std::is_same_v<R, detail::NotCallable>,
                  "mpp: ThreadPoolExecutor::submit: f cannot be called with these arguments");
    require_open();
    auto state = std::make_shared<detail::FutureState<R>>();
    auto& workers = *pool_.workers_;
    const auto id =
        workers.push({[state, call = ThreadPool::bind_call(std::forward<F>(f), std::forward<Args>(args)...)]() mutable {
                        state->mark_running();
                        auto [value, error] = ThreadPool::outcome_of<R>(call);
                        state->finish(std::move(value), std::move(error));
                        return true;
                      },
                      [state] { state->finish_cancelled(); }});
    state->drop_from_queue = [&workers, id] { return workers.drop(id); };
    return Future<R>(std::move(state), detail::Waiter(workers.signal()));
  }

  /// [f(x) for x in xs], submitted now, handed out in order as iteration reaches them.
  template <class F, std::ranges::input_range Xs, class R = detail::thread_imap_result_t<F, Xs>>
  ImapResult<R> map(F&& f, Xs&& xs, std::size_t chunksize = 1) {
    require_open();
    return pool_.imap(std::forward<F>(f), std::forward<Xs>(xs), chunksize);
  }
  /// As map, but iterating throws mpp::TimeoutError once `timeout` has passed since this call.
  template <class F, std::ranges::input_range Xs, class Rep, class Period,
            class R = detail::thread_imap_result_t<F, Xs>>
  ImapResult<R> map(F&& f, Xs&& xs, std::chrono::duration<Rep, Period> timeout, std::size_t chunksize = 1) {
    const auto deadline = detail::deadline_after(timeout);
    auto results = map(std::forward<F>(f), std::forward<Xs>(xs), chunksize);
    results.stop_waiting_at(deadline);
    return results;
  }

  /// As ProcessPoolExecutor::shutdown: no more submissions; `cancel_futures` cancels the
  /// queued tasks; `wait` returns once the running ones are done.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    if (cancel_futures) pool_.workers_->drop_all();
    shut_down_ = true;
    if (wait) pool_.workers_->wait_idle();
  }

 private:
  void require_open() const {
    if (shut_down_) throw UsageError("mpp: cannot schedule new futures after shutdown(); create a new executor");
  }

  ThreadPool pool_;
  bool shut_down_ = false;
};

}  // namespace mpp
