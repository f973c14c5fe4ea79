// Lock (one word over shared memory or RMA) and RLock: exclusion under contention, timeouts that
// leave nothing behind and make progress at any length, try_lock, misuse. Registered up to 17 ranks, and with
// MPP_FORCE_RMA=1.
#include <gtest/gtest.h>

#include <chrono>
#include <mpp/mpp.hpp>
#include <mutex>
#include <thread>

namespace {

using namespace std::chrono_literals;

/// Enters the lock `times` times; inside, checks nobody else is inside and does a racy +1.
int contend(mpp::Lock lock, mpp::Value<long> inside, mpp::Value<long> total, int times) {
  int overlaps = 0;
  for (int i = 0; i < times; ++i) {
    std::lock_guard<mpp::Lock> hold(lock);
    if (inside.fetch_add(1) != 0) ++overlaps;
    total.set(total.get() + 1);  // not atomic: only the lock makes it right
    inside.fetch_add(-1);
  }
  return overlaps;
}

bool try_from_worker(mpp::Lock lock) {
  const bool got = lock.try_lock();
  if (got) lock.release();
  return got;
}

bool acquire_with_timeout(mpp::Lock lock, int ms) {
  const bool got = lock.acquire(std::chrono::milliseconds(ms));
  if (got) lock.release();
  return got;
}

int acquire_and_count(mpp::Lock lock, mpp::Value<int> count) {
  std::lock_guard<mpp::Lock> hold(lock);
  count.fetch_add(1);
  return 0;
}

void release_foreign(mpp::Lock lock) { lock.release(); }
void acquire_and_leave(mpp::Lock lock) { lock.acquire(); }

/// Short timed acquires (released when they succeed); how many gave up.
int give_up_often(mpp::Lock lock, int times) {
  int gave_up = 0;
  for (int i = 0; i < times; ++i) {
    if (lock.acquire(std::chrono::microseconds(50))) {
      lock.release();
    } else {
      ++gave_up;
    }
  }
  return gave_up;
}

/// `times` racy increments, each under the lock taken with retried acquires of `timeout_us`.
long increment_with_short_timeouts(mpp::Lock lock, mpp::Value<long> total, int times, int timeout_us) {
  long attempts = 0;
  for (int i = 0; i < times; ++i) {
    while (!lock.acquire(std::chrono::microseconds(timeout_us))) ++attempts;
    total.set(total.get() + 1);
    lock.release();
  }
  return attempts;
}

int nested(mpp::RLock lock, int depth) {
  for (int i = 0; i < depth; ++i) lock.acquire();
  for (int i = 0; i < depth; ++i) lock.release();
  return depth;
}

bool rlock_try(mpp::RLock lock) {
  const bool got = lock.try_lock();
  if (got) lock.release();
  return got;
}

}  // namespace

TEST(Lock, AcquireReleaseLocally) {
  mpp::Lock lock;
  EXPECT_FALSE(lock.locked());
  lock.acquire();
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.try_lock()) << "not re-entrant";
  lock.release();
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
  {
    std::unique_lock<mpp::Lock> hold(lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, ExcludesUnderContentionFromEveryWorkerAndTheMaster) {
  mpp::Pool pool;
  mpp::Lock lock;
  mpp::Value<long> inside(0);
  mpp::Value<long> total(0);
  const int times = 300;
  std::vector<mpp::AsyncResult<int>> results;
  for (int w = 0; w < pool.size(); ++w) results.push_back(pool.apply_async(contend, lock, inside, total, times));
  const int master_overlaps = contend(lock, inside, total, times);
  int overlaps = master_overlaps;
  for (auto& r : results) overlaps += r.get();
  EXPECT_EQ(overlaps, 0) << "two holders were inside at once";
  EXPECT_EQ(total.get(), long{times} * (pool.size() + 1));
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, TryLockFailsWhileHeldElsewhere) {
  mpp::Pool pool;
  mpp::Lock lock;
  lock.acquire();
  EXPECT_FALSE(pool.apply(try_from_worker, lock));
  lock.release();
  EXPECT_TRUE(pool.apply(try_from_worker, lock));
}

TEST(Lock, AcquireWithTimeoutGivesUpInTime) {
  mpp::Pool pool;
  mpp::Lock lock;
  lock.acquire();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(pool.apply(acquire_with_timeout, lock, 100));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 2s);
  EXPECT_FALSE(lock.acquire(20ms)) << "the master, too, times out on a held lock";
  lock.release();
  EXPECT_TRUE(pool.apply(acquire_with_timeout, lock, 100));
  EXPECT_TRUE(lock.acquire(10ms));
  lock.release();
}

