// Process: start/join/exitcode, identity, more processes than workers, terminate, misuse.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <mpp/mpp.hpp>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

void report_identity(mpp::Queue<std::string> names, mpp::Queue<int> pids) {
  names.put(mpp::current_process().name);
  pids.put(static_cast<int>(::getpid()));
}

void put_index(mpp::Queue<int> q, int i) { q.put(i); }

void fail_on_purpose(int code) { throw std::invalid_argument("bad input " + std::to_string(code)); }

void wait_for(mpp::Event go) { go.wait(); }

void mark_ran(mpp::Value<int> ran) { ran.set(1); }

/// Sleeps for good, after saying it runs.
void sleep_forever(mpp::Queue<std::string> q) {
  q.put("running");
  for (;;) std::this_thread::sleep_for(1s);
}

/// Ignores SIGTERM and returns once asked to stop: terminate() reaches code that handles it.
void stop_when_asked(mpp::Queue<std::string> q) {
  std::signal(SIGTERM, SIG_IGN);
  q.put("running");
  while (!mpp::stop_requested()) std::this_thread::sleep_for(1ms);
  q.put("stopped");
  for (;;) std::this_thread::sleep_for(1s);  // until kill()
}

void exit_with(int code) { std::exit(code); }

void underscore_exit_with(int code) { ::_exit(code); }

/// Dies of SIGSEGV as a bad memory access would (a real null write is undefined behaviour,
/// which UBSan stops before it faults).
void crash_with_segfault() { std::raise(SIGSEGV); }

mpp::Queue<std::string>* at_exit_queue = nullptr;
void say_goodbye() { at_exit_queue->put("atexit handler ran"); }
void register_at_exit(mpp::Queue<std::string> q) {
  static mpp::Queue<std::string> kept = q;  // the handler runs after the target's arguments are gone
  at_exit_queue = &kept;
  std::atexit(say_goodbye);
}

void add_under_lock(mpp::Value<int> total, mpp::Lock lock, int times) {
  for (int i = 0; i < times; ++i) {
    std::lock_guard guard(lock);
    total.set(total.get() + 1);
  }
}

int square(int x) { return x * x; }

/// CPython's _TestBarrier.multipass: nobody starts round i+1 before all have finished round
/// i, checked with two shared counters (CPython's two DummyLists). A broken promise throws,
/// which ends the process with exitcode 1.
void multipass(mpp::Barrier barrier, mpp::Value<int> first, mpp::Value<int> second, int passes) {
  const int m = static_cast<int>(barrier.parties());
  for (int i = 0; i < passes; ++i) {
    first.fetch_add(1);
    if (second.get() != i * m) throw std::logic_error("round " + std::to_string(i) + " started before all finished");
    barrier.wait(30s);
    second.fetch_add(1);
    if (first.get() != (i + 1) * m) throw std::logic_error("passed the barrier before all arrived");
    barrier.wait(30s);
  }
  if (barrier.n_waiting() != 0) throw std::logic_error("someone still waits");
  if (barrier.broken()) throw std::logic_error("the barrier broke");
}

/// Tells what current_process() and parent_process() say inside the target.
void describe_self(mpp::Queue<mpp::ProcessInfo> out) {
  out.put(mpp::current_process());
  out.put(mpp::parent_process().value_or(mpp::ProcessInfo{"no parent"}));
}

/// CPython's _test_recursion: each process says who it is, then (to depth 2) starts two
/// children one after the other, joining each.
void recurse(mpp::Queue<std::vector<int>> out, std::vector<int> id) {
  out.put(id);
  if (id.size() < 2) {
    for (int i = 0; i < 2; ++i) {
      auto child_id = id;
      child_id.push_back(i);
      mpp::Process p(recurse, out, child_id);
      p.start();
      p.join();
      if (p.exitcode() != 0) throw std::runtime_error("a child failed");
    }
  }
}

