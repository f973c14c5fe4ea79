// Shared-state benchmark: Value and Lock from 2 workers, and 8 tasks sharing one locked Value and
// one locked histogram over all workers (oversubscribed at -np 9 on a small machine), side by side
// with Python's multiprocessing.Value / Array / Lock (jobs/python/shared_benchmark.py) in one run.
//
//   mpirun -np 3 build/jobs/shared_benchmark [--quick] [--no-python]                 shared-memory path
//   mpirun -np 9 --oversubscribe build/jobs/shared_benchmark                        8 workers on fewer cores
//   MPP_FORCE_RMA=1 mpirun -np 3 build/jobs/shared_benchmark [--quick] --no-python   RMA path
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mpp/mpp.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "python_baseline.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double locked_increments(mpp::Value<long> v, long n) {
  for (long i = 0; i < n; ++i) {
    std::lock_guard<mpp::Lock> hold(v.get_lock());
    v.set(v.get() + 1);
  }
  return 0;
}

double atomic_increments(mpp::Value<long> v, long n) {
  for (long i = 0; i < n; ++i) v.fetch_add(1);
  return 0;
}

/// Seconds per uncontended acquire + release of a lock hosted on the master, from a worker.
double lock_round_trip(mpp::Lock lock, long n) {
  const auto start = Clock::now();
  for (long i = 0; i < n; ++i) {
    lock.acquire();
    lock.release();
  }
  return std::chrono::duration<double>(Clock::now() - start).count() / n;
}

/// A histogram of `n` pseudo-random samples into `bins`, one locked read-modify-write each.
double histogram_samples(mpp::Array<long> bins, long n, long seed) {
  std::uint64_t x = static_cast<std::uint64_t>(seed) * 2654435761u + 1;
  for (long i = 0; i < n; ++i) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    const std::size_t bin = (x >> 33) % bins.size();
    std::lock_guard<mpp::Lock> hold(bins.get_lock());
    bins.set(bin, bins.get(bin) + 1);
  }
  return 0;
}

/// Seconds for `tasks` tasks, each f(shared, n, task), on every worker of `pool`.
template <class F, class Shared>
double seconds_for_tasks(mpp::Pool& pool, F f, Shared shared, long n, int tasks) {
  const auto start = Clock::now();
  std::vector<mpp::AsyncResult<double>> results;
  for (int t = 0; t < tasks; ++t) results.push_back(pool.apply_async(f, shared, n, long{t}));
  for (auto& r : results) r.get();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double locked_increments_task(mpp::Value<long> v, long n, long) { return locked_increments(v, n); }

/// Operations per second when both workers run f(v, n).
template <class F>
double rate_from_two_workers(mpp::Pool& pool, F f, long n) {
  mpp::Value<long> v(0);
  const auto start = Clock::now();
  auto a = pool.apply_async(f, v, n);
  auto b = pool.apply_async(f, v, n);
  a.get();
  b.get();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (v.get() != 2 * n) std::fprintf(stderr, "LOST UPDATES: %ld of %ld\n", v.get(), 2 * n);
  return 2 * n / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const auto options = jobs::BenchmarkOptions::parse(argc, argv);
  const bool quick = options.quick;
  const auto py = options.python_baseline("shared_benchmark.py");
  const char* force = std::getenv("MPP_FORCE_RMA");
  const bool rma = force && std::string(force) == "1";
  mpp::Pool pool(2);
  const long n = rma ? (quick ? 2'000 : 20'000) : (quick ? 100'000 : 1'000'000);

  const double locked = rate_from_two_workers(pool, locked_increments, n);
  const double atomic = rate_from_two_workers(pool, atomic_increments, n);
  mpp::Lock lock;
  const double latency = pool.apply(lock_round_trip, lock, n) * 1e9;

  // 8 tasks on every worker: 8 ranks on a 2-core laptop wait for each other's locks.
  constexpr int tasks = 8;
  const long per_task = rma ? (quick ? 200 : 1'000) : (quick ? 2'000 : 10'000);
  mpp::Pool all;
  mpp::Value<long> counter(0);
  const double counter_s = seconds_for_tasks(all, locked_increments_task, counter, per_task, tasks);
  if (counter.get() != tasks * per_task) std::fprintf(stderr, "LOST UPDATES in the 8-task counter\n");
  mpp::Array<long> bins(16, 0);
  const double histogram_s = seconds_for_tasks(all, histogram_samples, bins, per_task, tasks);
  long samples = 0;
  for (long b : bins.to_vector()) samples += b;
  if (samples != tasks * per_task) std::fprintf(stderr, "LOST UPDATES in the histogram\n");

  auto python = [&](const char* key) { return py.count(key) ? py.at(key) : NAN; };
  const double py_locked = python("locked_increments_per_s");
  const double py_latency = python("lock_latency_ns");
  const double py_counter_s = python("eight_task_counter_s") * per_task / python("eight_task_per_task");
  const double py_histogram_s = python("eight_task_histogram_s") * per_task / python("eight_task_per_task");
  std::printf("mpp shared-state benchmark, %s path: 2 workers vs Python multiprocessing (2 processes)%s\n",
              rma ? "RMA (MPP_FORCE_RMA=1)" : "shared-memory", quick ? " (quick)" : "");
  std::printf("%-44s %14s %14s %9s\n", "workload", "mpp", "python", "ratio");
  std::printf("%-44s %14.4g %14.4g %8.1fx\n", "locked increments (lock; get; set; unlock) /s", locked, py_locked,
              locked / py_locked);
  std::printf("%-44s %14.4g %14.4g %8.1fx\n", "fetch_add /s  (vs Python's locked increments)", atomic, py_locked,
              atomic / py_locked);
  std::printf("%-44s %14.4g %14.4g %8.1fx\n", "uncontended Lock acquire+release, ns", latency, py_latency,
              py_latency / latency);
  std::printf("8 tasks x %ld locked updates on %d workers (Python: 8 processes), seconds; ratio = python / mpp\n",
              per_task, all.size());
  std::printf("%-44s %14.4g %14.4g %8.1fx\n", "one locked Value, 8 tasks, s", counter_s, py_counter_s,
              py_counter_s / counter_s);
  std::printf("%-44s %14.4g %14.4g %8.1fx\n", "locked 16-bin histogram Array, 8 tasks, s", histogram_s, py_histogram_s,
              py_histogram_s / histogram_s);
}
