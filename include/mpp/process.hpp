#pragma once
// mpp::Process: Python's multiprocessing.Process, run in a child OS process of a worker rank.
//
//   void f(mpp::Queue<std::string> q) { q.put("hello"); }
//   mpp::Process p(f, q);   // target and arguments, like Process(target=f, args=(q,))
//   p.start();              // runs in a child process of the worker rank running the fewest
//   p.join();               // p.exitcode() == 0; 1 if f threw (its error is printed, as Python does)
//
// The worker rank forks a child that runs the target and watches it (detail/child.hpp), so a
// process ends as Python's does: exitcode 0 when the target returns, 1 when it throws, n after
// std::exit(n), -N when signal N ends it (terminate() sends SIGTERM: -15; kill() SIGKILL: -9;
// a segfault: -11). A crash ends only that child. pid() is the child's own process id.
//
// Any number of processes run at once, spread over the worker ranks (each rank supervises its
// children and relays their calls), so processes that wait for each other run side by side
// whatever the job's size. Start processes from the master rank. The arguments are copied
// when the Process is constructed.
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

namespace mpp {

/// Inside a Process target: whether terminate() or kill() was called on it (a target that
/// handles SIGTERM may look). False elsewhere.
bool stop_requested();

namespace detail {

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

}  // namespace detail

class Process {
 public:
  /// target(args...) as a process; target is a plain function, captureless lambda or empty
  /// function object, as for Pool::apply.
  template <class F, class... Args>
  explicit Process(F target, Args&&... args);

  Process(Process&&) noexcept = default;
  Process& operator=(Process&&) noexcept = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void start();
  /// Waits for the process to end.
  void join();
  /// Waits at most `timeout`; true if it ended.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return join_until(detail::deadline_after(timeout));
  }
  /// Started and not yet ended (a process waiting for a free rank is alive, as it is started).
  bool is_alive() const;
  /// Empty while running (or before start); 0 when the target returned, 1 when it threw, n
  /// after std::exit(n), -N when signal N ended it (-15 after terminate(), -9 after kill()).
  std::optional<int> exitcode() const;
  /// The OS process id of its child process; empty until the child runs.
  std::optional<int> pid() const;
  /// The worker rank running it; empty until it reaches one.
  std::optional<int> rank() const;

  const std::string& name() const { return state_->name; }
  void set_name(std::string name);
  /// Daemon processes are stopped when the session ends instead of being waited for.
  bool daemon() const { return state_->daemon; }
  void set_daemon(bool daemon);

  /// Sends SIGTERM to the process (cancels it if it still waits for a rank): exitcode -15.
  void terminate();
  /// Sends SIGKILL, which a target cannot catch: exitcode -9.
  void kill();

  /// Releases what the process holds (Python 3.7): UsageError while it runs. Afterwards only
  /// name() and daemon() may be called; everything else is a UsageError.
  void close();

 private:
  static std::string next_name();
  bool join_until(std::optional<detail::Clock::time_point> deadline);
  void require_started(const char* method) const;
  void require_open(const char* method) const;

  std::shared_ptr<detail::ProcessState> state_;
  detail::CodeRef invoker_;
  detail::CodeRef function_;
  detail::Bytes args_;  // the target's arguments, serialized at construction
  bool started_ = false;
  bool closed_ = false;
};

template <class F, class... Args>
Process::Process(F target, Args&&... args) : state_(std::make_shared<detail::ProcessState>()) {
  using Wire = detail::wire_args_t<F, Args...>;
  detail::check_shippable<F>();
  detail::check_sendable_tuple<Wire>();
  state_->name = next_name();
  invoker_ = detail::invoker_ref<&detail::invoke_process<F, Wire>>();
  function_ = detail::function_ref(target);
  detail::Writer out;
  out.write(Wire(std::forward<Args>(args)...));
  args_ = std::move(out.bytes());
}

}  // namespace mpp