/// Says its pid and its parent's pid.
void report_parent(mpp::Queue<int> pids) {
  pids.put(::getpid());
  pids.put(mpp::parent_process().value_or(mpp::ProcessInfo{}).pid);
}
/// Starts report_parent as its child, and reports its own pid first.
void start_reporter(mpp::Queue<int> pids) {
  pids.put(::getpid());
  mpp::Process child(report_parent, pids);
  child.start();
  child.join();
}

/// Says its pid (and sets `said` once it has), then sleeps until stopped.
void say_pid_and_sleep(mpp::Queue<int> pids, mpp::Event said) {
  pids.put(::getpid());
  said.set();
  for (;;) std::this_thread::sleep_for(1s);
}
/// Waits for `go`, then puts 0.
void put_zero_when_told(mpp::Event go, mpp::Queue<int> q) {
  go.wait();
  q.put(0);
}
/// Starts a daemon and a non-daemon child and returns while both run: as in Python, the daemon
/// is terminated and the other joined when this process ends.
void leave_children_behind(mpp::Queue<int> pids, mpp::Queue<std::string> events) {
  mpp::Event said;
  mpp::Process daemon(say_pid_and_sleep, pids, said);
  daemon.set_daemon(true);
  daemon.start();
  mpp::Event go;
  mpp::Process slow(put_zero_when_told, go, pids);
  slow.start();
  said.wait();  // it runs and said its pid before terminate() reaches it
  events.put(std::to_string(mpp::active_children().size()) + " children");
  go.set();  // the non-daemon ends only after it was counted, and is joined at this process's end
}

/// Tries to start a process; says what start() threw, or "started".
std::string try_to_start_a_child(int) {
  mpp::Process child(square, 2);
  try {
    child.start();
  } catch (const mpp::UsageError& e) {
    return e.what();
  }
  child.join();
  return "started";
}
void report_starting_a_child(mpp::Queue<std::string> out) { out.put(try_to_start_a_child(0)); }

/// Waits at the barrier with the others, then says which arrival it was.
void meet_at(mpp::Barrier barrier, mpp::Queue<int> arrivals) { arrivals.put(static_cast<int>(barrier.wait(60s))); }

void put_one(mpp::Queue<int> q) { q.put(1); }
/// Puts `count` big items (80 KB each: handed to the parent through the shared segment) and ends.
void put_big_items(mpp::Queue<std::vector<double>> q, int count) {
  for (int i = 0; i < count; ++i) q.put(std::vector<double>(10000, i));
}
void get_one(mpp::Queue<int> q, mpp::Queue<int> got) { got.put(q.get(60s)); }

/// Answers each message on its end of the pipe with the message doubled, until a 0.
void double_back(mpp::Connection<int> end) {
  for (int x; (x = end.recv()) != 0;) end.send(2 * x);
}
void ask_for_doubles(mpp::Connection<int> end, mpp::Queue<int> answers, int count) {
  for (int i = 1; i <= count; ++i) {
    end.send(i);
    answers.put(end.recv());
  }
  end.send(0);
}

int workers() { return mpp::Session::current().workers(); }

}  // namespace

TEST(Process, RunsTheTargetOnAWorkerAndReportsIdentity) {
  mpp::Queue<std::string> names;
  mpp::Queue<int> pids;
  mpp::Process p(report_identity, names, pids);
  EXPECT_FALSE(p.is_alive());
  EXPECT_FALSE(p.exitcode().has_value());
  p.set_name("reporter");
  p.start();
  EXPECT_TRUE(p.is_alive() || p.exitcode() == 0);
  EXPECT_EQ(names.get(30s), "reporter");
  const int pid = pids.get(30s);
  p.join();
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exitcode(), 0);
  ASSERT_TRUE(p.rank().has_value());
  EXPECT_GE(*p.rank(), 1);
  EXPECT_LT(*p.rank(), mpp::Session::current().size());
  EXPECT_EQ(p.pid(), pid);
  EXPECT_NE(pid, ::getpid());
}

