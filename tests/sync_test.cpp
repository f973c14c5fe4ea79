// Semaphore, BoundedSemaphore, Event, Condition and Barrier across ranks.
#include <gtest/gtest.h>

#include <chrono>
#include <mpp/mpp.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int hold_slot(mpp::Semaphore slots, mpp::Value<int> inside, mpp::Value<int> most) {
  slots.acquire();
  const int now = inside.fetch_add(1) + 1;
  int seen = most.get();
  while (now > seen && !most.compare_exchange(seen, now)) {
  }
  std::this_thread::sleep_for(20ms);
  inside.fetch_add(-1);
  slots.release();
  return now;
}

double wait_for_event(mpp::Event event) {
  const auto start = Clock::now();
  event.wait();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int produce(mpp::Condition condition, mpp::Value<int> items, int count) {
  for (int i = 0; i < count; ++i) {
    std::this_thread::sleep_for(5ms);
    std::lock_guard<mpp::Condition> hold(condition);
    items.fetch_add(1);
    condition.notify_all();
  }
  return count;
}

bool consume_one(mpp::Condition condition, mpp::Value<int> items) {
  std::lock_guard<mpp::Condition> hold(condition);
  const bool got = condition.wait_for([&] { return items.get() > 0; }, 5s);
  if (got) items.fetch_add(-1);
  return got;
}

std::tuple<std::int64_t, double> arrive(mpp::Barrier barrier, int delay_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  const auto start = Clock::now();
  const auto index = barrier.wait();
  return {index, std::chrono::duration<double>(Clock::now() - start).count()};
}

std::string arrive_and_report(mpp::Barrier barrier, int timeout_ms) {
  try {
    barrier.wait(std::chrono::milliseconds(timeout_ms));
    return "passed";
  } catch (const mpp::BrokenBarrierError&) {
    return "broken";
  }
}

void count_round(mpp::Value<int> rounds) { rounds.fetch_add(1); }

/// CPython's _test_action_f: once past the barrier, the round's action has run exactly once.
void pass_and_check_action(mpp::Barrier barrier, mpp::Value<int> rounds, mpp::Queue<int> seen) {
  for (int round = 1; round <= 3; ++round) {
    barrier.wait();
    seen.put(rounds.get() - round);  // 0 when the action ran once per round, before anyone passed
  }
}

void failing_action() { throw std::domain_error("the action failed"); }

std::string arrive_and_say_how_it_ended(mpp::Barrier barrier) {
  try {
    barrier.wait(10s);
    return "passed";
  } catch (const mpp::BrokenBarrierError&) {
    return "broken";
  } catch (const std::domain_error& e) {
    return e.what();
  }
}

std::string arrive_with_the_default_timeout(mpp::Barrier barrier) {
  try {
    barrier.wait();
    return "passed";
  } catch (const mpp::BrokenBarrierError&) {
    return "broken";
  }
}

}  // namespace

TEST(Semaphore, NeverMoreHoldersThanItsValue) {
  mpp::Pool pool;
  mpp::Semaphore slots(2);
  mpp::Value<int> inside(0);
  mpp::Value<int> most(0);
  std::vector<mpp::AsyncResult<int>> results;
  for (int i = 0; i < 3 * pool.size(); ++i) results.push_back(pool.apply_async(hold_slot, slots, inside, most));
  for (auto& r : results) r.get();
  EXPECT_LE(most.get(), 2);
  EXPECT_GE(most.get(), 1);
  EXPECT_EQ(slots.get_value(), 2);
}

TEST(Semaphore, AcquireTimesOutAtZero) {
  mpp::Semaphore s(1);
  EXPECT_TRUE(s.acquire(10ms));
  const auto start = Clock::now();
  EXPECT_FALSE(s.acquire(50ms));
  EXPECT_GE(Clock::now() - start, 50ms);
  s.release();
  s.release();  // unbounded: may exceed the initial value
  EXPECT_EQ(s.get_value(), 2);
  EXPECT_THROW(mpp::Semaphore(-1), std::invalid_argument);
}

TEST(BoundedSemaphore, ReleasingTooOftenThrows) {
  mpp::BoundedSemaphore s(2);
  s.acquire();
  s.release();
  EXPECT_THROW(s.release(), mpp::UsageError);
  EXPECT_EQ(s.get_value(), 2);
}

TEST(Event, WaitersWakeWhenItIsSet) {
  mpp::Pool pool;
  mpp::Event event;
  EXPECT_FALSE(event.is_set());
  EXPECT_FALSE(event.wait(20ms));
  std::vector<mpp::AsyncResult<double>> waiters;
  for (int w = 0; w < pool.size(); ++w) waiters.push_back(pool.apply_async(wait_for_event, event));
  std::this_thread::sleep_for(150ms);
  event.set();
  for (auto& w : waiters) EXPECT_GE(w.get(5s), 0.05) << "waited for the set, not returned at once";
  EXPECT_TRUE(event.is_set());
  EXPECT_TRUE(event.wait(0ms));
  event.clear();
  EXPECT_FALSE(event.is_set());
}

TEST(Condition, ConsumersWaitForProducers) {
  mpp::Pool pool;
  if (pool.size() < 2) GTEST_SKIP() << "needs a producer and a consumer worker";
  mpp::Condition condition;
  mpp::Value<int> items(0);
  const int consumers = pool.size() - 1;
  std::vector<mpp::AsyncResult<bool>> waiting;
  for (int c = 0; c < consumers; ++c) waiting.push_back(pool.apply_async(consume_one, condition, items));
  auto producer = pool.apply_async(produce, condition, items, consumers);
  EXPECT_EQ(producer.get(10s), consumers);
  for (auto& w : waiting) EXPECT_TRUE(w.get(10s));
  EXPECT_EQ(items.get(), 0);
}

