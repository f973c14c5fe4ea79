// Embedded mode: the program owns MPI, runs mpp on a sub-communicator, and keeps using MPI
// after the session — on every rank, workers included.
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <mpp/mpp.hpp>
#include <numeric>

namespace {
int square(int x) { return x * x; }
int fail(const char* what) {
  std::fprintf(stderr, "embedded_session: %s\n", what);
  MPI_Abort(MPI_COMM_WORLD, 2);
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int world_rank = 0;
  int world_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);

  // The last world rank stays out of mpp: the session must not need it.
  MPI_Comm sub;
  const bool in_mpp = world_rank < world_size - 1;
  MPI_Comm_split(MPI_COMM_WORLD, in_mpp ? 0 : MPI_UNDEFINED, world_rank, &sub);

  int checksum = 0;
  if (in_mpp) {
    mpp::Session session(sub);  // workers serve in here and return when the master is done
    if (session.is_master()) {
      mpp::Pool pool;
      std::vector<int> xs(100);
      std::iota(xs.begin(), xs.end(), 0);
      const auto ys = pool.map(square, xs);
      checksum = std::accumulate(ys.begin(), ys.end(), 0);
      if (checksum != 328350) return fail("wrong map result");
    } else if (session.rank() == 0) {
      return fail("a worker claims to be the master");
    }
    MPI_Comm_free(&sub);
  }
  // Everyone is back in the user's code: MPI still works and nobody finalized it.
  int finalized = 1;
  MPI_Finalized(&finalized);
  if (finalized) return fail("mpp finalized an MPI it does not own");
  int total = 0;
  MPI_Allreduce(&checksum, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (total != 328350) return fail("the master's result did not reach the allreduce");
  if (world_rank == 0) std::printf("embedded ok: %d ranks returned, checksum %d\n", world_size, total);
  MPI_Finalize();
  return 0;
}
