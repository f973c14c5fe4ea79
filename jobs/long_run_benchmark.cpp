// What the long-run options cost: the same map plain and with mpp::journal, mpp::retries(2),
// mpp::progress() and mpp::status_log, measured in turns in one run, on tasks of 1 ms (in
// mpp's default chunks, and one per chunk as a sweep runs them) and on tiny tasks.
//
//   mpirun -np 3 build/jobs/long_run_benchmark [MS_TASKS=10000] [TINY_TASKS=1000000] [ROUNDS=3]
//
// Prints the median of ROUNDS for each, and the overhead of the options in percent. The issue's
// target: at most 5% on the 1 ms tasks. Tiny tasks pay for the journal's bytes (each result
// written and fdatasync'd) and its argument hash, the copy of every chunk kept for a retry;
// the status log costs a row per chunk (per item at chunksize 1).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mpp/mpp.hpp>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

/// A millisecond of arithmetic, as a real task would spend it (not a sleep).
double one_millisecond(int x) {
  const auto until = Clock::now() + std::chrono::milliseconds(1);
  double sum = x;
  while (Clock::now() < until)
    for (int i = 0; i < 100; ++i) sum = sum * 0.999 + i;
  return sum;
}

int tiny(int x) { return x * 3 + 1; }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

template <class F>
double seconds_of(F&& run) {
  const auto start = Clock::now();
  run();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Plain and with options, in turns, at `chunksize` (0: mpp's default); the journal and the
/// status log are removed before each run so every run computes and logs afresh.
template <class F>
void compare(mpp::Pool& pool, const char* what, F f, int items, int chunksize, int rounds) {
  std::vector<int> xs(static_cast<std::size_t>(items));
  for (int i = 0; i < items; ++i) xs[static_cast<std::size_t>(i)] = i;
  const std::string journal = "long_run_benchmark.journal";
  const std::string status_log = "long_run_benchmark.tasks.tsv";
  std::vector<double> plain, optioned;
  for (int round = 0; round < rounds; ++round) {
    plain.push_back(seconds_of([&] { pool.map(f, xs, chunksize); }));
    std::filesystem::remove(journal);
    std::filesystem::remove(status_log);
    optioned.push_back(seconds_of([&] {
      pool.map(f, xs, chunksize, mpp::journal(journal), mpp::retries(2), mpp::progress(std::chrono::seconds(3600)),
               mpp::status_log(status_log));
    }));
  }
  const auto journal_bytes = std::filesystem::file_size(journal);
  const auto log_bytes = std::filesystem::file_size(status_log);
  std::filesystem::remove(journal);
  std::filesystem::remove(status_log);
  const double a = median(plain), b = median(optioned);
  std::printf("%-26s %10d %12.3f %12.3f %+9.1f%% %11.2f %9.2f\n", what, items, a, b, 100 * (b - a) / a,
              journal_bytes / 1e6, log_bytes / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const int ms_tasks = argc > 1 ? std::stoi(argv[1]) : 10000;
  const int tiny_tasks = argc > 2 ? std::stoi(argv[2]) : 1000000;
  const int rounds = argc > 3 ? std::stoi(argv[3]) : 3;
  mpp::Pool pool;
  std::printf(
      "long-run options: plain map vs journal + retries(2) + progress + status_log, %d workers, median of %d in "
      "turns\n",
      pool.size(), rounds);
  std::printf("%-26s %10s %12s %12s %10s %11s %9s\n", "tasks", "items", "plain s", "options s", "overhead",
              "journal MB", "log MB");
  compare(pool, "1 ms of arithmetic", one_millisecond, ms_tasks, 0, rounds);
  compare(pool, "1 ms, chunksize 1", one_millisecond, ms_tasks, 1, rounds);
  compare(pool, "tiny (x*3+1)", tiny, tiny_tasks, 0, rounds);
}
