#pragma once
// The master's task engine: queues tasks per pool, ships them to workers in batches, collects
// results and hands them to their sinks (AsyncResult, map output, imap stream).
//
// Two threads drive it, never at once (the progress mutex): a background progress thread,
// so results arrive and callbacks run while user code is busy elsewhere, and any user thread
// that waits for a result, which spins on MPI itself for a moment first — a round trip then
// costs microseconds, not two thread wake-ups.
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/deadline.hpp"
#include "mpp/detail/doorbell.hpp"
#include "mpp/detail/object_server.hpp"
#include "mpp/detail/protocol.hpp"
#include "mpp/detail/spare_wires.hpp"
#include "mpp/detail/task_statistics.hpp"
#include "mpp/detail/wire.hpp"
#include "mpp/errors.hpp"

namespace mpp::detail {

/// How one task ran, as its result says: what mpp::status_log records.
struct TaskRun {
  int rank;
  const ResultHeader& result;
  std::string_view error_type;  // empty when it succeeded
};

/// Receives the outcome of the tasks of one job; called only under the progress mutex.
class TaskSink {
 public:
  virtual ~TaskSink() = default;
  /// A task's result came back; deliver() or fail() follows at once.
  virtual void ran(std::uint64_t /*first_index*/, const TaskRun& /*run*/) {}
  /// `first_index` names the task inside its job (the first item of a map chunk).
  virtual void deliver(std::uint64_t first_index, Reader& results) = 0;
  /// Where the `bytes` of raw result items a task sent apart (TaskHeader::detach_result) may be
  /// received straight; empty: the sink cannot take them there now.
  virtual std::span<char> landing(std::uint64_t /*first_index*/, std::size_t /*bytes*/) { return {}; }
  /// deliver() of a result whose raw items came apart: `items`, at landing() if it gave a place.
  virtual void deliver_apart(std::uint64_t /*first_index*/, Reader& /*results*/, std::span<const char> /*items*/) {
    throw MalformedMessage("mpp: a result came apart from its message for a task that did not allow it");
  }
  virtual void fail(std::uint64_t first_index, const RemoteError& error) = 0;
  /// Pool::terminate() dropped the task; no result will come.
  virtual void cancel(std::uint64_t first_index) = 0;
  /// The task was sent to `rank` to run.
  virtual void dispatched(std::uint64_t /*first_index*/, int /*rank*/) {}
  /// The job is stopped by the wall time: keep what it has (flush its journal) and say how far
  /// it got, for the last words of the program; empty: nothing to say.
  virtual std::string wall_time_report() { return {}; }
  /// Whether a thread waiting on the engine may be waiting for what this sink just took in:
  /// sleeping waiters are woken after a results message only then. A map's chunks are not news
  /// until the last (its result is the whole list); woken for each of a 1M-int map's 128, the
  /// caller's thread took a core from the workers 128 times.
  virtual bool news_for_waiters() const { return true; }
};

struct Lane;

/// A blocking map's input, which its chunks' sends read where it lies (Task::borrowed_tail):
/// the caller may let it go only once no such send is in flight.
struct InputLoan {
  std::atomic<std::size_t> sends_in_flight{0};
};

struct Task {
  Bytes wire;  // a TaskHeader (id filled at dispatch) followed by the arguments
  std::shared_ptr<TaskSink> sink{};
  // Not shared: a count per task on the lane's block would move its cache line between the
  // submitting thread and the one that finishes the task. The engine keeps the lane alive
  // while it has unfinished tasks (Engine::close_lane).
  Lane* lane = nullptr;
  std::uint64_t first_index = 0;
  int target_rank = 0;  // nonzero: only this worker (pool initializers)
  int avoid_rank = 0;   // nonzero: a retry, kept off the worker it failed on
  // A Process: sent as Tag::process. Apart, as rare: a task is moved from queue to queue, and
  // every byte of it is copied each time (104 bytes, not 152).
  std::unique_ptr<ProcessStart> process{};
  /// The last bytes of the arguments, read from the submitter's memory only when the task is
  /// sent (a blocking map's raw items: the caller waits, keeping them, until the task ran and
  /// `loan` has no send in flight). An in-rank pool sends them as they lie, detached
  /// (TaskHeader::detached_size); an isolated one copies them into the batch.
  std::span<const char> borrowed_tail{};
  std::shared_ptr<InputLoan> loan{};

