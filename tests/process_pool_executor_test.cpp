// ProcessPoolExecutor, Future, mpp::wait and mpp::as_completed, as concurrent.futures behaves.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mpp/mpp.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_functions.hpp"

using namespace std::chrono_literals;
using mpp_test::add;
using mpp_test::sleep_ms_then_return;
using mpp_test::square;

namespace {

int fail_with_message(int x) { throw std::domain_error("no good: " + std::to_string(x)); }

int worker_pid_plus(int x) { return ::getpid() + x; }

/// The pid of the process that ran it, after `ms`: tasks that overlap show which ran side by side.
int pid_after_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ::getpid();
}

int initialized_value = 0;
void set_initialized_value(int value) { initialized_value = value; }
int read_initialized_value() { return initialized_value; }

/// A task that runs a ThreadPool of its own inside the worker.
long long sum_of_squares_on_threads(int n) {
  mpp::ThreadPool pool(3);
  auto squares = pool.map([](long long x) { return x * x; }, mpp_test::iota_vector(n));
  long long sum = 0;
  for (long long s : squares) sum += s;
  return sum;
}

/// Fills every worker with a task that sleeps, so the next submissions wait in the queue.
std::vector<mpp::Future<int>> occupy_every_worker(mpp::ProcessPoolExecutor& executor, int ms) {
  std::vector<mpp::Future<int>> busy;
  // Two per worker: a worker may hold one task queued behind the running one.
  for (int i = 0; i < 2 * mpp::Session::current().workers(); ++i)
    busy.push_back(executor.submit(sleep_ms_then_return, ms));
  return busy;
}

/// Waits (20 s at most) until `f` left the queue.
bool left_the_queue(const mpp::Future<int>& f) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!f.running() && !f.done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  return f.running() || f.done();
}

}  // namespace

TEST(ProcessPoolExecutor, SubmitReturnsAFutureWithTheResult) {
  mpp::ProcessPoolExecutor executor;
  mpp::Future<int> f = executor.submit(square, 12);
  EXPECT_EQ(f.result(), 144);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_FALSE(f.cancelled());
  EXPECT_EQ(f.exception(), nullptr);
  EXPECT_EQ(executor.submit(add, 2, 3).result(5s), 5);
  EXPECT_NE(executor.submit(worker_pid_plus, 0).result(), ::getpid()) << "the task runs in a worker";
}

TEST(ProcessPoolExecutor, ResultWithATimeoutThrowsAndTheTaskGoesOn) {
  mpp::ProcessPoolExecutor executor;
  auto slow = executor.submit(sleep_ms_then_return, 500);
  EXPECT_THROW(slow.result(20ms), mpp::TimeoutError);
  EXPECT_THROW(slow.exception(20ms), mpp::TimeoutError);
  EXPECT_EQ(slow.result(30s), 500);
}

TEST(ProcessPoolExecutor, ATaskExceptionComesBackThroughResultAndException) {
  mpp::ProcessPoolExecutor executor;
  auto f = executor.submit(fail_with_message, 7);
  std::exception_ptr error = f.exception();
  ASSERT_NE(error, nullptr);
  try {
    f.result();
    FAIL() << "result() must rethrow";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.type(), "std::domain_error");
    EXPECT_EQ(e.message(), "no good: 7");
    EXPECT_GE(e.rank(), 1);
    EXPECT_FALSE(e.host().empty());
  }
  EXPECT_TRUE(f.done());
}

