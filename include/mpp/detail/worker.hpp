#pragma once
// The worker side: the service loop every rank but the master runs inside its Session.
#include <mpi.h>

#include <string>

#include "mpp/detail/protocol.hpp"

namespace mpp::detail {

/// Runs task batches from rank 0 until it sends Tag::stop.
void serve(MPI_Comm comm, int rank, const std::string& host);

/// Type and message of the exception being handled (call inside a catch block).
ErrorReport describe_current_exception();

}  // namespace mpp::detail