TEST(Lock, WaitersThatTimedOutDoNotBreakTheQueue) {
  mpp::Pool pool;
  mpp::Lock lock;
  mpp::Value<int> count(0);
  lock.acquire();
  // Some waiters give up while queued, the others wait; all are queued behind the master.
  std::vector<mpp::AsyncResult<bool>> quitters;
  std::vector<mpp::AsyncResult<int>> patient;
  for (int i = 0; i < 2 * pool.size(); ++i) {
    if (i % 2 == 0) {
      quitters.push_back(pool.apply_async(acquire_with_timeout, lock, 30));
    } else {
      patient.push_back(pool.apply_async(acquire_and_count, lock, count));
    }
  }
  std::this_thread::sleep_for(300ms);
  lock.release();
  for (auto& p : patient) p.get();
  for (auto& q : quitters) q.get();
  EXPECT_EQ(count.get(), static_cast<int>(patient.size()));
  EXPECT_TRUE(lock.acquire(1s)) << "the lock is free again after skipping abandoned waiters";
  lock.release();
}

TEST(Lock, AbandonedWaitsExhaustNothing) {
  mpp::Pool pool;
  mpp::Lock lock;
  lock.acquire();
  EXPECT_EQ(pool.apply(give_up_often, lock, 1000), 1000) << "every wait on a held lock times out";
  for (int i = 0; i < 300; ++i) ASSERT_FALSE(lock.acquire(std::chrono::microseconds(1)));
  lock.release();
  EXPECT_EQ(pool.apply(give_up_often, lock, 300), 0) << "after 1300 abandoned waits the lock still works";
  EXPECT_TRUE(lock.try_lock());
  lock.release();
}

TEST(Lock, TimedAcquiresMakeProgressAtAnyTimeout) {
  mpp::Pool pool;
  for (int timeout_us : {0, 10, 100, 1000}) {
    mpp::Lock lock;
    mpp::Value<long> total(0);
    const int times = 800 / pool.size() + 1;  // the same total at every rank count
    std::vector<mpp::AsyncResult<long>> workers;
    for (int w = 0; w < pool.size(); ++w)
      workers.push_back(pool.apply_async(increment_with_short_timeouts, lock, total, times, timeout_us));
    for (auto& w : workers) ASSERT_TRUE(w.wait(60s)) << "no progress with " << timeout_us << " us timeouts";
    EXPECT_EQ(total.get(), static_cast<long>(times) * pool.size()) << timeout_us << " us timeouts";
  }
}

TEST(Lock, AnyProcessMayReleaseAHeldLockButNotAFreeOne) {
  // CPython's _TestLock.test_lock and TestSyncManagerTypes.test_lock.
  mpp::Lock lock;
  EXPECT_THROW(lock.release(), mpp::UsageError);
  mpp::Pool pool;
  lock.acquire();
  pool.apply(release_foreign, lock);  // a worker frees the master's lock
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(0s));
  mpp::Process child(acquire_and_leave, lock);
  lock.release();
  child.start();
  child.join();
  EXPECT_TRUE(lock.locked());  // the child left it held
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), mpp::UsageError);
  try {
    pool.apply(release_foreign, lock);
    FAIL() << "releasing a free lock must throw";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.type(), "mpp::UsageError");
  }
}

TEST(Lock, WorksWithScopedLockOfTwo) {
  mpp::Lock a;
  mpp::Lock b;
  {
    std::scoped_lock both(a, b);
    EXPECT_TRUE(a.locked());
    EXPECT_TRUE(b.locked());
  }
  EXPECT_FALSE(a.locked());
  EXPECT_FALSE(b.locked());
}

TEST(RLock, IsReentrantForItsHolderOnly) {
  mpp::Pool pool;
  mpp::RLock lock;
  EXPECT_FALSE(lock.locked());
  lock.acquire();
  lock.acquire();
  EXPECT_TRUE(lock.try_lock());
  lock.release();
  lock.release();
  EXPECT_TRUE(lock.locked()) << "held once more than released";
  EXPECT_FALSE(pool.apply(rlock_try, lock)) << "still held once by the master";
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(pool.apply(rlock_try, lock));
  EXPECT_EQ(pool.apply(nested, lock, 5), 5);
  EXPECT_THROW(lock.release(), mpp::UsageError);
}

TEST(RLock, AnotherThreadIsAnotherHolder) {
  mpp::RLock lock;
  lock.acquire();
  bool other_got_it = true;
  std::thread other([&] { other_got_it = lock.try_lock(); });
  other.join();
  EXPECT_FALSE(other_got_it);
  lock.release();
}
