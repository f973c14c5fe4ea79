// Long runs: journal (resume, refusal, torn records, reading while it runs), retries, progress.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mpp/mpp.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_functions.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// Where this job's tasks log their calls: one line per call, the item.
std::string calls_path() { return "/tmp/mpp_calls_" + std::to_string(mpp::Session::current().master_pid()) + ".log"; }

void log_call(int x) {
  const std::string line = std::to_string(x) + "\n";
  const int fd = ::open(calls_path().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    throw std::runtime_error("cannot log a call");
  ::close(fd);
}

int logged_square(int x) {
  log_call(x);
  return x * x;
}

int slow_logged_square(int x) {
  std::this_thread::sleep_for(2ms);
  return logged_square(x);
}

int logged_cube(int x) {
  log_call(x);
  return x * x * x;
}

/// The items called since the log was last cleared.
std::multiset<int> calls() {
  std::multiset<int> items;
  std::ifstream in(calls_path());
  for (int x; in >> x;) items.insert(x);
  return items;
}

/// Fails the first time it meets an item in {7, 8}, on whichever rank: the retry succeeds.
int fails_once_at_seven(int x) {
  if (x == 7 || x == 8) {
    const std::string marker = calls_path() + ".tried" + std::to_string(x);
    if (::access(marker.c_str(), F_OK) != 0) {
      std::ofstream(marker) << "tried";
      throw std::runtime_error("first attempt at " + std::to_string(x) + " fails");
    }
  }
  return x * x;
}

/// Dies of SIGSEGV the first time it meets item 7: an isolated pool's retry succeeds.
int crashes_once_at_seven(int x) {
  if (x == 7) {
    const std::string marker = calls_path() + ".tried7";
    if (::access(marker.c_str(), F_OK) != 0) {
      std::ofstream(marker) << "tried";
      std::raise(SIGSEGV);
    }
  }
  return x * x;
}

int always_fails_at_seven(int x) {
  if (x == 7) throw std::domain_error("seven never works");
  return x;
}

class LongRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mpp_long_run_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    fs::remove(calls_path());
  }
  void TearDown() override {
    fs::remove_all(dir_);
    for (const char* suffix : {"", ".tried7", ".tried8"}) fs::remove(calls_path() + suffix);
  }
  std::string journal_path() const { return (dir_ / "map.journal").string(); }

  fs::path dir_;
};

std::vector<int> squares(const std::vector<int>& xs) {
  std::vector<int> out;
  for (int x : xs) out.push_back(x * x);
  return out;
}

TEST_F(LongRun, AJournaledMapRerunReturnsTheSavedResultsWithoutRunningAnything) {
  const auto xs = mpp_test::iota_vector(300);
  mpp::Pool pool;
  EXPECT_EQ(pool.map(logged_square, xs, mpp::journal(journal_path())), squares(xs));
  EXPECT_EQ(calls().size(), xs.size());
  const auto status = mpp::journal_status(journal_path());
  EXPECT_EQ(status.items, xs.size());
  EXPECT_EQ(status.done, xs.size());

  fs::remove(calls_path());
  EXPECT_EQ(pool.map(logged_square, xs, mpp::journal(journal_path())), squares(xs));
  EXPECT_TRUE(calls().empty()) << "a finished map ran " << calls().size() << " items again";
}

