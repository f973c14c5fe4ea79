// A parameter sweep that survives the wall clock: starmap over temperatures x seeds, each task
// a small Monte Carlo run, with a journal, retries, progress, a status log (a row per task:
// where, when, how long, outcome, memory) and the job's time limit handled. Stopped by the
// time limit (or SIGUSR1/SIGTERM), it ends with mpp::wall_time_exit_code; run again with the
// same journal, it computes only what is missing and writes the CSV.
//   mpirun -np 5 build/jobs/resumable_sweep [seeds=8] [task_ms=200] [journal=sweep.journal] [csv=sweep.csv]
//                                           [status_log=sweep.tasks.tsv]
//   sbatch slurm/sweep_resumable.sbatch       (resubmits itself until done)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mpp/mpp.hpp>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

/// Mean energy per spin of a 1-D Ising ring at `temperature`, from a seeded Metropolis run
/// padded to `task_ms` of work: deterministic for a given (temperature, seed).
double simulate(double temperature, int seed, int task_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(task_ms);
  std::mt19937 random(static_cast<unsigned>(seed));
  std::uniform_real_distribution<double> uniform(0, 1);
  constexpr int spins = 64;
  std::vector<int> s(spins, 1);
  double energy_sum = 0;
  constexpr int sweeps = 2000;
  for (int sweep = 0; sweep < sweeps; ++sweep) {
    for (int i = 0; i < spins; ++i) {
      const int neighbours = s[(i + 1) % spins] + s[(i + spins - 1) % spins];
      const double delta = 2.0 * s[i] * neighbours;
      if (delta <= 0 || uniform(random) < std::exp(-delta / temperature)) s[i] = -s[i];
    }
    double energy = 0;
    for (int i = 0; i < spins; ++i) energy -= s[i] * s[(i + 1) % spins];
    energy_sum += energy / spins;
  }
  std::this_thread::sleep_until(until);  // stands in for a longer simulation
  return energy_sum / sweeps;
}

}  // namespace

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const int seeds = argc > 1 ? std::stoi(argv[1]) : 8;
  const int task_ms = argc > 2 ? std::stoi(argv[2]) : 200;
  const std::string journal = argc > 3 ? argv[3] : "sweep.journal";
  const std::string csv = argc > 4 ? argv[4] : "sweep.csv";
  const std::string tasks = argc > 5 ? argv[5] : "sweep.tasks.tsv";

  std::vector<std::tuple<double, int, int>> params;
  for (int t = 0; t < 12; ++t)
    for (int seed = 0; seed < seeds; ++seed) params.emplace_back(0.5 + 0.25 * t, seed, task_ms);

  mpp::Pool pool;
  const auto start = std::chrono::steady_clock::now();
  const auto energies = pool.starmap(simulate, params, 1, mpp::journal(journal), mpp::retries(1), mpp::progress(),
                                     mpp::status_log(tasks));
  pool.close();
  pool.join();

  std::ofstream out(csv);
  out << "temperature,seed,energy\n";
  char line[96];
  for (std::size_t i = 0; i < params.size(); ++i) {
    std::snprintf(line, sizeof line, "%.2f,%d,%.6f\n", std::get<0>(params[i]), std::get<1>(params[i]), energies[i]);
    out << line;
  }
  std::cout << "sweep: " << params.size() << " tasks on " << pool.size() << " workers in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s; wrote " << csv
            << " (journal " << journal << ", status log " << tasks << ")\n";
}
