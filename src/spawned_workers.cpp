#include "mpp/detail/spawned_workers.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "mpp/detail/mpi_check.hpp"
#include "mpp/detail/settings.hpp"
#include "mpp/errors.hpp"
#include "mpp/process_info.hpp"

namespace mpp::detail {
namespace {

constexpr std::int64_t most_workers = 4096;

std::string this_executable(char** argv) {
  std::vector<char> path(4096);
  const ssize_t length = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (length > 0) return std::string(path.data(), static_cast<std::size_t>(length));
  return argv[0];  // no /proc: the name it was started by
}

std::string program_name(char** argv) { return argv && argv[0] ? argv[0] : "./prog"; }

/// Starts `workers` copies of this program with the same arguments and merges them behind us.
MPI_Comm spawn(int workers, int argc, char** argv) {
  const std::string command = this_executable(argv);
  std::vector<char*> arguments;
  for (int i = 1; i < argc; ++i) arguments.push_back(argv[i]);
  arguments.push_back(nullptr);
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  // As many workers as cores plus this (mostly idle) master: like Python's Pool(), more
  // processes than the launcher's slots, so say that is meant.
  MPI_Info info = MPI_INFO_NULL;
  MPI_Info_create(&info);
  MPI_Info_set(info, "map_by", "slot:OVERSUBSCRIBE");
  MPI_Comm children = MPI_COMM_NULL;
  std::vector<int> codes(static_cast<std::size_t>(workers), MPI_SUCCESS);
  const int status =
      MPI_Comm_spawn(command.c_str(), arguments.data(), workers, info, 0, MPI_COMM_SELF, &children, codes.data());
  MPI_Info_free(&info);
  if (status != MPI_SUCCESS) {
    char reason[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    MPI_Error_string(status, reason, &length);
    throw UsageError("mpp: this program runs alone and could not start its " + std::to_string(workers) +
                     " workers with MPI_Comm_spawn (" + std::string(reason, static_cast<std::size_t>(length)) +
                     "); launch it with its workers instead: `mpirun -np " + std::to_string(workers + 1) + " " +
                     program_name(argv) + "`");
  }
  MPI_Comm merged = MPI_COMM_NULL;
  check_mpi(MPI_Intercomm_merge(children, 0, &merged), "MPI_Intercomm_merge");
  MPI_Comm_free(&children);
  return merged;
}

}  // namespace

StdinShield::StdinShield() {
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK") ||
                        std::getenv("SLURM_STEP_ID");
  if (launched) return;
  saved_ = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (saved_ < 0 || null < 0 || ::dup2(null, STDIN_FILENO) < 0) {  // no stdin to keep, or no way to keep it
    if (saved_ >= 0) ::close(saved_);
    saved_ = -1;
  }
  if (null >= 0) ::close(null);
}

StdinShield::~StdinShield() {
  if (saved_ < 0) return;
  ::dup2(saved_, STDIN_FILENO);
  ::close(saved_);
}

MPI_Comm session_world(int argc, char** argv, MPI_Comm& owned) {
  owned = MPI_COMM_NULL;
  MPI_Comm parent = MPI_COMM_NULL;
  MPI_Comm_get_parent(&parent);
  if (parent != MPI_COMM_NULL) {  // a worker that a program started alone spawned
    check_mpi(MPI_Intercomm_merge(parent, 1, &owned), "MPI_Intercomm_merge");
    return owned;
  }
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 1) return MPI_COMM_WORLD;
  if (std::getenv("SLURM_JOB_ID"))
    throw UsageError(
        "mpp: this program runs as a single process inside a Slurm allocation; mpp does not start workers "
        "behind Slurm's back. Launch it with `srun " +
        program_name(argv) + "` (one master plus the workers, every allocated task) or `srun -n N " +
        program_name(argv) + "`");
  const auto workers = static_cast<int>(env_integer("MPP_WORKERS", cpu_count(), 1, most_workers));
  owned = spawn(workers, argc, argv);
  return owned;
}

}  // namespace mpp::detail
