#pragma once
// mpp::Process: Python's multiprocessing.Process, as a function run on a worker rank.
//
//   void f(mpp::Queue<std::string> q) { q.put("hello"); }
//   mpp::Process p(f, q);   // target and arguments, like Process(target=f, args=(q,))
//   p.start();              // runs on a free worker rank; waits its turn when none is free
//   p.join();               // p.exitcode() == 0; 1 if f threw (its error is printed, as Python does)
//
// Each running process has a worker rank to itself, so processes that wait for each other run
// side by side as long as there are enough workers; more processes than workers run as
// workers become free. Start processes from the master rank. The arguments are copied when
// the Process is constructed.
//
// terminate() / kill(): MPI cannot stop one rank without ending the whole job. A process that
// has not reached a worker yet is cancelled (exitcode -15, as SIGTERM in Python). A running one
// is asked to stop: mpp::stop_requested() turns true inside its target, which should return;
// its exitcode is then -15. A target that never looks keeps its rank until it returns.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/engine.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/errors.hpp"
#include "mpp/session.hpp"
#include "mpp/shared.hpp"

namespace mpp {

/// Inside a Process target: whether terminate() or kill() was called on it. False elsewhere.
bool stop_requested();

namespace detail {

/// What a process's rank needs besides the target's arguments.
struct ProcessContext {
  ProcessContext(std::string n, Value<int> s) : name(std::move(n)), stop(std::move(s)) {}
  explicit ProcessContext(for_loading_t) : stop(for_loading) {}

  std::string name;
  Value<int> stop;  // nonzero: terminate() was called

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& name& stop;
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

template <class F, class ArgsTuple>
void invoke_process(TaskCall& call) {
  F f = callable_from<F>(call.function);
  ProcessScope scope(call.args.read<ProcessContext>());
  std::apply(f, call.args.read<ArgsTuple>());  // the return value is dropped, as Python's is
}

/// A process's life as the master sees it; the engine reports to it.
class ProcessState final : public TaskSink {
 public:
  static constexpr int not_ended = -1000;

  std::string name;
  bool daemon = false;
  Value<int> stop{0};
  std::atomic<int> rank{-1};
  std::atomic<int> exitcode{not_ended};
  std::atomic<bool> terminated{false};

  void dispatched(std::uint64_t, int worker) override { rank = worker; }
  void deliver(std::uint64_t, Reader&) override { end(0); }
  void fail(std::uint64_t, const RemoteError& error) override;
  void cancel(std::uint64_t) override { end(0); }

  /// Cancels the process if it still waits for a rank, else raises its stop flag.
  void request_stop(const std::shared_ptr<ProcessState>& self);

 private:
  void end(int code) { exitcode = terminated ? terminated_exitcode : code; }
  static constexpr int terminated_exitcode = -15;  // -SIGTERM, as Python reports it
};

/// Runs at session end: daemon processes are asked to stop (queued ones cancelled).
void stop_daemon_processes();

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
  /// Empty while running (or before start); 0 when the target returned, 1 when it threw,
  /// -15 when it was terminated.
  std::optional<int> exitcode() const;
  /// The OS process id of the rank running it; empty until it reaches one.
  std::optional<int> pid() const;
  /// The worker rank running it; empty until it reaches one.
  std::optional<int> rank() const;

  const std::string& name() const { return state_->name; }
  void set_name(std::string name);
  /// Daemon processes are stopped when the session ends instead of being waited for.
  bool daemon() const { return state_->daemon; }
  void set_daemon(bool daemon);

  /// Cancels the process if it waits for a rank, else asks it to stop (see the top of this file).
  void terminate();
  /// The same as terminate(): over MPI there is no stronger way to stop one rank.
  void kill() { terminate(); }

 private:
  static std::string next_name();
  bool join_until(std::optional<detail::Clock::time_point> deadline);
  void require_started(const char* method) const;

  std::shared_ptr<detail::ProcessState> state_;
  detail::CodeRef invoker_;
  detail::CodeRef function_;
  detail::Bytes args_;  // the target's arguments, serialized at construction
  bool started_ = false;
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
