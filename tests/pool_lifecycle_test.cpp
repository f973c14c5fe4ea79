// Pool construction, sizes, initializers, close/join/terminate and the destructor.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <mpp/mpp.hpp>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <thread>

#include "test_functions.hpp"

using namespace std::chrono_literals;
using mpp_test::median;
using mpp_test::rank_of;
using mpp_test::sleep_ms_then_return;
using mpp_test::square;

namespace {

int initializer_runs = 0;  // per worker process
int initializer_value = 0;
void count_initializer(int value) {
  ++initializer_runs;
  initializer_value = value;
}
std::pair<int, int> initializer_state(int) { return {initializer_runs, initializer_value}; }
void failing_initializer() { throw std::runtime_error("cannot open the data file"); }
int slow_when_negative(int x) {
  if (x < 0) std::this_thread::sleep_for(400ms);
  return x;
}

}  // namespace

TEST(PoolLifecycle, DefaultPoolUsesEveryWorker) {
  mpp::Pool pool;
  EXPECT_EQ(pool.size(), mpp::Session::current().workers());
}

TEST(PoolLifecycle, SizedPoolUsesThatManyWorkers) {
  // Enough tasks that the pool's task times are known and batches queue behind running ones.
  for (const bool isolated : {false, true}) {
    mpp::Pool pool(mpp::PoolOptions{.processes = 1, .isolated = isolated});
    EXPECT_EQ(pool.size(), 1);
    const auto ranks = pool.map(rank_of, std::vector<int>(400, 0), 1);
    EXPECT_EQ(std::set<int>(ranks.begin(), ranks.end()).size(), 1u) << (isolated ? "isolated" : "in-rank");
  }
}

TEST(PoolLifecycle, ImpossibleSizesAreRefusedWithAdvice) {
  EXPECT_THROW(mpp::Pool(0), std::invalid_argument);
  try {
    mpp::Pool pool(mpp::Session::current().workers() + 1);
    FAIL() << "a pool larger than the job must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mpirun -np"), std::string::npos) << e.what();
  }
}

TEST(PoolLifecycle, InitializerRunsOnceOnEachWorkerBeforeTasks) {
  const int workers = mpp::Session::current().workers();
  std::set<int> before;
  {
    mpp::Pool probe;
    for (auto [runs, value] : probe.map(initializer_state, std::vector<int>(64, 0), 1)) before.insert(runs);
  }
  ASSERT_EQ(before.size(), 1u) << "no worker has run the initializer yet";
  const int runs_before = *before.begin();

  mpp::Pool pool(workers, count_initializer, 17);
  const auto states = pool.map(initializer_state, std::vector<int>(200, 0), 1);
  for (auto [runs, value] : states) {
    EXPECT_EQ(runs, runs_before + 1) << "exactly once per worker";
    EXPECT_EQ(value, 17);
  }
}

TEST(PoolLifecycle, FailingInitializerIsReportedByTheConstructor) {
  try {
    mpp::Pool pool(1, failing_initializer);
    FAIL() << "the initializer's exception must reach the caller";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.message(), "cannot open the data file");
  }
  mpp::Pool after;
  EXPECT_EQ(after.apply(square, 5), 25) << "workers stay usable";
}

TEST(PoolLifecycle, SubmitAfterCloseThrowsALogicError) {
  mpp::Pool pool;
  pool.close();
  EXPECT_THROW(pool.apply_async(square, 1), mpp::UsageError);
  EXPECT_THROW(pool.map(square, std::vector<int>{1}), std::logic_error);
  EXPECT_THROW(pool.imap(square, std::vector<int>{1}), std::logic_error);
  pool.join();
}

TEST(PoolLifecycle, JoinBeforeCloseThrows) {
  mpp::Pool pool;
  EXPECT_THROW(pool.join(), mpp::UsageError);
}

TEST(PoolLifecycle, JoinWaitsForEverySubmittedTask) {
  mpp::Pool pool;
  std::vector<mpp::AsyncResult<int>> results;
  for (int i = 0; i < 6; ++i) results.push_back(pool.apply_async(sleep_ms_then_return, 40));
  pool.close();
  pool.join();
  for (auto& r : results) EXPECT_TRUE(r.ready());
}

TEST(PoolLifecycle, TerminateCancelsQueuedTasks) {
  mpp::Pool pool(1);
  auto running = pool.apply_async(sleep_ms_then_return, 300);
  std::vector<mpp::AsyncResult<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.apply_async(sleep_ms_then_return, 300));
  std::this_thread::sleep_for(50ms);
  const auto start = std::chrono::steady_clock::now();
  pool.terminate();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 200ms) << "terminate() does not wait for tasks";
  for (auto& r : queued) EXPECT_THROW(r.get(1s), mpp::TerminatedError);
  EXPECT_THROW(running.get(1s), mpp::TerminatedError);
  pool.join();  // waits for the running task to drain from its worker
  EXPECT_THROW(pool.apply_async(square, 1), mpp::UsageError);

  mpp::Pool next(1);
  EXPECT_EQ(next.apply(square, 4), 16) << "the worker is free again";
}

