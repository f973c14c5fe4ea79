#pragma once
// mpp::ThreadPool: Python's multiprocessing.pool.ThreadPool — the Pool API on threads of the
// calling process, for I/O-bound work (files, network, subprocesses).
//
//   mpp::ThreadPool pool(8);
//   auto sizes = pool.map([&](const std::string& path) { return fetch(path, session_token); }, paths);
//   auto r = pool.apply_async(download, url, mpp::callback([](std::size_t n) { ... }));
//   pool.close(); pool.join();
//
// Nothing leaves the process: functions may capture, arguments and results need not be
// serializable, and a task's exception reaches get() as itself (error callbacks get it as an
// mpp::RemoteError naming its type and message). Needs no Session or launcher: it works in
// any program and inside a worker's task.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpp/async_result.hpp"
#include "mpp/callbacks.hpp"
#include "mpp/detail/map_sink.hpp"
#include "mpp/detail/thread_call_types.hpp"
#include "mpp/detail/thread_workers.hpp"
#include "mpp/errors.hpp"
#include "mpp/imap.hpp"

namespace mpp {

/// The name of the calling thread: "Thread-3" in a ThreadPool, "ThreadPoolExecutor-3" in a
/// ThreadPoolExecutor, else "MainThread" (Python's threading.current_thread().name).
inline const std::string& current_thread_name() { return detail::current_thread_name(); }

class ThreadPool {
  friend class ThreadPoolExecutor;  // its futures are jobs of the pool's threads

 public:
  /// As many threads as cpu_count(), as Python's ThreadPool().
  ThreadPool();
  explicit ThreadPool(int processes);
  /// initializer(initargs...) runs first in each thread; its exception is thrown here.
  template <class Init, class... InitArgs>
  ThreadPool(int processes, Init initializer, InitArgs&&... initargs)
      : ThreadPool(processes, "Thread-", bind_initializer(initializer, std::forward<InitArgs>(initargs)...)) {}
  /// Like leaving Python's `with ThreadPool() as p:` — terminate() unless join() already ran;
  /// running tasks cannot be interrupted (they are threads): this waits for them.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return workers_->size(); }

  /// What map and starmap return for f returning R: std::vector<R> (nothing when R is void).
  template <class R>
  using MapResult = detail::map_output_t<R>;

  template <class F, class... Args, class R = detail::thread_apply_result_t<F, Args...>>
  R apply(F&& f, Args&&... args) {
    return apply_async(std::forward<F>(f), std::forward<Args>(args)...).get();
  }
  /// f(args...) on a thread; trailing mpp::callback(...) / mpp::error_callback(...) as Pool's.
  template <class F, class... Args, class R = detail::thread_apply_result_t<F, Args...>>
  AsyncResult<R> apply_async(F&& f, Args&&... args);

  /// [f(x) for x in xs], in order; a chunksize (default as Pool's: 4 chunks per thread) may follow.
  template <class F, std::ranges::input_range Xs, class... Options,
            class R = detail::thread_map_result_t<false, true, F, Xs>>
  MapResult<R> map(F&& f, Xs&& xs, Options&&... options) {
    return map_job<false, true>(std::forward<F>(f), xs, std::forward<Options>(options)...).get();
  }
  template <class F, std::ranges::input_range Xs, class... Options,
            class R = detail::thread_map_result_t<true, true, F, Xs>>
  MapResult<R> starmap(F&& f, Xs&& tuples, Options&&... options) {
    return map_job<true, true>(std::forward<F>(f), tuples, std::forward<Options>(options)...).get();
  }
  /// map without waiting; options: a chunksize, mpp::callback(...), mpp::error_callback(...).
  template <class F, std::ranges::input_range Xs, class... Options,
            class R = detail::thread_map_result_t<false, false, F, Xs>>
  AsyncResult<MapResult<R>> map_async(F&& f, Xs&& xs, Options&&... options) {
    return map_job<false, false>(std::forward<F>(f), xs, std::forward<Options>(options)...);
  }
  template <class F, std::ranges::input_range Xs, class... Options,
            class R = detail::thread_map_result_t<true, false, F, Xs>>
  AsyncResult<MapResult<R>> starmap_async(F&& f, Xs&& tuples, Options&&... options) {
    return map_job<true, false>(std::forward<F>(f), tuples, std::forward<Options>(options)...);
  }
  /// Results in input order as they can be handed out; chunksize default 1, as Python's.
  template <class F, std::ranges::input_range Xs, class R = detail::thread_imap_result_t<F, Xs>>
  ImapResult<R> imap(F&& f, Xs&& xs, std::size_t chunksize = 1) {
    return imap_job(std::forward<F>(f), xs, chunksize, true);
  }
  /// Results in completion order.
  template <class F, std::ranges::input_range Xs, class R = detail::thread_imap_result_t<F, Xs>>
  ImapResult<R> imap_unordered(F&& f, Xs&& xs, std::size_t chunksize = 1) {
    return imap_job(std::forward<F>(f), xs, chunksize, false);
  }

