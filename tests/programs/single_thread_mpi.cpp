// Embedded mode over an MPI initialised without MPI_THREAD_MULTIPLE must be refused clearly.
#include <mpi.h>

#include <cstdio>
#include <mpp/mpp.hpp>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  try {
    mpp::Session session(MPI_COMM_WORLD);
  } catch (const mpp::UsageError& e) {
    std::printf("refused: %s\n", e.what());
    MPI_Finalize();
    return 0;
  }
  MPI_Finalize();
  return 1;
}
