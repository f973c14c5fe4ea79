#pragma once
// A program started alone (`./prog`, or `mpirun -np 1 ./prog`) starts its workers itself with
// MPI_Comm_spawn, as Python's Pool starts its processes; the spawned copies of the program
// find their parent and join it. Inside Slurm nothing is spawned: Slurm places every process.
#include <mpi.h>

namespace mpp::detail {

/// Started without a launcher, MPI_Init forks Open MPI's helper daemon, which would take the
/// program's stdin (forwarding it to the spawned workers): while the shield lives, the daemon
/// gets /dev/null instead. Hold one around MPI_Init; stdin is the program's again afterwards.
class StdinShield {
 public:
  StdinShield();
  ~StdinShield();
  StdinShield(const StdinShield&) = delete;
  StdinShield& operator=(const StdinShield&) = delete;

 private:
  int saved_ = -1;
};

/// The communicator a Session(argc, argv) runs on, once MPI is initialised: MPI_COMM_WORLD
/// when the launcher started several ranks; otherwise the parent and its spawned workers
/// merged (the parent is rank 0), which `owned` receives for the session to free. Throws
/// mpp::UsageError naming the launch command when workers cannot be spawned.
MPI_Comm session_world(int argc, char** argv, MPI_Comm& owned);

}  // namespace mpp::detail