TEST(Process, DefaultNamesCountUp) {
  mpp::Process a(square, 1);
  mpp::Process b(square, 2);
  ASSERT_EQ(a.name().rfind("Process-", 0), 0u);
  EXPECT_EQ(std::stoi(b.name().substr(8)), std::stoi(a.name().substr(8)) + 1);
}

TEST(Process, ATargetThatThrowsExitsWithOneAndPrintsItsError) {
  mpp::Process p(fail_on_purpose, 42);
  testing::internal::CaptureStderr();
  p.start();
  p.join();
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(p.exitcode(), 1);
  EXPECT_NE(printed.find("std::invalid_argument: bad input 42"), std::string::npos) << printed;
  EXPECT_NE(printed.find(p.name()), std::string::npos) << printed;
  EXPECT_NE(printed.find("rank " + std::to_string(*p.rank())), std::string::npos) << printed;
}

TEST(Process, MoreProcessesThanWorkersAllRun) {
  mpp::Queue<int> q;
  const int count = 3 * workers() + 2;
  std::vector<mpp::Process> processes;
  for (int i = 0; i < count; ++i) processes.emplace_back(put_index, q, i);
  for (auto& p : processes) p.start();
  for (auto& p : processes) p.join();
  std::set<int> seen;
  for (int i = 0; i < count; ++i) seen.insert(q.get(10s));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(count));
  for (auto& p : processes) EXPECT_EQ(p.exitcode(), 0);
}

TEST(Process, TwelveProcessesPassOneBarrierWhateverTheWorkerCount) {
  // Python starts any number of processes: all 12 must be running at once to pass.
  constexpr int parties = 12;
  mpp::Barrier barrier(parties);
  mpp::Queue<int> arrivals;
  std::vector<mpp::Process> processes;
  for (int i = 0; i < parties; ++i) processes.emplace_back(meet_at, barrier, arrivals);
  for (auto& p : processes) p.start();
  for (auto& p : processes) ASSERT_TRUE(p.join(120s));
  std::set<int> indices;
  for (int i = 0; i < parties; ++i) indices.insert(arrivals.get(10s));
  EXPECT_EQ(indices.size(), static_cast<std::size_t>(parties));  // each arrival index once
  std::set<int> pids;
  for (auto& p : processes) {
    EXPECT_EQ(p.exitcode(), 0);
    pids.insert(*p.pid());
  }
  EXPECT_EQ(pids.size(), static_cast<std::size_t>(parties));
  for (const int pid : pids) EXPECT_NE(::kill(pid, 0), 0) << "child " << pid << " was not reaped";  // one host here
}

TEST(Process, CPythonBarrierMultipassWithMoreProcessesThanWorkers) {
  // CPython's test_barrier_10: N-1 processes and the main program pass a Barrier(N) ten
  // times (N = 5 there; here more than the workers, so ranks run several at once).
  const int n = std::max(5, 2 * workers() + 1);
  constexpr int passes = 10;
  mpp::Barrier barrier(n);
  mpp::Value<int> first(0);
  mpp::Value<int> second(0);
  std::vector<mpp::Process> processes;
  for (int i = 0; i < n - 1; ++i) processes.emplace_back(multipass, barrier, first, second, passes);
  for (auto& p : processes) p.start();
  multipass(barrier, first, second, passes);
  for (auto& p : processes) ASSERT_TRUE(p.join(120s));
  for (auto& p : processes) EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(first.get(), n * passes);
  EXPECT_EQ(second.get(), n * passes);
}

TEST(Process, ProducersOnAFullQueueAndTheirConsumerAllRun) {
  // Two producers block on a full queue until the consumer runs; with more processes than
  // workers they must all run at once.
  mpp::Queue<int> q(1);
  q.put(0);
  mpp::Queue<int> got;
  std::vector<mpp::Process> processes;
  for (int i = 0; i < workers() + 1; ++i) processes.emplace_back(put_one, q);
  for (int i = 0; i < workers() + 2; ++i) processes.emplace_back(get_one, q, got);
  for (auto& p : processes) p.start();
  for (auto& p : processes) ASSERT_TRUE(p.join(120s));
  int sum = 0;
  for (int i = 0; i < workers() + 2; ++i) sum += got.get(10s);
  EXPECT_EQ(sum, workers() + 1);
  for (auto& p : processes) EXPECT_EQ(p.exitcode(), 0);
}

