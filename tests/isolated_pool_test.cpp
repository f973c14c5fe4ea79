// Isolated pools: tasks in child processes that may crash, exit or hang without harm to the pool.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <mpp/mpp.hpp>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "test_functions.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using mpp_test::median;

namespace {

int square(int x) { return x * x; }

int own_pid(int) { return static_cast<int>(::getpid()); }

/// Items ending in 3 die of SIGSEGV, as a bad memory access would.
int square_or_crash(int x) {
  if (x % 10 == 3) std::raise(SIGSEGV);
  return x * x;
}

int exit_with(int code) { std::exit(code); }

int abort_now(int) { std::abort(); }

int throw_invalid(int x) { throw std::invalid_argument("no good: " + std::to_string(x)); }

int sleep_then_square(int x, int milliseconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
  return x * x;
}

/// Says which process runs it, then sleeps for good.
int hang(mpp::Queue<int> started) {
  started.put(static_cast<int>(::getpid()));
  for (;;) std::this_thread::sleep_for(1s);
}

int initialized = 0;
void initialize(int value) { initialized = value; }
int read_initialized(int) { return initialized; }

void add_under_lock(mpp::Value<int> total, mpp::Lock lock, int times) {
  for (int i = 0; i < times; ++i) {
    std::lock_guard guard(lock);
    total.set(total.get() + 1);
  }
}

/// Waits with every other task of the pool at `barrier`, then says which process it ran in.
int meet_then_pid(mpp::Barrier barrier) {
  barrier.wait(60s);
  return static_cast<int>(::getpid());
}

/// Items ending in 3 crash, item 7 hangs (for the pool's task_timeout), the rest square.
/// Starts a process of its own, as a shell command a task runs would, says its pid, and hangs.
int start_helper_then_hang(mpp::Queue<int> helpers) {
  const pid_t helper = ::fork();
  if (helper == 0) {
    ::pause();
    std::_Exit(0);
  }
  helpers.put(helper);
  ::pause();
  return 0;
}

int square_crash_or_hang(int x) {
  if (x == 7) std::this_thread::sleep_for(60s);
  return square_or_crash(x);
}

int workers() { return mpp::Session::current().workers(); }

/// More processes than the job has workers, and not a multiple of them: ranks get unequal shares.
int more_than_workers() { return 3 * workers() + 1; }

mpp::PoolOptions isolated() { return mpp::PoolOptions{.isolated = true}; }

/// True once no process has `pid` (a reaped child), within `patience`.
/// Reversed, with the sum appended; an item starting with 7 dies of SIGSEGV.
std::vector<double> reverse_and_sum(std::vector<double> xs) {
  if (!xs.empty() && xs.front() == 7) std::raise(SIGSEGV);
  const double sum = std::accumulate(xs.begin(), xs.end(), 0.0);
  std::ranges::reverse(xs);
  xs.push_back(sum);
  return xs;
}

/// Item i of a big input: 10000 doubles from i (80 KB: batches and results are handed off
/// through the rank's shared segment, not sent through the socket).
std::vector<double> big_item(int i) {
  std::vector<double> xs(10000);
  std::iota(xs.begin(), xs.end(), static_cast<double>(i));
  return xs;
}

/// Whether `pid` is dead: gone, or a zombie its new parent (init) has not reaped yet.
bool dead(int pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, name, state;
  return stat >> pid_field >> name >> state && state == "Z";
}

bool gone_within(int pid, std::chrono::milliseconds patience) {
  const auto deadline = Clock::now() + patience;
  while (Clock::now() < deadline) {
    if (dead(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace

TEST(IsolatedPool, GivesTheSameResultsAsAnInRankPool) {
  mpp::Pool pool(isolated());
  std::vector<int> xs(10000);
  for (int i = 0; i < 10000; ++i) xs[i] = i;
  const auto squares = pool.map(square, xs);
  ASSERT_EQ(squares.size(), xs.size());
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(squares[i], i * i);
  std::vector<mpp::AsyncResult<int>> results;
  for (int i = 0; i < 500; ++i) results.push_back(pool.apply_async(square, i));
  for (int i = 0; i < 500; ++i) EXPECT_EQ(results[i].get(), i * i);
}

TEST(IsolatedPool, RunsTasksInChildProcessesItKeeps) {
  mpp::Pool in_rank;
  std::set<int> rank_pids;
  for (int pid : in_rank.map(own_pid, std::vector<int>(50), 1)) rank_pids.insert(pid);
  mpp::Pool pool(isolated());
  std::set<int> child_pids;
  for (int pid : pool.map(own_pid, std::vector<int>(200), 1)) child_pids.insert(pid);
  for (int pid : child_pids) EXPECT_FALSE(rank_pids.contains(pid)) << "a task ran in the worker rank itself";
  EXPECT_LE(static_cast<int>(child_pids.size()), workers()) << "one child per worker, kept between tasks";
}

TEST(IsolatedPool, ACrashingTaskFailsAloneAndThePoolGoesOn) {
  mpp::Pool pool(isolated());
  std::vector<mpp::AsyncResult<int>> results;
  for (int i = 0; i < 100; ++i) results.push_back(pool.apply_async(square_or_crash, i));
  int crashed = 0;
  for (int i = 0; i < 100; ++i) {
    if (i % 10 != 3) {
      EXPECT_EQ(results[i].get(), i * i);
      continue;
    }
    try {
      results[i].get();
      ADD_FAILURE() << "item " << i << " should have crashed";
    } catch (const mpp::RemoteError& e) {
      ++crashed;
      EXPECT_EQ(e.type(), "mpp::ProcessCrashed");
      EXPECT_NE(e.message().find("SIGSEGV"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("pid"), std::string::npos) << e.message();
      EXPECT_GE(e.rank(), 1);
      EXPECT_FALSE(e.host().empty());
    }
  }
  EXPECT_EQ(crashed, 10);
  EXPECT_EQ(pool.apply(square, 12), 144);  // replaced children serve on
}

TEST(IsolatedPool, ImapUnorderedDeliversEveryItemThatDidNotCrash) {
  mpp::Pool pool(isolated());
  std::vector<int> xs(200);
  for (int i = 0; i < 200; ++i) xs[i] = i;
  auto results = pool.imap_unordered(square_or_crash, xs);
  std::set<int> got;
  std::set<std::uint64_t> failed_items;
  for (;;) {
    try {
      const auto value = results.next();
      if (!value) break;
      got.insert(*value);
    } catch (const mpp::RemoteError& e) {
      ASSERT_TRUE(e.item().has_value());
      failed_items.insert(*e.item());
    }
  }
  EXPECT_EQ(got.size(), 180u);
  for (int i = 0; i < 200; ++i) {
    if (i % 10 == 3) {
      EXPECT_TRUE(failed_items.contains(static_cast<std::uint64_t>(i))) << i;
    } else {
      EXPECT_TRUE(got.contains(i * i)) << i;
    }
  }
}

TEST(IsolatedPool, BigArgumentsAndResultsArriveIntactThroughCrashesAndRounds) {
  mpp::Pool pool(isolated());
  std::vector<std::vector<double>> items;
  for (int i = 0; i < 24; ++i) items.push_back(big_item(i));
  // A crash in the middle of a handed-off batch: the rest of it runs again from the block.
  auto results = pool.imap_unordered(reverse_and_sum, items);
  std::set<double> firsts_reversed;  // each result's first element is its item's last
  int crashed = 0;
  for (;;) {
    try {
      const auto value = results.next();
      if (!value) break;
      ASSERT_EQ(value->size(), 10001u);
      const double first = (*value)[9999];  // the item's first, now last but the sum
      EXPECT_EQ(*value, reverse_and_sum(big_item(static_cast<int>(first))));
      firsts_reversed.insert(first);
    } catch (const mpp::RemoteError& e) {
      EXPECT_EQ(e.item(), std::optional<std::uint64_t>(7));
      ++crashed;
    }
  }
  EXPECT_EQ(crashed, 1);
  EXPECT_EQ(firsts_reversed.size(), 23u);
  // Round after round, so blocks the shared segment handed out are given back.
  items[7] = big_item(100);
  for (int round = 0; round < 30; ++round) {
    const auto got = pool.map(reverse_and_sum, items, 2);
    ASSERT_EQ(got.size(), items.size());
    for (std::size_t i = 0; i < items.size(); ++i) ASSERT_EQ(got[i], reverse_and_sum(items[i])) << round << " " << i;
  }
}

TEST(IsolatedPool, ACrashInAMapChunkNamesTheItem) {
  mpp::Pool pool(isolated());
  std::vector<int> xs{0, 1, 2, 4, 5, 13, 6};
  try {
    pool.map(square_or_crash, xs, 7);
    FAIL() << "the map should have failed";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.item(), std::optional<std::uint64_t>(5));
    EXPECT_NE(e.message().find("SIGSEGV"), std::string::npos) << e.message();
  }
}

TEST(IsolatedPool, BigChunksOfRawResultsArriveIntactThroughACrashAndRounds) {
  // Chunks of 20000 ints (80 KB) are handed off through the rank's shared segment, and their
  // results are relayed apart from the results message (straight into the map's output).
  mpp::Pool pool(isolated());
  std::vector<int> xs(200000);
  for (int i = 0; i < 200000; ++i) xs[i] = (i % 4000) * 10;  // never ending in 3: no crash
  const auto check_round = [&](int round) {
    const auto got = pool.map(square_or_crash, xs, 20000);
    ASSERT_EQ(got.size(), xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) ASSERT_EQ(got[i], xs[i] * xs[i]) << "round " << round << " item " << i;
  };
  for (int round = 0; round < 10; ++round) check_round(round);
  xs[123457] = 13;
  try {
    pool.map(square_or_crash, xs, 20000);
    ADD_FAILURE() << "the map should have failed";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.item(), std::optional<std::uint64_t>(123457));
  }
  xs[123457] = 0;
  for (int round = 10; round < 20; ++round) check_round(round);
}

TEST(IsolatedPool, ExitAndAbortAreReportedAsSuch) {
  mpp::Pool pool(isolated());
  try {
    pool.apply(exit_with, 3);
    FAIL() << "exit(3) should fail the task";
  } catch (const mpp::RemoteError& e) {
    EXPECT_NE(e.message().find("exited with status 3"), std::string::npos) << e.message();
  }
  try {
    pool.apply(abort_now, 0);
    FAIL() << "abort() should fail the task";
  } catch (const mpp::RemoteError& e) {
    EXPECT_NE(e.message().find("SIGABRT"), std::string::npos) << e.message();
  }
  EXPECT_EQ(pool.apply(square, 9), 81);
}

TEST(IsolatedPool, AnExceptionKeepsTheChild) {
  mpp::Pool pool(mpp::PoolOptions{.processes = 1, .isolated = true});
  const int before = pool.apply(own_pid, 0);
  try {
    pool.apply(throw_invalid, 5);
    FAIL() << "the task throws";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.type(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "no good: 5");
  }
  EXPECT_EQ(pool.apply(own_pid, 0), before);
}

TEST(IsolatedPool, ATaskPastItsTimeoutIsKilled) {
  mpp::Pool pool(mpp::PoolOptions{.isolated = true, .task_timeout = 300ms});
  const auto start = Clock::now();
  auto slow = pool.apply_async(sleep_then_square, 3, 60000);
  auto quick = pool.apply_async(sleep_then_square, 4, 10);
  EXPECT_EQ(quick.get(), 16);
  try {
    slow.get();
    FAIL() << "the slow task should have been killed";
  } catch (const mpp::RemoteError& e) {
    EXPECT_EQ(e.type(), "mpp::TimeoutError");
    EXPECT_NE(e.message().find("task_timeout of 300 ms"), std::string::npos) << e.message();
  }
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_EQ(pool.apply(sleep_then_square, 5, 1), 25);
}

TEST(IsolatedPool, MaxTasksPerChildReplacesChildren) {
  mpp::Pool pool(mpp::PoolOptions{.processes = 1, .isolated = true, .maxtasksperchild = 2});
  const auto pids = pool.map(own_pid, std::vector<int>(20), 1);
  const std::set<int> distinct(pids.begin(), pids.end());
  EXPECT_EQ(distinct.size(), 10u);
  std::vector<mpp::AsyncResult<int>> batched;  // tiny tasks travel in batches: retiring mid-batch
  for (int i = 0; i < 40; ++i) batched.push_back(pool.apply_async(square, i));
  for (int i = 0; i < 40; ++i) EXPECT_EQ(batched[i].get(), i * i);
}

TEST(IsolatedPool, RanksTakeTheNextTasksPromptlyAfterALongMap) {
  // A rank relaying a map's batches to its child for a while is not idle for that while: when
  // the map ends, the next tasks must not wait out the 10 ms nap of a rank idle for long (they
  // did when its idle time counted from the map's first batch, the only one taken while idle).
  // Compared with the same map sent again at once, so a slow machine slows both.
  mpp::Pool pool(mpp::PoolOptions{.isolated = true});
  const std::vector<int> every_worker(static_cast<std::size_t>(workers()), 1);
  const auto map_ms = [&] {
    const auto start = Clock::now();
    EXPECT_EQ(pool.map(square, every_worker, 1), every_worker);
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  std::vector<double> after_long_map, again;
  for (int trial = 0; trial < 7; ++trial) {
    pool.starmap(sleep_then_square, std::vector<std::tuple<int, int>>(5 * workers(), {1, 40}), 1);
    after_long_map.push_back(map_ms());
    again.push_back(map_ms());
  }
  EXPECT_LT(median(after_long_map), median(again) + 4.0)
      << "median of 7 maps of one item per worker, right after a long map and once more at once (ms)";
}

TEST(IsolatedPool, TheInitializerRunsInEveryChild) {
  for (const int processes : {0, more_than_workers()}) {
    mpp::Pool pool(mpp::PoolOptions{.processes = processes, .isolated = true, .maxtasksperchild = 1}, initialize, 42);
    for (int value : pool.map(read_initialized, std::vector<int>(3 * pool.size()), 1)) EXPECT_EQ(value, 42);
    EXPECT_THROW(pool.apply(square_or_crash, 3), mpp::RemoteError);
    EXPECT_EQ(pool.apply(read_initialized, 0), 42);  // the crashed child's replacement too
  }
}

TEST(IsolatedPool, RunsAsManyProcessesAsAskedWhateverTheWorkers) {
  // Python's Pool(20) starts 20 processes; so does ours, on 1, 2 or 4 workers: all 20 tasks
  // wait for each other at one barrier, which passes only if all 20 run at once.
  constexpr int processes = 20;
  mpp::Pool pool(mpp::PoolOptions{.processes = processes, .isolated = true});
  EXPECT_EQ(pool.size(), processes);
  mpp::Barrier barrier(processes);
  const auto pids = pool.map(meet_then_pid, std::vector<mpp::Barrier>(processes, barrier), 1);
  const std::set<int> distinct(pids.begin(), pids.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(processes)) << "each task had a process of its own";
  for (int pid : distinct) EXPECT_NE(pid, static_cast<int>(::getpid()));
  // The children stay for the next tasks: a second meeting uses the same 20.
  const auto again = pool.map(meet_then_pid, std::vector<mpp::Barrier>(processes, barrier), 1);
  EXPECT_EQ(std::set<int>(again.begin(), again.end()), distinct);
  std::vector<int> xs(5000);
  for (int i = 0; i < 5000; ++i) xs[i] = i;
  const auto squares = pool.map(square, xs);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(squares[i], i * i);
}

TEST(IsolatedPool, CrashesAndTimeoutsAreBlamedPerTaskWithSeveralChildrenPerRank) {
  mpp::Pool pool(mpp::PoolOptions{.processes = more_than_workers(), .isolated = true, .task_timeout = 500ms});
  std::vector<mpp::AsyncResult<int>> results;
  for (int i = 0; i < 60; ++i) results.push_back(pool.apply_async(square_crash_or_hang, i));
  int crashed = 0;
  for (int i = 0; i < 60; ++i) {
    if (i % 10 != 3 && i != 7) {
      EXPECT_EQ(results[i].get(), i * i) << i;
      continue;
    }
    try {
      results[i].get();
      ADD_FAILURE() << "item " << i << " should have failed";
    } catch (const mpp::RemoteError& e) {
      if (i == 7) {
        EXPECT_EQ(e.type(), "mpp::TimeoutError") << e.message();
      } else {
        ++crashed;
        EXPECT_EQ(e.type(), "mpp::ProcessCrashed") << e.message();
        EXPECT_NE(e.message().find("SIGSEGV"), std::string::npos) << e.message();
      }
    }
  }
  EXPECT_EQ(crashed, 6);
  EXPECT_EQ(pool.apply(square, 12), 144);
}

TEST(IsolatedPool, SaysSoWhenItsProcessesOutnumberTheCores) {
  const int cores = mpp::cpu_count() * mpp::Session::current().nodes();
  testing::internal::CaptureStderr();
  { mpp::Pool fits(mpp::PoolOptions{.processes = std::min(cores, workers()), .isolated = true}); }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  testing::internal::CaptureStderr();
  // More processes than cores and than workers: the pool, not the launcher, crowds the cores.
  const int processes = std::max(cores, workers()) + 1;
  mpp::Pool crowded(mpp::PoolOptions{.processes = processes, .isolated = true});
  const std::string note = testing::internal::GetCapturedStderr();
  EXPECT_NE(note.find("share cores"), std::string::npos) << note;
  EXPECT_NE(note.find(std::to_string(processes) + " processes"), std::string::npos) << note;
  EXPECT_EQ(crowded.apply(square, 3), 9);
}

TEST(IsolatedPool, AnInRankPoolOfMoreThanTheWorkersPointsToIsolation) {
  try {
    mpp::Pool pool(workers() + 1);
    FAIL() << "an in-rank pool cannot have more processes than ranks";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(".isolated = true"), std::string::npos) << e.what();
  }
}

TEST(IsolatedPool, TimeoutAndTerminateKillTheProcessesATaskStarted) {
  mpp::Queue<int> helpers;
  mpp::Pool pool(mpp::PoolOptions{.isolated = true, .task_timeout = 500ms});
  auto timed_out = pool.apply_async(start_helper_then_hang, helpers);
  const int first = helpers.get(30s);
  EXPECT_THROW(timed_out.get(), mpp::RemoteError);
  EXPECT_TRUE(gone_within(first, 2000ms)) << "process " << first << " started by a timed-out task lives on";
  auto terminated = pool.apply_async(start_helper_then_hang, helpers);
  const int second = helpers.get(30s);
  pool.terminate();
  pool.join();
  EXPECT_TRUE(gone_within(second, 2000ms)) << "process " << second << " started by a task outlived terminate()";
}

class IsolatedPoolTerminate : public testing::TestWithParam<bool> {};

TEST_P(IsolatedPoolTerminate, KillsRunningTasksWithinASecond) {
  mpp::Queue<int> started;
  mpp::Pool pool(mpp::PoolOptions{.processes = GetParam() ? more_than_workers() : 0, .isolated = true});
  std::vector<mpp::AsyncResult<int>> results;
  for (int i = 0; i < pool.size(); ++i) results.push_back(pool.apply_async(hang, started));
  std::vector<int> pids;
  for (int i = 0; i < pool.size(); ++i) pids.push_back(started.get(30s));
  const auto start = Clock::now();
  pool.terminate();
  pool.join();
  EXPECT_LT(Clock::now() - start, 1s);
  for (auto& result : results) EXPECT_THROW(result.get(), mpp::TerminatedError);
  for (int pid : pids) EXPECT_TRUE(gone_within(pid, 2000ms)) << "child " << pid << " outlived terminate()";
}

INSTANTIATE_TEST_SUITE_P(OneOrSeveralChildrenPerRank, IsolatedPoolTerminate, testing::Bool());

TEST(IsolatedPool, SharedStateWorksFromItsChildren) {
  mpp::Value<int> total(0);
  mpp::Lock lock;
  mpp::Pool pool(isolated());
  std::vector<mpp::AsyncResult<void>> results;
  for (int i = 0; i < 6; ++i) results.push_back(pool.apply_async(add_under_lock, total, lock, 50));
  for (auto& result : results) result.get();
  EXPECT_EQ(total.get(), 300);
}

TEST(IsolatedPool, OptionsThatNeedIsolationSaySo) {
  EXPECT_THROW(mpp::Pool(mpp::PoolOptions{.task_timeout = 1s}), std::invalid_argument);
  EXPECT_THROW(mpp::Pool(mpp::PoolOptions{.maxtasksperchild = 3}), std::invalid_argument);
  EXPECT_THROW(mpp::Pool(mpp::PoolOptions{.isolated = true, .maxtasksperchild = -1}), std::invalid_argument);
  try {
    mpp::Pool pool(mpp::PoolOptions{.task_timeout = 1s});
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(".isolated = true"), std::string::npos) << e.what();
  }
}
