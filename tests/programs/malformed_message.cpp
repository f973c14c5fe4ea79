// A malformed message ends the job loudly, naming the sender: "request" sends an empty request
// to the master from a worker's task; "task" sends the first worker a task header that claims a
// 4 GB argument; "detached_short" one that claims 1 GB of detached arguments, followed by 8
// bytes of them; "detached_missing" the same claim and no bytes at all. None may crash, hang or
// read or allocate what the bytes claim.
#include <cstdint>
#include <cstring>
#include <iostream>
#include <mpp/mpp.hpp>
#include <string>
#include <vector>

namespace {
constexpr int requests_tag = 7104;   // detail::Tag::requests
constexpr int tasks_tag = 7101;      // detail::Tag::tasks
constexpr int task_data_tag = 7110;  // detail::Tag::task_data
// detail::TaskHeader: id, invoker (2 words), function (2 words), first_index, args_size, detached_size.
constexpr std::size_t args_size_word = 6, detached_size_word = 7, header_words = 8;

int send_empty_request(int) {
  MPI_Send(nullptr, 0, MPI_BYTE, 0, requests_tag, mpp::Session::current().communicator());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string kind = argc > 1 ? argv[1] : "request";
  mpp::Session session(argc, argv);
  mpp::Pool pool;
  std::vector<std::uint64_t> bogus(header_words, 0);
  const int bytes = static_cast<int>(bogus.size() * sizeof bogus[0]);
  if (kind == "task") {
    bogus[args_size_word] = std::uint64_t{4} << 30;
    MPI_Send(bogus.data(), bytes, MPI_BYTE, 1, tasks_tag, session.communicator());
  } else if (kind.starts_with("detached")) {
    bogus[detached_size_word] = std::uint64_t{1} << 30;
    MPI_Send(bogus.data(), bytes, MPI_BYTE, 1, tasks_tag, session.communicator());
    if (kind == "detached_short") MPI_Send(bogus.data(), 8, MPI_BYTE, 1, task_data_tag, session.communicator());
  } else {
    pool.apply(send_empty_request, 0);
  }
  pool.apply([](int x) { return x; }, 1);
  std::cout << "the job went on after a malformed message" << std::endl;
}
