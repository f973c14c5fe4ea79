#pragma once
// mpp::Pool: Python's multiprocessing.Pool over the worker ranks of the session.
//
//   mpp::Pool pool;                                      // every worker rank; Pool(4) for four
//   std::vector<int> r = pool.map(square, xs);           // ordered, like Python
//   mpp::AsyncResult<int> f = pool.apply_async(square, 20);
//   pool.close(); pool.join();                           // the destructor terminates, like `with`
//   mpp::Pool safe(mpp::PoolOptions{.isolated = true, .task_timeout = std::chrono::seconds(60)});
//
// f may be a plain function, a captureless lambda or an empty function object; arguments and
// results are any type mpp/serialization.hpp accepts. Use a Pool from the master rank only.
#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <tuple>
#include <typeinfo>
#include <utility>
#include <vector>

#include "mpp/async_result.hpp"
#include "mpp/callbacks.hpp"
#include "mpp/detail/call_types.hpp"
#include "mpp/detail/engine.hpp"
#include "mpp/detail/fingerprint.hpp"
#include "mpp/detail/map_run.hpp"
#include "mpp/detail/map_sink.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/errors.hpp"
#include "mpp/imap.hpp"
#include "mpp/map_options.hpp"
#include "mpp/session.hpp"

namespace mpp {

/// How a Pool runs its tasks. Every field is optional; name the ones you set:
///   mpp::Pool pool(mpp::PoolOptions{.processes = 8, .isolated = true, .maxtasksperchild = 100});
struct PoolOptions {
  /// Worker ranks to use; 0: all of them. An isolated pool may ask for more processes than
  /// the job has workers: they are spread evenly over the workers, as Python starts as many
  /// as asked (with a note on stderr when they are more than the job's cores).
  int processes = 0;
  /// Run the tasks in child processes of the worker ranks, one per process, as Python's Pool
  /// runs them in worker processes: a task that crashes (segfault, abort, the OOM killer),
  /// calls exit or runs past task_timeout fails alone, as mpp::RemoteError naming how its
  /// process ended, and the process is replaced. terminate() kills running tasks.
  bool isolated = false;
  /// Isolated pools: a child process is replaced after this many tasks (Python's
  /// maxtasksperchild); 0: never.
  int maxtasksperchild = 0;
  /// Isolated pools: a task running longer is killed and fails with mpp::TimeoutError as its
  /// type; 0: no limit.
  std::chrono::milliseconds task_timeout{0};
};

class Pool {
  friend class ProcessPoolExecutor;  // its futures are the pool's tasks with sinks of their own

 public:
  /// A pool over every worker rank.
  Pool();
  /// A pool over `processes` worker ranks (at most session.workers(); more with
  /// PoolOptions::isolated).
  explicit Pool(int processes);
  explicit Pool(const PoolOptions& options);
  /// As Pool(processes), running initializer(initargs...) once on each of its worker ranks
  /// before any task (in an isolated pool: in each of its child processes, replacements
  /// included); an initializer's exception is thrown here as mpp::RemoteError.
  template <class Init, class... InitArgs>
  Pool(int processes, Init initializer, InitArgs&&... initargs);
  template <class Init, class... InitArgs>
  Pool(const PoolOptions& options, Init initializer, InitArgs&&... initargs);
  /// Like leaving Python's `with Pool() as p:` — terminate() unless join() already ran.
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// The number of processes in this pool: its worker ranks, or its child processes when
  /// isolated.
  int size() const { return lane_->processes; }

  /// What map and starmap return for f returning R: std::vector<R> (nothing when R is void).
  template <class R>
  using MapResult = detail::map_output_t<R>;

  /// f(args...) on a worker, waiting for the result.
  template <class F, class... Args, class R = detail::apply_call_result_t<F, Args...>>
  R apply(F f, Args&&... args) {
    return apply_async(f, std::forward<Args>(args)...).get();
  }

  /// f(args...) on a worker; trailing mpp::callback(...) / mpp::error_callback(...) are the
  /// Python keywords of the same names.
  template <class F, class... Args, class R = detail::apply_call_result_t<F, Args...>>
  AsyncResult<R> apply_async(F f, Args&&... args);

