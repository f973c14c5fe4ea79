// mpp's executors against concurrent.futures.ProcessPoolExecutor(2), mpi4py.futures'
// MPIPoolExecutor (master + 2 workers) and multiprocessing.pool.ThreadPool(2), in one run:
// submit-then-result throughput of 20k trivial tasks, the submit+result round trip, and a
// ThreadPool map of 1e5 trivial items. Python runs first, while mpp's workers idle.
//   tools/mpprun -np 3 build/jobs/executor_benchmark [--quick] [--no-python] [--strict]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mpp/mpp.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "python_baseline.hpp"

namespace {

using Clock = std::chrono::steady_clock;

int trivial(int x) { return x; }

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double throughput(mpp::ProcessPoolExecutor& executor, int tasks) {
  const auto start = Clock::now();
  std::vector<mpp::Future<int>> futures;
  futures.reserve(static_cast<std::size_t>(tasks));
  for (int i = 0; i < tasks; ++i) futures.push_back(executor.submit(trivial, i));
  for (auto& f : futures) f.result();
  return tasks / seconds_since(start);
}

/// The best of 3 rounds, as the Python side measures it.
double round_trip_us(mpp::ProcessPoolExecutor& executor, int trips) {
  for (int i = 0; i < 20; ++i) executor.submit(trivial, i).result();
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    const auto start = Clock::now();
    for (int i = 0; i < trips; ++i) executor.submit(trivial, i).result();
    best = std::min(best, seconds_since(start));
  }
  return best / trips * 1e6;
}

double thread_pool_map(int items) {
  std::vector<int> xs(static_cast<std::size_t>(items));
  std::iota(xs.begin(), xs.end(), 0);
  mpp::ThreadPool pool(2);
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    const auto start = Clock::now();
    const auto ys = pool.map(trivial, xs);
    best = std::min(best, seconds_since(start));
    if (ys.back() != items - 1) std::abort();
  }
  return items / best;
}

/// mpi4py.futures under its own mpirun (master + 2 workers), with a clean environment: the
/// variables of this job's launcher would make it a part of this job.
std::map<std::string, double> mpi4py_baseline(const jobs::BenchmarkOptions& options) {
  if (!options.with_python) return {};
  const char* path = std::getenv("PATH");
  const std::string launch =
      std::string("env -i PATH='") + (path ? path : "/usr/bin:/bin") +
      "' OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 3 " + options.python +
      " -m mpi4py.futures";
  return jobs::run_python_baseline(launch, "executor_benchmark.py",
                                   std::string("--mpi4py") + (options.quick ? " --quick" : ""));
}

struct Row {
  const char* label;
  double ours;
  double theirs;
  bool higher_is_better;
  double target;
  const char* unit;
};

bool print_table(const char* title, const char* baseline, const std::vector<Row>& rows) {
  std::printf("\n%s\n%-40s %12s %12s %9s %8s  %s\n", title, "workload", "mpp", baseline, "ratio", "target", "unit");
  bool all_met = true;
  for (const auto& row : rows) {
    if (row.theirs <= 0) {
      std::printf("%-40s %12.4g %12s %9s %8s  %s\n", row.label, row.ours, "-", "-", "-", row.unit);
      continue;
    }
    const double ratio = row.higher_is_better ? row.ours / row.theirs : row.theirs / row.ours;
    const bool met = ratio >= row.target;
    all_met = all_met && met;
    std::printf("%-40s %12.4g %12.4g %8.1fx %7.0fx  %s %s\n", row.label, row.ours, row.theirs, ratio, row.target,
                row.unit, met ? "ok" : "MISSED");
  }
  return all_met;
}

}  // namespace

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const auto options = jobs::BenchmarkOptions::parse(argc, argv);
  const int tasks = options.quick ? 2000 : 20000;
  const int trips = options.quick ? 200 : 2000;
  const int items = options.quick ? 10000 : 100000;

  auto python = options.python_baseline("executor_benchmark.py");
  auto mpi4py = mpi4py_baseline(options);

  mpp::ProcessPoolExecutor executor(std::min(2, session.workers()));
  const double ours_submit = throughput(executor, tasks);
  const double ours_trip = round_trip_us(executor, trips);
  const double ours_map = thread_pool_map(items);

  std::printf("executor_benchmark: %d ranks (master + %d workers), %d tasks, %d round trips, %d map items\n",
              session.size(), session.workers(), tasks, trips, items);
  bool met =
      print_table("mpp vs concurrent.futures / multiprocessing (Python, 2 workers)", "python",
                  {{"submit-then-result throughput", ours_submit, python["cf_submit_per_s"], true, 20, "tasks/s"},
                   {"submit+result round trip", ours_trip, python["cf_round_trip_us"], false, 20, "us"},
                   {"ThreadPool(2).map trivial items", ours_map, python["threadpool_map_per_s"], true, 10, "items/s"}});
  met &=
      print_table("mpp vs mpi4py.futures.MPIPoolExecutor (master + 2 workers)", "mpi4py",
                  {{"submit-then-result throughput", ours_submit, mpi4py["mpi4py_submit_per_s"], true, 20, "tasks/s"},
                   {"submit+result round trip", ours_trip, mpi4py["mpi4py_round_trip_us"], false, 20, "us"}});
  return options.strict && !met ? 1 : 0;
}
