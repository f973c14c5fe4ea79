// A malformed message ends the job loudly, naming the sender: "request" sends an empty request
// to the master from a worker's task; "task" sends the first worker 64 bytes that claim a 4 GB
// argument. Neither may crash, hang or allocate what the bytes claim.
#include <cstdint>
#include <cstring>
#include <iostream>
#include <mpp/mpp.hpp>
#include <vector>

namespace {
constexpr int requests_tag = 7104;  // detail::Tag::requests
constexpr int tasks_tag = 7101;     // detail::Tag::tasks

int send_empty_request(int) {
  MPI_Send(nullptr, 0, MPI_BYTE, 0, requests_tag, mpp::Session::current().communicator());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  const bool task = argc > 1 && std::strcmp(argv[1], "task") == 0;
  mpp::Session session(argc, argv);
  mpp::Pool pool;
  if (task) {
    std::vector<std::uint64_t> bogus(8, 0);
    bogus[6] = std::uint64_t{4} << 30;  // TaskHeader::args_size
    MPI_Send(bogus.data(), 64, MPI_BYTE, 1, tasks_tag, session.communicator());
  } else {
    pool.apply(send_empty_request, 0);
  }
  pool.apply([](int x) { return x; }, 1);
  std::cout << "the job went on after a malformed message" << std::endl;
}