  /// [f(x) for x in xs], in order. Options: a chunksize (0 or none picks one, see
  /// default_chunksize) and the long-run options of mpp/map_options.hpp: mpp::journal(path),
  /// mpp::retries(n), mpp::progress(), mpp::status_log(path).
  template <class F, std::ranges::input_range Xs, class... Options, class R = detail::map_result_t<false, F, Xs>>
  MapResult<R> map(F f, Xs&& xs, Options&&... options) {
    return map_job<false, true>(f, xs, std::forward<Options>(options)...).take();
  }
  /// [f(*args) for args in tuples], in order; options as map's.
  template <class F, std::ranges::input_range Xs, class... Options, class R = detail::map_result_t<true, F, Xs>>
  MapResult<R> starmap(F f, Xs&& tuples, Options&&... options) {
    return map_job<true, true>(f, tuples, std::forward<Options>(options)...).take();
  }

  /// map without waiting; options: map's, mpp::callback(...) and mpp::error_callback(...).
  template <class F, std::ranges::input_range Xs, class... Options, class R = detail::map_result_t<false, F, Xs>>
  AsyncResult<MapResult<R>> map_async(F f, Xs&& xs, Options&&... options) {
    return map_job<false, false>(f, xs, std::forward<Options>(options)...).async_result();
  }
  template <class F, std::ranges::input_range Xs, class... Options, class R = detail::map_result_t<true, F, Xs>>
  AsyncResult<MapResult<R>> starmap_async(F f, Xs&& tuples, Options&&... options) {
    return map_job<true, false>(f, tuples, std::forward<Options>(options)...).async_result();
  }

  /// Results in input order, each handed out as soon as it and those before it are there.
  /// Options: a chunksize (default 1, as Python's) and the long-run options, as map's.
  template <class F, std::ranges::input_range Xs, class... Options, class R = detail::map_result_t<false, F, Xs>>
  ImapResult<R> imap(F f, Xs&& xs, Options&&... options) {
    return imap_job<true>(f, xs, std::forward<Options>(options)...);
  }
  /// Results in completion order; options as imap's.
  template <class F, std::ranges::input_range Xs, class... Options, class R = detail::map_result_t<false, F, Xs>>
  ImapResult<R> imap_unordered(F f, Xs&& xs, Options&&... options) {
    return imap_job<false>(f, xs, std::forward<Options>(options)...);
  }

  /// No more tasks may be submitted; those already submitted run to completion.
  void close();
  /// Waits for every submitted task; needs close() or terminate() first.
  void join();
  /// Drops queued tasks (their results throw mpp::TerminatedError). An isolated pool kills its
  /// running tasks' processes too; in a pool that is not isolated, running tasks cannot be
  /// interrupted (they share the worker rank's process): they finish, their results discarded.
  void terminate();

  /// mpp's default chunksize: ceil(items / (64 * workers)). Python uses 4 chunks per worker;
  /// a chunk costs mpp only microseconds, so finer chunks buy load balance for free. In an
  /// isolated pool a chunk also crosses from the rank to its child process and back, each a
  /// wake-up that takes tens of microseconds on a busy node: 8 chunks per process there (still
  /// twice Python's; 16 cost 10-20% more CPU on a map of 1M ints, 4 no less than 8).
  static std::size_t default_chunksize(std::size_t items, int workers, bool isolated = false) {
    const std::size_t parts = (isolated ? 8 : 64) * static_cast<std::size_t>(workers);
    return std::max<std::size_t>(1, (items + parts - 1) / parts);
  }

 private:
  enum class State { running, closed, terminated, joined };

  /// A chunksize larger than the input is one chunk (and chunk arithmetic cannot wrap).
  static std::size_t fitted_chunksize(std::size_t items, std::size_t chunksize) {
    return std::min(chunksize, std::max<std::size_t>(items, 1));
  }