TEST(Process, PipesConnectProcessesOnTheSameRank) {
  // Twice as many pairs as workers: some pairs share a rank, whose children exchange the
  // messages through it.
  const int pairs = 2 * workers();
  mpp::Queue<int> answers;
  std::vector<mpp::Process> processes;
  for (int i = 0; i < pairs; ++i) {
    auto [left, right] = mpp::Pipe<int>();
    processes.emplace_back(double_back, right);
    processes.emplace_back(ask_for_doubles, left, answers, 5);
  }
  for (auto& p : processes) p.start();
  for (auto& p : processes) ASSERT_TRUE(p.join(120s));
  int sum = 0;
  for (int i = 0; i < 5 * pairs; ++i) sum += answers.get(10s);
  EXPECT_EQ(sum, pairs * 2 * (1 + 2 + 3 + 4 + 5));
  for (auto& p : processes) EXPECT_EQ(p.exitcode(), 0);
}

TEST(Process, JoinWithTimeoutReturnsFalseWhileRunning) {
  mpp::Event go;
  mpp::Process p(wait_for, go);
  p.start();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(p.join(100ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_TRUE(p.is_alive());
  go.set();
  EXPECT_TRUE(p.join(30s));
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Process, TerminateCancelsAProcessStillWaitingForARank) {
  // A process waits for a rank only while every worker runs pool tasks.
  mpp::Event go;
  mpp::Pool pool(workers());
  std::vector<mpp::AsyncResult<void>> busy;
  for (int w = 0; w < workers(); ++w) busy.push_back(pool.apply_async(wait_for, go));
  std::this_thread::sleep_for(200ms);  // the tasks reach their workers
  mpp::Value<int> ran(0);
  mpp::Process waiting(mark_ran, ran);
  waiting.start();
  waiting.terminate();
  go.set();
  waiting.join();
  for (auto& task : busy) task.get(60s);
  EXPECT_EQ(waiting.exitcode(), -15);
  EXPECT_EQ(ran.get(), 0);
  EXPECT_FALSE(waiting.rank().has_value());
}

TEST(Process, TerminateAndKillEndARunningTargetAtOnce) {
  for (const auto& [stop, code] : {std::pair{&mpp::Process::terminate, -15}, std::pair{&mpp::Process::kill, -9}}) {
    mpp::Queue<std::string> q;
    mpp::Process p(sleep_forever, q);
    p.start();
    EXPECT_EQ(q.get(30s), "running");
    const auto asked = std::chrono::steady_clock::now();
    (p.*stop)();
    EXPECT_TRUE(p.join(30s));
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 1s);
    EXPECT_EQ(p.exitcode(), code);
  }
  EXPECT_FALSE(mpp::stop_requested());  // outside a process it is always false
}

TEST(Process, ATargetHandlingSigtermSeesStopRequestedAndKillStillEndsIt) {
  mpp::Queue<std::string> q;
  mpp::Process p(stop_when_asked, q);
  p.start();
  EXPECT_EQ(q.get(30s), "running");
  p.terminate();
  EXPECT_EQ(q.get(30s), "stopped");
  EXPECT_TRUE(p.is_alive());
  p.kill();
  EXPECT_TRUE(p.join(30s));
  EXPECT_EQ(p.exitcode(), -9);
}

TEST(Process, ExitCodesAreThoseOfTheChild) {
  mpp::Process exits(exit_with, 7);
  mpp::Process underscore_exits(underscore_exit_with, 3);
  mpp::Process crashes(crash_with_segfault);
  for (auto* p : {&exits, &underscore_exits, &crashes}) p->start();
  for (auto* p : {&exits, &underscore_exits, &crashes}) EXPECT_TRUE(p->join(60s));
  EXPECT_EQ(exits.exitcode(), 7);
  EXPECT_EQ(underscore_exits.exitcode(), 3);
  EXPECT_EQ(crashes.exitcode(), -11);
  // The rank that ran the crashing child is still there.
  mpp::Process after(square, 2);
  after.start();
  after.join();
  EXPECT_EQ(after.exitcode(), 0);
}

TEST(Process, AtexitHandlersOfTheTargetRun) {
  mpp::Queue<std::string> q;
  mpp::Process p(register_at_exit, q);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(q.get(30s), "atexit handler ran");
}

TEST(Process, ThePidIsTheChildsNotTheRanks) {
  mpp::Queue<std::string> names;
  mpp::Queue<int> pids;
  mpp::Process p(report_identity, names, pids);
  p.start();
  const int pid = pids.get(30s);
  p.join();
  EXPECT_EQ(p.pid(), pid);
  EXPECT_NE(pid, mpp::Session::current().pid_of(*p.rank()));
}

TEST(Process, ChildrenShareValuesLocksAndQueues) {
  mpp::Value<int> total(0);
  mpp::Lock lock;
  std::vector<mpp::Process> processes;
  for (int w = 0; w < workers(); ++w) processes.emplace_back(add_under_lock, total, lock, 200);
  for (auto& p : processes) p.start();
  for (auto& p : processes) p.join();
  for (auto& p : processes) EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(total.get(), 200 * workers());
}

TEST(Process, InsideATargetCurrentAndParentProcessAreAsInPython) {
  mpp::Queue<mpp::ProcessInfo> out;
  mpp::Process p(describe_self, out);
  p.set_name("describer");
  p.set_daemon(true);
  p.start();
  const auto self = out.get(30s);
  const auto parent = out.get(30s);
  p.join();
  EXPECT_EQ(self.name, "describer");
  EXPECT_TRUE(self.daemon);
  EXPECT_EQ(self.pid, p.pid());
  EXPECT_EQ(self.rank, p.rank());
  EXPECT_EQ(parent.name, "MainProcess");
  EXPECT_EQ(parent.pid, ::getpid());
  EXPECT_EQ(parent.rank, 0);
  EXPECT_FALSE(mpp::current_process().daemon);
}

TEST(Process, ActiveChildrenListsTheRunningOnes) {
  EXPECT_TRUE(mpp::active_children().empty());
  mpp::Event go;
  mpp::Process waits(wait_for, go);
  waits.set_name("waiter");
  mpp::Process ends(square, 4);
  ends.start();
  ends.join();
  waits.start();
  // Until the child reaches its rank its pid is 0; wait for it.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!waits.pid() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  const auto running = mpp::active_children();
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0].name, "waiter");
  EXPECT_EQ(running[0].pid, waits.pid());
  EXPECT_EQ(running[0].rank, waits.rank());
  EXPECT_EQ(running[0].host, mpp::current_process().host);
  go.set();
  waits.join();
  EXPECT_TRUE(mpp::active_children().empty());
}