  /// The task's bytes as sent: wire, then borrowed_tail.
  std::size_t size() const { return wire.size() + borrowed_tail.size(); }
};

/// The workers one Pool uses and its queued tasks.
struct Lane {
  std::vector<int> ranks;
  /// The pool's processes: one per rank, or for an isolated pool as many as asked, its child
  /// processes spread evenly over `ranks` (see width_on).
  int processes = 0;
  std::deque<Task> pending;
  std::atomic<std::size_t> unfinished{0};  // submitted (perhaps not yet taken in), queued or running
  double typical_run_ns = -1;              // moving average of its tasks' run times; < 0 until one returns
  /// Processes: each starts at once in a child of a worker, however many run already, so
  /// processes that wait for each other (a producer and its consumer) run side by side.
  bool solo = false;
  /// An isolated pool: its tasks run in child processes of the workers (detail/isolated_tasks.hpp).
  std::optional<IsolationHeader> isolation;

  /// Tiny tasks (< 0.2 ms) go in batches sized by the backlog, two batches per worker, so
  /// message costs vanish. Longer ones go one at a time; see Engine::worth_prefetching.
  bool tiny_tasks() const { return !solo && typical_run_ns >= 0 && typical_run_ns < 200e3; }
  /// How many of the pool's processes run on `rank`: batches it may run there at once.
  int width_on(int rank) const;
};

/// A task whose arguments `write_args(Writer&)` serializes, followed by `borrowed_tail`.
template <class WriteArgs>
Task make_task(const CodeRef& invoker, const CodeRef& function, std::uint64_t first_index, WriteArgs&& write_args,
               std::span<const char> borrowed_tail = {}) {
  Writer out(take_spare_wire());
  TaskHeader header{0, invoker, function, first_index, 0};
  out.write_raw(&header, sizeof header);
  write_args(out);
  header.args_size = out.size() + borrowed_tail.size() - sizeof header;
  if (out.size() + borrowed_tail.size() > max_message_bytes)
    throw std::length_error(
        "mpp: a task's arguments exceed 2 GiB, the most one MPI message carries; "
        "pass a smaller chunksize or split the data");
  std::memcpy(out.bytes().data(), &header, sizeof header);
  return Task{.wire = std::move(out.bytes()), .first_index = first_index, .borrowed_tail = borrowed_tail};
}

/// Lets the worker send the task's raw result items apart from its results, for the master to
/// receive them straight where its sink's landing() says (TaskHeader::detach_result).
inline void allow_result_apart(Task& task) {
  TaskHeader header;
  std::memcpy(&header, task.wire.data(), sizeof header);
  header.detach_result = 1;
  std::memcpy(task.wire.data(), &header, sizeof header);
}

class Engine {
 public:
  using Clock = std::chrono::steady_clock;

  /// Master side of `comm` (rank 0); ranks 1..size-1 are workers running serve(). The
  /// progress thread never naps longer than `max_nap`. With `keep_statistics`, statistics()
  /// tallies the pool tasks (MPP_VERBOSE's summary).
  Engine(MPI_Comm comm, std::chrono::microseconds max_nap, std::vector<Doorbell> doorbells,
         bool keep_statistics = false);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int worker_count() const { return static_cast<int>(workers_.size()) - 1; }

  /// A lane over the `processes` workers least used by other pools; with `isolation`, its
  /// tasks run in child processes there (the lane number is filled in), and `processes` may
  /// exceed the workers: each then has several.
  std::shared_ptr<Lane> open_lane(int processes, std::optional<IsolationHeader> isolation = std::nullopt);
  /// The pool is done with `lane`; the engine lets it go once no task of it is unfinished.
  void close_lane(const Lane& lane);

  /// The lane Processes run on: every worker, any number of processes each.
  std::shared_ptr<Lane> process_lane();

  void submit(const std::shared_ptr<Lane>& lane, std::vector<Task> tasks);
  void submit(const std::shared_ptr<Lane>& lane, Task task);
  /// Drops the lane's queued task that reports to `sink`, calling its cancel(); false if it
  /// is not queued (it already runs or ran).
  bool cancel_queued(const std::shared_ptr<Lane>& lane, const TaskSink* sink);
  /// Drops every queued task of the lane, calling their sinks' cancel(); running ones go on.
  std::size_t cancel_all_queued(const std::shared_ptr<Lane>& lane);
  /// Drops the lane's queued tasks and abandons its running ones (their results are discarded).
  void terminate(const std::shared_ptr<Lane>& lane);
  bool finished(const Lane& lane);

  /// Waits until done() holds or the deadline passes; false on timeout. done() is not called
  /// again after it returned true, so it may take what it waited for.
  template <class Done>
  bool wait_until(Done&& done, std::optional<Clock::time_point> deadline = std::nullopt);

  /// Ends every lane, waits for running tasks and sends the workers home.
  void shutdown();

  /// Queues, Manager containers and pipe bookkeeping, served alongside the tasks.
  ObjectServer& objects() { return objects_; }
  /// Wakes master threads sleeping in wait_until so they look at their condition again.
  void notify_waiters();

  /// Throws UsageError on the thread that delivers results (inside a pool callback), where
  /// waiting for a result could never end; wait_until checks it too.
  static void refuse_wait_in_callback();