TEST(ProcessPoolExecutor, CancelSucceedsOnlyWhileQueued) {
  mpp::ProcessPoolExecutor executor;
  auto busy = occupy_every_worker(executor, 400);
  auto queued = executor.submit(square, 3);
  EXPECT_TRUE(queued.cancel());
  EXPECT_TRUE(queued.cancelled());
  EXPECT_TRUE(queued.done());
  EXPECT_TRUE(queued.cancel()) << "cancelling again still says true, as Python";
  EXPECT_THROW(queued.result(), mpp::CancelledError);
  EXPECT_THROW(queued.exception(), mpp::CancelledError);
  // The first task is running by now (or done): too late to cancel.
  ASSERT_TRUE(left_the_queue(busy.front()));
  EXPECT_FALSE(busy.front().cancel());
  EXPECT_FALSE(busy.front().cancelled());
  EXPECT_EQ(busy.front().result(), 400);
}

TEST(ProcessPoolExecutor, RunningIsTrueOnlyOnceATaskLeftTheQueue) {
  mpp::ProcessPoolExecutor executor;
  auto busy = occupy_every_worker(executor, 400);
  auto queued = executor.submit(square, 3);
  EXPECT_FALSE(queued.running());
  EXPECT_TRUE(left_the_queue(busy.front()));
  EXPECT_EQ(queued.result(), 9);
  EXPECT_FALSE(queued.running());
}

TEST(ProcessPoolExecutor, CancelRacesWithDispatchAndNeverLosesAResult) {
  mpp::ProcessPoolExecutor executor;
  std::vector<mpp::Future<int>> futures;
  for (int i = 0; i < 2000; ++i) futures.push_back(executor.submit(square, i));
  int cancelled = 0;
  for (auto it = futures.rbegin(); it != futures.rend(); ++it) cancelled += it->cancel() ? 1 : 0;
  int finished = 0;
  for (int i = 0; i < 2000; ++i) {
    auto& f = futures[static_cast<std::size_t>(i)];
    if (f.cancelled()) {
      EXPECT_THROW(f.result(), mpp::CancelledError);
    } else {
      EXPECT_EQ(f.result(), i * i);
      ++finished;
    }
  }
  EXPECT_EQ(cancelled + finished, 2000) << "each future is either cancelled or has its result";
}

TEST(ProcessPoolExecutor, DoneCallbacksRunOnceWhenDoneAndAtOnceWhenAlreadyDone) {
  mpp::ProcessPoolExecutor executor;
  std::atomic<int> calls{0};
  std::atomic<int> seen{0};
  auto f = executor.submit(sleep_ms_then_return, 100);
  f.add_done_callback([&](const mpp::Future<int>& done) {
    seen = done.result();
    ++calls;
  });
  f.result();
  executor.shutdown();  // callbacks run before the result counts as done, or right after
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (calls == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, 100);
  bool ran_at_once = false;
  f.add_done_callback([&](const mpp::Future<int>& done) { ran_at_once = done.done(); });
  EXPECT_TRUE(ran_at_once) << "a callback added to a done future runs at once, on this thread";
}

TEST(ProcessPoolExecutor, DoneCallbackOfACancelledFutureSeesItCancelled) {
  mpp::ProcessPoolExecutor executor;
  auto busy = occupy_every_worker(executor, 300);
  auto queued = executor.submit(square, 3);
  bool saw_cancelled = false;
  queued.add_done_callback([&](const mpp::Future<int>& f) { saw_cancelled = f.cancelled(); });
  ASSERT_TRUE(queued.cancel());
  EXPECT_TRUE(saw_cancelled);
}

TEST(ProcessPoolExecutor, MapIsLazyAndOrderedWithAnyChunksize) {
  mpp::ProcessPoolExecutor executor;
  for (std::size_t chunksize : {1u, 7u, 1000u}) {
    std::vector<int> got;
    for (int y : executor.map(square, mpp_test::iota_vector(300), chunksize)) got.push_back(y);
    ASSERT_EQ(got.size(), 300u);
    for (int i = 0; i < 300; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i * i);
  }
}

TEST(ProcessPoolExecutor, MapWithATimeoutThrowsWhenIterationPassesIt) {
  mpp::ProcessPoolExecutor executor;
  auto results = executor.map(sleep_ms_then_return, std::vector<int>{1, 2000}, 50ms);
  auto it = results.begin();
  EXPECT_EQ(*it, 1);
  EXPECT_THROW(++it, mpp::TimeoutError);
}

