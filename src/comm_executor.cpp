#include "mpp/comm_executor.hpp"

#include <string>

#include "mpp/detail/mpi_check.hpp"
#include "mpp/errors.hpp"

namespace mpp {

CommExecutor::CommExecutor(MPI_Comm comm, int root) {
  int rank = 0;
  int size = 0;
  detail::check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  detail::check_mpi(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  if (root < 0 || root >= size)
    throw UsageError("mpp::CommExecutor: root " + std::to_string(root) + " is not a rank of the communicator (0 to " +
                     std::to_string(size - 1) + ")");
  MPI_Comm master_first = comm;
  if (root != 0) {  // the session's master is its rank 0: put the root there, the rest in order
    detail::check_mpi(MPI_Comm_split(comm, 0, rank == root ? 0 : rank + 1, &root_first_), "MPI_Comm_split");
    master_first = root_first_;
  }
  session_ = std::make_unique<Session>(master_first);  // the other ranks serve in here
  if (session_->is_master()) executor_ = std::make_unique<ProcessPoolExecutor>();
}

CommExecutor::~CommExecutor() {
  executor_.reset();
  session_.reset();
  if (root_first_ != MPI_COMM_NULL) MPI_Comm_free(&root_first_);
}

ProcessPoolExecutor& CommExecutor::operator*() const {
  if (!executor_) throw UsageError("mpp::CommExecutor: only the root rank has an executor; test `if (executor)` first");
  return *executor_;
}

}  // namespace mpp
