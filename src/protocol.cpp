#include "mpp/detail/protocol.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace mpp::detail {

void send_bytes(MPI_Comm comm, int dest, Tag tag, std::span<const char> bytes) {
  if (in_child()) {
    const RelayedMessage message{static_cast<int>(tag), bytes};
    return relay_send(dest, {&message, 1});
  }
  check_mpi(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, static_cast<int>(tag), comm),
            "MPI_Send");
}

Matched wait_for_announced(MPI_Comm comm, int source, Tag tag, const char* what) {
  constexpr auto patience = std::chrono::seconds(10);
  const auto give_up = std::chrono::steady_clock::now() + patience;
  for (unsigned polls = 1;; ++polls) {
    if (auto matched = try_match(comm, source, static_cast<int>(tag))) return *matched;
    if (std::chrono::steady_clock::now() >= give_up)
      throw MalformedMessage(std::string("mpp: ") + what + " announced by an earlier message did not come within 10 s");
    if (polls % polls_per_yield == 0) std::this_thread::yield();
  }
}

void end_job_on_malformed(const char* channel, int sender, const std::exception& problem) {
  const std::string what =
      std::string("a malformed ") + channel + " message from rank " + std::to_string(sender) + ": " + problem.what();
  if (in_child()) relay_end_job("(in a child process) " + what);
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::fprintf(stderr, "mpp: rank %d (world) on %s received %s; ending the job\n", rank, host, what.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 3);
  std::_Exit(3);
}

}  // namespace mpp::detail
