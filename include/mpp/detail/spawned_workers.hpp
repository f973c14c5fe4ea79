#pragma once
// A program started alone (`./prog`, or `mpirun -np 1 ./prog`) starts its workers itself with
// MPI_Comm_spawn, as Python's Pool starts its processes; the spawned copies of the program
// find their parent and join it. Inside Slurm nothing is spawned: Slurm places every process.
#include <mpi.h>

namespace mpp::detail {

/// The communicator a Session(argc, argv) runs on, once MPI is initialised: MPI_COMM_WORLD
/// when the launcher started several ranks; otherwise the parent and its spawned workers
/// merged (the parent is rank 0), which `owned` receives for the session to free. Throws
/// mpp::UsageError naming the launch command when workers cannot be spawned.
MPI_Comm session_world(int argc, char** argv, MPI_Comm& owned);

}  // namespace mpp::detail