  /// A submitted map-style job: its shared state, waited on or wrapped as an AsyncResult.
  template <class Output>
  struct MapJob {
    std::shared_ptr<detail::ResultState<Output>> state;
    detail::Engine* engine;
    std::shared_ptr<detail::InputLoan> loan;  // a blocking map's: its input is read in place

    auto take() {
      // Failed or terminated too, the map returns only once no send reads its input any more.
      engine->wait_until([this] { return state->ready() && (!loan || loan->sends_in_flight == 0); });
      state->rethrow_if_failed();
      if constexpr (!std::is_void_v<Output>) return state->take();
    }
    AsyncResult<Output> async_result() { return AsyncResult<Output>(state, detail::Waiter(*engine)); }
  };

  /// With `Blocking` (map and starmap, whose caller waits), chunks of a contiguous range of
  /// raw items are sent from `xs` as they lie: the master copies none of them.
  template <bool Star, bool Blocking, class F, class Xs, class... Options>
  auto map_job(F f, Xs& xs, Options&&... options);

  /// A map's long-run options (mpp/map_options.hpp), as given.
  struct LongRunOptions {
    std::optional<Journal> journal;
    int retries = 0;
    std::optional<Progress> progress;
    std::optional<StatusLog> status_log;
    void set(Journal option) { journal = std::move(option); }
    void set(Retries option) { retries = option.count; }
    void set(Progress option) { progress = option; }
    void set(StatusLog option) { status_log = std::move(option); }
  };
  /// A map's trailing options, as given; chunksize 0: none given.
  template <class Output>
  struct MapOptions {
    std::size_t chunksize = 0;
    detail::Callbacks<Output> callbacks;
    LongRunOptions long_run;

    template <class Option>
    void take(Option&& option) {
      if constexpr (std::integral<std::remove_cvref_t<Option>>) {
        if (std::cmp_less(option, 0))
          throw std::invalid_argument("mpp: map chunksize must be 1 or more (0 chooses one)");
        chunksize = static_cast<std::size_t>(option);
      } else if constexpr (detail::is_long_run_option_v<Option>) {
        long_run.set(std::forward<Option>(option));
      } else {
        callbacks.set(std::forward<Option>(option));
      }
    }
  };
  /// What a journal records about the map's function: its code and its types.
  template <class F, class Item, class Result>
  static detail::JournalIdentity journal_identity(F f, std::size_t items) {
    const detail::CodeRef code = detail::function_ref(f);
    std::string types = std::string(typeid(F).name()) + '|' + typeid(Item).name() + '|' + typeid(Result).name();
    std::uint64_t key = detail::fnv1a(types.data(), types.size());
    key = detail::fnv1a(&code, sizeof code, key);
    return {items, key, detail::demangled(typeid(F).name())};
  }
  /// The map's MapRun if any option asks for one (MPP_PROGRESS=1 adds mpp::progress()); opens
  /// its journal, which `identity` describes.
  std::unique_ptr<detail::MapRun> plan_long_run(LongRunOptions& options, std::size_t items, std::size_t chunksize,
                                                const detail::JournalIdentity& identity);
  /// Submits the chunks, except those the journal answers: those are delivered at once.
  void submit_map(std::vector<detail::Task> tasks, const std::shared_ptr<detail::TaskSink>& sink, detail::MapRun* run,
                  const LongRunOptions& options);

  template <bool Ordered, class F, class Xs, class... Options>
  auto imap_job(F f, Xs& xs, Options&&... options);
  /// imap over a forward range; `input_error`: reading the input threw after `xs` (see
  /// detail::read_input), so only its whole chunks run and next() throws the error after them.
  template <bool Ordered, class F, class Xs, class... Options>
  auto imap_of(F f, Xs& xs, std::exception_ptr input_error, Options&&... options);
  /// The long-run machinery of a map or imap over `items` of F (null when no option asks for
  /// any); `chunksize` becomes the journal's where one exists.
  template <class Item, class Result, class F>
  std::unique_ptr<detail::MapRun> plan_map(F f, LongRunOptions& options, std::size_t items, std::size_t& chunksize) {
    auto run = plan_long_run(options, items, chunksize,
                             options.journal ? journal_identity<F, Item, Result>(f, items) : detail::JournalIdentity{});
    if (run) chunksize = run->chunksize();  // a journal keeps the chunks it was written with
    return run;
  }