TEST_F(LongRun, ARerunAfterAnAbortMidwayComputesOnlyTheMissingItems) {
  const auto xs = mpp_test::iota_vector(600);
  {
    mpp::Pool pool;
    auto pending = pool.map_async(slow_logged_square, xs, 5, mpp::journal(journal_path(), 5ms));
    // Stop it once part of it is journaled: a job killed by its time limit, as far as the journal knows.
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (mpp::journal_status(journal_path()).done < 100 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(1ms);
    pool.terminate();
    pool.join();  // the tasks that were running finish (their results discarded) before we count calls
    EXPECT_THROW(pending.get(), mpp::TerminatedError);
  }
  const auto saved = mpp::journal_status(journal_path()).done;
  ASSERT_GE(saved, 100u);
  ASSERT_LT(saved, xs.size()) << "the map finished before it could be stopped; make its tasks slower";

  fs::remove(calls_path());
  mpp::Pool pool;
  EXPECT_EQ(pool.map(slow_logged_square, xs, mpp::journal(journal_path())), squares(xs));
  const auto rerun = calls();
  EXPECT_EQ(rerun.size(), xs.size() - saved) << "the rerun must compute exactly the items the journal lacks";
  EXPECT_EQ(std::set<int>(rerun.begin(), rerun.end()).size(), rerun.size()) << "an item ran twice";
  EXPECT_EQ(mpp::journal_status(journal_path()).done, xs.size());
}

TEST_F(LongRun, AJournalWrittenForOtherInputsOrAnotherFunctionIsRefusedAndLeftAlone) {
  const auto xs = mpp_test::iota_vector(50);
  mpp::Pool pool;
  pool.map(logged_square, xs, 5, mpp::journal(journal_path()));
  const auto size = fs::file_size(journal_path());

  auto other_inputs = xs;
  other_inputs[23] = 1000;
  try {
    pool.map(logged_square, other_inputs, mpp::journal(journal_path()));
    FAIL() << "a journal of other inputs was used";
  } catch (const mpp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("items 20..24 of other arguments"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pool.map(logged_cube, xs, mpp::journal(journal_path())), mpp::UsageError);
  EXPECT_THROW(pool.map(logged_square, mpp_test::iota_vector(51), mpp::journal(journal_path())), mpp::UsageError);
  std::ofstream(dir_ / "not_a_journal") << "some text a user keeps here";
  EXPECT_THROW(pool.map(logged_square, xs, mpp::journal((dir_ / "not_a_journal").string())), std::runtime_error);
  EXPECT_EQ(fs::file_size(journal_path()), size);

  fs::remove(calls_path());
  EXPECT_EQ(pool.map(logged_square, xs, mpp::journal(journal_path())), squares(xs));
  EXPECT_TRUE(calls().empty());
}

TEST_F(LongRun, ATornLastRecordIsDroppedAndItsItemsRunAgain) {
  const auto xs = mpp_test::iota_vector(40);
  mpp::Pool pool;
  pool.map(logged_square, xs, 10, mpp::journal(journal_path()));
  // A kill mid-write leaves part of the last record: cut into it.
  fs::resize_file(journal_path(), fs::file_size(journal_path()) - 7);
  EXPECT_EQ(mpp::journal_status(journal_path()).done, 30u);

  fs::remove(calls_path());
  testing::internal::CaptureStderr();
  const auto again = pool.map(logged_square, xs, mpp::journal(journal_path()));
  const std::string said = testing::internal::GetCapturedStderr();
  EXPECT_EQ(again, squares(xs));
  EXPECT_NE(said.find("dropped a torn last record"), std::string::npos) << said;
  EXPECT_EQ(calls().size(), 10u) << "only the torn chunk's items run again";
  EXPECT_EQ(mpp::journal_status(journal_path()).done, xs.size());
}

TEST_F(LongRun, ACorruptedRecordIsNeverReplayed) {
  const auto xs = mpp_test::iota_vector(40);
  mpp::Pool pool;
  pool.map(logged_square, xs, 10, mpp::journal(journal_path()));
  {  // flip a byte of the last record's results
    std::fstream file(journal_path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-3, std::ios::end);
    file.put('\x7f');
  }
  fs::remove(calls_path());
  testing::internal::CaptureStderr();
  EXPECT_EQ(pool.map(logged_square, xs, mpp::journal(journal_path())), squares(xs));
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(calls().size(), 10u);
}

TEST_F(LongRun, AJournalCanBeReadWhileItsMapRuns) {
  const auto xs = mpp_test::iota_vector(400);
  mpp::Pool pool;
  auto pending = pool.map_async(slow_logged_square, xs, 4, mpp::journal(journal_path(), 5ms));
  std::vector<std::size_t> seen;
  while (!pending.ready()) {
    seen.push_back(mpp::journal_status(journal_path()).done);
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_EQ(pending.get(), squares(xs));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [&](std::size_t d) { return d > 0 && d < xs.size(); }))
      << "the journal never showed a map partly done";
  EXPECT_EQ(mpp::journal_status(journal_path()).done, xs.size()) << "every result is on disk when the map returns";
}

TEST_F(LongRun, TwoMapsCannotShareOneJournalAtOnce) {
  const auto xs = mpp_test::iota_vector(200);
  mpp::Pool pool;
  auto first = pool.map_async(slow_logged_square, xs, mpp::journal(journal_path()));
  EXPECT_THROW(pool.map_async(slow_logged_square, xs, mpp::journal(journal_path())), mpp::UsageError);
  EXPECT_EQ(first.get(), squares(xs));
}

TEST_F(LongRun, RetriesRunAFailedChunkAgainAndTheMapSucceeds) {
  const auto xs = mpp_test::iota_vector(30);
  mpp::Pool pool;
  EXPECT_EQ(pool.map(fails_once_at_seven, xs, 1, mpp::retries(1)), squares(xs));
}

TEST_F(LongRun, RetriesRunACrashedChunkOfAnIsolatedPoolAgain) {
  const auto xs = mpp_test::iota_vector(30);
  mpp::Pool pool(mpp::PoolOptions{.isolated = true});
  EXPECT_EQ(pool.map(crashes_once_at_seven, xs, 2, mpp::retries(1)), squares(xs));
  EXPECT_TRUE(fs::exists(calls_path() + ".tried7")) << "item 7 never crashed: the test proves nothing";
}

TEST_F(LongRun, RetriesExhaustedReportEveryAttemptOnAnotherWorkerEachTime) {
  const auto xs = mpp_test::iota_vector(30);
  mpp::Pool pool;
  try {
    pool.map(always_fails_at_seven, xs, 1, mpp::retries(2));
    FAIL() << "the map succeeded";
  } catch (const mpp::RemoteError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.type(), "std::domain_error");
    EXPECT_EQ(e.item(), 7u);
    std::vector<int> ranks;
    const std::regex attempt(R"(\[(\d)\] std::domain_error: seven never works on rank (\d+), host )");
    for (auto it = std::sregex_iterator(what.begin(), what.end(), attempt); it != std::sregex_iterator(); ++it)
      ranks.push_back(std::stoi((*it)[2]));
    ASSERT_EQ(ranks.size(), 3u) << what;
    if (pool.size() > 1)
      for (std::size_t i = 1; i < ranks.size(); ++i) EXPECT_NE(ranks[i], ranks[i - 1]) << what;
  }
}