  /// No more tasks; those submitted run to completion.
  void close();
  /// Waits for every submitted task; needs close() or terminate() first.
  void join();
  /// Drops queued tasks (their results throw mpp::TerminatedError); running ones finish.
  void terminate();

 private:
  enum class State { running, closed, terminated, joined };

  ThreadPool(int processes, const char* thread_name_prefix, std::function<void()> initializer);

  template <class Init, class... InitArgs>
  static std::function<void()> bind_initializer(Init initializer, InitArgs&&... initargs) {
    return [initializer, args = std::make_tuple(std::decay_t<InitArgs>(std::forward<InitArgs>(initargs))...)] {
      std::apply(initializer, args);
    };
  }
  void require_running(const char* method) const;

  /// f bound to copies of args, to be called once on a pool thread; copyable (a job is a
  /// std::function) even for move-only arguments, which wait in a shared tuple.
  template <class F, class... Args>
  static auto bind_call(F&& f, Args&&... args) {
    return [fn = std::decay_t<F>(std::forward<F>(f)),
            bound = std::make_shared<std::tuple<std::decay_t<Args>...>>(std::forward<Args>(args)...)]() mutable {
      return std::apply(fn, std::move(*bound));
    };
  }
  /// Runs `call` on this thread: its value (std::monostate for void), or what it threw.
  template <class R, class Call>
  static std::pair<std::optional<detail::stored_t<R>>, std::exception_ptr> outcome_of(Call& call) {
    try {
      if constexpr (std::is_void_v<R>) {
        call();
        return {std::monostate{}, nullptr};
      } else {
        return {call(), nullptr};
      }
    } catch (...) {
      return {std::nullopt, std::current_exception()};
    }
  }
  /// Completes `state` from running `call` on this thread, the callbacks one at a time.
  template <class R, class Call>
  void run_into(detail::ResultState<R>& state, const detail::Callbacks<R>& callbacks, Call& call) {
    auto [value, error] = outcome_of<R>(call);
    finish(state, callbacks, std::move(value), std::move(error));
  }
  template <class R>
  void finish(detail::ResultState<R>& state, const detail::Callbacks<R>& callbacks,
              std::optional<detail::stored_t<R>> value, std::exception_ptr error) {
    std::optional<RemoteError> described;
    if (error && callbacks.on_error) described = detail::describe_local_exception(error);
    std::lock_guard lock(callback_mutex_);
    detail::complete(state, callbacks, std::move(value), std::move(error), described ? &*described : nullptr);
  }

  /// `Waits`: the caller waits for the result (map, starmap), so chunks may read its input in place.
  template <bool Star, bool Waits, class F, class Xs, class... Options>
  auto map_job(F&& f, Xs& xs, Options&&... options);
  template <class F, class Xs>
  auto imap_job(F&& f, Xs& xs, std::size_t chunksize, bool ordered);

  /// The input as a shared vector: chunks index into it from any thread.
  template <class Xs>
  static auto shared_items(Xs& xs) {
    auto items = detail::read_all(xs);
    return std::make_shared<decltype(items)>(std::move(items));
  }

