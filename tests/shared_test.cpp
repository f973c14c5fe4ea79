// Value and Array: atomic operations from many ranks, the shared-memory and RMA paths
// (this binary also runs with MPP_FORCE_RMA=1), bounds checks and the memory rule.
#include <gtest/gtest.h>

#include <chrono>
#include <mpp/mpp.hpp>
#include <mutex>
#include <numeric>
#include <thread>

#include "test_functions.hpp"

namespace {

constexpr int increments = 2000;

long add_atomically(mpp::Value<long> v, int times) {
  for (int i = 0; i < times; ++i) v.fetch_add(1);
  return 0;
}
long add_with_cas(mpp::Value<long> v, int times) {
  for (int i = 0; i < times; ++i) {
    long seen = v.get();
    while (!v.compare_exchange(seen, seen + 1)) {
    }
  }
  return 0;
}
long add_under_lock(mpp::Value<long> v, int times) {
  for (int i = 0; i < times; ++i) {
    std::lock_guard<mpp::Lock> hold(v.get_lock());
    v.set(v.get() + 1);
  }
  return 0;
}
double add_doubles(mpp::Value<double> v, int times) {
  for (int i = 0; i < times; ++i) v.fetch_add(0.5);
  return 0;
}
int fill_slice(mpp::Array<int> a, int first, int count) {
  for (int i = first; i < first + count; ++i) a.set(static_cast<std::size_t>(i), i * i);
  return count;
}
int bump_all(mpp::Array<std::int64_t> a, int times) {
  for (int t = 0; t < times; ++t)
    for (std::size_t i = 0; i < a.size(); ++i) a.fetch_add(i, 1);
  return 0;
}
int read_later(mpp::Value<int> v, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return v.get();
}
mpp::Value<int> make_value_on_worker(int x) { return mpp::Value<int>(x); }
std::size_t array_size_seen_by_worker(mpp::Array<double> a) { return a.size(); }
double array_sum_seen_by_worker(mpp::Array<double> a) {
  const auto v = a.to_vector();
  return std::accumulate(v.begin(), v.end(), 0.0);
}

template <class F, class V>
void run_on_every_worker(mpp::Pool& pool, F f, V value, int times) {
  std::vector<mpp::AsyncResult<std::invoke_result_t<F, V, int>>> results;
  for (int w = 0; w < pool.size(); ++w) results.push_back(pool.apply_async(f, value, times));
  for (auto& r : results) r.get();
}

}  // namespace

TEST(Value, GetSetFetchAddCompareExchangeLocally) {
  mpp::Value<int> i(5);
  EXPECT_EQ(i.get(), 5);
  i.set(7);
  EXPECT_EQ(i.fetch_add(3), 7);
  EXPECT_EQ(i.get(), 10);
  int expected = 9;
  EXPECT_FALSE(i.compare_exchange(expected, 100));
  EXPECT_EQ(expected, 10) << "a failed compare_exchange reports the current value";
  EXPECT_TRUE(i.compare_exchange(expected, 100));
  EXPECT_EQ(i.get(), 100);

  mpp::Value<double> d(1.5);
  EXPECT_EQ(d.fetch_add(0.25), 1.5);
  double seen = 1.75;
  EXPECT_TRUE(d.compare_exchange(seen, -2.0));
  EXPECT_EQ(d.get(), -2.0);
  mpp::Value<std::uint64_t> u(~0ull);
  EXPECT_EQ(u.get(), ~0ull);
  mpp::Value<float> f;
  EXPECT_EQ(f.get(), 0.0f);
}

TEST(Value, CopiesAreHandlesToTheSameObject) {
  mpp::Value<int> a(1);
  mpp::Value<int> b = a;
  b.set(42);
  EXPECT_EQ(a.get(), 42);
}

TEST(Value, FetchAddFromEveryWorkerLosesNothing) {
  mpp::Pool pool;
  mpp::Value<long> counter(0);
  run_on_every_worker(pool, add_atomically, counter, increments);
  counter.fetch_add(5);  // the master too
  EXPECT_EQ(counter.get(), long{pool.size()} * increments + 5);
}

TEST(Value, CompareExchangeLoopsFromEveryWorkerLoseNothing) {
  mpp::Pool pool;
  mpp::Value<long> counter(0);
  run_on_every_worker(pool, add_with_cas, counter, increments);
  EXPECT_EQ(counter.get(), long{pool.size()} * increments);
}