TEST(Process, CloseReleasesAnEndedProcessAndRefusesARunningOne) {
  mpp::Event go;
  mpp::Process p(wait_for, go);
  p.set_name("closer");
  p.close();  // never started: nothing to wait for, as Python allows
  EXPECT_THROW(p.start(), mpp::UsageError);
  EXPECT_EQ(p.name(), "closer");

  mpp::Process running(wait_for, go);
  running.start();
  EXPECT_THROW(running.close(), mpp::UsageError);
  EXPECT_TRUE(running.is_alive());
  go.set();
  running.join();
  running.close();
  running.close();  // twice is fine, as Python
  EXPECT_THROW(running.exitcode(), mpp::UsageError);
  EXPECT_THROW(running.is_alive(), mpp::UsageError);
  EXPECT_THROW(running.join(), mpp::UsageError);
  EXPECT_FALSE(running.daemon());
}

TEST(Process, CPythonRecursionBuildsAProcessTree) {
  mpp::Queue<std::vector<int>> out;
  recurse(out, {});
  std::vector<std::vector<int>> seen;
  for (int i = 0; i < 7; ++i) seen.push_back(out.get(60s));
  std::sort(seen.begin(), seen.end());
  const std::vector<std::vector<int>> expected{{}, {0}, {0, 0}, {0, 1}, {1}, {1, 0}, {1, 1}};
  EXPECT_EQ(seen, expected);
  EXPECT_TRUE(out.empty());
}

