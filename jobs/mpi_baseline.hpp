#pragma once
// What an MPI expert writes by hand for the pool benchmark's workloads: the physical-limit side
// of a side-by-side benchmark. Rank 0 is the master and hands out work, as in mpp; the other
// ranks compute. Call on every rank of `comm`, before an mpp::Session takes them; the figures
// are those rank 0 measured (the best of `runs`).
//
//   map        MPI_Scatterv of the items to the workers, a loop, MPI_Gatherv back
//   ping-pong  MPI_Send/MPI_Recv of one int between ranks 0 and 1
//   farm       self-scheduled: one item per message, two in flight per worker, the next item
//              sent to whichever worker answers
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <vector>

namespace jobs {

struct MpiBaseline {
  double map_items_per_s = 0;
  double round_trip_us = 0;
  double farm_tasks_per_s = 0;
};

namespace mpi_baseline {

inline int square(int x) { return static_cast<int>(static_cast<unsigned>(x) * static_cast<unsigned>(x)); }

/// The best of `runs` timed runs after one untimed run, as the mpp side measures.
template <class Run>
double best_seconds(MPI_Comm comm, int runs, Run&& run) {
  run();
  double best = 1e300;
  for (int i = 0; i < runs; ++i) {
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    run();
    best = std::min(best, MPI_Wtime() - start);
  }
  return best;
}

/// `xs` and `out` hold the `items` on rank 0 only.
inline void map(MPI_Comm comm, int rank, int size, int items, const std::vector<int>& xs, std::vector<int>& out) {
  const int workers = size - 1;
  std::vector<int> counts(static_cast<std::size_t>(size), 0), displs(static_cast<std::size_t>(size), 0);
  for (int r = 1; r < size; ++r) counts[r] = items / workers + (r - 1 < items % workers ? 1 : 0);
  std::partial_sum(counts.begin(), counts.end() - 1, displs.begin() + 1);
  std::vector<int> mine(static_cast<std::size_t>(counts[rank]));
  MPI_Scatterv(xs.data(), counts.data(), displs.data(), MPI_INT, mine.data(), counts[rank], MPI_INT, 0, comm);
  for (int& x : mine) x = square(x);
  MPI_Gatherv(mine.data(), counts[rank], MPI_INT, out.data(), counts.data(), displs.data(), MPI_INT, 0, comm);
}

inline void ping_pong(MPI_Comm comm, int rank, int round_trips) {
  int value = 0;
  for (int i = 0; i < round_trips; ++i) {
    if (rank == 0) {
      MPI_Send(&i, 1, MPI_INT, 1, 0, comm);
      MPI_Recv(&value, 1, MPI_INT, 1, 0, comm, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(&value, 1, MPI_INT, 0, 0, comm, MPI_STATUS_IGNORE);
      MPI_Send(&value, 1, MPI_INT, 0, 0, comm);
    }
  }
}

inline void farm(MPI_Comm comm, int rank, int size, int tasks) {
  constexpr int task_tag = 1, stop_tag = 2, in_flight = 2;
  if (rank != 0) {
    for (;;) {
      int x = 0;
      MPI_Status status;
      MPI_Recv(&x, 1, MPI_INT, 0, MPI_ANY_TAG, comm, &status);
      if (status.MPI_TAG == stop_tag) return;
      const int y = square(x);
      MPI_Send(&y, 1, MPI_INT, 0, task_tag, comm);
    }
  }
  int next = 0;
  for (int k = 0; k < in_flight; ++k)
    for (int r = 1; r < size && next < tasks; ++r, ++next) MPI_Send(&next, 1, MPI_INT, r, task_tag, comm);
  std::vector<int> results(static_cast<std::size_t>(tasks));
  for (int done = 0; done < tasks; ++done) {
    int y = 0;
    MPI_Status status;
    MPI_Recv(&y, 1, MPI_INT, MPI_ANY_SOURCE, task_tag, comm, &status);
    results[static_cast<std::size_t>(done)] = y;
    if (next < tasks) {
      MPI_Send(&next, 1, MPI_INT, status.MPI_SOURCE, task_tag, comm);
      ++next;
    }
  }
  for (int r = 1; r < size; ++r) MPI_Send(nullptr, 0, MPI_INT, r, stop_tag, comm);
}

}  // namespace mpi_baseline

inline MpiBaseline run_mpi_baseline(MPI_Comm comm, int items, int round_trips, int farm_tasks, int runs) {
  int rank = 0, size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  MpiBaseline figures;
  if (size < 2) return figures;
  std::vector<int> xs, out;
  if (rank == 0) {
    xs.resize(static_cast<std::size_t>(items));
    std::iota(xs.begin(), xs.end(), 0);
    out.resize(xs.size());
  }
  figures.map_items_per_s =
      items / mpi_baseline::best_seconds(comm, runs, [&] { mpi_baseline::map(comm, rank, size, items, xs, out); });
  figures.round_trip_us =
      mpi_baseline::best_seconds(comm, runs, [&] { mpi_baseline::ping_pong(comm, rank, round_trips); }) / round_trips *
      1e6;
  figures.farm_tasks_per_s =
      farm_tasks / mpi_baseline::best_seconds(comm, runs, [&] { mpi_baseline::farm(comm, rank, size, farm_tasks); });
  return figures;
}

}  // namespace jobs
