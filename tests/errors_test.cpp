// A task's exception comes back with its message, type, rank, host and item index.
#include <gtest/gtest.h>

#include <mpp/mpp.hpp>
#include <numeric>

#include "test_functions.hpp"

using mpp_test::iota_vector;
using mpp_test::square;
using mpp_test::throw_at_seven;

namespace {
struct DomainError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
int throw_custom(int) { throw DomainError("mesh is degenerate"); }
int throw_int(int) { throw 42; }
int throw_at_3_and_50(int x) {
  if (x == 3 || x == 50) throw std::out_of_range("bad " + std::to_string(x));
  return x;
}
}  // namespace

TEST(RemoteErrors, CarryMessageTypeRankHostAndItem) {
  mpp::Pool pool;
  try {
    pool.map(throw_at_seven, iota_vector(20), 3);
    FAIL() << "map must throw";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.message(), "seven is not allowed");
    EXPECT_EQ(e.type(), "std::invalid_argument");
    EXPECT_GE(e.rank(), 1);
    EXPECT_LT(e.rank(), mpp::Session::current().size());
    EXPECT_EQ(e.host(), mpp::current_process().host);
    EXPECT_EQ(e.item(), 7u);
    const std::string what = e.what();
    for (const std::string part : {"seven is not allowed", "std::invalid_argument", "item 7", "rank ", "host "})
      EXPECT_NE(what.find(part), std::string::npos) << what << " lacks " << part;
  }
}

TEST(RemoteErrors, IsARuntimeError) {
  mpp::Pool pool;
  EXPECT_THROW(pool.apply(throw_at_seven, 7), std::runtime_error);
}

TEST(RemoteErrors, UserExceptionTypesAreNamed) {
  mpp::Pool pool;
  try {
    pool.apply(throw_custom, 0);
    FAIL();
  } catch (const mpp::RemoteError& e) {
    EXPECT_NE(e.type().find("DomainError"), std::string::npos) << e.type();
    EXPECT_EQ(e.message(), "mesh is degenerate");
    EXPECT_FALSE(e.item().has_value()) << "apply has no item index";
  }
}

TEST(RemoteErrors, NonStandardExceptionsAreReportedToo) {
  mpp::Pool pool;
  try {
    pool.apply(throw_int, 0);
    FAIL();
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.type(), "int");
  }
}

TEST(RemoteErrors, MapThrowsOneOfTheErrorsAndThePoolKeepsWorking) {
  mpp::Pool pool;
  try {
    pool.map(throw_at_3_and_50, iota_vector(100), 5);
    FAIL();
  } catch (const mpp::RemoteError& e) {
    EXPECT_TRUE(e.item() == 3u || e.item() == 50u);
    EXPECT_EQ(e.message(), "bad " + std::to_string(*e.item()));
  }
  for (int round = 0; round < 3; ++round)
    EXPECT_EQ(pool.map(square, iota_vector(100)).back(), 99 * 99) << "round " << round;
}

TEST(RemoteErrors, StarmapReportsTheItem) {
  mpp::Pool pool;
  try {
    pool.starmap([](int a, int b) { return throw_at_seven(a + b); }, std::vector<std::tuple<int, int>>{{1, 1}, {3, 4}});
    FAIL();
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.item(), 1u);
  }
}
