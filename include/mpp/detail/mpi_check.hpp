#pragma once
// Every MPI return code goes through here: mpp's communicator uses MPI_ERRORS_RETURN, so a
// failure becomes an exception naming the call and MPI's own explanation.
#include <mpi.h>

namespace mpp::detail {

[[noreturn]] void throw_mpi_error(int code, const char* call);

inline void check_mpi(int code, const char* call) {
  if (code != MPI_SUCCESS) throw_mpi_error(code, call);
}

}  // namespace mpp::detail
