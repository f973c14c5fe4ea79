#include "mpp/detail/protocol.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace mpp::detail {

void end_job_on_malformed(const char* channel, int sender, const std::exception& problem) {
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::fprintf(stderr, "mpp: rank %d (world) on %s received a malformed %s message from rank %d: %s; ending the job\n",
               rank, host, channel, sender, problem.what());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 3);
  std::_Exit(3);
}

}  // namespace mpp::detail
