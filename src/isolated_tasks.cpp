#include "mpp/detail/isolated_tasks.hpp"

#include <sys/mman.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <system_error>
#include <vector>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/child.hpp"
#include "mpp/detail/protocol.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/detail/worker.hpp"
#include "mpp/session.hpp"

namespace mpp::detail {
namespace {

using Clock = std::chrono::steady_clock;

/// Frames pushed to a task child: [u8 counted][batch]; the initializer is not counted against
/// maxtasksperchild, as in Python.
constexpr std::uint8_t counted = 1;
constexpr std::uint8_t not_counted = 0;

std::string describe_signal(int number) {
  const char* abbrev = ::sigabbrev_np(number);
  std::string text =
      "signal " + std::to_string(number) + " (SIG" + (abbrev ? abbrev : "?") + ": " + ::strsignal(number) + ")";
  if (number == SIGKILL) text += "; the kernel's out-of-memory killer ends processes this way";
  return text;
}

/// The child's side: runs the pushed batches until its parent goes, or it has run `budget` tasks.
int serve_in_child(RunningTask* shown, const Bytes* initializer, std::size_t budget) {
  const Session& session = Session::current();
  if (initializer) {
    try {
      run_quietly(*initializer);
    } catch (...) {
      Writer note;
      describe_current_exception().write(note);
      relay_note(note.bytes());
      return 1;
    }
  }
  Bytes frame;
  for (;;) {
    if (!relay_try_receive(0, static_cast<int>(Tag::isolated_tasks), frame)) {
      // Sleep on the link, not spin: a pushed batch wakes the child, and the cores stay with
      // the ranks, which are busy relaying and computing.
      relay_wait(std::chrono::milliseconds(100));
      continue;
    }
    Reader in(frame);
    const bool counts = in.read<std::uint8_t>() == counted;
    const std::size_t ran = run_batch(session.communicator(), in.rest(), session.rank(), session.host(), shown,
                                      counts ? budget : std::numeric_limits<std::size_t>::max());
    if (counts) budget -= ran;
    if (budget == 0) {
      shown->retiring = 1;
      return 0;
    }
  }
}

}  // namespace

/// One isolated pool on this rank: its settings, its initializer and the child running its tasks.
struct IsolatedTasks::PoolChild {
  IsolationHeader settings{};
  std::optional<Bytes> initializer;
  RunningTask* shown = nullptr;  // a page shared with the child
  std::unique_ptr<SupervisedChild> child;

  PoolChild() {
    void* page = ::mmap(nullptr, sizeof(RunningTask), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mpp: mmap of a task page");
    shown = new (page) RunningTask;
  }
  ~PoolChild() {
    child.reset();  // before the page it writes to goes
    shown->~RunningTask();
    ::munmap(shown, sizeof(RunningTask));
  }
  PoolChild(const PoolChild&) = delete;
  PoolChild& operator=(const PoolChild&) = delete;
};

/// A batch being run: its message, where each task lies in it and whether it is settled.
struct IsolatedTasks::Batch {
  struct Entry {
    std::span<const char> bytes;  // [TaskHeader][args]
    TaskHeader header;
    bool settled = false;
  };
  Bytes message;
  IsolationHeader settings;
  std::vector<Entry> tasks;
  std::size_t unsettled = 0;

