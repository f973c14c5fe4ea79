#include "mpp/process.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <vector>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/child.hpp"
#include "mpp/detail/protocol.hpp"
#include "mpp/detail/requests.hpp"
#include "mpp/detail/worker.hpp"
#include "mpp/process_info.hpp"

namespace mpp {
namespace detail {
namespace {

thread_local const ProcessContext* running_process = nullptr;

/// Every process this program started (and on the master, those it started for others) until
/// it ends: as Python's _children, it outlives its Process object, so a process's end can still
/// terminate or join it.
struct StartedProcesses {
  std::mutex mutex;
  std::vector<std::shared_ptr<ProcessState>> started;

  void add(const std::shared_ptr<ProcessState>& state) {
    std::lock_guard lock(mutex);
    forget_ended();
    started.push_back(state);
  }
  std::vector<std::shared_ptr<ProcessState>> running() {
    std::lock_guard lock(mutex);
    forget_ended();
    return started;
  }

 private:
  void forget_ended() {
    std::erase_if(started, [](const auto& state) { return state->exitcode() != ProcessState::not_ended; });
  }
};
StartedProcesses& started_processes() {
  static StartedProcesses registry;
  return registry;
}

}  // namespace

ProcessScope::ProcessScope(ProcessContext context) : context_(std::move(context)) { running_process = &context_; }
ProcessScope::~ProcessScope() { running_process = nullptr; }

const ProcessContext* current_process_context() { return running_process; }

namespace {

// Python prints a failed child's traceback on stderr; so do we, on the master.
void print_failure(const std::string& name, const ErrorReport& report) {
  std::fprintf(stderr, "Process %s (rank %d on %s) failed:\n%s: %s\n", name.c_str(), report.rank, report.host.c_str(),
               report.type.c_str(), report.message.c_str());
  std::fflush(stderr);
}

}  // namespace

int run_process_target(const ProcessContext& context, const std::function<void()>& target) {
  ProcessScope scope(context);
  int code = 0;
  try {
    target();
  } catch (...) {
    auto report = describe_current_exception();
    report.rank = Session::current().rank();
    report.host = Session::current().host();
    Writer note;
    report.write(note);
    relay_note(note.bytes());
    code = 1;
  }
  finish_started_processes();
  return code;
}

int ProcessState::exitcode() const {
  if (!remote) return exitcode_;
  SharedSpace& space = words.space();
  if (space.load<std::int32_t>(process_word(words, ProcessWord::ended)) == 0) return not_ended;
  return space.load<std::int32_t>(process_word(words, ProcessWord::exitcode));
}

int ProcessState::rank() const {
  if (!remote) return rank_;
  return words.space().load<std::int32_t>(process_word(words, ProcessWord::rank_plus_one)) - 1;
}

void ProcessState::dispatched(std::uint64_t, int worker) {
  rank_ = worker;
  if (published) words.space().store<std::int32_t>(process_word(words, ProcessWord::rank_plus_one), worker + 1);
}

void ProcessState::record_exit(int code) {
  exitcode_ = code;
  if (!published) return;
  SharedSpace& space = words.space();
  space.store<std::int32_t>(process_word(words, ProcessWord::exitcode), code);
  space.store<std::int32_t>(process_word(words, ProcessWord::ended), 1);  // last: the code is there
}

void ProcessState::deliver(std::uint64_t, Reader& ending) {
  const int code = ending.read<int>();
  if (!ending.empty()) print_failure(name, ErrorReport::read(ending));
  record_exit(code);
}

void ProcessState::fail(std::uint64_t, const RemoteError& error) {
  print_failure(
      name, ErrorReport{error.type(), error.message(), error.host(), error.rank(), std::nullopt, error.thrown_as()});
  record_exit(1);
}

void ProcessState::request_stop(const std::shared_ptr<ProcessState>& self, int signal) {
  if (exitcode() != not_ended) return;
  signal_asked = signal;
  // Not started yet (only the master can take it out of the queue): its rank reads the word
  // before forking, and the process ends as that signal would have ended it.
  if (!remote) {
    Engine& engine = Session::current().engine();
    if (engine.cancel_queued(engine.process_lane(), self.get())) return;
  }
  words.space().store<std::int32_t>(stop_signal_word(words), signal);
}

void start_process_for_another(Reader& request) {
  auto state = std::make_shared<ProcessState>();
  state->name = request.read<std::string>();
  state->daemon = request.read<bool>();
  state->words = request.read<SharedBlock>();
  state->published = true;
  const auto wire = request.read<Bytes>();
  Task task{.wire = wire,
            .sink = state,
            .first_index = no_item,
            .process = std::make_unique<ProcessStart>(stop_signal_word(state->words), child_pid_word(state->words))};
  std::vector<Task> tasks;
  tasks.push_back(std::move(task));
  started_processes().add(state);  // daemons among them are stopped at session end too
  Engine& engine = Session::current().engine();
  engine.submit(engine.process_lane(), std::move(tasks));
}

void stop_daemon_processes() {
  for (auto& state : running_processes())
    if (state->daemon) state->request_stop(state, SIGTERM);
}

void finish_started_processes() {
  stop_daemon_processes();
  Backoff backoff = message_backoff();
  for (const auto& state : running_processes())
    while (state->exitcode() == ProcessState::not_ended) pause_for_message(backoff);
}

std::vector<std::shared_ptr<ProcessState>> running_processes() { return started_processes().running(); }

}  // namespace detail

bool stop_requested() {
  const auto* context = detail::running_process;
  return context && detail::shared_space().load<std::int32_t>(context->stop_signal()) != 0;
}

std::string Process::next_name() {
  static std::atomic<int> created{0};
  return "Process-" + std::to_string(++created);
}

void Process::start() {
  if (started_) throw UsageError("mpp: Process::start: processes can only be started once (" + name() + ")");
  require_open("start");
  // As Python: a daemon ends with its parent, and its children would be left behind. A pool
  // task that waits for a child could also wait forever: its rank is the one that would run it.
  if (const auto self = current_process(); self.daemon)
    throw UsageError("mpp: Process::start: daemonic processes are not allowed to have children, as in Python (" +
                     self.name + " is " + (detail::current_process_context() ? "a daemon process" : "a pool task") +
                     "); start processes from the main program or from a non-daemon process");
  detail::ProcessContext context{state_->name, state_->daemon, state_->words, current_process()};
  auto task = detail::make_task(invoker_, function_, detail::no_item, [&](detail::Writer& out) {
    out.write(context);
    out.write_raw(args_.data(), args_.size());
  });
  Session& session = Session::current();
  if (session.is_master()) {
    task.sink = state_;
    task.process = std::make_unique<detail::ProcessStart>(context.stop_signal(), context.child_pid());
    std::vector<detail::Task> tasks;
    tasks.push_back(std::move(task));
    detail::Engine& engine = session.engine();
    engine.submit(engine.process_lane(), std::move(tasks));
  } else {
    // A process started inside a process (or a pool task): the master's engine runs it and
    // publishes its rank and exit code in the shared words.
    state_->remote = true;
    detail::Request request(detail::Op::start_process, 0);
    request.arg(state_->name).arg(state_->daemon).arg(state_->words).arg(task.wire);
    detail::call_master(request);
  }
  detail::started_processes().add(state_);
  started_ = true;
  args_ = detail::Bytes();
}

void Process::join() { join_until(std::nullopt); }

bool Process::join_until(std::optional<detail::Clock::time_point> deadline) {
  require_started("join");
  const auto ended = [state = state_.get()] { return state->exitcode() != detail::ProcessState::not_ended; };
  if (!state_->remote) return Session::current().engine().wait_until(ended, deadline);
  detail::Backoff backoff = detail::message_backoff();
  while (!ended()) {
    if (deadline && detail::Clock::now() >= *deadline) return false;
    detail::pause_for_message(backoff);
  }
  return true;
}

bool Process::is_alive() const {
  require_open("is_alive");
  return started_ && state_->exitcode() == detail::ProcessState::not_ended;
}

std::optional<int> Process::exitcode() const {
  require_open("exitcode");
  const int code = state_->exitcode();
  if (code == detail::ProcessState::not_ended) return std::nullopt;
  return code;
}

std::optional<int> Process::rank() const {
  require_open("rank");
  const int r = state_->rank();
  if (r < 0) return std::nullopt;
  return r;
}

std::optional<int> Process::pid() const {
  require_open("pid");
  const int pid = state_->words.space().load<std::int32_t>(detail::child_pid_word(state_->words));
  if (pid == 0) return std::nullopt;
  return pid;
}

void Process::set_name(std::string name) { state_->name = std::move(name); }

void Process::set_daemon(bool daemon) {
  if (started_) throw UsageError("mpp: Process::set_daemon: the daemon flag must be set before start(), as in Python");
  state_->daemon = daemon;
}

void Process::terminate() {
  require_open("terminate");
  if (started_) state_->request_stop(state_, SIGTERM);
}

void Process::kill() {
  require_open("kill");
  if (started_) state_->request_stop(state_, SIGKILL);
}

void Process::close() {
  if (closed_) return;
  if (started_ && state_->exitcode() == detail::ProcessState::not_ended)
    throw UsageError("mpp: Process::close: " + name() +
                     " is still running; join() it (or terminate() it first) before close(), as in Python");
  state_->words = detail::SharedBlock();
  closed_ = true;
}

void Process::require_open(const char* method) const {
  if (closed_)
    throw UsageError(std::string("mpp: Process::") + method + ": " + name() +
                     " was closed; only name() and daemon() remain after close()");
}

void Process::require_started(const char* method) const {
  require_open(method);
  if (!started_)
    throw UsageError(std::string("mpp: Process::") + method + ": can only " + method +
                     " a started process; call start() first (" + name() + ")");
}

}  // namespace mpp