  /// Cuts xs into chunk tasks for the invoker, each reporting to `sink`. With a `loan`, the
  /// items of a contiguous range of raw values stay in xs and are sent from there (the caller
  /// keeps xs alive and unchanged until every chunk ran and the loan has no send in flight).
  template <class Item, detail::Invoker invoker, class F, class Xs>
  std::vector<detail::Task> make_chunks(F f, Xs& xs, std::size_t items, std::size_t chunksize,
                                        const std::shared_ptr<detail::TaskSink>& sink,
                                        const std::shared_ptr<detail::InputLoan>& loan);

  /// The result type of f(args...) run on a worker, once the call is checked to be shippable.
  template <class F, class... Args>
  static auto checked_call() {
    using Wire = detail::wire_args_t<F, Args...>;
    detail::check_shippable<F>();
    detail::check_sendable_tuple<Wire>();
    using R = detail::apply_result_t<F, Wire>;
    if constexpr (!std::is_void_v<R>) detail::check_sendable<R>();
    return std::type_identity<R>{};
  }
  template <class F, class... Args>
  using checked_call_result_t = typename decltype(checked_call<F, Args...>())::type;

  template <class F, class R, class... Args>
  AsyncResult<R> submit_apply(F f, std::optional<detail::Callbacks<R>>&& callbacks, int target_rank, Args&&... args);

  /// Ships f(args...) to a worker (`target_rank`, or any when 0); its outcome goes to `sink`.
  template <class F, class... Args>
  void submit_call(F f, std::shared_ptr<detail::TaskSink> sink, int target_rank, Args&&... args);

  static int checked_processes(int processes);
  void require_running(const char* method) const;
  void run_initializers(std::vector<AsyncResult<void>> results);