TEST(ProcessPoolExecutor, MapRaisesATaskExceptionWhereItsItemIs) {
  mpp::ProcessPoolExecutor executor;
  auto results = executor.map(mpp_test::throw_at_seven, mpp_test::iota_vector(10));
  int seen = 0;
  try {
    for (int y : results) {
      (void)y;
      ++seen;
    }
    FAIL() << "the 8th item must throw";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(seen, 7);
    EXPECT_EQ(e.item(), 7u);
  }
}

TEST(ProcessPoolExecutor, InitializerRunsInEveryWorkerBeforeAnyTask) {
  mpp::ProcessPoolExecutor executor(mpp::Session::current().workers(), set_initialized_value, 99);
  std::vector<mpp::Future<int>> futures;
  for (int i = 0; i < 40; ++i) futures.push_back(executor.submit(read_initialized_value));
  for (auto& f : futures) EXPECT_EQ(f.result(), 99);
}

TEST(ProcessPoolExecutor, SubmitAfterShutdownIsRefusedWithAdvice) {
  mpp::ProcessPoolExecutor executor;
  auto f = executor.submit(square, 4);
  executor.shutdown();
  EXPECT_TRUE(f.done()) << "shutdown(wait=true) returns when every task is done";
  try {
    executor.submit(square, 5);
    FAIL();
  } catch (const mpp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("after shutdown"), std::string::npos) << e.what();
  }
  executor.shutdown();  // again: nothing happens
}

TEST(ProcessPoolExecutor, ShutdownWithCancelFuturesCancelsTheQueuedOnes) {
  mpp::ProcessPoolExecutor executor;
  auto busy = occupy_every_worker(executor, 300);
  std::vector<mpp::Future<int>> queued;
  for (int i = 0; i < 50; ++i) queued.push_back(executor.submit(square, i));
  ASSERT_TRUE(left_the_queue(busy.front()));
  executor.shutdown(true, true);
  int cancelled = 0;
  for (auto& f : queued) {
    EXPECT_TRUE(f.done());
    cancelled += f.cancelled() ? 1 : 0;
  }
  EXPECT_GE(cancelled, 40) << "at most one queued task per worker had left the queue";
  EXPECT_EQ(busy.front().result(), 300) << "running tasks finish";
  for (auto& f : busy)
    if (!f.cancelled()) EXPECT_EQ(f.result(), 300);
}

TEST(ProcessPoolExecutor, ShutdownWithoutWaitReturnsAtOnce) {
  mpp::ProcessPoolExecutor executor;
  auto slow = executor.submit(sleep_ms_then_return, 500);
  const auto start = std::chrono::steady_clock::now();
  executor.shutdown(false);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 400ms);
  EXPECT_EQ(slow.result(), 500) << "the task still finishes";
}

TEST(ProcessPoolExecutor, IsolatedRunsMoreProcessesThanWorkers) {
  const int processes = mpp::Session::current().workers() + 2;
  mpp::ProcessPoolExecutor executor(mpp::PoolOptions{.processes = processes, .isolated = true});
  std::vector<mpp::Future<int>> futures;
  // Each task lasts long enough that the next finds its process busy and goes to another.
  for (int i = 0; i < processes; ++i) futures.push_back(executor.submit(pid_after_ms, 300));
  std::vector<int> pids;
  for (auto& f : futures) pids.push_back(f.result());
  std::sort(pids.begin(), pids.end());
  EXPECT_GE(std::unique(pids.begin(), pids.end()) - pids.begin(), 2);
}