TEST(Condition, WaitTimesOutAndHoldsTheLockAgain) {
  mpp::Condition condition;
  condition.acquire();
  const auto start = Clock::now();
  EXPECT_FALSE(condition.wait(50ms));
  EXPECT_GE(Clock::now() - start, 50ms);
  EXPECT_TRUE(condition.get_lock().locked()) << "wait returns with the lock held";
  condition.notify();  // nobody waits: nothing happens
  condition.release();
  EXPECT_THROW(condition.notify(), mpp::UsageError) << "notifying needs the lock, as in Python";
  EXPECT_THROW(condition.notify_all(), mpp::UsageError);
  EXPECT_THROW(condition.wait(1ms), mpp::UsageError) << "waiting needs the lock, as in Python";
}

TEST(Barrier, NobodyPassesUntilAllArrive) {
  mpp::Pool pool;
  const int parties = pool.size();
  mpp::Barrier barrier(parties);
  std::vector<mpp::AsyncResult<std::tuple<std::int64_t, double>>> arrivals;
  for (int p = 0; p < parties; ++p) arrivals.push_back(pool.apply_async(arrive, barrier, p == 0 ? 300 : 0));
  std::set<std::int64_t> indexes;
  for (int p = 0; p < parties; ++p) {
    const auto [index, waited] = arrivals[static_cast<std::size_t>(p)].get(10s);
    indexes.insert(index);
    if (p != 0) EXPECT_GE(waited, 0.2) << "an early arrival waited for the late one";
  }
  EXPECT_EQ(static_cast<int>(indexes.size()), parties) << "each arrival gets its own index";
  EXPECT_EQ(*indexes.rbegin(), parties - 1);
  // Reusable: a second round works the same way.
  for (int p = 0; p < parties; ++p) arrivals[static_cast<std::size_t>(p)] = pool.apply_async(arrive, barrier, 0);
  for (auto& a : arrivals) a.get(10s);
}

TEST(Barrier, TimeoutAndAbortBreakIt) {
  mpp::Pool pool;
  mpp::Barrier barrier(pool.size() + 1);  // one party never comes
  std::vector<mpp::AsyncResult<std::string>> results;
  for (int p = 0; p < pool.size(); ++p) results.push_back(pool.apply_async(arrive_and_report, barrier, 100 + 100 * p));
  for (auto& r : results) EXPECT_EQ(r.get(10s), "broken");
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(), mpp::BrokenBarrierError);
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  barrier.abort();
  EXPECT_THROW(barrier.wait(10ms), mpp::BrokenBarrierError);
  EXPECT_THROW(mpp::Barrier(0), std::invalid_argument);
}

TEST(Barrier, TheActionRunsOncePerRoundBeforeAnyonePasses) {
  // CPython's test_action, with processes (the action runs in whichever child arrives last).
  const int processes = 4;
  mpp::Value<int> rounds(0);
  mpp::Barrier barrier(processes + 1, count_round, rounds);
  mpp::Queue<int> seen;
  std::vector<mpp::Process> children;
  for (int p = 0; p < processes; ++p) children.emplace_back(pass_and_check_action, barrier, rounds, seen);
  for (auto& child : children) child.start();
  for (int round = 1; round <= 3; ++round) {
    barrier.wait(30s);
    EXPECT_EQ(rounds.get(), round);
  }
  for (int n = 0; n < 3 * processes; ++n) EXPECT_EQ(seen.get(30s), 0);
  for (auto& child : children) {
    child.join();
    EXPECT_EQ(child.exitcode(), 0);
  }
  EXPECT_EQ(rounds.get(), 3);
}

TEST(Barrier, AFailingActionBreaksItAndReachesTheLastArrival) {
  mpp::Pool pool;
  mpp::Barrier barrier(pool.size() + 1, failing_action);
  std::vector<mpp::AsyncResult<std::string>> results;
  for (int p = 0; p < pool.size(); ++p) results.push_back(pool.apply_async(arrive_and_say_how_it_ended, barrier));
  std::multiset<std::string> endings{arrive_and_say_how_it_ended(barrier)};
  for (auto& r : results) endings.insert(r.get(30s));
  EXPECT_EQ(endings.count("the action failed"), 1u);
  EXPECT_EQ(endings.count("broken"), static_cast<std::size_t>(pool.size()));
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, ItsOwnTimeoutBreaksItWhenWaitHasNone) {
  // CPython's test_default_timeout: one party never comes.
  mpp::Pool pool;
  mpp::Barrier barrier(pool.size() + 1, 200ms);
  const auto start = Clock::now();
  std::vector<mpp::AsyncResult<std::string>> results;
  for (int p = 0; p < pool.size(); ++p) results.push_back(pool.apply_async(arrive_with_the_default_timeout, barrier));
  for (auto& r : results) EXPECT_EQ(r.get(30s), "broken");
  EXPECT_GE(Clock::now() - start, 200ms);
  EXPECT_TRUE(barrier.broken());
  barrier.reset();
  mpp::Barrier alone(1, 50ms, count_round, mpp::Value<int>(0));  // a timeout and an action
  EXPECT_EQ(alone.wait(), 0);
}
