// Timeouts too large for the clock (seconds::max(), nanoseconds::max(), 300 years) mean "wait as
// long as it takes", on the master and on workers, for every call that takes a timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <mpp/mpp.hpp>
#include <thread>

#include "test_functions.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Years = std::chrono::duration<std::int64_t, std::ratio<31556952>>;
constexpr auto forever = std::chrono::seconds::max();
constexpr int delay_ms = 150;

void put_later(mpp::Queue<int> queue, int value) {
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  queue.put(value);
}
void set_later(mpp::Event event) {
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  event.set();
}
void release_later(mpp::Semaphore semaphore) {
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  semaphore.release();
}
void notify_later(mpp::Condition condition) {
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  std::lock_guard<mpp::Condition> hold(condition);
  condition.notify();
}
bool wait_forever_for_event(mpp::Event event) { return event.wait(std::chrono::nanoseconds::max()); }
bool acquire_forever(mpp::Lock lock) {
  const bool got = lock.acquire(Years(300));
  if (got) lock.release();
  return got;
}
int get_forever(mpp::Queue<int> queue) { return queue.get(Years(300)); }
std::int64_t barrier_forever(mpp::Barrier barrier) { return barrier.wait(forever); }

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

TEST(ForeverTimeouts, AsyncResultGetAndWaitWaitForTheResult) {
  mpp::Pool pool;
  auto slow = pool.apply_async(mpp_test::sleep_ms_then_return, delay_ms);
  EXPECT_TRUE(slow.wait(std::chrono::nanoseconds::max()));
  EXPECT_EQ(slow.get(forever), delay_ms);
  auto later = pool.apply_async(mpp_test::sleep_ms_then_return, delay_ms);
  EXPECT_EQ(later.get(Years(300)), delay_ms);
}

TEST(ForeverTimeouts, ImapNextWaitsForTheNextResult) {
  mpp::Pool pool;
  auto results = pool.imap(mpp_test::sleep_ms_then_return, std::vector<int>{delay_ms, 1});
  EXPECT_EQ(results.next(forever), delay_ms);
  EXPECT_EQ(results.next(Years(300)), 1);
}

TEST(ForeverTimeouts, QueueGetWaitsForAnItemOnTheMasterAndOnAWorker) {
  mpp::Pool pool;
  mpp::Queue<int> queue;
  auto putter = pool.apply_async(put_later, queue, 7);
  EXPECT_EQ(queue.get(forever), 7);
  putter.get();
  auto getter = pool.apply_async(get_forever, queue);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  queue.put(8);
  EXPECT_EQ(getter.get(), 8);
}

TEST(ForeverTimeouts, LockAcquireWaitsForTheHolderOnTheMasterAndOnAWorker) {
  mpp::Pool pool;
  mpp::Lock lock;
  lock.acquire();
  auto waiter = pool.apply_async(acquire_forever, lock);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  EXPECT_FALSE(waiter.ready()) << "the worker must still be waiting for the lock";
  lock.release();
  EXPECT_TRUE(waiter.get());
  mpp::RLock rlock;
  EXPECT_TRUE(rlock.acquire(forever));
  rlock.release();
}

TEST(ForeverTimeouts, EventSemaphoreAndBarrierWait) {
  mpp::Pool pool;
  mpp::Event event;
  auto setter = pool.apply_async(set_later, event);
  const auto start = Clock::now();
  EXPECT_TRUE(event.wait(std::chrono::nanoseconds::max()));
  EXPECT_GE(seconds_since(start), 0.1);
  setter.get();
  mpp::Event worker_event;
  auto worker_waiter = pool.apply_async(wait_forever_for_event, worker_event);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  worker_event.set();
  EXPECT_TRUE(worker_waiter.get());

  mpp::Semaphore semaphore(0);
  auto releaser = pool.apply_async(release_later, semaphore);
  EXPECT_TRUE(semaphore.acquire(forever));
  releaser.get();

  mpp::Barrier barrier(2);
  auto other = pool.apply_async(barrier_forever, barrier);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  const std::int64_t mine = barrier.wait(forever);
  EXPECT_EQ(mine + other.get(), 1) << "two parties get indices 0 and 1";
}

TEST(ForeverTimeouts, ConditionPipeAndProcessJoin) {
  mpp::Pool pool;
  mpp::Condition condition;
  {
    std::lock_guard<mpp::Condition> hold(condition);
    auto notifier = pool.apply_async(notify_later, condition);
    EXPECT_TRUE(condition.wait(forever));
    notifier.get();
  }
  auto [reader, writer] = mpp::Pipe<int>();
  mpp::Process sender(
      [](mpp::Connection<int> out) {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        out.send(5);
      },
      writer);
  sender.start();
  EXPECT_TRUE(reader.poll(forever));
  EXPECT_EQ(reader.recv(), 5);
  EXPECT_TRUE(sender.join(forever));
  EXPECT_EQ(sender.exitcode(), 0);
}

TEST(ForeverTimeouts, ZeroAndNegativeTimeoutsStillGiveUpAtOnce) {
  mpp::Queue<int> queue;
  EXPECT_THROW(queue.get(0s), mpp::Empty);
  EXPECT_THROW(queue.get(-5s), mpp::Empty);
  EXPECT_THROW(queue.get(std::chrono::seconds::min()), mpp::Empty);
  mpp::Event event;
  EXPECT_FALSE(event.wait(std::chrono::nanoseconds::min()));
}