TEST(FuturesWait, AllCompletedWaitsForEveryFuture) {
  mpp::ProcessPoolExecutor executor;
  std::vector<mpp::Future<int>> futures;
  for (int ms : {10, 50, 100}) futures.push_back(executor.submit(sleep_ms_then_return, ms));
  auto [done, not_done] = mpp::wait(futures);
  EXPECT_EQ(done.size(), 3u);
  EXPECT_TRUE(not_done.empty());
}

TEST(FuturesWait, FirstCompletedReturnsWithTheFastOneAndATimeoutBoundsIt) {
  mpp::ProcessPoolExecutor executor;
  std::vector<mpp::Future<int>> futures{executor.submit(sleep_ms_then_return, 1),
                                        executor.submit(sleep_ms_then_return, 3000)};
  auto [done, not_done] = mpp::wait(futures, 20s, mpp::FIRST_COMPLETED);
  ASSERT_GE(done.size(), 1u);
  EXPECT_EQ(done.front().result(), 1);
  EXPECT_EQ(not_done.size(), 1u);
  const auto start = std::chrono::steady_clock::now();
  auto late = mpp::wait(not_done, 50ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(late.not_done.size(), 1u);
  EXPECT_TRUE(late.done.empty());
}

TEST(FuturesWait, FirstExceptionReturnsOnAFailureAndOtherwiseWaitsForAll) {
  mpp::ProcessPoolExecutor executor;
  std::vector<mpp::Future<int>> failing{executor.submit(fail_with_message, 1),
                                        executor.submit(sleep_ms_then_return, 1000)};
  auto [done, not_done] = mpp::wait(failing, mpp::FIRST_EXCEPTION);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(done.front().exception(), nullptr);
  EXPECT_EQ(not_done.size(), 1u);
  std::vector<mpp::Future<int>> fine{executor.submit(square, 2), executor.submit(sleep_ms_then_return, 100)};
  EXPECT_EQ(mpp::wait(fine, mpp::FIRST_EXCEPTION).done.size(), 2u);
}

TEST(FuturesWait, CopiesOfOneFutureCountOnce) {
  mpp::ProcessPoolExecutor executor;
  auto f = executor.submit(square, 3);
  EXPECT_EQ(mpp::wait(std::vector{f, f, f}).done.size(), 1u);
}

TEST(AsCompleted, YieldsEachFutureOnceInCompletionOrder) {
  mpp::ProcessPoolExecutor executor;
  std::vector<mpp::Future<int>> futures;
  for (int ms : {600, 300, 1}) futures.push_back(executor.submit(sleep_ms_then_return, ms));
  std::vector<int> order;
  for (auto& f : mpp::as_completed(futures)) order.push_back(f.result());
  ASSERT_EQ(order.size(), 3u);
  if (mpp::Session::current().workers() >= 3) {
    EXPECT_EQ(order, (std::vector<int>{1, 300, 600}));
  } else {
    EXPECT_EQ(order.front(), mpp::Session::current().workers() == 1 ? 600 : 300);
  }
}

TEST(AsCompleted, DoneFuturesComeFirstAndATimeoutNamesTheUnfinished) {
  mpp::ProcessPoolExecutor executor;
  auto quick = executor.submit(square, 5);
  quick.result();
  std::vector<mpp::Future<int>> futures{executor.submit(sleep_ms_then_return, 3000), quick};
  auto completed = mpp::as_completed(futures, 100ms);
  auto it = completed.begin();
  EXPECT_EQ((*it).result(), 25);
  try {
    ++it;
    FAIL() << "the slow one cannot finish within 100 ms";
  } catch (const mpp::TimeoutError& e) {
    EXPECT_NE(std::string(e.what()).find("1 (of 2) futures unfinished"), std::string::npos) << e.what();
  }
}

TEST(ThreadPoolInATask, AWorkersTaskRunsAThreadPoolOfItsOwn) {
  mpp::ProcessPoolExecutor executor;
  EXPECT_EQ(executor.submit(sum_of_squares_on_threads, 100).result(), 328350);
}
