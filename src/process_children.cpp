#include "mpp/detail/process_children.hpp"

#include <cstring>
#include <utility>

#include "mpp/detail/requests.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/detail/worker.hpp"

namespace mpp::detail {
namespace {

/// How often stop requests are looked at: on the RMA path each look is a remote read.
constexpr auto stop_look_interval = std::chrono::milliseconds(2);

/// The child's side: runs the target; its exit code is what the invoker writes.
int run_target(const Bytes& message) {
  Reader in(message);
  in.read<ProcessStart>();
  const auto task = in.read<TaskHeader>();
  Writer out;
  std::uint64_t item = 0;
  TaskCall call{task.function, in.take(task.args_size), out, item};
  reinterpret_cast<Invoker>(task.invoker.resolve())(call);
  return Reader(out.bytes()).read<int>();
}

}  // namespace

ProcessChildren::ProcessChildren(MPI_Comm comm, int rank, std::string host)
    : comm_(comm), rank_(rank), host_(std::move(host)), next_look_(std::chrono::steady_clock::now()) {}

ProcessChildren::~ProcessChildren() = default;

void ProcessChildren::start(const Bytes& message) {
  Reader in(message);
  const auto words = in.read<ProcessStart>();
  const auto task = in.read<TaskHeader>();
  in.take(task.args_size);
  if (!in.empty()) throw MalformedMessage("mpp: a process message longer than its task");
  SharedSpace& space = shared_space();
  // terminate() before the message arrived: the target never runs, as if the signal ended it.
  if (const int asked = space.load<std::int32_t>(words.stop_signal); asked != 0) {
    report_ending(Running{task.id, words, std::chrono::steady_clock::now(), 0, nullptr}, ChildEnding{-asked, {}});
    return;
  }
  Running process{task.id, words, std::chrono::steady_clock::now(), 0, nullptr};
  try {
    process.child = std::make_unique<SupervisedChild>([&message] { return run_target(message); });
  } catch (const std::exception& e) {
    report_failure(task.id, e.what());
    return;
  }
  space.store<std::int32_t>(words.child_pid, process.child->pid());
  running_.push_back(std::move(process));
}

std::vector<SupervisedChild*> ProcessChildren::children() const {
  std::vector<SupervisedChild*> all;
  all.reserve(running_.size());
  for (const auto& process : running_) all.push_back(process.child.get());
  return all;
}

bool ProcessChildren::tend(Backoff& backoff) {
  const auto all = children();
  bool did = collect_child_messages(
      [&all](int source, int tag, Bytes& message) { route_to_children(all, source, tag, message); });
  if (relay_all(all, backoff.next_pause())) {
    did = true;
    backoff.reset();
  }

  const auto now = std::chrono::steady_clock::now();
  const bool look_at_stops = now >= next_look_;
  if (look_at_stops) next_look_ = now + stop_look_interval;
  SharedSpace& space = shared_space();
  for (auto it = running_.begin(); it != running_.end();) {
    if (auto ending = it->child->ending()) {
      post_process_ended(it->child->pid());
      report_ending(*it, *ending);
      it = running_.erase(it);
      did = true;
      continue;
    }
    if (look_at_stops) {
      const int wanted = space.load<std::int32_t>(it->words.stop_signal);
      if (wanted != 0 && wanted != it->signal_sent) {
        it->child->signal(wanted);
        it->signal_sent = wanted;
      }
    }
    ++it;
  }
  if (look_at_stops) space.progress();  // RMA aimed at this rank keeps moving while it waits
  if (did) backoff.reset();
  return did;
}

void ProcessChildren::report_ending(const Running& process, const ChildEnding& ending) {
  const auto ran = std::chrono::nanoseconds(std::chrono::steady_clock::now() - process.started).count();
  Writer out;
  append_result(out, ResultHeader{process.task_id, 0, static_cast<std::uint64_t>(ran), 1, 1}, [&](Writer& payload) {
    payload.write(ending.exitcode);
    payload.write_raw(ending.note.data(), ending.note.size());
  });
  send_bytes(comm_, 0, Tag::results, out.bytes());
}

void ProcessChildren::report_failure(std::uint64_t task_id, const std::string& message) {
  Writer out;
  append_result(out, ResultHeader{task_id, 0, 0, 0, 1}, [&](Writer& payload) {
    ErrorReport{"std::system_error", message, host_, rank_, std::nullopt, {}}.write(payload);
  });
  send_bytes(comm_, 0, Tag::results, out.bytes());
}

}  // namespace mpp::detail