TEST_F(LongRun, WithoutRetriesAFailureIsReportedOnceAsBefore) {
  mpp::Pool pool;
  try {
    pool.map(always_fails_at_seven, mpp_test::iota_vector(10), 1);
    FAIL();
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(std::string(e.what()).find("every attempt"), std::string::npos) << e.what();
  }
}

TEST_F(LongRun, AJournalKeepsTheChunksThatSucceededWhenAnotherFails) {
  const auto xs = mpp_test::iota_vector(30);
  mpp::Pool pool;
  EXPECT_THROW(pool.map(always_fails_at_seven, xs, 5, mpp::journal(journal_path())), mpp::RemoteError);
  EXPECT_EQ(mpp::journal_status(journal_path()).done, 25u);
}

TEST_F(LongRun, ProgressOnAMapPrintsItsTotalsToStderr) {
  mpp::Pool pool;
  testing::internal::CaptureStderr();
  pool.map(logged_square, mpp_test::iota_vector(120), mpp::progress());
  const std::string said = testing::internal::GetCapturedStderr();
  EXPECT_NE(said.find("mpp: map 120/120 items (100%)"), std::string::npos) << said;
}

TEST(ProgressMeter, NotOnATerminalItPrintsAtMostOneLinePerInterval) {
  std::FILE* out = std::tmpfile();
  mpp::detail::ProgressMeter meter(1000, 0, out, false, std::chrono::seconds(1), std::nullopt);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    meter.add(1);
    std::this_thread::sleep_for(2500us);
  }
  meter.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::rewind(out);
  int lines = 0;
  std::string last;
  for (char text[256]; std::fgets(text, sizeof text, out);) {
    ++lines;
    last = text;
  }
  std::fclose(out);
  EXPECT_LE(lines, static_cast<int>(seconds) + 1);
  EXPECT_GE(lines, 2) << "a line per interval while it runs, and the last";
  EXPECT_NE(last.find("1000/1000 items (100%)"), std::string::npos) << last;
  EXPECT_EQ(last.find('\r'), std::string::npos);
}

TEST(ProgressMeter, TheEtaComesFromTheMeasuredRate) {
  std::FILE* out = std::tmpfile();
  mpp::detail::ProgressMeter meter(100, 0, out, false, std::chrono::seconds(60), std::nullopt);
  const auto start = std::chrono::steady_clock::now();
  meter.add(25);
  const std::string text = meter.line(start + std::chrono::seconds(10));
  std::fclose(out);
  EXPECT_NE(text.find("25/100 items (25%), 2.5 items/s, elapsed 0:00:10, ETA 0:00:30"), std::string::npos) << text;
}

TEST(ProgressMeter, WarnsOnceWhenTheRateEndsTheMapAfterTheJobsEnd) {
  std::FILE* out = std::tmpfile();
  mpp::detail::ProgressMeter meter(1000, 0, out, false, std::chrono::seconds(3600),
                                   std::chrono::system_clock::now() + std::chrono::seconds(60));
  meter.add(1);
  std::this_thread::sleep_for(5100ms);  // the rate is judged after five seconds: 2 items in 5 s, 1000 need 40 min
  meter.add(1);
  meter.add(1);
  std::rewind(out);
  std::string said;
  for (char text[256]; std::fgets(text, sizeof text, out);) said += text;
  std::fclose(out);
  const auto first = said.find("ends after the job's time limit");
  EXPECT_NE(first, std::string::npos) << said;
  EXPECT_EQ(said.find("ends after the job's time limit", first + 1), std::string::npos) << "warned twice: " << said;
}

}  // namespace
