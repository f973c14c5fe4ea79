#pragma once
// The worker side: the service loop every rank but the master runs inside its Session.
#include <mpi.h>

#include <chrono>
#include <string>

#include "mpp/detail/protocol.hpp"

namespace mpp::detail {

/// Runs task batches from rank 0 until it sends Tag::stop; idle, it polls at least every `max_nap`.
void serve(MPI_Comm comm, int rank, const std::string& host, std::chrono::microseconds max_nap);

/// Type and message of the exception being handled (call inside a catch block).
ErrorReport describe_current_exception();

}  // namespace mpp::detail
