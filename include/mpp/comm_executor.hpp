#pragma once
// mpp::CommExecutor: mpi4py's MPICommExecutor(comm, root), for a code that owns MPI. Every
// rank of `comm` constructs it; on `root` it is a ProcessPoolExecutor over the other ranks,
// which serve tasks inside the constructor and come out of it, empty, when root's executor ends.
//
//   MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
//   {
//     mpp::CommExecutor executor(MPI_COMM_WORLD, 0);
//     if (executor) {                                   // only on the root
//       for (double y : executor->map(simulate, inputs)) ...
//     }
//   }                                                   // every rank continues from here
//   MPI_Finalize();
#include <mpi.h>

#include <memory>

#include "mpp/process_pool_executor.hpp"
#include "mpp/session.hpp"

namespace mpp {

class CommExecutor {
 public:
  /// Needs MPI initialised with MPI_THREAD_MULTIPLE and no mpp::Session running.
  explicit CommExecutor(MPI_Comm comm = MPI_COMM_WORLD, int root = 0);
  /// On the root: shutdown(true), then the other ranks are released.
  ~CommExecutor();
  CommExecutor(const CommExecutor&) = delete;
  CommExecutor& operator=(const CommExecutor&) = delete;

  /// True on the root, where the executor is; false on the ranks that served.
  explicit operator bool() const noexcept { return executor_ != nullptr; }
  ProcessPoolExecutor& operator*() const;
  ProcessPoolExecutor* operator->() const { return &**this; }

 private:
  MPI_Comm root_first_ = MPI_COMM_NULL;  // comm with the root as rank 0, when it is not already
  std::unique_ptr<Session> session_;
  std::unique_ptr<ProcessPoolExecutor> executor_;
};

}  // namespace mpp
