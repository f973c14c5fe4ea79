// apply, apply_async, map_async, starmap_async: AsyncResult semantics, timeouts and callbacks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mpp/mpp.hpp>
#include <numeric>
#include <set>

#include "test_functions.hpp"

using namespace std::chrono_literals;
using mpp_test::add;
using mpp_test::sleep_ms_then_return;
using mpp_test::square;

namespace {
int no_arguments() { return 42; }
void does_nothing(int) {}
}  // namespace

TEST(PoolApply, RunsOneCallAndReturnsItsResult) {
  mpp::Pool pool;
  EXPECT_EQ(pool.apply(square, 20), 400);
  EXPECT_EQ(pool.apply(add, 2, 3), 5);
  EXPECT_EQ(pool.apply(no_arguments), 42);
}

TEST(PoolApply, RunsOnAWorkerProcess) {
  mpp::Pool pool;
  // A libc function ships like any other: this is Python's pool.apply_async(os.getpid, ()).
  const int worker_pid = pool.apply(::getpid);
  EXPECT_NE(worker_pid, ::getpid());
  EXPECT_GT(worker_pid, 0);
}

TEST(PoolApplyAsync, GetReturnsTheResult) {
  mpp::Pool pool;
  auto result = pool.apply_async(square, 20);
  EXPECT_EQ(result.get(1s), 400);
  EXPECT_TRUE(result.ready());
  EXPECT_TRUE(result.successful());
  EXPECT_EQ(result.get(), 400) << "get() may be called again";
}

TEST(PoolApplyAsync, TwentyThousandTasksAllComeBack) {
  mpp::Pool pool;
  std::vector<mpp::AsyncResult<int>> results;
  for (int i = 0; i < 20000; ++i) results.push_back(pool.apply_async(square, i));
  long long sum = 0;
  for (auto& r : results) sum += r.get();
  long long expected = 0;
  for (long long i = 0; i < 20000; ++i) expected += i * i;
  EXPECT_EQ(sum, expected);
}

TEST(PoolApplyAsync, GetWithTimeoutThrowsAndTheTaskKeepsRunning) {
  mpp::Pool pool;
  auto slow = pool.apply_async(sleep_ms_then_return, 600);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(slow.get(100ms), mpp::TimeoutError);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 500ms);
  EXPECT_FALSE(slow.ready());
  EXPECT_THROW((void)slow.successful(), mpp::UsageError);
  EXPECT_THROW((void)slow.successful(), std::logic_error);
  EXPECT_FALSE(slow.wait(10ms));
  EXPECT_EQ(slow.get(), 600) << "the task kept running after the timeout, as in Python";
}

TEST(PoolApplyAsync, WaitBlocksUntilReady) {
  mpp::Pool pool;
  auto result = pool.apply_async(sleep_ms_then_return, 50);
  result.wait();
  EXPECT_TRUE(result.ready());
  EXPECT_TRUE(result.wait(0ms));
}

TEST(PoolApplyAsync, CallbacksRunOnTheMasterWithoutGet) {
  mpp::Pool pool;
  std::vector<int> results;  // callbacks run one at a time: no lock needed, as in Python
  for (int i = 0; i < 4; ++i) pool.apply_async(square, i, mpp::callback([&results](int r) { results.push_back(r); }));
  pool.close();
  pool.join();
  std::sort(results.begin(), results.end());
  EXPECT_EQ(results, (std::vector<int>{0, 1, 4, 9}));
}

TEST(PoolApplyAsync, CallbackRunsBeforeTheResultIsReady) {
  mpp::Pool pool;
  bool called = false;
  auto r = pool.apply_async(square, 3, mpp::callback([&called](int) { called = true; }));
  EXPECT_EQ(r.get(), 9);
  EXPECT_TRUE(called);
}

TEST(PoolApplyAsync, CallbacksRunInCompletionOrder) {
  mpp::Pool pool(1);  // one worker: completion order is submission order
  std::vector<int> order;
  for (int ms : {30, 1, 20, 2})
    pool.apply_async(sleep_ms_then_return, ms, mpp::callback([&](int r) { order.push_back(r); }));
  pool.close();
  pool.join();
  EXPECT_EQ(order, (std::vector<int>{30, 1, 20, 2}));
}

