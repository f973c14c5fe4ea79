// Process: start/join/exitcode, identity, more processes than workers, terminate, misuse.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <mpp/mpp.hpp>
#include <set>
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

/// Works until asked to stop, then says so.
void work_until_stopped(mpp::Queue<std::string> q) {
  q.put("running");
  while (!mpp::stop_requested()) std::this_thread::sleep_for(1ms);
  q.put("stopped");
}

int square(int x) { return x * x; }

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
  mpp::Event go;
  std::vector<mpp::Process> busy;
  for (int w = 0; w < workers(); ++w) busy.emplace_back(wait_for, go);
  for (auto& p : busy) p.start();
  mpp::Value<int> ran(0);
  mpp::Process waiting(mark_ran, ran);
  waiting.start();
  waiting.terminate();
  go.set();
  waiting.join();
  for (auto& p : busy) p.join();
  EXPECT_EQ(waiting.exitcode(), -15);
  EXPECT_EQ(ran.get(), 0);
  EXPECT_FALSE(waiting.rank().has_value());
}

TEST(Process, TerminateAsksARunningTargetToStop) {
  mpp::Queue<std::string> q;
  mpp::Process p(work_until_stopped, q);
  p.start();
  EXPECT_EQ(q.get(30s), "running");
  p.terminate();
  EXPECT_TRUE(p.join(30s));
  EXPECT_EQ(q.get(), "stopped");
  EXPECT_EQ(p.exitcode(), -15);
  EXPECT_FALSE(mpp::stop_requested());  // outside a process it is always false
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

TEST(Process, ProcessesAreMovable) {
  mpp::Queue<int> q;
  std::vector<mpp::Process> processes;
  processes.push_back(mpp::Process(put_index, q, 5));
  mpp::Process moved = std::move(processes.front());
  moved.start();
  moved.join();
  EXPECT_EQ(q.get(), 5);
}
