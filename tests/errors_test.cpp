// A task's exception comes back with its message, type, rank, host and item index.
#include <gtest/gtest.h>

#include <mpp/mpp.hpp>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <variant>
#include <vector>

#include "test_functions.hpp"

using mpp_test::iota_vector;
using mpp_test::square;
using mpp_test::throw_at_seven;

namespace {
struct DomainError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
int throw_custom(int) { throw DomainError("mesh is degenerate"); }

// A program's own types: ParseError travels as itself; LineError (declared) derives from it;
// ColumnError (not declared) arrives as its nearest declared base, ParseError.
struct ParseError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct LineError : ParseError {
  using ParseError::ParseError;
};
struct ColumnError : ParseError {
  using ParseError::ParseError;
};
struct NoMessageError : std::exception {};
MPP_REMOTE_EXCEPTION(LineError);  // declared before its base, on purpose: order does not matter
MPP_REMOTE_EXCEPTION(ParseError);
MPP_REMOTE_EXCEPTION(NoMessageError);
int throw_parse(int) { throw ParseError("bad header"); }
int throw_line(int) { throw LineError("bad line"); }
int throw_column(int) { throw ColumnError("bad column"); }
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

// Each standard exception type a task throws is caught on the master as itself, as a
// RemoteError and as a std::exception (exactly one std::exception base, or that catch misses).
template <class E, class Throw>
void expect_caught_as_itself(mpp::Pool& pool, Throw throw_it, const std::string& type) {
  SCOPED_TRACE(type);
  EXPECT_THROW(pool.apply(throw_it, 7), E);
  EXPECT_THROW(pool.apply(throw_it, 7), std::exception);
  try {
    pool.apply(throw_it, 7);
    FAIL() << "must throw";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.type(), type);
    EXPECT_EQ(e.thrown_as(), type);
    EXPECT_GE(e.rank(), 1);
    EXPECT_NE(dynamic_cast<const E*>(&e), nullptr) << "the RemoteError is the E itself";
    EXPECT_STREQ(dynamic_cast<const std::exception&>(e).what(), e.what());
  }
}

TEST(RemoteErrors, StandardTypesAreCaughtAsThemselves) {
  mpp::Pool pool;
  static_assert(std::is_base_of_v<std::exception, mpp::Remote<std::invalid_argument>>);
  static_assert(!std::is_base_of_v<std::exception, mpp::RemoteError>,
                "RemoteError must not add a second std::exception base to Remote<E>");
  expect_caught_as_itself<std::invalid_argument>(pool, throw_at_seven, "std::invalid_argument");
  expect_caught_as_itself<std::domain_error>(
      pool, [](int) -> int { throw std::domain_error("d"); }, "std::domain_error");
  expect_caught_as_itself<std::length_error>(
      pool, [](int) -> int { throw std::length_error("l"); }, "std::length_error");
  expect_caught_as_itself<std::out_of_range>(
      pool, [](int) { return std::vector<int>{}.at(3); }, "std::out_of_range");
  expect_caught_as_itself<std::logic_error>(
      pool, [](int) -> int { throw std::logic_error("g"); }, "std::logic_error");
  expect_caught_as_itself<std::runtime_error>(
      pool, [](int) -> int { throw std::runtime_error("r"); }, "std::runtime_error");
  expect_caught_as_itself<std::range_error>(
      pool, [](int) -> int { throw std::range_error("r"); }, "std::range_error");
  expect_caught_as_itself<std::overflow_error>(
      pool, [](int) -> int { throw std::overflow_error("o"); }, "std::overflow_error");
  expect_caught_as_itself<std::underflow_error>(
      pool, [](int) -> int { throw std::underflow_error("u"); }, "std::underflow_error");
  expect_caught_as_itself<std::bad_alloc>(
      pool, [](int) -> int { throw std::bad_alloc(); }, "std::bad_alloc");
  expect_caught_as_itself<std::bad_cast>(
      pool, [](int) -> int { throw std::bad_cast(); }, "std::bad_cast");
  expect_caught_as_itself<std::bad_optional_access>(
      pool, [](int) { return std::optional<int>().value(); }, "std::bad_optional_access");
  expect_caught_as_itself<std::bad_variant_access>(
      pool, [](int) { return std::get<int>(std::variant<int, double>(1.5)); }, "std::bad_variant_access");
  expect_caught_as_itself<mpp::KeyError>(
      pool, [](int) -> int { throw mpp::KeyError("k"); }, "mpp::KeyError");
}