TEST(PoolApplyAsync, ErrorCallbackReceivesTheRemoteError) {
  mpp::Pool pool;
  std::string seen;
  bool result_callback_called = false;
  auto r = pool.apply_async(mpp_test::throw_at_seven, 7, mpp::callback([&](int) { result_callback_called = true; }),
                            mpp::error_callback([&seen](const mpp::RemoteError& e) { seen = e.message(); }));
  EXPECT_THROW(r.get(), mpp::RemoteError);
  EXPECT_FALSE(r.successful());
  EXPECT_EQ(seen, "seven is not allowed");
  EXPECT_FALSE(result_callback_called);
}

TEST(PoolApplyAsync, VoidTasksComplete) {
  mpp::Pool pool;
  int calls = 0;
  auto r = pool.apply_async(does_nothing, 1, mpp::callback([&calls] { ++calls; }));
  r.get();
  EXPECT_TRUE(r.successful());
  EXPECT_EQ(calls, 1);
}

TEST(PoolApplyAsync, ACallbackThatWaitsOnResultsIsRefused) {
  mpp::Pool pool;
  bool refused = false;
  bool submitted = false;
  auto outer = pool.apply_async(square, 2, mpp::callback([&](int) {
                                  auto inner = pool.apply_async(sleep_ms_then_return, 100);  // submitting is fine
                                  submitted = true;
                                  try {
                                    inner.get();
                                  } catch (const mpp::UsageError&) {
                                    refused = true;
                                  }
                                }));
  outer.get();
  EXPECT_TRUE(submitted);
  EXPECT_TRUE(refused) << "waiting inside a callback would deadlock; mpp says so instead";
  pool.close();
  pool.join();
}

// A blocking map's chunks read the caller's input when they are sent: refused inside a callback,
// it must send nothing, or its chunks would read the input after the callback freed it.
TEST(PoolApplyAsync, AMapInACallbackIsRefusedBeforeItSendsAnything) {
  mpp::Pool pool;
  bool refused = false;
  auto outer = pool.apply_async(square, 2, mpp::callback([&](int) {
                                  auto xs = std::make_unique<std::vector<int>>(mpp_test::iota_vector(100'000));
                                  try {
                                    pool.map(square, *xs, 10);
                                  } catch (const mpp::UsageError&) {
                                    refused = true;
                                  }
                                }));
  outer.get();
  EXPECT_TRUE(refused);
  EXPECT_EQ(pool.map(square, mpp_test::iota_vector(4)), (std::vector<int>{0, 1, 4, 9}));
  pool.close();
  pool.join();
}

TEST(PoolMapAsync, ReturnsAnAsyncResultOfTheVector) {
  mpp::Pool pool;
  std::vector<int> xs(100);
  std::iota(xs.begin(), xs.end(), 0);
  std::size_t callback_size = 0;
  auto r = pool.map_async(square, xs, mpp::callback([&](const std::vector<int>& v) { callback_size = v.size(); }));
  const auto ys = r.get(5s);
  EXPECT_EQ(ys[99], 99 * 99);
  EXPECT_EQ(callback_size, 100u);
  auto chunked = pool.map_async(square, xs, 3);
  EXPECT_EQ(chunked.get(), ys);
}

TEST(PoolMapAsync, ErrorCallbackGetsTheFirstError) {
  mpp::Pool pool;
  std::vector<int> xs(20);
  std::iota(xs.begin(), xs.end(), 0);
  int errors = 0;
  auto r = pool.map_async(mpp_test::throw_at_seven, xs, 2, mpp::error_callback([&](const mpp::RemoteError& e) {
                            ++errors;
                            EXPECT_EQ(e.item(), 7u);
                          }));
  EXPECT_THROW(r.get(), mpp::RemoteError);
  EXPECT_EQ(errors, 1);
}

TEST(PoolStarmapAsync, UnpacksTuples) {
  mpp::Pool pool;
  auto r = pool.starmap_async(add, std::vector<std::tuple<int, int>>{{1, 2}, {3, 4}});
  EXPECT_EQ(r.get(), (std::vector<int>{3, 7}));
}
