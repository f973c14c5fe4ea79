#include "mpp/detail/isolated_tasks.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <limits>
#include <new>
#include <optional>
#include <system_error>
#include <vector>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/child.hpp"
#include "mpp/detail/handoff.hpp"
#include "mpp/detail/protocol.hpp"
#include "mpp/detail/requests.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/detail/worker.hpp"
#include "mpp/session.hpp"

namespace mpp::detail {
namespace {

using Clock = std::chrono::steady_clock;

/// How often running tasks are checked against the pool's task_timeout.
constexpr auto timeout_look_interval = std::chrono::milliseconds(2);
/// How often the rank looks for replies while none is awaited (answers to calls of a child
/// killed before they came, which are dropped). Each look is an MPI probe, and an idle probe in an oversubscribed job
/// yields the core (Open MPI's yield_when_idle): looking every round would take cores from the children.
constexpr auto child_messages_interval = std::chrono::microseconds(200);

/// Frames pushed to a task child: [u8 form][batch], or [u8 form][HandoffRef batch][HandoffRef
/// results] for a batch handed off (the block holds the message as the master sent it, its
/// IsolationHeader first), with a block lent for its results (size 0: none). The
/// initializer is not counted against maxtasksperchild, as in Python.
constexpr std::uint8_t counted = 1;
constexpr std::uint8_t handed_off = 2;

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
    const auto form = in.read<std::uint8_t>();
    const bool counts = (form & counted) != 0;
    std::span<const char> batch = in.rest();
    if (form & handed_off) {
      Reader message(handed_bytes(in.read<HandoffRef>()));
      message.read<IsolationHeader>();
      batch = message.rest();
      if (const auto results = in.read<HandoffRef>(); results.size > 0) relay_lend(results);
    }
    const std::size_t ran = run_batch(batch, session.rank(), session.host(), nullptr, shown,
                                      counts ? budget : std::numeric_limits<std::size_t>::max());
    relay_lend(std::nullopt);
    if (counts) budget -= ran;
    if (budget == 0) {
      shown->retiring = 1;
      return 0;
    }
  }
}

}  // namespace

/// A batch being run: its tasks, where each lies and whether it is settled.
struct IsolatedTasks::Batch {
  struct Entry {
    std::span<const char> bytes;  // [TaskHeader][args]
    TaskHeader header;
    bool settled = false;
  };
  Bytes message;                   // a small batch, as received
  std::optional<Handoff> handed;   // a big one, as received, where its child reads it in place
  std::optional<Handoff> results;  // lent to the child for them (results are often the size of arguments)
  IsolationHeader settings;
  std::span<const char> all_tasks;
  std::vector<Entry> tasks;
  std::size_t unsettled = 0;