  /// Whether pool tasks are held back for the wall time (mpp/wall_time.hpp).
  bool winding_down() const;
  /// Pool tasks sent to workers and not answered yet.
  std::size_t running_pool_tasks() const { return pool_running_; }

  /// The tally of the pool tasks run so far, if kept; read it once no task runs.
  const TaskStatistics* statistics() const { return statistics_.get(); }

 private:
  struct WorkerSlot {
    int batches_in_flight = 0;
    Clock::time_point busy_since;  // when the batch it is running started, as far as we know
    int lanes = 0;
    int processes = 0;  // running there; a worker with processes gets no batches (see dispatch)
    std::deque<Task> targeted;
  };
  struct InFlight {
    std::shared_ptr<TaskSink> sink;
    Lane* lane;  // alive while the task is unfinished (Engine::close_lane)
    std::uint64_t first_index;
    bool discard;
  };
  struct Send {
    MPI_Request request;
    Bytes buffer;
    std::shared_ptr<InputLoan> loan{};  // set when it sends borrowed bytes, not `buffer`
  };
  /// Borrowed arguments of a batch, sent as they lie after it (Tag::task_data).
  struct DetachedRun {
    std::span<const char> bytes;
    std::shared_ptr<InputLoan> loan;
  };

  /// Counts `count` tasks of `lane` as submitted (before they are queued: see finish_tasks).
  void count_submitted(Lane& lane, std::size_t count);
  /// Has dispatch() look for work, waking the progress thread from a long nap.
  void wake_for_submitted();
  /// Ends the progress thread's nap, or its standing aside for a spinning waiter.
  void kick_progress_thread();
  /// Moves the submitted tasks into their lanes' queues (needs the state mutex).
  void take_in_submitted();
  /// Drops the lane's queued tasks `which` selects (the first only, or all), cancelling them.
  std::size_t drop_queued(const std::shared_ptr<Lane>& lane, const std::function<bool(const Task&)>& which,
                          bool first_only);
  bool try_progress();
  bool progress_locked();
  bool reap_sends();
  bool receive_results();
  bool dispatch();
  /// Whether it was news for waiters (TaskSink::news_for_waiters).
  bool deliver_message(int source, std::span<const char> message);
  /// Takes the in-flight entry of the task `header` answers (MalformedMessage if none runs);
  /// needs the state mutex.
  InFlight take_in_flight(const ResultHeader& header);
  struct Arrival;
  /// Hands one task's result to its sink (`items`: its raw items that came apart).
  void deliver_result(int source, Arrival& arrival, std::span<const char> items);
  /// Ends the tasks whose results came from `rank`, once delivered.
  void finish_tasks(int rank, const std::vector<Arrival>& arrivals);
  /// Lets go of closed lanes whose last task finished; under state_mutex_.
  void release_closed_lanes();
  /// Receives the raw items that came apart from `arrivals` (Tag::result_data from `source`):
  /// straight into their sinks' landings when those lie end to end, else into results_apart_.
  std::span<const char> receive_apart(int source, const std::vector<Arrival>& arrivals, std::size_t bytes);
  /// The next batch for `rank`, which has `load` batches in flight already.
  std::vector<Task> take_batch(int rank, int load);
  bool worth_prefetching(const Lane& lane, const WorkerSlot& slot, Clock::time_point now) const;
  /// Registers `task` as sent to `rank`; returns its id.
  std::uint64_t launch(Task& task, int rank);
  /// Tells an isolated lane's workers that it ended (needs the progress mutex).
  void end_isolated_lane(const Lane& lane, bool kill);
  /// MPI_Isend of `bytes`, kept until it completes (needs the progress mutex).
  void post(int rank, Tag tag, Bytes bytes);
  /// MPI_Isend of a run of borrowed arguments; its loan counted it in flight already.
  void post_detached(int rank, DetachedRun run);
  /// How a batch's borrowed tails go apart from it: adjacent runs of one loan in one message (a
  /// worker rank reads them as its tasks run), or one message per task (a rank receives each
  /// behind its task's header, where the child reads it in place).
  enum class Tails { in_runs, per_task };
  /// Appends the batch's tasks to `joined` and their borrowed tails to `detached`, counted in
  /// flight.
  static void join_batch(std::vector<Task>& batch, Tails tails, Bytes& joined, std::vector<DetachedRun>& detached);
  void run_progress_thread();
  /// Pool tasks are held back for the wall time and none runs any more: the program's end.
  bool stopped_by_wall_time() const;
  [[noreturn]] void end_for_wall_time();
  /// done() may act (take a queue item), so it is never called again once it returned true.
  bool wait_sleeping(const std::function<bool()>& done, std::optional<Clock::time_point> deadline);

