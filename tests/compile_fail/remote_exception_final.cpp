// Misuse: a type declared to travel as itself must not be final (the master throws a class
// derived from it).
#include <mpp/mpp.hpp>
#include <stdexcept>

#ifdef MPP_MISUSE
struct SolverError final : std::runtime_error {
  using std::runtime_error::runtime_error;
};
#else
struct SolverError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
#endif

MPP_REMOTE_EXCEPTION(SolverError);
