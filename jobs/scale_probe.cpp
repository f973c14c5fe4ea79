// Scale probe: what one master costs per task and per map item, and the task rate it sustains,
// so that the size at which a single master saturates on a real cluster can be computed
// (docs/ARCHITECTURE.md, "How far one master goes"). One row per run; jobs/scale_probe.sh runs
// it at 3, 9, 17 and 33 ranks.
//   mpirun -np N build/jobs/scale_probe [--header]
// Columns: tiny apply_async tasks (batched) and 0.3 ms tasks (sent one at a time, as every task
// of 0.2 ms or more is: the cost a 10 ms task has), each with the master's CPU per task (all
// its threads: getrusage); a map of 1M ints with the master's CPU per item. With enough
// workers the 0.3 ms tasks saturate the master: their rate is then what one master sustains,
// and their CPU per task its cost when busy (with few workers it includes its waiting).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <mpp/mpp.hpp>
#include <numeric>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int square(int x) { return x * x; }

int sleep_300us(int x) {
  std::this_thread::sleep_for(std::chrono::microseconds(300));
  return x;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

/// Runs `work`; its wall seconds and the master's CPU seconds.
template <class Work>
std::pair<double, double> timed(Work&& work) {
  const double cpu = cpu_seconds();
  const auto start = Clock::now();
  work();
  return {std::chrono::duration<double>(Clock::now() - start).count(), cpu_seconds() - cpu};
}

template <class F>
std::pair<double, double> apply_async_all(mpp::Pool& pool, F f, int tasks) {
  return timed([&] {
    std::vector<mpp::AsyncResult<int>> results;
    results.reserve(static_cast<std::size_t>(tasks));
    for (int i = 0; i < tasks; ++i) results.push_back(pool.apply_async(f, i));
    for (auto& result : results) result.get();
  });
}

}  // namespace

int main(int argc, char** argv) {
  const bool header = argc > 1 && std::strcmp(argv[1], "--header") == 0;
  mpp::Session session(argc, argv);
  mpp::Pool pool;
  const int workers = pool.size();
  pool.map(square, std::vector<int>(1000, 1));  // warm up

  const int tiny_tasks = 100'000;
  const auto [tiny_wall, tiny_cpu] = apply_async_all(pool, square, tiny_tasks);
  const int short_tasks = 1000 * workers;
  const auto [short_wall, short_cpu] = apply_async_all(pool, sleep_300us, short_tasks);
  std::vector<int> items(1'000'000);
  std::iota(items.begin(), items.end(), 0);
  const auto [map_wall, map_cpu] = timed([&] { pool.map(square, items); });

  if (header)
    std::printf("%5s %7s | %12s %12s | %13s %12s %10s | %12s %12s\n", "ranks", "workers", "tiny tasks/s", "us CPU/task",
                "0.3ms tasks/s", "us CPU/task", "efficiency", "map items/s", "ns CPU/item");
  // Efficiency of the 0.3 ms tasks: the ideal time (tasks x 0.3 ms / workers) over the measured.
  std::printf("%5d %7d | %12.3g %12.2f | %13.3g %12.2f %10.2f | %12.3g %12.2f\n", session.size(), workers,
              tiny_tasks / tiny_wall, 1e6 * tiny_cpu / tiny_tasks, short_tasks / short_wall,
              1e6 * short_cpu / short_tasks, short_tasks * 0.3e-3 / workers / short_wall, items.size() / map_wall,
              1e9 * map_cpu / items.size());
}