  MPI_Comm comm_;
  std::uint64_t next_task_id_ = 1;
  std::uint32_t next_lane_number_ = 1;

  std::mutex progress_mutex_;  // one thread drives MPI and delivers results
  std::vector<Send> sends_;
  Bytes results_buffer_;  // the last result message (see try_receive_over)
  Bytes results_apart_;   // raw result items that had no landing

  // Submitted tasks wait here, under a lock held only to add or swap, until the engine takes
  // them into their lanes: a user thread submitting never waits for a dispatch, which holds
  // the state mutex while it builds batches (their contention put both threads to sleep).
  std::mutex submitted_mutex_;
  std::vector<Task> submitted_;
  std::vector<Task> taking_in_;  // submitted_'s spare, swapped with it so neither reallocates

  std::mutex state_mutex_;           // lanes, queues, registry, statistics
  std::vector<WorkerSlot> workers_;  // indexed by rank; [0] unused
  std::vector<std::shared_ptr<Lane>> lanes_;
  std::vector<std::shared_ptr<Lane>> closed_lanes_;  // closed with tasks still unfinished
  std::shared_ptr<Lane> process_lane_;
  // Its nodes come and go once per task: a pool of them spares malloc, whose lock the user
  // thread submitting contends for.
  std::pmr::unsynchronized_pool_resource in_flight_nodes_;
  std::pmr::unordered_map<std::uint64_t, InFlight> in_flight_{&in_flight_nodes_};
  std::size_t rotation_ = 0;

  /// Tasks were queued or a worker freed since dispatch() last looked: only then may it find
  /// work to send (a master waiting for one result polls millions of times; each skips the scan).
  std::atomic<bool> dispatch_wanted_{true};
  std::atomic<std::size_t> outstanding_{0};  // tasks queued or running, all lanes
  std::atomic<std::size_t> pool_tasks_{0};   // of those, pool tasks (not Processes)
  std::atomic<std::size_t> pool_running_{0};
  std::atomic<std::int64_t> longest_run_ns_{0};           // of any pool task so far
  std::optional<Clock::time_point> job_end_;              // when the batch job's allocation ends
  std::optional<std::chrono::seconds> wall_time_margin_;  // MPP_WALLTIME_MARGIN, if set

  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  std::atomic<int> waiters_{0};
  std::atomic<int> spinning_waiters_{0};  // user threads driving progress themselves

  std::mutex idle_mutex_;
  std::condition_variable idle_cv_;
  std::atomic<std::int64_t> progress_nap_us_{0};  // how long the progress thread is napping
  std::atomic<std::uint64_t> submissions_{0};
  bool kicked_ = false;  // work was submitted during a long nap
  bool stopping_ = false;
  std::atomic<bool> take_over_soon_{false};  // the last spinner left Processes running, unkicked
  std::chrono::microseconds max_nap_;
  std::vector<Doorbell> doorbells_;  // by rank: rung after each message sent (detail/doorbell.hpp)
  ObjectServer objects_;
  std::unique_ptr<TaskStatistics> statistics_;
  std::thread progress_thread_;
};

template <class Done>
bool Engine::wait_until(Done&& done, std::optional<Clock::time_point> deadline) {
  if (done()) return true;
  refuse_wait_in_callback();
  // Spin: a short task's result arrives within microseconds; drive MPI ourselves to catch it.
  constexpr auto spin = std::chrono::microseconds(300);
  const auto spin_end = Clock::now() + spin;
  {
    // The progress thread stands aside while we spin, and takes over when we leave: kicked
    // if we go to sleep or leave pool tasks in flight (a round trip loop leaves none: no
    // wake-up). Running Processes alone do not kick it: a loop of pipe or queue calls with one
    // would wake it at every call, and that wake-up took the core the child was about to run
    // on; it takes over within its nap (long_nap), looking tightly from then on.
    bool finished = false;
    struct StandAside {
      Engine& engine;
      const bool& finished;
      ~StandAside() {
        if (--engine.spinning_waiters_ != 0) return;
        if (!finished || engine.pool_tasks_ > 0) {
          engine.kick_progress_thread();
        } else if (engine.outstanding_ > 0) {
          engine.take_over_soon_ = true;
        }
      }
    } stand_aside{*this, finished};
    ++spinning_waiters_;
    for (unsigned polls = 1; Clock::now() < spin_end; ++polls) {
      if (!try_progress() && polls % polls_per_yield == 0) std::this_thread::yield();
      if (done()) {
        finished = true;
        return true;
      }
      if (stopped_by_wall_time()) end_for_wall_time();
      if (deadline && Clock::now() >= *deadline) return false;
    }
  }
  // Sleep: the progress thread delivers and wakes us.
  return wait_sleeping(std::function<bool()>(std::ref(done)), deadline);
}

}  // namespace mpp::detail
