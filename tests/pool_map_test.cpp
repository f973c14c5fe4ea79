// Pool::map and Pool::starmap: order, chunking, input ranges, payload types and sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <mpp/mpp.hpp>
#include <numeric>
#include <optional>
#include <ranges>
#include <set>
#include <span>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <variant>

#include "test_functions.hpp"

using mpp_test::add;
using mpp_test::iota_vector;
using mpp_test::rank_of;
using mpp_test::square;

namespace {

struct Vec3 {  // trivially copyable: travels as raw bytes
  double x, y, z;
};
Vec3 scale(Vec3 v) { return {2 * v.x, 2 * v.y, 2 * v.z}; }

struct Particle {  // needs Boost.Serialization
  std::string name;
  std::vector<double> position;
  std::map<std::string, int> tags;
  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& name& position& tags;
  }
};
Particle move_particle(Particle p) {
  for (double& x : p.position) x += 1;
  p.tags["moved"] += 1;
  p.name += "'";
  return p;
}

std::string shout(std::string s) { return s + "!"; }
bool is_even(long x) { return x % 2 == 0; }
std::vector<double> spread(int n) { return std::vector<double>(static_cast<std::size_t>(n), 0.5 * n); }
std::string repeat(std::string s, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += s;
  return out;
}
std::map<std::string, int> letter_counts(std::string word) {
  std::map<std::string, int> counts;
  for (char c : word) counts[std::string(1, c)]++;
  return counts;
}
int sum_vector(std::vector<double> v) { return static_cast<int>(std::accumulate(v.begin(), v.end(), 0.0)); }

/// Python's None and a value, a tagged union, a set and a dict, all as arguments and results.
using Reading = std::variant<std::monostate, int, std::string>;
std::optional<std::string> name_of(std::optional<int> id) {
  if (!id) return std::nullopt;
  return "id" + std::to_string(*id);
}
Reading describe(Reading r) {
  if (std::holds_alternative<int>(r)) return "int " + std::to_string(std::get<int>(r));
  if (std::holds_alternative<std::string>(r)) return static_cast<int>(std::get<std::string>(r).size());
  return std::monostate{};
}
std::set<int> divisors(int n) {
  std::set<int> found;
  for (int d = 1; d <= n; ++d)
    if (n % d == 0) found.insert(d);
  return found;
}
std::unordered_map<std::string, int> tally(std::vector<std::string> words) {
  std::unordered_map<std::string, int> counts;
  for (const auto& w : words) ++counts[w];
  return counts;
}
std::array<int, 3> reversed(std::array<int, 3> a) { return {a[2], a[1], a[0]}; }
std::optional<std::vector<std::string>> split_if_any(std::string s) {
  if (s.empty()) return std::nullopt;
  return std::vector<std::string>{s.substr(0, 1), s.substr(1)};
}

}  // namespace

TEST(PoolMap, ReturnsResultsInInputOrder) {
  mpp::Pool pool;
  const auto xs = iota_vector(10);
  EXPECT_EQ(pool.map(square, xs), (std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}));
}

TEST(PoolMap, EveryChunksizeGivesTheSameResult) {
  mpp::Pool pool;
  const auto xs = iota_vector(1000);
  std::vector<int> expected;
  for (int x : xs) expected.push_back(x * x);
  for (std::size_t chunksize : {1, 2, 7, 64, 999, 1000, 5000}) EXPECT_EQ(pool.map(square, xs, chunksize), expected);
}

