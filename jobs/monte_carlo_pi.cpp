// Monte Carlo estimate of pi on a Pool: the default job of the slurm/ scripts.
//
//   mpirun -np 4 build/jobs/monte_carlo_pi [--samples N] [--seed S] [--idle SECONDS]
//                                          [--fail] [--kill-worker]
//
// --idle first lets every rank wait SECONDS and prints the CPU they used meanwhile (idle ranks
// must sleep, not spin). --fail makes one task throw and --kill-worker makes a worker process
// die: both must end the job with a non-zero status, never leave it hanging.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mpp/mpp.hpp>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

/// (rank, CPU seconds so far) of the worker that runs it.
std::tuple<int, double> worker_cpu(int) { return {mpp::current_process().rank, cpu_seconds()}; }

enum class Sabotage { none, fail, kill_worker };

/// Points of [0,1)^2 inside the unit circle, out of `samples`, from a stream seeded by `seed`.
std::uint64_t count_hits(std::uint64_t seed, std::uint64_t samples, Sabotage sabotage) {
  if (sabotage == Sabotage::fail) throw std::runtime_error("the random stream failed on purpose (--fail)");
  if (sabotage == Sabotage::kill_worker) std::abort();
  auto mix = [](std::uint64_t z) {  // splitmix64's finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  // Scramble the seed: seeds one apart must not give streams one step apart.
  std::uint64_t state = mix(seed + 0x632BE59BD9B4E019ull);
  auto next = [&] { return mix(state += 0x9E3779B97F4A7C15ull) >> 11; };  // 53 random bits
  constexpr double scale = 1.0 / 9007199254740992.0;                      // 2^-53
  std::uint64_t hits = 0;
  for (std::uint64_t i = 0; i < samples; ++i) {
    const double x = next() * scale;
    const double y = next() * scale;
    hits += x * x + y * y < 1.0;
  }
  return hits;
}

/// Waits `seconds` with every rank idle and prints how much CPU the ranks used meanwhile.
void report_idle_cpu(mpp::Pool& pool, double seconds) {
  const std::vector<int> one_per_worker(static_cast<std::size_t>(pool.size()), 0);
  const auto before = pool.map(worker_cpu, one_per_worker, 1);
  const double master_before = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto after = pool.map(worker_cpu, one_per_worker, 1);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double workers_cpu = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (std::get<0>(before[i]) != std::get<0>(after[i])) continue;  // not the same rank: skip
    workers_cpu += std::get<1>(after[i]) - std::get<1>(before[i]);
  }
  const double master_cpu = cpu_seconds() - master_before;
  std::printf("idle: %d workers used %.2f%% of a core each, the master %.2f%%, over %.1f s\n", pool.size(),
              100 * workers_cpu / (wall * pool.size()), 100 * master_cpu / wall, wall);
}

}  // namespace

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  std::uint64_t samples = 50'000'000;
  std::uint64_t seed = 1;
  double idle_seconds = 0;
  Sabotage sabotage = Sabotage::none;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--samples" && i + 1 < argc)
      samples = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--seed" && i + 1 < argc)
      seed = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--idle" && i + 1 < argc)
      idle_seconds = std::atof(argv[++i]);
    else if (arg == "--fail")
      sabotage = Sabotage::fail;
    else if (arg == "--kill-worker")
      sabotage = Sabotage::kill_worker;
    else
      throw std::invalid_argument("monte_carlo_pi: unknown argument " + arg);
  }

  mpp::Pool pool;
  std::printf("ranks: %d (1 master + %d workers) on %d node%s, %d cores per node\n", session.size(), session.workers(),
              session.nodes(), session.nodes() == 1 ? "" : "s", mpp::cpu_count());
  if (idle_seconds > 0) report_idle_cpu(pool, idle_seconds);

  // Four streams per worker, so the work balances; the last one may be sabotaged.
  const std::size_t streams = 4 * static_cast<std::size_t>(pool.size());
  std::vector<std::tuple<std::uint64_t, std::uint64_t, Sabotage>> tasks;
  for (std::size_t s = 0; s < streams; ++s)
    tasks.emplace_back(seed * 1'000'003 + s, samples / streams + (s < samples % streams),
                       s + 1 == streams ? sabotage : Sabotage::none);
  const auto start = std::chrono::steady_clock::now();
  const auto hits = pool.starmap(count_hits, tasks);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t total = std::accumulate(hits.begin(), hits.end(), std::uint64_t{0});
  std::printf("result: pi ~= %.6f from %llu samples in %.3f s (seed %llu)\n", 4.0 * total / samples,
              static_cast<unsigned long long>(samples), seconds, static_cast<unsigned long long>(seed));
}