  explicit Batch(Bytes received) : message(std::move(received)) {
    Reader in(message);
    settings = in.read<IsolationHeader>();
    const std::span<const char> all(message);
    while (!in.empty()) {
      const std::size_t at = all.size() - in.remaining();
      const auto header = in.read<TaskHeader>();
      in.take(header.args_size);
      if (!tasks.empty() && header.id != tasks.front().header.id + tasks.size())
        throw MalformedMessage("mpp: an isolated batch whose task ids are not consecutive");
      tasks.push_back({all.subspan(at, all.size() - in.remaining() - at), header});
    }
    unsettled = tasks.size();
  }
  std::optional<std::size_t> find(std::uint64_t id) const {
    // The engine numbers a batch's tasks consecutively (Engine::dispatch), so an id outside
    // the range is another batch's.
    if (tasks.empty() || id < tasks.front().header.id || id - tasks.front().header.id >= tasks.size())
      return std::nullopt;
    return id - tasks.front().header.id;
  }
  void settle(std::size_t i) {
    if (!tasks[i].settled) {
      tasks[i].settled = true;
      --unsettled;
    }
  }
  std::vector<std::size_t> unsettled_tasks() const {
    std::vector<std::size_t> left;
    for (std::size_t i = 0; i < tasks.size(); ++i)
      if (!tasks[i].settled) left.push_back(i);
    return left;
  }
  /// Hands the unsettled tasks to `child` as one batch (the message's own bytes when none is
  /// settled yet).
  void give_to(SupervisedChild& child) const {
    const std::uint8_t counts = settings.initializer ? not_counted : counted;
    std::vector<std::span<const char>> parts{{reinterpret_cast<const char*>(&counts), 1}};
    for (const auto& task : tasks)
      if (!task.settled) parts.push_back(task.bytes);
    child.push(0, static_cast<int>(Tag::isolated_tasks), parts);
  }
};

/// Marks the tasks whose results pass in a results message.
void IsolatedTasks::note_results(std::span<const char> message) {
  Reader in(message);
  while (!in.empty()) {
    const auto result = in.read<ResultHeader>();
    in.take(result.payload_size);
    for (auto& batch : batches_) {
      if (const auto i = batch.find(result.id)) {
        batch.settle(*i);
        break;
      }
    }
  }
}

IsolatedTasks::IsolatedTasks(MPI_Comm comm, int rank, std::string host)
    : comm_(comm), rank_(rank), host_(std::move(host)) {}

IsolatedTasks::~IsolatedTasks() = default;

void IsolatedTasks::start_child(PoolChild& pool, bool run_initializer) {
  pool.child.reset();
  RunningTask* shown = pool.shown;
  shown->id = 0;
  shown->started_ns = 0;
  shown->item = 0;
  shown->retiring = 0;
  const Bytes* initializer = run_initializer && pool.initializer ? &*pool.initializer : nullptr;
  const std::size_t budget =
      pool.settings.maxtasksperchild > 0 ? pool.settings.maxtasksperchild : std::numeric_limits<std::size_t>::max();
  pool.child = std::make_unique<SupervisedChild>([=] { return serve_in_child(shown, initializer, budget); });
  pool.child->watch_sends([this](int dest, int tag, std::span<const char> sent) {
    if (dest == 0 && tag == static_cast<int>(Tag::results)) note_results(sent);
  });
}

void IsolatedTasks::run(Bytes message) {
  deferred_.push_back(std::move(message));
  while (!deferred_.empty()) {
    Batch batch(std::move(deferred_.front()));
    deferred_.pop_front();
    run_lane(std::move(batch));
  }
}

bool IsolatedTasks::refuse_if_ended(Batch& batch) {
  if (!ended_lanes_.contains(batch.settings.lane)) return false;
  send_failures(batch, batch.unsettled_tasks(), "mpp::TerminatedError", "the pool was terminated before this task ran");
  return true;
}

IsolatedTasks::PoolChild& IsolatedTasks::pool_of(const Batch& batch) {
  auto& slot = pools_[batch.settings.lane];
  if (!slot) slot = std::make_unique<PoolChild>();
  slot->settings = batch.settings;
  if (batch.settings.initializer) {
    const auto bytes = std::span<const char>(batch.message).subspan(sizeof(IsolationHeader));
    slot->initializer = Bytes(bytes.begin(), bytes.end());
  }
  return *slot;
}

void IsolatedTasks::run_lane(Batch first) {
  if (refuse_if_ended(first)) return;
  PoolChild& pool = pool_of(first);
  batches_.clear();
  batches_.push_back(std::move(first));
  std::size_t given = 0;  // batches_[0, given) went to the current child
  for (;;) {
    // A child gone while idle (killed from outside) is replaced, blaming no task.
    if (!pool.child || pool.child->ending(SupervisedChild::Look::now)) {
      start_child(pool, !batches_.front().settings.initializer);
      given = 0;
    }
    for (; given < batches_.size(); ++given)
      if (batches_[given].unsettled > 0) batches_[given].give_to(*pool.child);
    supervise(pool, given);
    if (unsettled() == 0) break;
    settle_after_ending(pool);  // still watching: results sent just before the end count
  }
  batches_.clear();
}

std::size_t IsolatedTasks::unsettled() const {
  std::size_t left = 0;
  for (const auto& batch : batches_) left += batch.unsettled;
  return left;
}

void IsolatedTasks::supervise(PoolChild& pool, std::size_t& given) {
  SharedSpace& space = shared_space();
  SupervisedChild& child = *pool.child;
  const auto timeout = std::chrono::nanoseconds(pool.settings.task_timeout_ns);
  // The child computes on the core this rank would use: spin only briefly after news, then
  // sleep on the link (a frame from the child wakes us at once).
  Backoff backoff(std::chrono::microseconds(20), std::chrono::microseconds(10), std::chrono::milliseconds(1));
  auto next_look = Clock::now();
  Bytes message;
  while (unsettled() > 0) {
    child.relay(backoff);
    if (unsettled() == 0 || child.ending()) return;
    // The pool's next batch goes to the child at once, so it never waits between batches.
    if (deferred_.empty() && try_receive(comm_, 0, static_cast<int>(Tag::isolated_tasks), message)) {
      Batch next(std::move(message));
      if (next.settings.lane != pool.settings.lane || next.settings.initializer) {
        deferred_.push_back(std::move(next.message));
      } else if (!refuse_if_ended(next)) {
        batches_.push_back(std::move(next));
        batches_.back().give_to(child);
        given = batches_.size();
      }
      backoff.reset();
    }
    const auto now = Clock::now();
    if (now < next_look) continue;
    next_look = now + std::chrono::milliseconds(2);
    if (take_lane_ends(pool.settings.lane)) {
      terminated_ = true;
      child.signal(SIGKILL);
      return;
    }
    const std::uint64_t running = pool.shown->id;
    if (timeout.count() > 0 && running != 0 &&
        now.time_since_epoch() - std::chrono::nanoseconds(pool.shown->started_ns.load()) > timeout &&
        running == pool.shown->id) {
      timed_out_ = running;
      child.signal(SIGKILL);
      return;
    }
    space.progress();  // RMA aimed at this rank keeps moving while it waits
  }
}

bool IsolatedTasks::take_lane_ends(std::uint32_t running_lane) {
  bool ends_running = false;
  Bytes message;
  while (try_receive(comm_, 0, static_cast<int>(Tag::lane_end), message)) {
    const auto end = header_of<LaneEnd>(message);
    if (end.lane == running_lane) {
      ended_lanes_.insert(end.lane);
      ends_running = true;
    } else {
      end_lane(message);
    }
  }
  return ends_running;
}

void IsolatedTasks::settle_after_ending(PoolChild& pool) {
  const ChildEnding ending = *pool.child->ending(SupervisedChild::Look::wait);
  const int pid = pool.child->pid();
  const auto timed_out = std::exchange(timed_out_, std::nullopt);
  if (std::exchange(terminated_, false)) {
    for (auto& batch : batches_)
      send_failures(batch, batch.unsettled_tasks(), "mpp::TerminatedError",
                    "the pool was terminated while this task ran");
    pool.child.reset();
    return;
  }
  // The task to blame: the one running, else (the child left before starting one, and not on
  // purpose) the first one it was given — so every child that dies settles at least one task.
  Batch* batch = nullptr;
  std::optional<std::size_t> blamed;
  std::uint64_t item_in_task = 0;
  if (const std::uint64_t running = timed_out.value_or(pool.shown->id); running != 0) {
    for (auto& b : batches_)
      if ((blamed = b.find(running))) {
        batch = &b;
        break;
      }
    item_in_task = pool.shown->item;
  } else if (!pool.shown->retiring) {
    for (auto& b : batches_)
      if (b.unsettled > 0) {
        batch = &b;
        blamed = b.unsettled_tasks().front();
        break;
      }
  }
  if (blamed && batch->tasks[*blamed].settled) blamed.reset();  // it finished as it was killed
  if (blamed) {
    const std::string process = "the task's worker process (pid " + std::to_string(pid) + ")";
    std::string type = "mpp::ProcessCrashed";
    std::string message;
    if (timed_out) {
      type = "mpp::TimeoutError";
      message = "the task ran longer than the pool's task_timeout of " +
                std::to_string(pool.settings.task_timeout_ns / 1'000'000) + " ms; " + process + " was killed";
    } else if (ending.exitcode < 0) {
      message = process + " was killed by " + describe_signal(-ending.exitcode);
    } else if (!ending.note.empty() && pool.shown->id == 0) {
      Reader note(ending.note);
      const auto report = ErrorReport::read(note);
      message = "the pool's initializer failed in a new worker process (pid " + std::to_string(pid) +
                "): " + report.type + ": " + report.message;
    } else {
      message = process + " exited with status " + std::to_string(ending.exitcode) + " while running it";
    }
    const std::size_t task[] = {*blamed};
    send_failures(*batch, task, type, message, item_in_task);
  }
  pool.child.reset();
}

void IsolatedTasks::send_failures(Batch& batch, std::span<const std::size_t> tasks, const std::string& type,
                                  const std::string& message, std::uint64_t item_in_task) {
  if (tasks.empty()) return;
  Writer out;
  for (const std::size_t i : tasks) {
    const auto& task = batch.tasks[i];
    ErrorReport report{type, message, host_, rank_, std::nullopt};
    if (task.header.first_index != no_item) report.item = task.header.first_index + item_in_task;
    batch.settle(i);
    append_result(out, ResultHeader{task.header.id, 0, 0, 0, batch.unsettled == 0 ? 1u : 0u},
                  [&](Writer& payload) { report.write(payload); });
  }
  send_bytes(comm_, 0, Tag::results, out.bytes());
}

void IsolatedTasks::end_lane(const Bytes& message) {
  const auto end = header_of<LaneEnd>(message);
  if (end.kill) ended_lanes_.insert(end.lane);
  pools_.erase(end.lane);  // kills and reaps its child
}

}  // namespace mpp::detail
