// Value and Array: atomic operations from many ranks, the shared-memory and RMA paths
// (this binary also runs with MPP_FORCE_RMA=1), bounds checks and the memory rule.
#include <gtest/gtest.h>

#include <atomic>
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

template <class T>
int add_ones(mpp::Value<T> v, int times) {
  for (int i = 0; i < times; ++i) v.fetch_add(T{1});
  return 0;
}
template <class T>
int add_ones_with_cas(mpp::Value<T> v, int times) {
  for (int i = 0; i < times; ++i) {
    T seen = v.get();
    while (!v.compare_exchange(seen, static_cast<T>(seen + 1))) {
    }
  }
  return 0;
}
template <class T>
int bump_own_element(mpp::Array<T> a, int index) {
  for (int i = 0; i < 100; ++i) a.fetch_add(static_cast<std::size_t>(index), T{1});
  return 0;
}
int say_hi(mpp::Array<char> text) {
  text.set_value("hi");
  return 0;
}
long add_raw(mpp::RawValue<long> v, int times) {
  for (int i = 0; i < times; ++i) v.fetch_add(1);
  return 0;
}
long sum_raw(mpp::RawArray<short> a) {
  long sum = 0;
  for (short x : a.to_vector()) sum += x;
  return sum;
}

template <class Shared>
concept has_lock = requires(Shared shared) {
  shared.get_lock();
};

template <class F, class V>
void run_on_every_worker(mpp::Pool& pool, F f, V value, int times) {
  std::vector<mpp::AsyncResult<std::invoke_result_t<F, V, int>>> results;
  for (int w = 0; w < pool.size(); ++w) results.push_back(pool.apply_async(f, value, times));
  for (auto& r : results) r.get();
}

}  // namespace

// The word an idle worker naps on (detail/doorbell.hpp): a ring ends the nap at once, and a
// message that came just before the nap is not slept through.
TEST(Doorbell, ARingEndsTheNapAtOnce) {
  auto& space = mpp::detail::shared_space();
  const auto word = space.allocate(sizeof(std::int64_t));
  auto owner = mpp::detail::Doorbell::at(space, word);
  auto master = mpp::detail::Doorbell::at(space, word);
  std::atomic<bool> woken{false};
  const auto start = std::chrono::steady_clock::now();
  std::thread napper([&] {
    owner.nap(std::chrono::seconds(30), [] { return false; });
    woken = true;
  });
  while (!woken) {  // rung until it naps and wakes: a ring before the nap began finds no napper
    master.ring();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  napper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
  space.retire(word, sizeof(std::int64_t));
}

TEST(Doorbell, AMessageThatCameBeforeTheNapIsNotSleptThrough) {
  auto& space = mpp::detail::shared_space();
  const auto word = space.allocate(sizeof(std::int64_t));
  auto owner = mpp::detail::Doorbell::at(space, word);
  int looks = 0;
  const auto start = std::chrono::steady_clock::now();
  owner.nap(std::chrono::seconds(30), [&] { return ++looks > 0; });
  EXPECT_EQ(looks, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
  space.retire(word, sizeof(std::int64_t));
}

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

// Python's typecodes 'c', 'b', 'B', 'h', 'H': 1- and 2-byte values, atomic on both paths.
template <class T>
class SmallValue : public ::testing::Test {};
using SmallTypes = ::testing::Types<char, signed char, unsigned char, short, unsigned short>;
TYPED_TEST_SUITE(SmallValue, SmallTypes);

TYPED_TEST(SmallValue, FetchAddAndCompareExchangeFromEveryWorkerLoseNothing) {
  mpp::Pool pool;
  const int times = 120 / pool.size();  // every worker's adds together fit a signed char
  mpp::Value<TypeParam> added(0);
  mpp::Value<TypeParam> swapped(0);
  run_on_every_worker(pool, add_ones<TypeParam>, added, times);
  run_on_every_worker(pool, add_ones_with_cas<TypeParam>, swapped, times);
  EXPECT_EQ(static_cast<int>(added.get()), times * pool.size());
  EXPECT_EQ(static_cast<int>(swapped.get()), times * pool.size());
}

TYPED_TEST(SmallValue, NeighbouringElementsStayApart) {
  mpp::Pool pool;
  const int used = 2 * pool.size();
  mpp::Array<TypeParam> a(static_cast<std::size_t>(used + 2), TypeParam{0});
  std::vector<mpp::AsyncResult<int>> running;
  for (int i = 0; i < used; ++i) running.push_back(pool.apply_async(bump_own_element<TypeParam>, a, i));
  for (auto& r : running) r.get();
  const auto values = a.to_vector();
  for (int i = 0; i < used + 2; ++i)  // an add that touched a wider word would disturb these
    EXPECT_EQ(static_cast<int>(values[static_cast<std::size_t>(i)]), i < used ? 100 : 0) << "element " << i;
}

TEST(Array, CharArrayReadsAndWritesAsAString) {
  mpp::Array<char> text("hello world");  // Python's Array('c', b'hello world')
  EXPECT_EQ(text.size(), 11u);
  EXPECT_EQ(text.value(), "hello world");
  mpp::Pool pool(1);
  pool.apply(say_hi, text);
  EXPECT_EQ(text.value(), "hi");  // up to the NUL written after it
  EXPECT_EQ(text.raw(), std::string("hi\0lo world", 11));
  EXPECT_THROW(text.set_value(std::string(12, 'x')), std::out_of_range);
  EXPECT_EQ(text.value(), "hi");
  text.set_value("hello world");  // fills it exactly: no room, and no need, for a NUL
  EXPECT_EQ(text.value(), "hello world");
  mpp::Array<char> zeroed(4);
  EXPECT_EQ(zeroed.value(), "");
}

TEST(RawValue, RawObjectsTravelAndAddWithoutALock) {
  mpp::Pool pool;
  mpp::RawValue<long> counter(0);
  run_on_every_worker(pool, add_raw, counter, increments);
  EXPECT_EQ(counter.get(), static_cast<long>(increments) * pool.size());
  mpp::RawArray<short> shorts(std::vector<short>{1, -2, 300});
  EXPECT_EQ(pool.apply(sum_raw, shorts), 299);
  static_assert(!has_lock<mpp::RawValue<long>> && !has_lock<mpp::RawArray<short>>, "raw objects have no lock");
  static_assert(has_lock<mpp::Value<long>> && has_lock<mpp::Array<short>>);
}

TEST(Value, GetObjIsTheSameNumberWithoutItsLock) {
  mpp::Value<int> locked(3);
  mpp::RawValue<int>& raw = locked.get_obj();
  raw.fetch_add(4);
  EXPECT_EQ(locked.get(), 7);
  mpp::Array<unsigned short> array(2, 5);
  array.get_obj().set(1, 9);
  EXPECT_EQ(array.to_vector(), (std::vector<unsigned short>{5, 9}));
}
