// ThreadPool and ThreadPoolExecutor: the Pool and executor APIs on threads, with no MPI at all
// (this test runs without a launcher and never starts a Session).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mpp/future.hpp>
#include <mpp/thread_pool.hpp>
#include <mpp/thread_pool_executor.hpp>
#include <mpp/wait.hpp>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_functions.hpp"

using namespace std::chrono_literals;

namespace {

struct NotSerializable {
  std::unique_ptr<int> value;
};

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

}  // namespace

TEST(ThreadPool, MapRunsCapturingLambdasInOrder) {
  mpp::ThreadPool pool(4);
  const int offset = 1000;
  auto got = pool.map([offset](int x) { return x * x + offset; }, iota(1000));
  ASSERT_EQ(got.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i * i + offset);
  EXPECT_EQ(pool.map([](int x) { return x; }, std::vector<int>{}).size(), 0u);
}

TEST(ThreadPool, MapLeavesTheCallersItemsAloneAndMapAsyncReadsACopy) {
  mpp::ThreadPool pool(3);
  // A function that changes its item by reference changes the pool's copy, as in Python.
  std::vector<std::string> words{"a", "bb", "ccc", "dddd", "eeeee"};
  auto lengths = pool.map(
      [](std::string& word) {
        word += "!";
        return word.size();
      },
      words, 2);
  EXPECT_EQ(lengths, (std::vector<std::size_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(words, (std::vector<std::string>{"a", "bb", "ccc", "dddd", "eeeee"}));
  // map_async returns at once: the caller may change or drop its input meanwhile.
  std::atomic<bool> go{false};
  auto xs = std::make_unique<std::vector<int>>(iota(2000));
  auto squares = pool.map_async(
      [&go](const int& x) {
        while (!go) std::this_thread::yield();
        return x * x;
      },
      *xs);
  std::fill(xs->begin(), xs->end(), -1);
  xs.reset();
  go = true;
  const auto got = squares.get();
  ASSERT_EQ(got.size(), 2000u);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i * i);
  // starmap reads tuples in place or copied alike.
  const std::vector<std::pair<int, int>> pairs{{1, 2}, {3, 4}, {5, 6}};
  EXPECT_EQ(pool.starmap([](int a, int b) { return a * b; }, pairs), (std::vector<int>{2, 12, 30}));
}

TEST(ThreadPool, TasksRunOnThePoolsThreadsNamedAsPython) {
  mpp::ThreadPool pool(3);
  EXPECT_EQ(mpp::current_thread_name(), "MainThread");
  auto names = pool.map(
      [](int) {
        std::this_thread::sleep_for(5ms);
        return mpp::current_thread_name();
      },
      iota(30), 1);
  std::set<std::string> distinct(names.begin(), names.end());
  EXPECT_GE(distinct.size(), 2u);
  for (const auto& name : distinct) EXPECT_TRUE(name == "Thread-1" || name == "Thread-2" || name == "Thread-3") << name;
}

TEST(ThreadPool, StarmapAndApplyAndMoveOnlyValues) {
  mpp::ThreadPool pool(2);
  auto sums = pool.starmap([](int a, int b) { return a + b; }, std::vector<std::tuple<int, int>>{{1, 2}, {3, 4}});
  EXPECT_EQ(sums, (std::vector<int>{3, 7}));
  EXPECT_EQ(pool.apply([](const std::string& s, int n) { return s + std::to_string(n); }, std::string("n="), 5), "n=5");
  NotSerializable owned{std::make_unique<int>(41)};
  auto moved = pool.apply_async([](NotSerializable v) { return *v.value + 1; }, std::move(owned));
  EXPECT_EQ(moved.get(), 42);
}

TEST(ThreadPool, ApplyAsyncCallbacksRunOneAtATimeBeforeReady) {
  mpp::ThreadPool pool(4);
  int sum = 0;  // no lock needed: callbacks never run at once
  std::vector<mpp::AsyncResult<int>> results;
  for (int i = 1; i <= 200; ++i)
    results.push_back(pool.apply_async([](int x) { return x; }, i, mpp::callback([&sum](int r) { sum += r; })));
  for (auto& r : results) r.get();
  EXPECT_EQ(sum, 200 * 201 / 2);
}

TEST(ThreadPool, ATaskExceptionReachesGetAsItselfAndTheErrorCallbackAsRemoteError) {
  mpp::ThreadPool pool(2);
  std::string seen_type;
  auto r = pool.apply_async([](int) -> int { throw std::out_of_range("index 9"); }, 1,
                            mpp::error_callback([&](const mpp::RemoteError& e) { seen_type = e.type(); }));
  EXPECT_THROW(r.get(), std::out_of_range);
  EXPECT_FALSE(r.successful());
  EXPECT_EQ(seen_type, "std::out_of_range");
  EXPECT_THROW(pool.map([](int x) { return x == 50 ? throw std::runtime_error("fifty") : x; }, iota(100)),
               std::runtime_error);
}

TEST(ThreadPool, MapAsyncWithCallbackAndTimeout) {
  mpp::ThreadPool pool(2);
  std::size_t delivered = 0;
  auto r = pool.map_async(
      [](int x) {
        std::this_thread::sleep_for(1ms);
        return x;
      },
      iota(200), mpp::callback([&](const std::vector<int>& all) { delivered = all.size(); }));
  EXPECT_THROW(r.get(1ms), mpp::TimeoutError);
  EXPECT_EQ(r.get().size(), 200u);
  EXPECT_EQ(delivered, 200u);
}

TEST(ThreadPool, ImapIsOrderedAndImapUnorderedGivesEveryResult) {
  mpp::ThreadPool pool(4);
  std::vector<int> ordered;
  for (int y : pool.imap([](int x) { return 2 * x; }, iota(500), 7)) ordered.push_back(y);
  ASSERT_EQ(ordered.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(ordered[static_cast<std::size_t>(i)], 2 * i);
  std::multiset<int> any;
  for (int y : pool.imap_unordered([](int x) { return x; }, iota(500))) any.insert(y);
  EXPECT_EQ(any.size(), 500u);
  EXPECT_EQ(*any.rbegin(), 499);
}

TEST(ThreadPool, TerminateDropsQueuedTasksAndJoinWaits) {
  mpp::ThreadPool pool(1);
  std::atomic<int> ran{0};
  std::vector<mpp::AsyncResult<int>> results;
  for (int i = 0; i < 20; ++i)
    results.push_back(pool.apply_async(
        [&ran](int x) {
          std::this_thread::sleep_for(20ms);
          ++ran;
          return x;
        },
        i));
  std::this_thread::sleep_for(5ms);
  pool.terminate();
  pool.join();
  EXPECT_LT(ran.load(), 20);
  int terminated = 0;
  for (auto& r : results) {
    try {
      r.get();
    } catch (const mpp::TerminatedError&) {
      ++terminated;
    }
  }
  EXPECT_EQ(terminated + ran.load(), 20);
  EXPECT_THROW(pool.apply_async([] { return 1; }), mpp::UsageError);
}

TEST(ThreadPool, CloseThenJoinRunsEverythingAndJoinBeforeCloseIsRefused) {
  mpp::ThreadPool pool(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i) pool.apply_async([&ran] { ++ran; });
  EXPECT_THROW(pool.join(), mpp::UsageError);
  pool.close();
  EXPECT_THROW(pool.map([](int x) { return x; }, iota(3)), mpp::UsageError);
  pool.join();
  EXPECT_EQ(ran.load(), 50);
}

TEST(ThreadPool, InitializerRunsInEveryThreadFirstAndItsExceptionIsThrown) {
  std::atomic<int> initialized{0};
  {
    mpp::ThreadPool pool(
        5, [](std::atomic<int>* count) { ++*count; }, &initialized);
    EXPECT_EQ(initialized.load(), 5) << "the constructor returns once every initializer ran";
  }
  EXPECT_THROW(mpp::ThreadPool(2, [] { throw std::invalid_argument("bad setup"); }), std::invalid_argument);
  EXPECT_THROW(mpp::ThreadPool(0), std::invalid_argument);
}

TEST(ThreadPoolExecutor, SubmitResultExceptionAndDoneCallbacks) {
  mpp::ThreadPoolExecutor executor(3);
  auto f = executor.submit([](int a, int b) { return a * b; }, 6, 7);
  EXPECT_EQ(f.result(), 42);
  auto bad = executor.submit([]() -> int { throw std::logic_error("nope"); });
  EXPECT_THROW(bad.result(), std::logic_error);
  ASSERT_NE(bad.exception(), nullptr);
  std::atomic<int> callbacks{0};
  auto slow = executor.submit([] {
    std::this_thread::sleep_for(50ms);
    return 1;
  });
  slow.add_done_callback([&](const mpp::Future<int>& done) { callbacks += done.result(); });
  slow.result();
  executor.shutdown();
  EXPECT_EQ(callbacks.load(), 1);
  f.add_done_callback([&](const mpp::Future<int>&) { callbacks += 10; });
  EXPECT_EQ(callbacks.load(), 11) << "a done future runs a new callback at once";
  EXPECT_THROW(executor.submit([] { return 0; }), mpp::UsageError);
}

TEST(ThreadPoolExecutor, CancelWhileQueuedAndShutdownCancelFutures) {
  mpp::ThreadPoolExecutor executor(1);
  auto busy = executor.submit([] {
    std::this_thread::sleep_for(200ms);
    return 1;
  });
  auto queued = executor.submit([] { return 2; });
  EXPECT_FALSE(queued.running());
  EXPECT_TRUE(queued.cancel());
  EXPECT_TRUE(queued.cancelled());
  EXPECT_THROW(queued.result(), mpp::CancelledError);
  while (!busy.running() && !busy.done()) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(busy.cancel());
  std::vector<mpp::Future<int>> later;
  for (int i = 0; i < 10; ++i) later.push_back(executor.submit([i] { return i; }));
  executor.shutdown(true, true);
  for (auto& f : later) EXPECT_TRUE(f.cancelled());
  EXPECT_EQ(busy.result(), 1);
}

TEST(ThreadPoolExecutor, MapAsCompletedAndWait) {
  mpp::ThreadPoolExecutor executor(4);
  std::vector<int> squares;
  for (int y : executor.map([](int x) { return x * x; }, iota(100), 3)) squares.push_back(y);
  EXPECT_EQ(squares[99], 99 * 99);
  auto sleeper = [](int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  };
  std::vector<mpp::Future<int>> futures{executor.submit(sleeper, 300), executor.submit(sleeper, 1),
                                        executor.submit(sleeper, 150)};
  std::vector<int> order;
  for (auto& f : mpp::as_completed(futures)) order.push_back(f.result());
  EXPECT_EQ(order, (std::vector<int>{1, 150, 300}));
  std::vector<mpp::Future<int>> two{executor.submit(sleeper, 1), executor.submit(sleeper, 1000)};
  auto [done, not_done] = mpp::wait(two, 10s, mpp::FIRST_COMPLETED);
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(not_done.size(), 1u);
  EXPECT_THROW(
      {
        for (auto& f : mpp::as_completed(not_done, 10ms)) (void)f;
      },
      mpp::TimeoutError);
  auto timed = executor.map(sleeper, std::vector<int>{1, 2000}, 100ms);
  auto it = timed.begin();
  EXPECT_EQ(*it, 1);
  EXPECT_THROW(++it, mpp::TimeoutError);
}

TEST(ThreadPoolExecutor, FuturesOfTwoExecutorsAreWaitedOnTogether) {
  mpp::ThreadPoolExecutor a(1);
  mpp::ThreadPoolExecutor b(1);
  std::vector<mpp::Future<int>> both{a.submit([] {
                                       std::this_thread::sleep_for(30ms);
                                       return 1;
                                     }),
                                     b.submit([] {
                                       std::this_thread::sleep_for(60ms);
                                       return 2;
                                     })};
  auto [done, not_done] = mpp::wait(both, 10s);
  EXPECT_EQ(done.size(), 2u);
  EXPECT_TRUE(not_done.empty());
}

TEST(ThreadPool, ImapOfAnInputThatThrowsEndsWithItsException) {
  mpp::ThreadPool pool(2);
  mpp_test::ThrowingGenerator input(20, 7);
  auto it = pool.imap([](int x) { return x * x; }, input, 2);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(it.next(), i * i);
  EXPECT_THROW(it.next(), mpp_test::SayWhenError);
  mpp_test::ThrowingGenerator again(10, 3);
  auto unordered = pool.imap_unordered([](int x) { return x; }, again);
  std::vector<int> got;
  EXPECT_THROW(
      {
        while (auto x = unordered.next()) got.push_back(*x);
      },
      mpp_test::SayWhenError);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
}