TEST(Process, AGrandchildsParentIsTheProcessThatStartedIt) {
  mpp::Queue<int> pids;
  mpp::Process p(start_reporter, pids);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  const int child = pids.get(30s);
  const int grandchild = pids.get(30s);
  const int grandchilds_parent = pids.get(30s);
  EXPECT_EQ(child, p.pid());
  EXPECT_NE(grandchild, child);
  EXPECT_EQ(grandchilds_parent, child);
}

TEST(Process, AtItsEndAProcessTerminatesItsDaemonsAndJoinsTheOthers) {
  mpp::Queue<int> pids;
  mpp::Queue<std::string> events;
  mpp::Process p(leave_children_behind, pids, events);
  p.start();
  ASSERT_TRUE(p.join(60s));
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(events.get(10s), "2 children");
  std::set<int> said{pids.get(10s), pids.get(10s)};
  EXPECT_TRUE(said.contains(0)) << "the non-daemon child ran to its end";
  said.erase(0);
  ASSERT_EQ(said.size(), 1u);
  EXPECT_NE(::kill(*said.begin(), 0), 0) << "the daemon grandchild was terminated and reaped";  // one host here
}

TEST(Process, MisuseThrowsLikePython) {
  mpp::Process p(square, 3);
  EXPECT_THROW(p.join(), mpp::UsageError);
  p.start();
  EXPECT_THROW(p.start(), mpp::UsageError);
  EXPECT_THROW(p.set_daemon(true), mpp::UsageError);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Process, DaemonsAndPoolTasksMayNotHaveChildrenAsInPython) {
  mpp::Queue<std::string> out;
  mpp::Process daemon(report_starting_a_child, out);
  daemon.set_daemon(true);
  daemon.start();
  const std::string from_daemon = out.get(30s);
  EXPECT_NE(from_daemon.find("daemonic processes are not allowed to have children"), std::string::npos) << from_daemon;
  EXPECT_NE(from_daemon.find("a daemon process"), std::string::npos) << from_daemon;
  mpp::Process regular(report_starting_a_child, out);
  regular.start();
  EXPECT_EQ(out.get(30s), "started");
  daemon.join();
  regular.join();
  for (const bool isolated : {false, true}) {
    mpp::Pool pool(mpp::PoolOptions{.isolated = isolated});
    const std::string from_task = pool.apply(try_to_start_a_child, 0);
    EXPECT_NE(from_task.find("a pool task"), std::string::npos) << from_task;
  }
}

TEST(Process, ProcessesAreMovable) {
  mpp::Queue<int> q;
  std::vector<mpp::Process> processes;
  processes.push_back(mpp::Process(put_index, q, 5));
  mpp::Process moved = std::move(processes.front());
  moved.start();
  moved.join();
  EXPECT_EQ(q.get(), 5);
}

TEST(Process, BigItemsAProcessPutsJustBeforeItEndsAllArrive) {
  mpp::Queue<std::vector<double>> q;
  std::vector<mpp::Process> processes;
  for (int p = 0; p < 3; ++p) processes.emplace_back(mpp::Process(put_big_items, q, 20));
  for (auto& p : processes) p.start();
  for (auto& p : processes) {
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
  }
  std::vector<int> seen(20, 0);
  for (int i = 0; i < 60; ++i) {
    const auto item = q.get(60s);
    ASSERT_EQ(item.size(), 10000u);
    ASSERT_TRUE(std::ranges::all_of(item, [&](double x) { return x == item.front(); }));
    ++seen.at(static_cast<std::size_t>(item.front()));
  }
  EXPECT_EQ(seen, std::vector<int>(20, 3));
}
