// A scientific code that owns MPI and embeds mpp on a sub-communicator.
//
//   mpirun -np 8 build/jobs/embedded_analysis [--analysis-ranks K] [--steps N]
//
// All ranks run a 1-D heat-diffusion simulation with halo exchange (plain MPI). Then the
// first K ranks (default: half) form a sub-communicator and start an mpp::Session on it:
// its master fans the analysis of every snapshot out over a Pool, while the other ranks go on
// with their own MPI work. The workers return from the Session constructor when the analysis
// is done, and every rank meets again in MPI_COMM_WORLD. mpp never finalizes MPI here.
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mpp/mpp.hpp>
#include <numeric>
#include <string>
#include <vector>

namespace {

constexpr int cells_per_rank = 4096;

/// One snapshot's statistics: computed by an mpp worker.
struct Stats {
  double mean, max, energy;
};
Stats analyse(std::vector<double> field) {
  const double sum = std::accumulate(field.begin(), field.end(), 0.0);
  double energy = 0;
  for (double u : field) energy += u * u;
  return {sum / static_cast<double>(field.size()), *std::max_element(field.begin(), field.end()), energy};
}

/// Explicit diffusion steps on this rank's cells, exchanging one halo cell with each neighbour.
void diffuse(std::vector<double>& u, int steps, int rank, int size) {
  const int left = rank > 0 ? rank - 1 : MPI_PROC_NULL;
  const int right = rank + 1 < size ? rank + 1 : MPI_PROC_NULL;
  std::vector<double> next(u.size());
  for (int step = 0; step < steps; ++step) {
    double from_left = u.front();
    double from_right = u.back();
    MPI_Sendrecv(&u.front(), 1, MPI_DOUBLE, left, 0, &from_right, 1, MPI_DOUBLE, right, 0, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    MPI_Sendrecv(&u.back(), 1, MPI_DOUBLE, right, 1, &from_left, 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    for (std::size_t i = 0; i < u.size(); ++i) {
      const double l = i > 0 ? u[i - 1] : from_left;
      const double r = i + 1 < u.size() ? u[i + 1] : from_right;
      next[i] = u[i] + 0.25 * (l - 2 * u[i] + r);
    }
    u.swap(next);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int analysis_ranks = std::max(2, size / 2);
  int steps = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--analysis-ranks") analysis_ranks = std::atoi(argv[i + 1]);
    if (arg == "--steps") steps = std::atoi(argv[i + 1]);
  }
  if (size < 2 || analysis_ranks < 2 || analysis_ranks > size) {
    if (rank == 0) std::fprintf(stderr, "embedded_analysis: needs 2 <= --analysis-ranks <= ranks (have %d)\n", size);
    MPI_Finalize();
    return 2;
  }

  // The simulation: a hot spot in the middle of the global rod, snapshots every `steps`.
  std::vector<double> u(cells_per_rank, 0.0);
  if (rank == size / 2) u[cells_per_rank / 2] = 1000.0;
  std::vector<std::vector<double>> snapshots;  // gathered on rank 0
  for (int snapshot = 0; snapshot < 8; ++snapshot) {
    diffuse(u, steps, rank, size);
    std::vector<double> global(rank == 0 ? static_cast<std::size_t>(size) * cells_per_rank : 0);
    MPI_Gather(u.data(), cells_per_rank, MPI_DOUBLE, global.data(), cells_per_rank, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) snapshots.push_back(std::move(global));
  }

  // The analysis: mpp on the first `analysis_ranks` ranks only.
  MPI_Comm analysis;
  MPI_Comm_split(MPI_COMM_WORLD, rank < analysis_ranks ? 0 : MPI_UNDEFINED, rank, &analysis);
  double energy_sum = 0;
  if (analysis != MPI_COMM_NULL) {
    mpp::Session session(analysis);  // workers serve here, and return when the master is done
    if (session.is_master()) {
      mpp::Pool pool;
      const auto stats = pool.map(analyse, snapshots, 1);
      for (std::size_t s = 0; s < stats.size(); ++s) {
        std::printf("snapshot %zu: mean %.6f max %.4f energy %.4f\n", s, stats[s].mean, stats[s].max, stats[s].energy);
        energy_sum += stats[s].energy;
      }
      std::printf("analysis: %zu snapshots on %d workers of %d ranks\n", stats.size(), pool.size(), size);
    }
    MPI_Comm_free(&analysis);
  }

  // Everyone is back in the simulation's world: total heat is conserved, and MPI still works.
  double local_heat = std::accumulate(u.begin(), u.end(), 0.0);
  double heat = 0;
  MPI_Allreduce(&local_heat, &heat, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Bcast(&energy_sum, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    std::printf("result: total heat %.6f (conserved: %s), %d ranks back in MPI_COMM_WORLD\n", heat,
                std::abs(heat - 1000.0) < 1e-6 ? "yes" : "NO", size);
  }
  MPI_Finalize();
  return std::abs(heat - 1000.0) < 1e-6 && energy_sum > 0 ? 0 : 1;
}
