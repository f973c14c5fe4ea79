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
  Backoff backoff = message_backoff();
  Bytes frame;
  for (;;) {
    if (!relay_try_receive(0, static_cast<int>(Tag::isolated_tasks), frame)) {
      pause_for_message(backoff);
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
    backoff.reset();
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

/// A batch being run: where each task lies in the message and whether it is settled.
struct IsolatedTasks::Batch {
  struct Entry {
    std::span<const char> bytes;  // [TaskHeader][args]
    TaskHeader header;
    bool settled = false;
  };
  std::vector<Entry> tasks;
  std::size_t unsettled = 0;
  bool terminated = false;
  std::optional<std::uint64_t> timed_out;  // the id of a task killed for its time

  explicit Batch(std::span<const char> bytes) {
    Reader in(bytes);
    while (!in.empty()) {
      const std::size_t at = bytes.size() - in.remaining();
      const auto header = in.read<TaskHeader>();
      in.take(header.args_size);
      tasks.push_back({bytes.subspan(at, bytes.size() - in.remaining() - at), header});
    }
    unsettled = tasks.size();
  }
  std::optional<std::size_t> find(std::uint64_t id) const {
    for (std::size_t i = 0; i < tasks.size(); ++i)
      if (tasks[i].header.id == id) return i;
    return std::nullopt;
  }
  void settle(std::size_t i) {
    if (!tasks[i].settled) {
      tasks[i].settled = true;
      --unsettled;
    }
  }
  /// The tasks not settled, as one batch.
  Bytes rest() const {
    Bytes out;
    for (const auto& task : tasks)
      if (!task.settled) out.insert(out.end(), task.bytes.begin(), task.bytes.end());
    return out;
  }
  /// Marks the tasks whose results pass in a results message.
  void note_results(std::span<const char> message) {
    Reader in(message);
    while (!in.empty()) {
      const auto result = in.read<ResultHeader>();
      in.take(result.payload_size);
      if (const auto i = find(result.id)) settle(*i);
    }
  }
};

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
}

void IsolatedTasks::run(const Bytes& message) {
  Reader in(message);
  const auto settings = in.read<IsolationHeader>();
  const auto bytes = in.rest();
  Batch batch(bytes);
  if (ended_lanes_.contains(settings.lane)) {
    std::vector<std::size_t> all(batch.tasks.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return send_failures(batch, all, "mpp::TerminatedError", "the pool was terminated before this task ran");
  }
  auto& slot = pools_[settings.lane];
  if (!slot) slot = std::make_unique<PoolChild>();
  PoolChild& pool = *slot;
  pool.settings = settings;
  if (settings.initializer) pool.initializer = Bytes(bytes.begin(), bytes.end());

  while (batch.unsettled > 0) {
    // A child gone while idle (killed from outside) is replaced, blaming no task.
    if (!pool.child || pool.child->ending(SupervisedChild::Look::now)) start_child(pool, !settings.initializer);
    Writer frame;
    frame.write(settings.initializer ? not_counted : counted);
    const Bytes rest = batch.rest();
    frame.write_raw(rest.data(), rest.size());
    pool.child->push(0, static_cast<int>(Tag::isolated_tasks), frame.bytes());
    pool.child->watch_sends([&batch](int dest, int tag, std::span<const char> sent) {
      if (dest == 0 && tag == static_cast<int>(Tag::results)) batch.note_results(sent);
    });
    supervise(pool, batch);
    pool.child->watch_sends(nullptr);
    if (batch.unsettled > 0) settle_after_ending(pool, batch);
  }
}

void IsolatedTasks::supervise(PoolChild& pool, Batch& batch) {
  SharedSpace& space = shared_space();
  SupervisedChild& child = *pool.child;
  const auto timeout = std::chrono::nanoseconds(pool.settings.task_timeout_ns);
  Backoff backoff = message_backoff();
  auto next_look = Clock::now();
  while (batch.unsettled > 0) {
    child.relay(backoff);
    if (batch.unsettled == 0 || child.ending()) return;
    const auto now = Clock::now();
    if (now < next_look) continue;
    next_look = now + std::chrono::milliseconds(2);
    if (take_lane_ends(pool.settings.lane)) {
      batch.terminated = true;
      child.signal(SIGKILL);
      return;
    }
    const std::uint64_t running = pool.shown->id;
    if (timeout.count() > 0 && running != 0 &&
        now.time_since_epoch() - std::chrono::nanoseconds(pool.shown->started_ns.load()) > timeout &&
        running == pool.shown->id) {
      batch.timed_out = running;
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

void IsolatedTasks::settle_after_ending(PoolChild& pool, Batch& batch) {
  const ChildEnding ending = *pool.child->ending(SupervisedChild::Look::wait);
  const int pid = pool.child->pid();
  if (batch.terminated) {
    std::vector<std::size_t> left;
    for (std::size_t i = 0; i < batch.tasks.size(); ++i)
      if (!batch.tasks[i].settled) left.push_back(i);
    pool.child.reset();
    return send_failures(batch, left, "mpp::TerminatedError", "the pool was terminated while this task ran");
  }
  // The task to blame: the one running, else (the child left before starting one, and not on
  // purpose) the first one it was given — so every child that dies settles at least one task.
  std::optional<std::size_t> blamed;
  std::uint64_t item_in_task = 0;
  if (const std::uint64_t running = batch.timed_out.value_or(pool.shown->id); running != 0) {
    blamed = batch.find(running);
    item_in_task = pool.shown->item;
  } else if (!pool.shown->retiring) {
    for (std::size_t i = 0; i < batch.tasks.size() && !blamed; ++i)
      if (!batch.tasks[i].settled) blamed = i;
  }
  if (blamed) {
    const std::string process = "the task's worker process (pid " + std::to_string(pid) + ")";
    std::string type = "mpp::ProcessCrashed";
    std::string message;
    if (batch.timed_out) {
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
    send_failures(batch, task, type, message, item_in_task);
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
    const std::size_t header_at = out.size();
    ResultHeader result{task.header.id, 0, 0, 0, batch.unsettled == 0 ? 1u : 0u};
    out.write_raw(&result, sizeof result);
    report.write(out);
    result.payload_size = out.size() - header_at - sizeof result;
    std::memcpy(out.bytes().data() + header_at, &result, sizeof result);
  }
  send_bytes(comm_, 0, Tag::results, out.bytes());
}

void IsolatedTasks::end_lane(const Bytes& message) {
  const auto end = header_of<LaneEnd>(message);
  if (end.kill) ended_lanes_.insert(end.lane);
  pools_.erase(end.lane);  // kills and reaps its child
}

}  // namespace mpp::detail