  explicit Batch(Bytes received) : message(std::move(received)) { read_tasks(message); }
  explicit Batch(Handoff received) : handed(std::move(received)) {
    read_tasks(handed->bytes());
    results = Handoff::allocate(all_tasks.size());
  }
  void read_tasks(std::span<const char> whole) {
    Reader in(whole);
    settings = in.read<IsolationHeader>();
    all_tasks = in.rest();
    Reader task_reader(all_tasks);
    while (!task_reader.empty()) {
      const std::size_t at = all_tasks.size() - task_reader.remaining();
      const auto header = task_reader.read<TaskHeader>();
      task_reader.take(header.args_size);
      if (!tasks.empty() && header.id != tasks.front().header.id + tasks.size())
        throw MalformedMessage("mpp: an isolated batch whose task ids are not consecutive");
      tasks.push_back({all_tasks.subspan(at, all_tasks.size() - task_reader.remaining() - at), header});
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
  /// True if the task was not settled yet.
  bool settle(std::size_t i) {
    if (tasks[i].settled) return false;
    tasks[i].settled = true;
    --unsettled;
    return true;
  }
  std::vector<std::size_t> unsettled_tasks() const {
    std::vector<std::size_t> left;
    for (std::size_t i = 0; i < tasks.size(); ++i)
      if (!tasks[i].settled) left.push_back(i);
    return left;
  }
  /// Hands the unsettled tasks to `child` as one batch: by reference while none is settled and
  /// the batch was handed off, else as bytes.
  void give_to(SupervisedChild& child) const {
    std::uint8_t form = settings.initializer ? 0 : counted;
    std::vector<std::span<const char>> parts{{reinterpret_cast<const char*>(&form), 1}};
    static constexpr HandoffRef no_block{};
    if (handed && unsettled == tasks.size()) {
      form |= handed_off;
      parts.emplace_back(reinterpret_cast<const char*>(&handed->ref()), sizeof(HandoffRef));
      parts.emplace_back(reinterpret_cast<const char*>(results ? &results->ref() : &no_block), sizeof(HandoffRef));
    } else {
      for (const auto& task : tasks)
        if (!task.settled) parts.push_back(task.bytes);
    }
    child.push(0, static_cast<int>(Tag::isolated_tasks), parts);
  }
};

/// One child process of a pool, the batches it was given and the page it shows its task on.
struct IsolatedTasks::TaskChild {
  RunningTask* shown = nullptr;  // a page shared with the process
  std::unique_ptr<SupervisedChild> process;
  std::deque<Batch> batches;               // given to it and not all settled, in the order given
  std::optional<std::uint64_t> timed_out;  // the task killed for running past the pool's timeout
  std::size_t replies_awaited = 0;         // calls it sent the master and has no answer to yet

  TaskChild() {
    void* page = ::mmap(nullptr, sizeof(RunningTask), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mpp: mmap of a task page");
    shown = new (page) RunningTask;
  }
  ~TaskChild() {
    process.reset();  // before the page it writes to goes
    shown->~RunningTask();
    ::munmap(shown, sizeof(RunningTask));
  }
  TaskChild(const TaskChild&) = delete;
  TaskChild& operator=(const TaskChild&) = delete;

  std::size_t unsettled() const {
    std::size_t left = 0;
    for (const auto& batch : batches) left += batch.unsettled;
    return left;
  }
  void drop_settled() {
    std::erase_if(batches, [](const Batch& batch) { return batch.unsettled == 0; });
  }
};

/// One isolated pool on this rank: its settings, its initializer and its children here.
struct IsolatedTasks::PoolChildren {
  IsolationHeader settings{};
  std::optional<Bytes> initializer;
  std::vector<std::unique_ptr<TaskChild>> children;

  /// Where a new batch goes: an idle child, a new one while the pool has fewer here than its
  /// share, else the one with the least left to do (it runs the batch next).
  TaskChild& child_for_next_batch() {
    for (auto& child : children)
      if (child->batches.empty()) return *child;
    if (children.size() < std::max<std::size_t>(1, settings.children_here))
      return *children.emplace_back(std::make_unique<TaskChild>());
    return **std::ranges::min_element(children, {}, [](const auto& child) { return child->unsettled(); });
  }
};

IsolatedTasks::IsolatedTasks(MPI_Comm comm, int rank, std::string host)
    : comm_(comm), rank_(rank), host_(std::move(host)) {}

IsolatedTasks::~IsolatedTasks() = default;

IsolatedTasks::PoolChildren& IsolatedTasks::pool_of(const Batch& batch) {
  auto& slot = pools_[batch.settings.lane];
  if (!slot) slot = std::make_unique<PoolChildren>();
  slot->settings = batch.settings;
  if (batch.settings.initializer) slot->initializer = Bytes(batch.all_tasks.begin(), batch.all_tasks.end());
  return *slot;
}

bool IsolatedTasks::refuse_if_ended(Batch& batch) {
  if (!ended_lanes_.contains(batch.settings.lane)) return false;
  unsettled_ += batch.unsettled;  // send_failures counts them off again
  send_failures(batch, batch.unsettled_tasks(), "mpp::TerminatedError", "the pool was terminated before this task ran");
  return true;
}

bool IsolatedTasks::take_waiting() {
  auto matched = try_match(comm_, 0, static_cast<int>(Tag::isolated_tasks));
  if (!matched) return false;
  // Not into a buffer first: a batch of a map's chunks is megabytes, and its zero-fill and
  // copy into the block cost the rank more than the receive itself.
  std::optional<Handoff> block;
  if (matched->size >= sizeof(IsolationHeader) + handoff_threshold) block = Handoff::allocate(matched->size);
  Bytes message;
  if (block) {
    receive_matched(*matched, block->bytes().data());
  } else {
    message.resize(matched->size);
    receive_matched(*matched, message.data());
  }
  const std::span<const char> received = block ? block->bytes() : std::span<const char>(message);
  // Received even when the batch is refused: its items are on their way, and the master's map
  // returns only once every send of them completed.
  if (auto apart = match_detached(received); !apart.empty()) {
    take(attach_detached(received, apart));
  } else if (block) {
    take(Batch(std::move(*block)));
  } else {
    take(Batch(std::move(message)));
  }
  return true;
}

std::vector<Matched> IsolatedTasks::match_detached(std::span<const char> batch) {
  // A blocking map's items come apart from their batch, one Tag::task_data message per task
  // (Engine::join_batch). All are matched and their sizes checked before any memory is taken
  // for them: a header's claim alone allocates nothing.
  std::vector<Matched> apart;
  Reader in(batch);
  in.read<IsolationHeader>();
  while (!in.empty()) {
    const auto header = in.read<TaskHeader>();
    in.take(header.args_size);
    if (header.detached_size == 0) continue;
    const auto& data =
        apart.emplace_back(wait_for_announced(comm_, 0, Tag::task_data, "an isolated batch's detached arguments"));
    if (data.size != header.detached_size)
      throw MalformedMessage("mpp: an isolated task's detached arguments are " + std::to_string(data.size) +
                             " bytes, its header says " + std::to_string(header.detached_size));
  }
  return apart;
}

IsolatedTasks::Batch IsolatedTasks::attach_detached(std::span<const char> batch, std::span<Matched> apart) {
  // Each task's arguments are received behind its header, as if they had come inside: the
  // child, Batch::Entry and a re-push after a crash see one layout.
  std::size_t size = batch.size();
  for (const auto& data : apart) size += data.size;
  std::optional<Handoff> block;
  if (size >= sizeof(IsolationHeader) + handoff_threshold) block = Handoff::allocate(size);
  Bytes bytes(block ? 0 : size);
  const std::span<char> whole = block ? block->bytes() : std::span<char>(bytes);
  Reader in(batch);
  in.read<IsolationHeader>();
  std::size_t at = sizeof(IsolationHeader);
  std::memcpy(whole.data(), batch.data(), at);
  auto next_data = apart.begin();
  while (!in.empty()) {
    auto header = in.read<TaskHeader>();
    const auto args = in.take(header.args_size).rest();
    const std::size_t tail = header.detached_size;
    header.args_size += tail;
    header.detached_size = 0;
    std::memcpy(whole.data() + at, &header, sizeof header);
    std::memcpy(whole.data() + at + sizeof header, args.data(), args.size());
    at += sizeof header + args.size();
    if (tail == 0) continue;
    receive_matched(*next_data++, whole.data() + at);
    at += tail;
  }
  return block ? Batch(std::move(*block)) : Batch(std::move(bytes));
}

void IsolatedTasks::take(Batch batch) {
  if (refuse_if_ended(batch)) return;
  PoolChildren& pool = pool_of(batch);
  const bool initializer = batch.settings.initializer != 0;
  TaskChild& child = pool.child_for_next_batch();
  unsettled_ += batch.unsettled;
  child.batches.push_back(std::move(batch));
  // A child gone while idle (it retired, or was killed from outside) is replaced, blaming no
  // task; one gone with work is settled by tend().
  if (!child.process || (child.batches.size() == 1 && child.process->ending(SupervisedChild::Look::now)))
    restart(pool, child);
  else
    child.batches.back().give_to(*child.process);
  // Python starts every process of a pool at once, each running the initializer: the pool's
  // other children here start with it.
  if (initializer)
    while (pool.children.size() < pool.settings.children_here)
      restart(pool, *pool.children.emplace_back(std::make_unique<TaskChild>()));
}

/// The child's process goes (it ended, or is killed now); the master lets go of what it held.
void IsolatedTasks::retire_process(TaskChild& child) {
  if (!child.process) return;
  post_process_ended(child.process->pid());
  child.process.reset();
}

void IsolatedTasks::restart(PoolChildren& pool, TaskChild& child) {
  retire_process(child);
  child.timed_out.reset();
  RunningTask* shown = child.shown;
  shown->id = 0;
  shown->started_ns = 0;
  shown->item = 0;
  shown->retiring = 0;
  // The child that runs the initializer's own batch does not run it twice.
  const bool run_initializer = child.batches.empty() || !child.batches.front().settings.initializer;
  const Bytes* initializer = run_initializer && pool.initializer ? &*pool.initializer : nullptr;
  const std::size_t budget =
      pool.settings.maxtasksperchild > 0 ? pool.settings.maxtasksperchild : std::numeric_limits<std::size_t>::max();
  child.process = std::make_unique<SupervisedChild>([=] { return serve_in_child(shown, initializer, budget); },
                                                    SupervisedChild::Reach::group);
  child.replies_awaited = 0;
  child.process->watch_sends([this, &child](int dest, std::span<const RelayedMessage> messages) {
    // Whatever goes from the block lent for a batch's results, the block is the send's now
    // (child.cpp retires it once sent): taken over before the results settle the batch, which
    // would retire it too.
    for (const auto& [tag, sent] : messages)
      for (auto& batch : child.batches)
        if (batch.results && batch.results->bytes().data() == sent.data()) {
          batch.results->release();
          batch.results.reset();
        }
    if (dest != 0) return;
    try {
      for (const auto& [tag, sent] : messages) {
        if (tag == static_cast<int>(Tag::results)) note_results(child, sent);
        if (tag == static_cast<int>(Tag::requests) && header_of<RequestHeader>(sent).wants_reply)
          ++child.replies_awaited;
      }
    } catch (const MalformedMessage& e) {
      end_job_on_malformed("child", rank_, e);
    }
  });
  for (const auto& batch : child.batches) batch.give_to(*child.process);
}

std::vector<SupervisedChild*> IsolatedTasks::processes() const {
  std::vector<SupervisedChild*> all;
  for (const auto& [lane, pool] : pools_)
    for (const auto& child : pool->children)
      if (child->process) all.push_back(child->process.get());
  return all;
}

bool IsolatedTasks::has_room() const {
  for (const auto& [lane, pool] : pools_) {
    std::size_t batches = 0;
    for (const auto& child : pool->children) batches += child->batches.size();
    if (batches > 0 && batches <= std::max<std::size_t>(1, pool->settings.children_here)) return true;
  }
  return false;
}

bool IsolatedTasks::awaits_replies() const {
  for (const auto& [lane, pool] : pools_)
    for (const auto& child : pool->children)
      if (child->process && child->replies_awaited > 0) return true;
  return false;
}

void IsolatedTasks::note_reply_to(const SupervisedChild& process) {
  for (const auto& [lane, pool] : pools_)
    for (const auto& child : pool->children)
      if (child->process.get() == &process && child->replies_awaited > 0) --child->replies_awaited;
}

/// Marks the tasks whose results pass in a results message.
void IsolatedTasks::note_results(TaskChild& child, std::span<const char> message) {
  Reader in(message);
  while (!in.empty()) {
    const auto result = in.read<ResultHeader>();
    in.take(result.payload_size);
    for (auto& batch : child.batches) {
      if (const auto i = batch.find(result.id)) {
        if (batch.settle(*i)) --unsettled_;
        break;
      }
    }
  }
  child.drop_settled();
}

bool IsolatedTasks::tend(Backoff& backoff) {
  const auto all = processes();
  bool did = false;
  auto now = Clock::now();
  const bool awaited = awaits_replies();
  if (awaited || now >= next_collect_) {
    next_collect_ = now + child_messages_interval;
    did = collect_child_messages([&](int source, int tag, Bytes& message) {
      if (SupervisedChild* answered = route_to_children(all, source, tag, message)) note_reply_to(*answered);
    });
  }
  // While no reply is awaited and every pool has its batches queued, the children's calls are
  // all the rank waits for here, and a call wakes it: it sleeps until the next look, leaving
  // the cores to the children.
  did |= relay_all(all, awaited || has_room() ? std::chrono::nanoseconds(backoff.next_pause())
                                              : std::min(next_collect_, next_look_) - Clock::now());

  now = Clock::now();
  const bool look = now >= next_look_;
  if (look) next_look_ = now + timeout_look_interval;
  for (auto& [lane, pool] : pools_) {
    const auto timeout = std::chrono::nanoseconds(pool->settings.task_timeout_ns);
    for (auto& child : pool->children) {
      if (!child->process) continue;
      if (const auto ending = child->process->ending()) {
        // An idle child that left is replaced when it is given work again.
        if (!child->batches.empty()) {
          settle_after_ending(*pool, *child, *ending);
          did = true;
        }
        if (child->batches.empty())
          retire_process(*child);
        else
          restart(*pool, *child);
        continue;
      }
      const std::uint64_t running = child->shown->id;
      if (look && timeout.count() > 0 && running != 0 && !child->timed_out &&
          now.time_since_epoch() - std::chrono::nanoseconds(child->shown->started_ns.load()) > timeout &&
          running == child->shown->id) {
        child->timed_out = running;
        child->process->signal(SIGKILL);
      }
    }
  }
  if (look) shared_space().progress();  // RMA aimed at this rank keeps moving while it waits
  if (did) backoff.reset();
  return did;
}

void IsolatedTasks::settle_after_ending(const PoolChildren& pool, TaskChild& child, const ChildEnding& ending) {
  const int pid = child.process->pid();
  const RunningTask& shown = *child.shown;
  // The task to blame: the one running, else (the child left before starting one, and not on
  // purpose) the first one it was given — so every child that dies settles at least one task.
  Batch* batch = nullptr;
  std::optional<std::size_t> blamed;
  if (const std::uint64_t running = child.timed_out.value_or(shown.id); running != 0) {
    for (auto& b : child.batches)
      if ((blamed = b.find(running))) {
        batch = &b;
        break;
      }
  } else if (!shown.retiring) {
    batch = &child.batches.front();
    blamed = batch->unsettled_tasks().front();
  }
  if (blamed && batch->tasks[*blamed].settled) blamed.reset();  // it finished as it was killed
  if (blamed) {
    const std::string process = "the task's worker process (pid " + std::to_string(pid) + ")";
    std::string type = "mpp::ProcessCrashed";
    std::string message;
    if (child.timed_out) {
      type = "mpp::TimeoutError";
      message = "the task ran longer than the pool's task_timeout of " +
                std::to_string(pool.settings.task_timeout_ns / 1'000'000) + " ms; " + process + " was killed";
    } else if (ending.exitcode < 0) {
      message = process + " was killed by " + describe_signal(-ending.exitcode);
    } else if (!ending.note.empty() && shown.id == 0) {
      Reader note(ending.note);
      const auto report = ErrorReport::read(note);
      message = "the pool's initializer failed in a new worker process (pid " + std::to_string(pid) +
                "): " + report.type + ": " + report.message;
    } else {
      message = process + " exited with status " + std::to_string(ending.exitcode) + " while running it";
    }
    const std::size_t task[] = {*blamed};
    ResultHeader how{};
    const auto now = Clock::now();
    const auto started = std::chrono::nanoseconds(shown.started_ns.load());
    if (shown.id != 0 && started.count() != 0) {
      how.run_ns = static_cast<std::uint64_t>((now.time_since_epoch() - started).count());
      how.started_unix_ns = static_cast<std::uint64_t>(
          (std::chrono::system_clock::now().time_since_epoch() - (now.time_since_epoch() - started)).count());
    }
    how.pid = pid;
    how.peak_rss_kib = ending.peak_rss_kib;
    if (ending.exitcode < 0 && !child.timed_out) how.end_signal = -ending.exitcode;
    send_failures(*batch, task, type, message, shown.item, how);
  }
  child.drop_settled();
}

void IsolatedTasks::send_failures(Batch& batch, std::span<const std::size_t> tasks, const std::string& type,
                                  const std::string& message, std::uint64_t item_in_task, const ResultHeader& how) {
  if (tasks.empty()) return;
  Writer out;
  for (const std::size_t i : tasks) {
    const auto& task = batch.tasks[i];
    ErrorReport report{type, message, host_, rank_, std::nullopt, {}};
    if (task.header.first_index != no_item) report.item = task.header.first_index + item_in_task;
    if (batch.settle(i)) --unsettled_;
    ResultHeader result = how;
    result.id = task.header.id;
    result.ok = 0;
    result.last_of_batch = batch.unsettled == 0 ? 1u : 0u;
    append_result(out, result, [&](Writer& payload) { report.write(payload); });
  }
  send_bytes(comm_, 0, Tag::results, out.bytes());
}

void IsolatedTasks::end_lane(const Bytes& message) {
  const auto end = header_of<LaneEnd>(message);
  if (end.kill) ended_lanes_.insert(end.lane);
  const auto it = pools_.find(end.lane);
  if (it == pools_.end()) return;
  for (auto& child : it->second->children) {
    if (child->process) child->process->signal(SIGKILL);
    for (auto& batch : child->batches)
      send_failures(batch, batch.unsettled_tasks(), "mpp::TerminatedError",
                    "the pool was terminated while this task ran");
  }
  pools_.erase(it);  // reaps its children
}

}  // namespace mpp::detail