class BlockingMapTerminated : public testing::TestWithParam<bool> {};

TEST_P(BlockingMapTerminated, ReturnsOnlyOnceItsInputIsNoLongerRead) {
  // A blocking map's items are sent from the caller's memory as they lie. A worker busy with a
  // slow chunk has its next batch queued, the items not yet taken; terminate() ends the map at
  // once, but map() must not return before the worker took them: the caller may free them. An
  // isolated pool's rank takes them too, into the batch it hands its child.
  constexpr std::size_t items = 400'000;
  const std::size_t bytes = items * sizeof(int);
  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  const std::span<int> input(static_cast<int*>(memory), items);
  std::iota(input.begin(), input.end(), 0);
  input[items / 2] = -1;

  const mpp::PoolOptions options{.isolated = GetParam()};
  mpp::Pool pool(options);
  std::atomic<bool> mapping{false};
  std::thread mapper([&] {
    mapping = true;
    EXPECT_THROW(pool.map(slow_when_negative, input), mpp::TerminatedError);
    ::munmap(memory, bytes);  // reading it now is a fault the worker's receive would report
  });
  while (!mapping) std::this_thread::yield();
  std::this_thread::sleep_for(150ms);  // the map is under way; its slow item takes 400 ms
  pool.terminate();
  mapper.join();
  pool.join();

  mpp::Pool next(options);
  const auto squares = next.map(square, std::vector<int>{1, 2, 3});
  EXPECT_EQ(squares, (std::vector<int>{1, 4, 9})) << "every worker is still in the session";
}

INSTANTIATE_TEST_SUITE_P(InRankOrIsolated, BlockingMapTerminated, testing::Bool());

TEST(PoolLifecycle, DestructorTerminatesLikeLeavingAWithBlock) {
  std::optional<mpp::AsyncResult<int>> pending;
  {
    mpp::Pool pool(1);
    pool.apply_async(sleep_ms_then_return, 200);
    pending = pool.apply_async(sleep_ms_then_return, 200);
  }
  EXPECT_THROW(pending->get(1s), mpp::TerminatedError);
  mpp::Pool next;
  EXPECT_EQ(next.apply(square, 6), 36);
}

TEST(PoolLifecycle, APoolGoneWhileItsTaskRunsLeavesTheEngineSoundWhenTheTaskEnds) {
  {
    mpp::Pool pool(1);
    pool.apply_async(sleep_ms_then_return, 300);
    std::this_thread::sleep_for(100ms);  // running on its worker now
  }  // terminated and closed: the running task's result comes back after the pool is gone
  std::this_thread::sleep_for(400ms);
  mpp::Pool next;
  std::vector<int> squares = next.map(square, std::vector<int>{1, 2, 3, 4});
  EXPECT_EQ(squares, (std::vector<int>{1, 4, 9, 16}));
}

TEST(PoolLifecycle, TwoPoolsShareTheWorkers) {
  mpp::Pool a;
  mpp::Pool b(1);
  auto ra = a.map_async(square, std::vector<int>{1, 2, 3});
  auto rb = b.map_async(square, std::vector<int>{4, 5});
  EXPECT_EQ(ra.get(), (std::vector<int>{1, 4, 9}));
  EXPECT_EQ(rb.get(), (std::vector<int>{16, 25}));
}

TEST(PoolLifecycle, PoolsAreUsableFromAnotherThread) {
  mpp::Pool pool;
  int result = 0;
  std::thread t([&] { result = pool.apply(square, 12); });
  t.join();
  EXPECT_EQ(result, 144);
}

// An idle worker naps ever longer between looks for work, up to the idle poll interval (10 ms).
// The master rings the doorbell of each worker on its node when it sends it work
// (detail/doorbell.hpp), so a map after the caller computed for a while starts at once rather
// than when each worker next looks. Compared with the same map right after (workers awake), so a
// loaded machine slows both alike; without the doorbell the difference is half a nap or more.
TEST(PoolLifecycle, WorkersIdleForAWhileTakeWorkAtOnce) {
  mpp::Pool pool;
  const std::vector<int> one_each(static_cast<std::size_t>(pool.size()), 3);
  const auto map_ms = [&] {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(pool.map(square, one_each, 1), std::vector<int>(one_each.size(), 9));
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<double> after_idle, awake;
  for (int trial = 0; trial < 15; ++trial) {
    std::this_thread::sleep_for(250ms);  // the workers' naps have grown to the 10 ms cap
    after_idle.push_back(map_ms());
    awake.push_back(map_ms());
  }
  EXPECT_LT(median(after_idle), median(awake) + 3.0)
      << "median ms of a map to idle workers; to awake ones: " << median(awake);
}
