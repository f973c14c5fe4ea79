// Shared-state benchmark: Value and Lock from 2 workers, side by side with Python's
// multiprocessing.Value / Lock (jobs/python/shared_benchmark.py) in one run.
//
//   mpirun -np 3 build/jobs/shared_benchmark [--quick] [--no-python]                 shared-memory path
//   MPP_FORCE_RMA=1 mpirun -np 3 build/jobs/shared_benchmark [--quick] --no-python   RMA path
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mpp/mpp.hpp>
#include <mutex>
#include <string>

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

  const double py_locked = py.count("locked_increments_per_s") ? py.at("locked_increments_per_s") : NAN;
  const double py_latency = py.count("lock_latency_ns") ? py.at("lock_latency_ns") : NAN;
  std::printf("mpp shared-state benchmark, %s path: 2 workers vs Python multiprocessing (2 processes)%s\n",
              rma ? "RMA (MPP_FORCE_RMA=1)" : "shared-memory", quick ? " (quick)" : "");
  std::printf("%-44s %14s %14s %9s\n", "workload", "mpp", "python", "ratio");
  std::printf("%-44s %14.4g %14.4g %8.1fx\n", "locked increments (lock; get; set; unlock) /s", locked, py_locked,
              locked / py_locked);
  std::printf("%-44s %14.4g %14.4g %8.1fx\n", "fetch_add /s  (vs Python's locked increments)", atomic, py_locked,
              atomic / py_locked);
  std::printf("%-44s %14.4g %14.4g %8.1fx\n", "uncontended Lock acquire+release, ns", latency, py_latency,
              py_latency / latency);
}