TEST(RemoteErrors, UserExceptionTypesAreNamedAndUndeclaredOnesArriveAsTheirStandardBase) {
  mpp::Pool pool;
  try {
    pool.apply(throw_custom, 0);
    FAIL();
  } catch (const std::runtime_error& caught) {
    const auto& e = dynamic_cast<const mpp::RemoteError&>(caught);
    EXPECT_NE(e.type().find("DomainError"), std::string::npos) << e.type();
    EXPECT_EQ(e.thrown_as(), "std::runtime_error");
    EXPECT_EQ(e.message(), "mesh is degenerate");
    EXPECT_FALSE(e.item().has_value()) << "apply has no item index";
  }
}

TEST(RemoteErrors, DeclaredUserTypesAreCaughtAsThemselvesAndSubtypesAsTheNearestDeclared) {
  mpp::Pool pool;
  EXPECT_THROW(pool.apply(throw_parse, 0), ParseError);
  EXPECT_THROW(pool.apply(throw_line, 0), LineError);
  EXPECT_THROW(pool.apply(throw_line, 0), ParseError);
  EXPECT_THROW(pool.apply(throw_line, 0), std::invalid_argument);
  try {
    pool.apply(throw_column, 0);
    FAIL();
  } catch (const LineError&) {
    FAIL() << "ColumnError is no LineError";
  } catch (const ParseError& e) {
    EXPECT_EQ(dynamic_cast<const mpp::RemoteError&>(e).type(), "(anonymous namespace)::ColumnError");
    EXPECT_NE(std::string(e.what()).find("bad column"), std::string::npos);
  }
  try {
    pool.apply([](int) -> int { throw NoMessageError(); }, 0);
    FAIL();
  } catch (const NoMessageError& e) {
    EXPECT_NE(std::string(e.what()).find("NoMessageError"), std::string::npos) << e.what();
  }
}

TEST(RemoteErrors, EveryWayOfWaitingThrowsTheTypeAndCallbacksGetTheSameObject) {
  mpp::Pool pool;
  const mpp::RemoteError* seen = nullptr;
  auto result = pool.map_async(throw_at_seven, iota_vector(10), 2,
                               mpp::error_callback([&seen](const mpp::RemoteError& e) { seen = &e; }));
  try {
    result.get();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(seen, dynamic_cast<const mpp::RemoteError*>(&e)) << "error_callback got another object";
    EXPECT_EQ(seen->item(), 7u);
  }
  seen = nullptr;
  auto failing =
      pool.apply_async(throw_parse, 1, mpp::error_callback([&seen](const mpp::RemoteError& e) { seen = &e; }));
  try {
    failing.get();
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(seen, dynamic_cast<const mpp::RemoteError*>(&e));
  }
  auto imap = pool.imap(throw_at_seven, iota_vector(10));
  EXPECT_THROW(
      {
        while (imap.next()) {
        }
      },
      std::invalid_argument);
  auto unordered = pool.imap_unordered(throw_line, iota_vector(3));
  EXPECT_THROW(unordered.next(), LineError);
  EXPECT_THROW(pool.starmap([](int a, int) { return throw_at_seven(a); }, std::vector<std::tuple<int, int>>{{7, 0}}),
               std::invalid_argument);
}

TEST(RemoteErrors, ExecutorFuturesAndIsolatedPoolsThrowTheTypeToo) {
  {
    mpp::ProcessPoolExecutor executor(1);
    auto future = executor.submit(throw_line, 0);
    EXPECT_THROW(future.result(), LineError);
    EXPECT_THROW(std::rethrow_exception(future.exception()), ParseError);
  }
  mpp::Pool isolated(mpp::PoolOptions{.processes = 2, .isolated = true});
  EXPECT_THROW(isolated.apply(throw_parse, 0), ParseError);
  EXPECT_THROW(isolated.map(throw_at_seven, iota_vector(9)), std::invalid_argument);
}

TEST(RemoteErrors, NonStandardExceptionsAreReportedToo) {
  mpp::Pool pool;
  try {
    pool.apply(throw_int, 0);
    FAIL();
  } catch (const std::runtime_error& caught) {
    const auto& e = dynamic_cast<const mpp::RemoteError&>(caught);
    EXPECT_EQ(e.type(), "int");
    EXPECT_EQ(e.thrown_as(), "");
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
