// Long runs: journal (resume, refusal, torn records, reading while it runs), retries, progress,
// status log, on map and imap; the MPP_VERBOSE summary's tally.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mpp/detail/status_log_file.hpp>
#include <mpp/detail/task_statistics.hpp>
#include <mpp/mpp.hpp>
#include <regex>
#include <set>
#include <sstream>
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

/// One row of a status log, its columns by name.
using StatusRow = std::map<std::string, std::string>;

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, '\t');) fields.push_back(field);
  return fields;
}

/// The rows of the status log at `path`, checking it has exactly one column line, first.
std::vector<StatusRow> status_rows(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  const auto columns = split_tabs(line);
  EXPECT_EQ(line + "\n", mpp::detail::StatusLogFile::columns);
  std::vector<StatusRow> rows;
  while (std::getline(in, line)) {
    const auto fields = split_tabs(line);
    EXPECT_EQ(fields.size(), columns.size()) << line;
    EXPECT_NE(fields.at(0), "item") << "a second column line";
    StatusRow row;
    for (std::size_t i = 0; i < std::min(fields.size(), columns.size()); ++i) row[columns[i]] = fields[i];
    rows.push_back(row);
  }
  return rows;
}

double unix_seconds_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST_F(LongRun, AStatusLogHasARowPerTaskSayingWhereWhenHowLongAndHowMuchMemory) {
  const auto xs = mpp_test::iota_vector(30);
  const std::string log = (dir_ / "tasks.tsv").string();
  mpp::Pool pool;
  const double before = unix_seconds_now();
  EXPECT_EQ(pool.map(slow_logged_square, xs, 3, mpp::status_log(log)), squares(xs));
  const double after = unix_seconds_now();
  const auto rows = status_rows(log);  // on disk when the map returns
  ASSERT_EQ(rows.size(), 10u);
  const auto& session = mpp::Session::current();
  std::set<int> firsts;
  for (const auto& row : rows) {
    firsts.insert(std::stoi(row.at("item")));
    EXPECT_EQ(row.at("items"), "3");
    EXPECT_EQ(row.at("attempt"), "1");
    const int rank = std::stoi(row.at("rank"));
    ASSERT_GE(rank, 1);
    ASSERT_LT(rank, session.size());
    EXPECT_EQ(row.at("host"), session.host_of(rank));
    EXPECT_EQ(std::stoi(row.at("pid")), session.pid_of(rank));
    const double start = std::stod(row.at("start"));
    const double end = std::stod(row.at("end"));
    const double seconds = std::stod(row.at("seconds"));
    EXPECT_GE(start, before - 1);  // clocks of one host; a second of slack for rounding
    EXPECT_LE(end, after + 1);
    EXPECT_NEAR(end - start, seconds, 0.002);
    EXPECT_GE(seconds, 0.006) << "three items of 2 ms";
    EXPECT_EQ(row.at("outcome"), "ok");
    EXPECT_GT(std::stol(row.at("peak_rss_kib")), 1000) << "a worker process holds more than 1 MiB";
  }
  EXPECT_EQ(firsts, (std::set<int>{0, 3, 6, 9, 12, 15, 18, 21, 24, 27}));
}

TEST_F(LongRun, AStatusLogRecordsEveryAttemptWithItsExceptionTypeAndAppendsAcrossMaps) {
  const auto xs = mpp_test::iota_vector(12);
  const std::string log = (dir_ / "tasks.tsv").string();
  mpp::Pool pool;
  EXPECT_EQ(pool.map(fails_once_at_seven, xs, 1, mpp::retries(1), mpp::status_log(log)), squares(xs));
  EXPECT_THROW(pool.map(always_fails_at_seven, xs, 1, mpp::status_log(log)), mpp::RemoteError);
  const auto rows = status_rows(log);
  ASSERT_EQ(rows.size(), 12u + 2u + 12u) << "items 7 and 8 ran twice in the first map";
  std::map<std::pair<int, int>, std::string> outcomes;  // (item, attempt) of the first map
  for (std::size_t i = 0; i < 14; ++i)
    outcomes[{std::stoi(rows[i].at("item")), std::stoi(rows[i].at("attempt"))}] = rows[i].at("outcome");
  EXPECT_EQ(outcomes.size(), 14u);
  EXPECT_EQ((outcomes[{7, 1}]), "std::runtime_error");
  EXPECT_EQ((outcomes[{7, 2}]), "ok");
  EXPECT_EQ((outcomes[{8, 1}]), "std::runtime_error");
  EXPECT_EQ((outcomes[{3, 1}]), "ok");
  const auto seventh =
      std::find_if(rows.begin() + 14, rows.end(), [](const StatusRow& r) { return r.at("item") == "7"; });
  ASSERT_NE(seventh, rows.end());
  EXPECT_EQ(seventh->at("outcome"), "std::domain_error");
}

