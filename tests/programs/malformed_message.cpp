// A malformed message ends the job loudly, naming the sender: "request" sends an empty request
// to the master from a worker's task; "task" sends the first worker a task header that claims a
// 4 GB argument; "detached_short" one that claims 1 GB of detached arguments, followed by 8
// bytes of them; "detached_missing" the same claim and no bytes at all; "isolated_detached_short"
// the claim and the 8 bytes in an isolated pool's batch; "results_apart_short" a
// result from a worker that claims 1 GB of items sent apart, followed by 8 bytes of them. None
// may crash, hang or read or allocate what the bytes claim.
#include <cstdint>
#include <cstring>
#include <iostream>
#include <mpp/detail/protocol.hpp>
#include <mpp/mpp.hpp>
#include <string>

namespace {
constexpr int requests_tag = static_cast<int>(mpp::detail::Tag::requests);
constexpr int tasks_tag = static_cast<int>(mpp::detail::Tag::tasks);
constexpr int isolated_tasks_tag = static_cast<int>(mpp::detail::Tag::isolated_tasks);
constexpr int task_data_tag = static_cast<int>(mpp::detail::Tag::task_data);

int send_empty_request(int) {
  MPI_Send(nullptr, 0, MPI_BYTE, 0, requests_tag, mpp::Session::current().communicator());
  return 0;
}
// The result of the session's first task (this one), claiming 1 GB of items sent apart, then 8 of them.
int send_result_short_apart(int) {
  const int results_tag = static_cast<int>(mpp::detail::Tag::results);
  const int result_data_tag = static_cast<int>(mpp::detail::Tag::result_data);
  mpp::detail::ResultHeader forged{1, 0, 0, 1, 1};
  forged.detached_size = std::uint64_t{1} << 30;
  const MPI_Comm comm = mpp::Session::current().communicator();
  MPI_Send(&forged, sizeof forged, MPI_BYTE, 0, results_tag, comm);
  MPI_Send(&forged, 8, MPI_BYTE, 0, result_data_tag, comm);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string kind = argc > 1 ? argv[1] : "request";
  mpp::Session session(argc, argv);
  mpp::Pool pool;
  mpp::detail::TaskHeader bogus{};
  const int bytes = static_cast<int>(sizeof bogus);
  if (kind == "task") {
    bogus.args_size = std::uint64_t{4} << 30;
    MPI_Send(&bogus, bytes, MPI_BYTE, 1, tasks_tag, session.communicator());
  } else if (kind.starts_with("detached")) {
    bogus.detached_size = std::uint64_t{1} << 30;
    MPI_Send(&bogus, bytes, MPI_BYTE, 1, tasks_tag, session.communicator());
    if (kind == "detached_short") MPI_Send(&bogus, 8, MPI_BYTE, 1, task_data_tag, session.communicator());
  } else if (kind == "isolated_detached_short") {
    struct {
      mpp::detail::IsolationHeader settings{.lane = 1'000'000, .children_here = 1};
      mpp::detail::TaskHeader task{.detached_size = std::uint64_t{1} << 30};
    } batch;
    MPI_Send(&batch, sizeof batch, MPI_BYTE, 1, isolated_tasks_tag, session.communicator());
    MPI_Send(&bogus, 8, MPI_BYTE, 1, task_data_tag, session.communicator());
  } else if (kind == "results_apart_short") {
    pool.apply(send_result_short_apart, 0);
  } else {
    pool.apply(send_empty_request, 0);
  }
  pool.apply([](int x) { return x; }, 1);
  std::cout << "the job went on after a malformed message" << std::endl;
}