  detail::SessionPtr<detail::Engine> engine_;
  std::shared_ptr<detail::Lane> lane_;
  State state_ = State::running;
};

template <class Init, class... InitArgs>
Pool::Pool(int processes, Init initializer, InitArgs&&... initargs)
    : Pool(PoolOptions{.processes = checked_processes(processes)}, initializer, std::forward<InitArgs>(initargs)...) {}

template <class Init, class... InitArgs>
Pool::Pool(const PoolOptions& options, Init initializer, InitArgs&&... initargs) : Pool(options) {
  std::vector<AsyncResult<void>> results;
  for (int rank : lane_->ranks) results.push_back(submit_apply<Init, void>(initializer, {}, rank, initargs...));
  run_initializers(std::move(results));
}

template <class F, class... Args, class Result>
AsyncResult<Result> Pool::apply_async(F f, Args&&... args) {
  using Split = detail::TrailingOptions<Args...>;
  auto all = std::forward_as_tuple(std::forward<Args>(args)...);
  return [&]<std::size_t... I, std::size_t... J>(std::index_sequence<I...>, std::index_sequence<J...>) {
    static_assert((!detail::is_callback_option_v<std::tuple_element_t<I, decltype(all)>> && ...),
                  "mpp: mpp::callback(...) and mpp::error_callback(...) go after the task's arguments");
    using R = checked_call_result_t<F, std::tuple_element_t<I, decltype(all)>...>;
    std::optional<detail::Callbacks<R>> callbacks;  // none unless given (ApplySink)
    if constexpr (Split::options > 0) {
      callbacks.emplace();
      (callbacks->set(std::move(std::get<Split::positional + J>(all))), ...);
    }
    return submit_apply<F, R>(f, std::move(callbacks), 0,
                              std::forward<std::tuple_element_t<I, decltype(all)>>(std::get<I>(all))...);
  }
  (typename Split::Positional{}, typename Split::Options{});
}

template <class F, class R, class... Args>
AsyncResult<R> Pool::submit_apply(F f, std::optional<detail::Callbacks<R>>&& callbacks, int target_rank,
                                  Args&&... args) {
  require_running("apply_async");
  auto [sink, state] = detail::ApplySink<R>::make(std::move(callbacks));
  submit_call(f, std::move(sink), target_rank, std::forward<Args>(args)...);
  return AsyncResult<R>(std::move(state), detail::Waiter(*engine_));
}

template <class F, class... Args>
void Pool::submit_call(F f, std::shared_ptr<detail::TaskSink> sink, int target_rank, Args&&... args) {
  using Wire = detail::wire_args_t<F, Args...>;
  auto task =
      detail::make_task(detail::invoker_ref<&detail::invoke_apply<F, Wire>>(), detail::function_ref(f), detail::no_item,
                        [&](detail::Writer& out) { out.write(Wire(std::forward<Args>(args)...)); });
  task.sink = std::move(sink);
  task.target_rank = target_rank;
  engine_->submit(lane_, std::move(task));
}

template <class Item, detail::Invoker invoker, class F, class Xs>
std::vector<detail::Task> Pool::make_chunks(F f, Xs& xs, std::size_t items, std::size_t chunksize,
                                            const std::shared_ptr<detail::TaskSink>& sink,
                                            const std::shared_ptr<detail::InputLoan>& loan) {
  constexpr bool borrowable = detail::raw_bytes<Item> && std::ranges::contiguous_range<Xs> &&
                              std::same_as<std::ranges::range_value_t<Xs>, Item>;
  const detail::CodeRef function = detail::function_ref(f);
  std::vector<detail::Task> tasks;
  tasks.reserve((items + chunksize - 1) / chunksize);
  auto it = std::ranges::begin(xs);
  for (std::size_t first = 0; first < items; first += chunksize) {
    const std::size_t count = detail::chunk_length(first, chunksize, items);
    detail::Task task;
    if constexpr (borrowable) {
      if (loan) {
        const std::span<const char> tail(reinterpret_cast<const char*>(std::ranges::data(xs) + first),
                                         count * sizeof(Item));
        task = detail::make_task(
            detail::invoker_ref<invoker>(), function, first, [&](detail::Writer& out) { out.write_size(count); }, tail);
        task.loan = loan;
      }
    }
    if (task.wire.empty()) {
      auto chunk =
          std::ranges::subrange(std::counted_iterator(it, static_cast<std::ptrdiff_t>(count)), std::default_sentinel);
      task = detail::make_task(detail::invoker_ref<invoker>(), function, first,
                               [&](detail::Writer& out) { out.write_items<Item>(chunk, count); });
    }
    task.sink = sink;
    tasks.push_back(std::move(task));
    std::ranges::advance(it, static_cast<std::ptrdiff_t>(count));
  }
  return tasks;
}

template <bool Star, bool Blocking, class F, class Xs, class... Options>
auto Pool::map_job(F f, Xs& xs, Options&&... options) {
  if constexpr (!std::ranges::forward_range<Xs>) {
    auto items = detail::read_all(xs);  // gone when this returns: not to be borrowed
    return map_job<Star, false>(f, items, std::forward<Options>(options)...);
  } else {
    using Types = detail::MapTypes<Star, F, Xs>;
    Types::check();
    // Before anything is sent: a blocking map's chunks borrow xs, which must outlive them.
    if constexpr (Blocking) detail::Engine::refuse_wait_in_callback();
    using Item = typename Types::Item;
    using Output = detail::map_output_t<typename Types::Result>;
    static_assert(((std::integral<std::remove_cvref_t<Options>> || detail::is_callback_option_v<Options> ||
                    detail::is_long_run_option_v<Options>)&&...),
                  "mpp: map options are a chunksize, mpp::journal(...), mpp::retries(...), mpp::progress(), "
                  "mpp::status_log(...), and "
                  "for map_async/starmap_async mpp::callback(...) and mpp::error_callback(...)");
    require_running(Star ? "starmap" : "map");

    MapOptions<Output> given;
    (given.take(std::forward<Options>(options)), ...);

    const auto items = static_cast<std::size_t>(std::ranges::distance(xs));
    std::size_t chunksize = given.chunksize == 0 ? default_chunksize(items, size(), lane_->isolation.has_value())
                                                 : fitted_chunksize(items, given.chunksize);
    auto run = plan_map<Item, typename Types::Result>(f, given.long_run, items, chunksize);
    auto state = std::make_shared<detail::ResultState<Output>>();
    auto* planned = run.get();
    auto sink = std::make_shared<detail::MapSink<typename Types::Result>>(state, std::move(given.callbacks), items,
                                                                          chunksize, std::move(run));
    // A journal or retries keep each chunk's own bytes: no borrowing then.
    std::shared_ptr<detail::InputLoan> loan;
    if (Blocking && planned == nullptr) loan = std::make_shared<detail::InputLoan>();
    if (items == 0) {
      sink->finish_empty();
    } else {
      auto chunks = make_chunks<Item, &detail::invoke_map<F, Item, Star>>(f, xs, items, chunksize, sink, loan);
      // Raw results land straight in the output, unless a journal keeps each chunk's bytes.
      if (detail::bulk_raw<typename Types::Result> && planned == nullptr)
        for (auto& chunk : chunks) detail::allow_result_apart(chunk);
      submit_map(std::move(chunks), sink, planned, given.long_run);
    }
    return MapJob<Output>{std::move(state), &*engine_, std::move(loan)};
  }
}

template <bool Ordered, class F, class Xs, class... Options>
auto Pool::imap_job(F f, Xs& xs, Options&&... options) {
  // Items that are computed as they are read (a stream, a generator, a transform view) may
  // throw: read them first, keeping what came before.
  if constexpr (!std::ranges::forward_range<Xs> || !std::is_lvalue_reference_v<std::ranges::range_reference_t<Xs>>) {
    std::vector<std::ranges::range_value_t<Xs>> items;
    auto input_error = detail::read_input(xs, items);
    return imap_of<Ordered>(f, items, std::move(input_error), std::forward<Options>(options)...);
  } else {
    return imap_of<Ordered>(f, xs, nullptr, std::forward<Options>(options)...);
  }
}

template <bool Ordered, class F, class Xs, class... Options>
auto Pool::imap_of(F f, Xs& xs, std::exception_ptr input_error, Options&&... options) {
  using Types = detail::MapTypes<false, F, Xs>;
  Types::check();
  using Item = typename Types::Item;
  using R = typename Types::Result;
  static_assert(!std::is_void_v<R>, "mpp: imap needs a function that returns a value; use map for side effects");
  static_assert(((std::integral<std::remove_cvref_t<Options>> || detail::is_long_run_option_v<Options>)&&...),
                "mpp: imap options are a chunksize, mpp::journal(...), mpp::retries(...), mpp::progress() and "
                "mpp::status_log(...); iterate the result instead of passing callbacks");
  require_running(Ordered ? "imap" : "imap_unordered");
  MapOptions<std::vector<R>> given;
  given.chunksize = 1;  // Python's default for imap
  (given.take(std::forward<Options>(options)), ...);
  if (given.chunksize == 0) throw std::invalid_argument("mpp: imap chunksize must be at least 1");
  auto items = static_cast<std::size_t>(std::ranges::distance(xs));
  std::size_t chunksize = fitted_chunksize(items, given.chunksize);
  if (input_error) items -= items % chunksize;  // the chunk being read when it failed is lost
  auto run = plan_map<Item, R>(f, given.long_run, items, chunksize);
  auto* planned = run.get();
  auto stream = std::make_shared<detail::ImapStream<R>>(Ordered, items, chunksize, std::move(run));
  if (input_error) stream->fail_at_end(std::move(input_error));
  if (items == 0) {
    stream->finish_empty();
  } else {
    submit_map(make_chunks<Item, &detail::invoke_map<F, Item, false>>(f, xs, items, chunksize, stream, nullptr), stream,
               planned, given.long_run);
  }
  return ImapResult<R>(std::move(stream), detail::Waiter(*engine_));
}

}  // namespace mpp
