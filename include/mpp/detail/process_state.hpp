#pragma once
// What a Process is made of below its handle: the words its starter, the master and its rank
// share, the context and scope its target runs in, and the sink its ending is reported to.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/engine.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/errors.hpp"
#include "mpp/process_info.hpp"
#include "mpp/session.hpp"

namespace mpp::detail {

/// The int32 words a process's starter, the master and the process's rank share: the signal
/// asked for (0: none), the child's pid (0: not forked yet), and for a process started inside
/// another one (which has no engine to report to it) its rank + 1 and exit code, then a flag
/// that says it ended.
enum class ProcessWord : std::uint32_t { stop_signal, child_pid, rank_plus_one, exitcode, ended, count };
inline constexpr std::size_t process_words_bytes = static_cast<std::size_t>(ProcessWord::count) * sizeof(std::int32_t);
inline GlobalAddress process_word(const SharedBlock& words, ProcessWord word) {
  return words.payload() + static_cast<std::uint64_t>(word) * sizeof(std::int32_t);
}
inline GlobalAddress stop_signal_word(const SharedBlock& words) {
  return process_word(words, ProcessWord::stop_signal);
}
inline GlobalAddress child_pid_word(const SharedBlock& words) { return process_word(words, ProcessWord::child_pid); }

/// What a process's rank needs besides the target's arguments.
struct ProcessContext {
  std::string name;
  bool daemon = false;
  SharedBlock words;
  ProcessInfo parent;  // who started it: parent_process() inside it

  GlobalAddress stop_signal() const { return stop_signal_word(words); }
  GlobalAddress child_pid() const { return child_pid_word(words); }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& name& daemon& words& parent;
  }
};

/// Runs a process's target with its name and stop flag visible to the code it calls.
class ProcessScope {
 public:
  explicit ProcessScope(ProcessContext context);
  ~ProcessScope();
  ProcessScope(const ProcessScope&) = delete;
  ProcessScope& operator=(const ProcessScope&) = delete;

 private:
  ProcessContext context_;
};

/// Runs `target` as the process `context` names, in the child its rank forked (see
/// detail/process_children.hpp); returns its exit code: 0, or 1 when it threw, after handing
/// the error report to the parent rank.
int run_process_target(const ProcessContext& context, const std::function<void()>& target);

/// Runs in the child: writes the exit code. The arguments come to life in the child and die
/// there; the return value is dropped, as Python's is.
template <class F, class ArgsTuple>
void invoke_process(TaskCall& call) {
  F f = callable_from<F>(call.function);
  const auto context = call.args.read<ProcessContext>();
  call.results.write(run_process_target(context, [&] { std::apply(f, call.args.read<ArgsTuple>()); }));
}

/// A process's life. On the master the engine reports to it. A process started inside another
/// process goes through the master, whose state for it publishes what it learns in the shared
/// words, where the starter's state reads it.
class ProcessState final : public TaskSink {
 public:
  static constexpr int not_ended = -1000;

  std::string name;
  bool daemon = false;
  SharedBlock words{process_words_bytes};
  bool published = false;  // the master's state of a process another process started
  bool remote = false;     // the starter's state of such a process: it reads the words
  std::atomic<int> signal_asked{0};

  /// The exit code, or not_ended.
  int exitcode() const;
  /// The worker rank running it, or -1.
  int rank() const;

  void dispatched(std::uint64_t, int worker) override;
  /// The child's exit code, then the error report of a target that threw.
  void deliver(std::uint64_t, Reader& ending) override;
  /// The worker could not run the process at all (fork failed).
  void fail(std::uint64_t, const RemoteError& error) override;
  /// Stopped before it reached a worker: it ends as the signal asked for would have ended it.
  void cancel(std::uint64_t) override { record_exit(-signal_asked); }

  /// Cancels the process if it still waits for a rank, else has its rank send `signal` to it.
  void request_stop(const std::shared_ptr<ProcessState>& self, int signal);

 private:
  void record_exit(int code);

  std::atomic<int> rank_{-1};
  std::atomic<int> exitcode_{not_ended};
};

/// On the master: starts the process another process asked for (Op::start_process).
void start_process_for_another(Reader& request);

/// At the end of a Process target, as Python at a process's exit: daemon processes it started
/// are terminated, the others joined.
void finish_started_processes();

/// Runs at session end: daemon processes are asked to stop (queued ones cancelled).
void stop_daemon_processes();

/// The started processes that have not ended, in the order they started.
std::vector<std::shared_ptr<ProcessState>> running_processes();

/// The process this thread runs, or nullptr outside a Process target.
const ProcessContext* current_process_context();

}  // namespace mpp::detail
