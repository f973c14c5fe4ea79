// imap (in order, lazily handed out) and imap_unordered (as completed).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mpp/mpp.hpp>
#include <numeric>
#include <ranges>

#include "test_functions.hpp"

using namespace std::chrono_literals;
using mpp_test::sleep_ms_then_return;
using mpp_test::square;

TEST(PoolImap, YieldsResultsInInputOrder) {
  mpp::Pool pool;
  for (std::size_t chunksize : {1, 3, 100}) {
    std::vector<int> seen;
    for (int y : pool.imap(square, std::views::iota(0, 50), chunksize)) seen.push_back(y);
    ASSERT_EQ(seen.size(), 50u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i * i);
  }
}

TEST(PoolImap, HandsOutEarlyResultsBeforeLateOnesFinish) {
  mpp::Pool pool;
  if (pool.size() < 2) GTEST_SKIP() << "needs two workers";
  auto results = pool.imap(sleep_ms_then_return, std::vector<int>{1, 800});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(results.next(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms) << "the first result must not wait for the second";
  EXPECT_THROW(results.next(10ms), mpp::TimeoutError);
  EXPECT_EQ(results.next(), 800);
  EXPECT_EQ(results.next(), std::nullopt);
}

TEST(PoolImapUnordered, YieldsEveryResultInCompletionOrder) {
  mpp::Pool pool;
  if (pool.size() < 2) GTEST_SKIP() << "needs two workers";
  std::vector<int> seen;
  for (int y : pool.imap_unordered(sleep_ms_then_return, std::vector<int>{300, 1, 2, 3})) seen.push_back(y);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen.back(), 300) << "the slow task finishes last";
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 300}));
}

TEST(PoolImapUnordered, ManyItemsInChunks) {
  mpp::Pool pool;
  std::vector<int> xs(5000);
  std::iota(xs.begin(), xs.end(), 0);
  long long sum = 0;
  std::size_t count = 0;
  for (int y : pool.imap_unordered(square, xs, 10)) {
    sum += y;
    ++count;
  }
  long long expected = 0;
  for (long long x : xs) expected += x * x;
  EXPECT_EQ(count, xs.size());
  EXPECT_EQ(sum, expected);
}

TEST(PoolImap, AFailedTaskSurfacesAtItsPositionAndIterationGoesOn) {
  mpp::Pool pool;
  auto results = pool.imap(mpp_test::throw_at_seven, std::views::iota(5, 10));
  EXPECT_EQ(results.next(), 5);
  EXPECT_EQ(results.next(), 6);
  try {
    results.next();
    FAIL() << "item 7 should have thrown";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.message(), "seven is not allowed");
    EXPECT_EQ(e.item(), 2u) << "the index within this imap's input";
  }
  EXPECT_EQ(results.next(), 8);
  EXPECT_EQ(results.next(), 9);
  EXPECT_EQ(results.next(), std::nullopt);
}

TEST(PoolImap, EmptyInputIsAnEmptyRange) {
  mpp::Pool pool;
  int count = 0;
  for (int y : pool.imap(square, std::vector<int>{})) count += y + 1;
  EXPECT_EQ(count, 0);
}

// CPython's test_imap_handle_iterable_exception: imap returns, hands out the results of the
// whole chunks read before the input threw, then throws its exception.
TEST(PoolImap, AnInputThatThrowsEndsTheResultsWithItsException) {
  mpp::Pool pool;
  mpp_test::ThrowingGenerator first(10, 3);
  auto it = pool.imap(square, first, 1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(it.next(), i * i);
  EXPECT_THROW(it.next(), mpp_test::SayWhenError);

  mpp_test::ThrowingGenerator second(20, 7);
  auto chunked = pool.imap(square, second, 2);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(chunked.next(), i * i);
  EXPECT_THROW(chunked.next(), mpp_test::SayWhenError);

  // A view computing its items throws the same way.
  auto computed = std::views::iota(0, 10) | std::views::transform([](int i) {
                    if (i == 5) throw mpp_test::SayWhenError();
                    return i;
                  });
  auto viewed = pool.imap(square, computed);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(viewed.next(), i * i);
  EXPECT_THROW(viewed.next(), mpp_test::SayWhenError);
}

// CPython's test_imap_unordered_handle_iterable_exception.
TEST(PoolImapUnordered, AnInputThatThrowsEndsTheResultsWithItsException) {
  mpp::Pool pool;
  for (const auto& [total, when, chunksize] : {std::tuple{10, 3, 1}, std::tuple{20, 7, 2}}) {
    mpp_test::ThrowingGenerator input(total, when);
    auto it = pool.imap_unordered(square, input, static_cast<std::size_t>(chunksize));
    std::vector<int> expected;
    for (int i = 0; i < when - when % chunksize; ++i) expected.push_back(i * i);
    std::vector<int> got;
    EXPECT_THROW(
        {
          for (int i = 0; i < total; ++i) got.push_back(*it.next());
        },
        mpp_test::SayWhenError);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected);
  }
}