  State state_ = State::running;
  std::mutex callback_mutex_;
  std::unique_ptr<detail::ThreadWorkers> workers_;  // last: its threads stop before the rest goes
};

template <class F, class... Args, class Result>
AsyncResult<Result> ThreadPool::apply_async(F&& f, Args&&... args) {
  using Split = detail::TrailingOptions<Args...>;
  auto all = std::forward_as_tuple(std::forward<Args>(args)...);
  return [&]<std::size_t... I, std::size_t... J>(std::index_sequence<I...>, std::index_sequence<J...>) {
    static_assert((!detail::is_callback_option_v<std::tuple_element_t<I, decltype(all)>> && ...),
                  "mpp: mpp::callback(...) and mpp::error_callback(...) go after the task's arguments");
    using Fn = std::decay_t<F>;
    using Bound = std::tuple<std::decay_t<std::tuple_element_t<I, decltype(all)>>...>;
    static_assert(std::is_invocable_v<Fn&, std::tuple_element_t<I, Bound>...>,
                  "mpp: ThreadPool::apply_async: f cannot be called with these arguments");
    using R = std::invoke_result_t<Fn&, std::tuple_element_t<I, Bound>...>;
    require_running("apply_async");
    detail::Callbacks<R> callbacks;
    (callbacks.set(std::move(std::get<Split::positional + J>(all))), ...);
    auto state = std::make_shared<detail::ResultState<R>>();
    auto shared_callbacks = std::make_shared<detail::Callbacks<R>>(std::move(callbacks));
    workers_->push({[this, state, shared_callbacks,
                     call = bind_call(std::forward<F>(f), std::forward<std::tuple_element_t<I, decltype(all)>>(
                                                              std::get<I>(all))...)]() mutable {
                      run_into(*state, *shared_callbacks, call);
                      return true;
                    },
                    [this, state, shared_callbacks] {
                      finish<R>(*state, *shared_callbacks, std::nullopt, detail::terminated_error());
                    }});
    return AsyncResult<R>(std::move(state), detail::Waiter(workers_->signal()));
  }
  (typename Split::Positional{}, typename Split::Options{});
}

template <bool Star, bool Waits, class F, class Xs, class... Options>
auto ThreadPool::map_job(F&& f, Xs& xs, Options&&... options) {
  static_assert(((std::integral<std::remove_cvref_t<Options>> || detail::is_callback_option_v<Options>)&&...),
                "mpp: ThreadPool map options are a chunksize, mpp::callback(...) and mpp::error_callback(...)");
  using Types = detail::ThreadMapTypes<Star, Waits, F, Xs>;
  using Fn = typename Types::Fn;
  using Item = typename Types::Item;
  constexpr bool borrows = Types::borrows;
  using Stored = typename Types::Stored;
  using R = typename Types::Result;
  static_assert(!std::is_same_v<R, detail::NotCallable>, "mpp: ThreadPool::map: f cannot be called with the items");
  using Output = detail::map_output_t<R>;
  require_running(Star ? "starmap" : "map");

  std::size_t chunksize = 0;
  detail::Callbacks<Output> callbacks;
  auto take = [&](auto&& option) {
    if constexpr (std::integral<std::remove_cvref_t<decltype(option)>>) {
      if (std::cmp_less(option, 0)) throw std::invalid_argument("mpp: map chunksize must be 1 or more (0 chooses one)");
      chunksize = static_cast<std::size_t>(option);
    } else {
      callbacks.set(std::move(option));
    }
  };
  (take(std::forward<Options>(options)), ...);

  // The chunks fill their slots; the last one to end completes the result.
  struct Job {
    explicit Job(Fn function) : fn(std::move(function)) {}
    Fn fn;
    std::shared_ptr<std::vector<Item>> copy;  // the input, unless borrowed
    Stored* items = nullptr;
    // Results written in place when R can be made empty first (no second pass), else as
    // optionals; never vector<bool>, whose neighbouring bits threads cannot write at once.
    using Slot = std::conditional_t<std::is_default_constructible_v<detail::stored_t<R>> && !std::is_same_v<R, bool>,
                                    detail::stored_t<R>, std::optional<detail::stored_t<R>>>;
    std::vector<Slot> slots;
    std::atomic<std::size_t> chunks_left{0};
    std::mutex error_mutex;
    std::exception_ptr error;  // the first chunk's to fail
    detail::Callbacks<Output> callbacks;
    std::shared_ptr<detail::ResultState<Output>> state = std::make_shared<detail::ResultState<Output>>();
  };
  auto job = std::make_shared<Job>(Fn(std::forward<F>(f)));
  std::size_t n = 0;
  if constexpr (borrows) {
    job->items = std::ranges::data(xs);
    n = std::ranges::size(xs);
  } else {
    job->copy = shared_items(xs);
    job->items = job->copy->data();
    n = job->copy->size();
  }
  if (chunksize == 0) chunksize = std::max<std::size_t>(1, (n + 4 * size() - 1) / (4 * size()));
  job->slots.resize(std::is_void_v<R> ? 0 : n);
  job->chunks_left = (n + chunksize - 1) / chunksize;
  job->callbacks = std::move(callbacks);
  auto chunk_ended = [this, job](std::exception_ptr error) {
    if (error) {
      std::lock_guard lock(job->error_mutex);
      if (!job->error) job->error = std::move(error);
    }
    if (--job->chunks_left > 0) return false;
    if (job->error) {
      finish<Output>(*job->state, job->callbacks, std::nullopt, job->error);
      return true;
    }
    if constexpr (std::is_void_v<R>) {
      finish<Output>(*job->state, job->callbacks, std::monostate{}, nullptr);
    } else {
      if constexpr (std::is_same_v<typename Job::Slot, R>) {
        finish<Output>(*job->state, job->callbacks, std::move(job->slots), nullptr);
      } else {
        Output values;
        values.reserve(job->slots.size());
        for (auto& slot : job->slots) values.push_back(std::move(*slot));
        finish<Output>(*job->state, job->callbacks, std::move(values), nullptr);
      }
    }
    return true;
  };
  if (n == 0) {
    job->chunks_left = 1;
    chunk_ended(nullptr);
  }
  std::vector<detail::ThreadWorkers::Job> chunks;
  chunks.reserve(job->chunks_left);
  for (std::size_t first = 0; first < n; first += chunksize) {
    const std::size_t last = std::min(n, first + chunksize);
    chunks.push_back({[job, chunk_ended, first, last] {
                        std::exception_ptr error;
                        try {
                          for (std::size_t i = first; i < last; ++i) {
                            auto& item = job->items[i];
                            auto call = [&] {
                              if constexpr (Star) {
                                return std::apply(job->fn, item);
                              } else {
                                return std::invoke(job->fn, item);
                              }
                            };
                            if constexpr (std::is_void_v<R>) {
                              call();
                            } else {
                              job->slots[i] = call();
                            }
                          }
                        } catch (...) {
                          error = std::current_exception();
                        }
                        return chunk_ended(std::move(error));
                      },
                      [chunk_ended] { chunk_ended(detail::terminated_error()); }});
  }
  workers_->push(std::move(chunks));
  return AsyncResult<Output>(job->state, detail::Waiter(workers_->signal()));
}

template <class F, class Xs>
auto ThreadPool::imap_job(F&& f, Xs& xs, std::size_t chunksize, bool ordered) {
  using Fn = std::decay_t<F>;
  using Item = std::remove_cvref_t<std::ranges::range_value_t<Xs>>;
  using R = detail::thread_imap_result_t<F, Xs>;
  static_assert(!std::is_same_v<R, detail::NotCallable>, "mpp: ThreadPool::imap: f cannot be called with the items");
  static_assert(!std::is_void_v<R>, "mpp: imap needs a function that returns a value; use map for side effects");
  require_running(ordered ? "imap" : "imap_unordered");
  if (chunksize == 0) throw std::invalid_argument("mpp: imap chunksize must be at least 1");
  auto items = std::make_shared<std::vector<Item>>();
  auto input_error = detail::read_input(xs, *items);
  std::size_t n = items->size();
  if (input_error) n -= n % chunksize;  // the chunk being read when it failed is lost, as in Python
  auto slots = std::make_shared<detail::ImapSlots<R>>(ordered, n, chunksize);
  if (input_error) slots->fail_at_end(std::move(input_error));
  auto fn = std::make_shared<Fn>(std::forward<F>(f));
  std::vector<detail::ThreadWorkers::Job> chunks;
  chunks.reserve((n + chunksize - 1) / chunksize);
  for (std::size_t first = 0; first < n; first += chunksize) {
    const std::size_t last = std::min(n, first + chunksize);
    chunks.push_back({[fn, items, slots, first, last] {
                        std::vector<R> values;
                        try {
                          for (std::size_t i = first; i < last; ++i) values.push_back(std::invoke(*fn, (*items)[i]));
                        } catch (...) {
                          slots->fail_chunk(first, std::current_exception());
                          return true;
                        }
                        slots->put_chunk(first, std::move(values));
                        return true;
                      },
                      [slots, first] { slots->fail_chunk(first, detail::terminated_error()); }});
  }
  workers_->push(std::move(chunks));
  return ImapResult<R>(std::move(slots), detail::Waiter(workers_->signal()));
}

}  // namespace mpp
