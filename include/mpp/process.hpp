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
#include "mpp/detail/process_state.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/errors.hpp"
#include "mpp/process_info.hpp"
#include "mpp/session.hpp"

namespace mpp {

/// Inside a Process target: whether terminate() or kill() was called on it (a target that
/// handles SIGTERM may look). False elsewhere.
bool stop_requested();

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
