// mpp::CommExecutor in a program that owns MPI: the root (argv[1]) submits, every other rank
// serves inside the constructor; afterwards all ranks are back in the program and MPI works.
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mpp/mpp.hpp>
#include <set>
#include <vector>

namespace {
int world_rank_of_task(int) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  ::usleep(2000);  // long enough that every worker gets some
  return rank;
}
int square(int x) { return x * x; }
}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int world_rank = 0;
  int world_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  const int root = argc > 1 ? std::atoi(argv[1]) : 0;
  char summary[200] = "no summary";
  {
    mpp::CommExecutor executor(MPI_COMM_WORLD, root);
    if (executor) {
      if (world_rank != root) MPI_Abort(MPI_COMM_WORLD, 2);
      std::vector<mpp::Future<int>> futures;
      for (int i = 0; i < 200; ++i) futures.push_back(executor->submit(world_rank_of_task, i));
      std::set<int> ranks;
      for (auto& f : futures) ranks.insert(f.result());
      long sum = 0;
      for (int y : executor->map(square, std::vector<int>{1, 2, 3, 4})) sum += y;
      std::snprintf(summary, sizeof summary, "comm executor: %zu serving ranks, root %d %s, map sum %ld", ranks.size(),
                    root, ranks.count(root) ? "ran tasks" : "ran none", sum);
    } else if (world_rank == root) {
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
  }
  int everyone = 0;
  const int one = 1;
  MPI_Allreduce(&one, &everyone, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (world_rank == root)
    std::printf("%s; after the executor: %d of %d ranks back in MPI\n", summary, everyone, world_size);
  MPI_Finalize();
}