TEST_F(LongRun, AStatusLogOfAnIsolatedPoolNamesTheChildProcessAndTheSignalThatEndedIt) {
  const auto xs = mpp_test::iota_vector(12);
  const std::string log = (dir_ / "tasks.tsv").string();
  mpp::Pool pool(mpp::PoolOptions{.isolated = true});
  EXPECT_EQ(pool.map(crashes_once_at_seven, xs, 1, mpp::retries(1), mpp::status_log(log)), squares(xs));
  const auto rows = status_rows(log);
  ASSERT_EQ(rows.size(), 13u);
  const auto& session = mpp::Session::current();
  int crashes = 0;
  for (const auto& row : rows) {
    const int rank = std::stoi(row.at("rank"));
    EXPECT_NE(std::stoi(row.at("pid")), session.pid_of(rank)) << "the task ran in a child, not the rank";
    EXPECT_GT(std::stol(row.at("peak_rss_kib")), 0);
    if (row.at("item") == "7" && row.at("attempt") == "1") {
      ++crashes;
      EXPECT_EQ(row.at("outcome"), "signal SIGSEGV");
    } else {
      EXPECT_EQ(row.at("outcome"), "ok");
    }
  }
  EXPECT_EQ(crashes, 1);
}

TEST_F(LongRun, ImapTakesTheLongRunOptions) {
  const auto xs = mpp_test::iota_vector(40);
  const std::string log = (dir_ / "tasks.tsv").string();
  mpp::Pool pool;
  std::vector<int> got;
  for (int y : pool.imap(logged_square, xs, 4, mpp::journal(journal_path()), mpp::status_log(log))) got.push_back(y);
  EXPECT_EQ(got, squares(xs));
  EXPECT_EQ(mpp::journal_status(journal_path()).done, xs.size()) << "journaled by the time the last result is out";
  EXPECT_EQ(status_rows(log).size(), 10u);

  fs::remove(calls_path());
  got.clear();
  for (int y : pool.imap(logged_square, xs, 4, mpp::journal(journal_path()))) got.push_back(y);
  EXPECT_EQ(got, squares(xs));
  EXPECT_TRUE(calls().empty()) << "the rerun ran " << calls().size() << " items the journal holds";

  got.clear();
  for (int y : pool.imap_unordered(fails_once_at_seven, xs, mpp::retries(1))) got.push_back(y);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, squares(xs)) << "a failed item ran again instead of surfacing";

  testing::internal::CaptureStderr();
  for (int y : pool.imap_unordered(logged_square, xs, 5, mpp::progress())) (void)y;
  const std::string said = testing::internal::GetCapturedStderr();
  EXPECT_NE(said.find("mpp: map 40/40 items (100%)"), std::string::npos) << said;
}

TEST_F(LongRun, ImapWithoutItemsOrWithAFailureThatRetriesCannotMendEndsAsBefore) {
  mpp::Pool pool;
  int count = 0;
  for (int y : pool.imap(logged_square, std::vector<int>{}, mpp::journal(journal_path()))) count += y + 1;
  EXPECT_EQ(count, 0);
  EXPECT_EQ(mpp::journal_status(journal_path()).items, 0u);
  auto results = pool.imap(always_fails_at_seven, mpp_test::iota_vector(10), mpp::retries(1));
  std::vector<int> got;
  EXPECT_THROW(
      {
        for (;;) {
          auto y = results.next();
          if (!y) break;
          got.push_back(*y);
        }
      },
      mpp::RemoteError);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  std::vector<int> rest;
  for (auto y = results.next(); y; y = results.next()) rest.push_back(*y);
  EXPECT_EQ(rest, (std::vector<int>{8, 9}));
}

TEST(TaskStatistics, TalliesBusyTimePerWorkerTheBalanceAndTheSlowestTasks) {
  mpp::detail::TaskStatistics tally(4);  // master + 3 workers
  tally.record(1, 3'000'000'000, 0);
  tally.record(1, 1'000'000'000, 5);
  tally.record(2, 2'000'000'000, 10);
  tally.record(2, 500'000'000, mpp::detail::no_item);
  for (int i = 0; i < 10; ++i) tally.record(3, 100'000'000, 20 + static_cast<std::uint64_t>(i));
  const std::string text = tally.summary({"master", "n1", "n2", "n3"});
  EXPECT_NE(text.find("mpp: summary: 14 pool tasks on 3 workers"), std::string::npos) << text;
  EXPECT_NE(text.find("rank 1 on n1: 2 tasks, busy 4.000 s"), std::string::npos) << text;
  EXPECT_NE(text.find("rank 2 on n2: 2 tasks, busy 2.500 s"), std::string::npos) << text;
  EXPECT_NE(text.find("rank 3 on n3: 10 tasks, busy 1.000 s"), std::string::npos) << text;
  EXPECT_LT(text.find("rank 1 on"), text.find("rank 3 on")) << "busiest first";
  // mean busy (4 + 2.5 + 1) / 3 = 2.5 s over the busiest 4 s
  EXPECT_NE(text.find("mean busy 2.500 s / busiest 4.000 s = 0.62"), std::string::npos) << text;
  const auto slowest = text.find("slow: 3.000 s the map chunk from item 0 on rank 1, n1");
  const auto second = text.find("slow: 2.000 s the map chunk from item 10 on rank 2, n2");
  EXPECT_NE(slowest, std::string::npos) << text;
  EXPECT_NE(second, std::string::npos) << text;
  EXPECT_LT(slowest, second);
  EXPECT_NE(text.find("slow: 0.500 s a single task"), std::string::npos) << text;
  std::size_t slow_lines = 0;
  for (auto at = text.find("slow: "); at != std::string::npos; at = text.find("slow: ", at + 1)) ++slow_lines;
  EXPECT_EQ(slow_lines, 5u) << "the five slowest, no more";
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