TEST(Value, LockedReadModifyWriteFromEveryWorkerLosesNothing) {
  mpp::Pool pool;
  mpp::Value<long> counter(0);
  run_on_every_worker(pool, add_under_lock, counter, 500);
  EXPECT_EQ(counter.get(), long{pool.size()} * 500);
}

TEST(Value, DoublesAddAtomically) {
  mpp::Pool pool;
  mpp::Value<double> total(0);
  run_on_every_worker(pool, add_doubles, total, increments);
  EXPECT_DOUBLE_EQ(total.get(), 0.5 * pool.size() * increments);
}

TEST(Value, CreatedOnAWorkerAndReturnedToTheMaster) {
  mpp::Pool pool;
  auto value = pool.apply(make_value_on_worker, 42);
  EXPECT_EQ(value.get(), 42) << "hosted on the worker, read from the master";
  value.fetch_add(1);
  EXPECT_EQ(value.get(), 43);
}

TEST(Value, MemoryIsReleasedWhenTheLastHandleGoes) {
  // 300,000 Values of 256 bytes each would overflow the master's 64 MiB if none were freed.
  for (int i = 0; i < 300000; ++i) {
    mpp::Value<int> v(i);
    ASSERT_EQ(v.get(), i);
  }
}

TEST(Value, ATaskKeepsItsValueAliveAfterTheMasterDropsIt) {
  mpp::Pool pool;
  std::optional<mpp::AsyncResult<int>> result;
  {
    mpp::Value<int> v(1234);
    result = pool.apply_async(read_later, v, 200);
  }
  // Churn the allocator: freed memory would now be reused and overwritten.
  for (int i = 0; i < 2000; ++i) mpp::Value<int> reuse(-1);
  EXPECT_EQ(result->get(), 1234);
}

TEST(Array, ConstructAccessAndBulkTransfer) {
  mpp::Array<int> a(5, 7);
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a.to_vector(), (std::vector<int>{7, 7, 7, 7, 7}));
  a.set(2, 9);
  EXPECT_EQ(a.get(2), 9);
  EXPECT_EQ(a.fetch_add(2, 1), 9);
  const std::vector<int> patch{1, 2};
  a.write(3, patch);
  EXPECT_EQ(a.read(2, 3), (std::vector<int>{10, 1, 2}));
  mpp::Array<double> b(std::vector<double>{0.5, 1.5});
  EXPECT_EQ(b.get(1), 1.5);
  mpp::Array<long> empty(0);
  EXPECT_TRUE(empty.to_vector().empty());
}

TEST(Array, OutOfRangeThrowsAndTouchesNothing) {
  mpp::Array<int> a(std::vector<int>{1, 2, 3});
  EXPECT_THROW(a.get(3), std::out_of_range);
  EXPECT_THROW(a.set(100, 1), std::out_of_range);
  EXPECT_THROW(a.fetch_add(3, 1), std::out_of_range);
  EXPECT_THROW(a.read(2, 2), std::out_of_range);
  EXPECT_THROW(a.read(4, 0), std::out_of_range);
  const std::vector<int> too_long{9, 9};
  EXPECT_THROW(a.write(2, too_long), std::out_of_range);
  EXPECT_EQ(a.to_vector(), (std::vector<int>{1, 2, 3}));
}

TEST(Array, WorkersFillDisjointSlices) {
  mpp::Pool pool;
  const int n = 1000;
  mpp::Array<int> squares(static_cast<std::size_t>(n), -1);
  std::vector<std::tuple<mpp::Array<int>, int, int>> slices;
  for (int first = 0; first < n; first += 37) slices.emplace_back(squares, first, std::min(37, n - first));
  const auto counts = pool.starmap(fill_slice, slices);
  EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), 0), n);
  const auto values = squares.to_vector();
  for (int i = 0; i < n; ++i) ASSERT_EQ(values[static_cast<std::size_t>(i)], i * i);
}

TEST(Array, ElementFetchAddFromEveryWorkerLosesNothing) {
  mpp::Pool pool;
  mpp::Array<std::int64_t> counts(16, 0);
  run_on_every_worker(pool, bump_all, counts, 200);
  for (auto c : counts.to_vector()) EXPECT_EQ(c, 200 * pool.size());
}

TEST(Array, TasksSeeTheMastersArray) {
  mpp::Pool pool;
  mpp::Array<double> a(std::vector<double>{1, 2, 3.5});
  EXPECT_EQ(pool.apply(array_size_seen_by_worker, a), 3u);
  EXPECT_EQ(pool.apply(array_sum_seen_by_worker, a), 6.5);
}