// A blocking map reads a contiguous input only as its chunks are sent; map_async and imap may
// not: their caller goes on and may change or free the input at once.
TEST(PoolMap, MapAsyncAndImapKeepTheirOwnCopyOfTheInput) {
  mpp::Pool pool;
  std::vector<int> expected;
  for (int x : iota_vector(40'000)) expected.push_back(x * x);  // squares that fit an int
  auto input = std::make_unique<std::vector<int>>(iota_vector(40'000));
  auto later = pool.map_async(square, *input, 10);  // 4000 chunks: most still queued below
  auto stream = pool.imap(square, *input, 10);
  std::ranges::fill(*input, -1);
  input.reset();
  EXPECT_EQ(later.get(std::chrono::seconds(120)), expected);
  std::vector<int> streamed;
  for (int y : stream) streamed.push_back(y);
  EXPECT_EQ(streamed, expected);
}

TEST(PoolMap, MapsFromTwoThreadsOverAdjacentHalvesKeepTheirOwnResults) {
  // Two blocking maps on one pool at once, over the two halves of one vector: a batch may hold
  // chunks of both, whose items lie end to end in memory but belong to different maps, and
  // whose results land in different outputs.
  mpp::Pool pool;
  const auto input = iota_vector(40'000);
  const std::span<const int> all(input);
  const auto first_half = all.first(all.size() / 2), second_half = all.subspan(all.size() / 2);
  for (int round = 0; round < 5; ++round) {
    std::vector<int> first, second;
    std::thread other([&] { first = pool.map(square, first_half, 7); });
    second = pool.map(square, second_half, 7);
    other.join();
    ASSERT_EQ(first.size(), first_half.size());
    ASSERT_EQ(second.size(), second_half.size());
    for (std::size_t i = 0; i < first.size(); ++i) ASSERT_EQ(first[i], square(first_half[i])) << "item " << i;
    for (std::size_t i = 0; i < second.size(); ++i) ASSERT_EQ(second[i], square(second_half[i])) << "item " << i;
  }
}

TEST(PoolMap, ChunksizesBeyondTheInputAreOneChunk) {
  mpp::Pool pool;
  const auto xs = iota_vector(100);
  std::vector<int> expected;
  for (int x : xs) expected.push_back(x * x);
  const std::size_t huge = std::numeric_limits<std::size_t>::max();
  for (std::size_t chunksize : {huge, huge / 2, huge - 98}) {
    EXPECT_EQ(pool.map(square, xs, chunksize), expected);
    EXPECT_EQ(pool.map_async(square, xs, chunksize).get(std::chrono::seconds(60)), expected);
    std::vector<int> in_order;
    for (int y : pool.imap(square, xs, chunksize)) in_order.push_back(y);
    EXPECT_EQ(in_order, expected);
    std::vector<int> any_order;
    for (int y : pool.imap_unordered(square, xs, chunksize)) any_order.push_back(y);
    std::ranges::sort(any_order);
    EXPECT_EQ(any_order, expected);
  }
  const std::vector<std::tuple<int, int>> pairs{{1, 2}, {3, 4}};
  EXPECT_EQ(pool.starmap(add, pairs, huge), (std::vector<int>{3, 7}));
  EXPECT_EQ(pool.starmap_async(add, pairs, huge).get(std::chrono::seconds(60)), (std::vector<int>{3, 7}));
  EXPECT_TRUE(pool.map(square, std::vector<int>{}, huge).empty());
  EXPECT_THROW(pool.map_async(square, xs, -1), std::invalid_argument);
}

TEST(PoolMap, EmptyInputGivesEmptyOutput) {
  mpp::Pool pool;
  EXPECT_TRUE(pool.map(square, std::vector<int>{}).empty());
  EXPECT_TRUE(pool.starmap(add, std::vector<std::tuple<int, int>>{}).empty());
}

TEST(PoolMap, AcceptsAnySizedRange) {
  mpp::Pool pool;
  EXPECT_EQ(pool.map(square, std::views::iota(0, 5)), (std::vector<int>{0, 1, 4, 9, 16}));
  EXPECT_EQ(pool.map(square, std::array<int, 3>{3, 4, 5}), (std::vector<int>{9, 16, 25}));
  EXPECT_EQ(pool.map(square, std::list<int>{6, 7}), (std::vector<int>{36, 49}));
  EXPECT_EQ(pool.map(shout, std::set<std::string>{"a", "b"}), (std::vector<std::string>{"a!", "b!"}));
}

TEST(PoolMap, AcceptsSinglePassAndNonConstIterableRanges) {
  mpp::Pool pool;
  std::istringstream numbers("3 1 4 1 5");
  EXPECT_EQ(pool.map(square, std::views::istream<int>(numbers)), (std::vector<int>{9, 1, 16, 1, 25}));
  auto evens = iota_vector(10) | std::views::filter([](int x) { return x % 2 == 0; });  // not const-iterable
  EXPECT_EQ(pool.map(square, evens, 2), (std::vector<int>{0, 4, 16, 36, 64}));
  std::istringstream more("6 7");
  std::vector<int> seen;
  for (int y : pool.imap(square, std::views::istream<int>(more))) seen.push_back(y);
  EXPECT_EQ(seen, (std::vector<int>{36, 49}));
}

TEST(PoolMap, UsesEveryWorker) {
  mpp::Pool pool;
  std::vector<int> xs(static_cast<std::size_t>(pool.size()) * 64, 0);
  const auto ranks = pool.map(rank_of, xs, 1);
  const std::set<int> distinct(ranks.begin(), ranks.end());
  EXPECT_EQ(distinct.count(0), 0u) << "the master must not run tasks";
  EXPECT_EQ(static_cast<int>(distinct.size()), pool.size()) << "a backlog is split across all workers";
  for (int r : distinct) EXPECT_LT(r, mpp::Session::current().size());
}

TEST(PoolMap, ConvertsArgumentsToTheParameterType) {
  mpp::Pool pool;
  // const char* cannot travel, but the function takes std::string, so that is what is sent.
  EXPECT_EQ(pool.map(shout, std::vector<const char*>{"x", "y"}), (std::vector<std::string>{"x!", "y!"}));
  // int items for a long parameter; bool results (std::vector<bool> is a special case).
  EXPECT_EQ(pool.map(is_even, iota_vector(5)), (std::vector<bool>{true, false, true, false, true}));
}

TEST(PoolMap, TakesLambdasAndFunctionObjects) {
  mpp::Pool pool;
  struct Cube {
    long operator()(long x) const { return x * x * x; }
  };
  EXPECT_EQ(pool.map([](int x) { return x + 1; }, iota_vector(3)), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(pool.map(Cube{}, std::vector<long>{2, 3}), (std::vector<long>{8, 27}));
  EXPECT_EQ(pool.map([](auto x) { return x * 2; }, std::vector<double>{1.5}), (std::vector<double>{3.0}));
}

TEST(PoolMap, CarriesTriviallyCopyableAndBoostSerializableTypes) {
  mpp::Pool pool;
  const auto scaled = pool.map(scale, std::vector<Vec3>{{1, 2, 3}, {4, 5, 6}});
  ASSERT_EQ(scaled.size(), 2u);
  EXPECT_EQ(scaled[1].z, 12);

  std::vector<Particle> particles(50);
  for (std::size_t i = 0; i < particles.size(); ++i)
    particles[i] = {"p" + std::to_string(i), {double(i), 0.5}, {{"id", int(i)}}};
  const auto moved = pool.map(move_particle, particles, 7);
  ASSERT_EQ(moved.size(), particles.size());
  for (std::size_t i = 0; i < moved.size(); ++i) {
    EXPECT_EQ(moved[i].name, particles[i].name + "'");
    EXPECT_EQ(moved[i].position[0], double(i) + 1);
    EXPECT_EQ(moved[i].tags.at("id"), int(i));
    EXPECT_EQ(moved[i].tags.at("moved"), 1);
  }
  const auto counts = pool.map(letter_counts, std::vector<std::string>{"banana"});
  EXPECT_EQ(counts[0].at("a"), 3);
}

TEST(PoolMap, MovesMegabytePayloadsBothWays) {
  mpp::Pool pool;
  // 2 MB results per item and an 8 MB argument.
  const auto big = pool.map(spread, std::vector<int>{1 << 18, 1 << 18, 3});
  ASSERT_EQ(big.size(), 3u);
  EXPECT_EQ(big[0].size(), std::size_t{1} << 18);
  EXPECT_EQ(big[1].back(), 0.5 * (1 << 18));
  EXPECT_EQ(pool.apply(sum_vector, std::vector<double>(1 << 20, 1.0)), 1 << 20);
  const std::string text(3 << 20, 'z');
  EXPECT_EQ(pool.apply(repeat, text, 2).size(), text.size() * 2);
}

TEST(PoolMap, HandlesFortyThousandItems) {
  mpp::Pool pool;
  const auto xs = iota_vector(40000);  // squares stay inside int
  const auto ys = pool.map(square, xs);
  ASSERT_EQ(ys.size(), xs.size());
  for (std::size_t i = 0; i < xs.size(); i += 997) EXPECT_EQ(ys[i], xs[i] * xs[i]);
  EXPECT_EQ(ys.back(), xs.back() * xs.back());
}

TEST(PoolStarmap, UnpacksTuplesAndPairs) {
  mpp::Pool pool;
  const std::vector<int> a{0, 1, 2, 3};
  const std::vector<int> b{666, 233, 7, 8};
  std::vector<std::tuple<int, int>> zipped;
  for (std::size_t i = 0; i < a.size(); ++i) zipped.emplace_back(a[i], b[i]);
  EXPECT_EQ(pool.starmap(add, zipped), (std::vector<int>{666, 234, 9, 11}));
  EXPECT_EQ(pool.starmap(repeat, std::vector<std::pair<std::string, int>>{{"ab", 2}, {"c", 3}}),
            (std::vector<std::string>{"abab", "ccc"}));
  EXPECT_EQ(pool.starmap([](int x, double y) { return x * y; }, std::vector<std::tuple<int, double>>{{2, 0.25}}),
            (std::vector<double>{0.5}));
}

TEST(PoolMap, VoidFunctionsRunForTheirEffects) {
  mpp::Pool pool;
  static_assert(std::is_void_v<decltype(pool.map([](int) {}, iota_vector(3)))>);
  pool.map([](int) {}, iota_vector(30), 4);
  EXPECT_EQ(pool.apply(square, 3), 9);  // and the pool is still in order
}

TEST(PoolMap, CarriesOptionalVariantSetUnorderedMapAndArray) {
  mpp::Pool pool;
  EXPECT_EQ(pool.map(name_of, std::vector<std::optional<int>>{7, std::nullopt, 0}),
            (std::vector<std::optional<std::string>>{"id7", std::nullopt, "id0"}));
  EXPECT_EQ(pool.map(describe, std::vector<Reading>{3, std::string("four"), std::monostate{}}),
            (std::vector<Reading>{std::string("int 3"), 4, std::monostate{}}));
  EXPECT_EQ(pool.apply(divisors, 12), (std::set<int>{1, 2, 3, 4, 6, 12}));
  const auto counts = pool.apply(tally, std::vector<std::string>{"a", "b", "a"});
  EXPECT_EQ(counts, (std::unordered_map<std::string, int>{{"a", 2}, {"b", 1}}));
  EXPECT_EQ(pool.apply(reversed, std::array<int, 3>{1, 2, 3}), (std::array<int, 3>{3, 2, 1}));
  EXPECT_EQ(pool.apply(split_if_any, std::string("xyz")), (std::vector<std::string>{"x", "yz"}));
  EXPECT_EQ(pool.apply(split_if_any, std::string()), std::nullopt);
}
