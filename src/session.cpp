#include "mpp/session.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "mpp/detail/code_ref.hpp"
#include "mpp/detail/engine.hpp"
#include "mpp/detail/mpi_check.hpp"
#include "mpp/detail/session_bound.hpp"
#include "mpp/detail/settings.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/detail/shared_space.hpp"
#include "mpp/detail/spawned_workers.hpp"
#include "mpp/detail/wall_time.hpp"
#include "mpp/detail/worker.hpp"
#include "mpp/errors.hpp"
#include "mpp/process.hpp"

namespace mpp {
namespace {

std::atomic<Session*> current_session{nullptr};
std::atomic<detail::SharedSpace*> current_space{nullptr};
std::atomic<std::uint64_t> sessions_started{0};
std::atomic<std::uint64_t> running_id{0};

/// mpp's own environment variables, read once at start-up so a bad value stops every rank
/// before anything collective happens.
struct Settings {
  std::size_t master_segment_bytes;
  bool force_rma;
  bool verbose;

  static Settings from_environment() {
    constexpr std::int64_t max_shared_mb = 1 << 20;  // 1 TiB: beyond any node's memory
    return {static_cast<std::size_t>(detail::env_integer("MPP_SHARED_MB", 64, 1, max_shared_mb)) << 20,
            detail::env_flag("MPP_FORCE_RMA"), detail::env_flag("MPP_VERBOSE")};
  }
  std::size_t segment_bytes(bool master) const {
    return master ? master_segment_bytes : std::max<std::size_t>(master_segment_bytes / 16, 1 << 20);
  }
};

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

/// An exception nobody caught: say what it was, then end every rank of the job, so workers
/// never wait for a master that is gone (MPI_Abort), instead of hanging until the wall time.
[[noreturn]] void abort_job() {
  std::string what = "std::terminate was called";
  if (std::current_exception()) {
    const auto report = detail::describe_current_exception();
    what = "uncaught " + report.type + ": " + report.message;
  }
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int rank = 0;
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "mpp: rank %d on %s: %s\n", rank, host_name().c_str(), what.c_str());
  std::fflush(stderr);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}

/// What Slurm says about the job this process runs in (empty outside Slurm).
struct SlurmAllocation {
  std::string job_id;
  int tasks = 0;
  int nodes = 0;
  std::string node_list;
  std::string cpus_on_node;

  static SlurmAllocation from_environment() {
    SlurmAllocation a;
    a.job_id = env_or("SLURM_JOB_ID", "");
    if (a.job_id.empty()) return a;
    constexpr std::int64_t most = std::numeric_limits<int>::max();
    a.tasks =
        static_cast<int>(detail::env_integer("SLURM_NTASKS", detail::env_integer("SLURM_NPROCS", 0, 0, most), 0, most));
    a.nodes = static_cast<int>(
        detail::env_integer("SLURM_JOB_NUM_NODES", detail::env_integer("SLURM_NNODES", 0, 0, most), 0, most));
    a.node_list = env_or("SLURM_JOB_NODELIST", "?");
    a.cpus_on_node = env_or("SLURM_CPUS_ON_NODE", "?");
    return a;
  }
};

/// Who started the ranks: Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE (also inside Slurm);
/// srun sets SLURM_STEP_ID and talks PMIx or PMI-2. A program started alone spawned its workers.
std::string launcher_name(bool spawned) {
  if (spawned)
    return std::string(std::getenv("OMPI_COMM_WORLD_SIZE") ? "mpirun with 1 rank" : "none (started alone)") +
           ", which spawned its workers (MPP_WORKERS sets how many)";
  if (std::getenv("OMPI_COMM_WORLD_SIZE")) return std::getenv("SLURM_JOB_ID") ? "mpirun inside Slurm" : "mpirun";
  if (std::getenv("SLURM_STEP_ID")) return std::getenv("PMIX_RANK") ? "srun --mpi=pmix" : "srun";
  return "unknown (a singleton or another launcher)";
}

std::string launch_advice() {
  return "rank 0 is the master and ranks 1..N-1 are the workers, so mpp needs at least 2 MPI ranks. "
         "Pass a communicator of 2 or more ranks.";
}

}  // namespace

Session::Session(int& argc, char**& argv) {
  std::set_terminate(abort_job);
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (current_session.load())
    throw UsageError(
        "mpp::Session(argc, argv): a Session is already running in this process; create one Session at the "
        "top of main and keep it (mpp::Session::current() returns it from anywhere)");
  if (finalized)
    throw UsageError(
        "mpp::Session(argc, argv): MPI was already finalized (by an earlier Session) and MPI cannot be "
        "initialised twice in one process; create one Session at the top of main and keep it until the end");
  if (initialized)
    throw UsageError("mpp::Session(argc, argv): MPI is already initialised; use mpp::Session(comm) to embed mpp");
  int provided = 0;
  {
    detail::StdinShield keep_stdin;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  }
  owns_mpi_ = true;
  MPI_Comm world = MPI_COMM_WORLD;
  try {
    world = detail::session_world(argc, argv, spawned_world_);
  } catch (...) {
    MPI_Finalize();
    throw;
  }
  start(world);
  if (!is_master()) {
    detail::ignore_wind_down_signal();
    serve();
    end();
    std::exit(0);
  }
}

Session::Session(MPI_Comm comm) {
  std::set_terminate(abort_job);
  start(comm);
  if (!is_master()) {
    serve();
    end();
  }
}

void Session::start(MPI_Comm comm) {
  int provided = 0;
  MPI_Query_thread(&provided);
  detail::check_mpi(MPI_Comm_rank(comm, &rank_), "MPI_Comm_rank");
  detail::check_mpi(MPI_Comm_size(comm, &size_), "MPI_Comm_size");
  std::string problem;
  Settings settings{};
  try {
    settings = Settings::from_environment();
  } catch (const UsageError& bad_setting) {
    problem = bad_setting.what();
  }
  if (problem.empty() && provided < MPI_THREAD_MULTIPLE)
    problem =
        "mpp needs MPI_THREAD_MULTIPLE (the master delivers results on a progress thread); "
        "initialise MPI with MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided)";
  if (problem.empty() && size_ < 2)
    problem = "mpp::Session started with " + std::to_string(size_) + " rank: " + launch_advice();
  Session* none = nullptr;
  if (problem.empty() && !current_session.compare_exchange_strong(none, this))
    problem = "only one mpp::Session may exist at a time in a process; create it once, at the top of main";
  if (!problem.empty()) {
    if (owns_mpi_) MPI_Finalize();
    throw UsageError(problem);
  }
  host_ = host_name();
  detail::check_mpi(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);

  // Function shipping relies on identical code on every rank: refuse a mixed launch up front.
  const std::uint64_t fingerprint = detail::executable_fingerprint();
  std::uint64_t lowest = 0;
  std::uint64_t highest = 0;
  detail::check_mpi(MPI_Allreduce(&fingerprint, &lowest, 1, MPI_UINT64_T, MPI_MIN, comm_), "MPI_Allreduce");
  detail::check_mpi(MPI_Allreduce(&fingerprint, &highest, 1, MPI_UINT64_T, MPI_MAX, comm_), "MPI_Allreduce");
  if (lowest != highest) {
    current_session = nullptr;
    throw UsageError(
        "mpp: the ranks of this job run different executables; mpp ships functions by their "
        "address, so every rank must run the same binary (check the mpirun/srun command line)");
  }
  describe_layout(settings.verbose);
  shared_ = std::make_unique<detail::SharedSpace>(comm_, settings.segment_bytes(is_master()), settings.force_rma);
  current_space = shared_.get();
  running_id = ++sessions_started;
  // Each worker's doorbell (detail/doorbell.hpp); the master rings those on its node.
  if (!is_master()) doorbell_offset_ = shared_->allocate(sizeof(std::int64_t)).offset;
  std::vector<std::uint64_t> doorbell_offsets(is_master() ? static_cast<std::size_t>(size_) : 0);
  detail::check_mpi(MPI_Gather(&doorbell_offset_, 1, MPI_UINT64_T, doorbell_offsets.data(), 1, MPI_UINT64_T, 0, comm_),
                    "MPI_Gather");
  if (is_master()) {
    std::vector<detail::Doorbell> doorbells(static_cast<std::size_t>(size_));
    for (int r = 1; r < size_; ++r)
      doorbells[static_cast<std::size_t>(r)] =
          detail::Doorbell::at(*shared_, {r, doorbell_offsets[static_cast<std::size_t>(r)]});
    engine_ = std::make_unique<detail::Engine>(comm_, idle_poll_interval(), std::move(doorbells), settings.verbose);
    engine_->objects().on_start_process(detail::start_process_for_another);
  }
}

void Session::serve() {
  detail::serve(comm_, rank_, host_, idle_poll_interval(), detail::Doorbell::at(*shared_, {rank_, doorbell_offset_}));
}

std::chrono::microseconds Session::idle_poll_interval() const {
  // Idle ranks normally poll every 10 ms (56 idle ranks on a node stay near 0% CPU). On the RMA
  // path they poll every 100 us: transports that emulate remote atomics in software (Open MPI's
  // vader and UCX over shared memory) complete an operation only when its target enters MPI.
  return shared_->uses_rma() ? std::chrono::microseconds(100) : std::chrono::milliseconds(10);
}

void Session::describe_layout(bool verbose) {
  // Every rank's host name, gathered once: the node count and the banner come from it.
  constexpr int name_size = 256;
  std::vector<char> names(is_master() ? static_cast<std::size_t>(size_) * name_size : 0);
  char mine[name_size] = {};
  host_.copy(mine, name_size - 1);
  detail::check_mpi(MPI_Gather(mine, name_size, MPI_CHAR, names.data(), name_size, MPI_CHAR, 0, comm_), "MPI_Gather");
  std::map<std::string, int> ranks_per_host;
  if (is_master())
    for (int r = 0; r < size_; ++r) {
      hosts_.emplace_back(&names[static_cast<std::size_t>(r) * name_size]);
      ++ranks_per_host[hosts_.back()];
    }
  detail::check_mpi(MPI_Bcast(mine, name_size, MPI_CHAR, 0, comm_), "MPI_Bcast");
  master_host_ = mine;
  nodes_ = static_cast<int>(ranks_per_host.size());
  detail::check_mpi(MPI_Bcast(&nodes_, 1, MPI_INT, 0, comm_), "MPI_Bcast");
  const int pid = static_cast<int>(::getpid());
  pids_.resize(is_master() ? static_cast<std::size_t>(size_) : 0);
  detail::check_mpi(MPI_Gather(&pid, 1, MPI_INT, pids_.data(), 1, MPI_INT, 0, comm_), "MPI_Gather");
  master_pid_ = pid;
  detail::check_mpi(MPI_Bcast(&master_pid_, 1, MPI_INT, 0, comm_), "MPI_Bcast");
  if (!is_master()) return;

  const SlurmAllocation slurm = SlurmAllocation::from_environment();
  if (slurm.tasks > size_)
    std::fprintf(stderr,
                 "mpp: warning: Slurm allocated %d tasks but this job runs %d ranks; %d cores stay idle "
                 "(launch with `srun` or `mpirun` without -n to use them all)\n",
                 slurm.tasks, size_, slurm.tasks - size_);
  if (!verbose) return;
  std::string layout;
  for (const auto& [host, ranks] : ranks_per_host)
    layout += (layout.empty() ? "" : ", ") + host + ": " + std::to_string(ranks);
  std::fprintf(stderr, "mpp: %d ranks = 1 master + %d workers on %d node%s (%s); launcher: %s\n", size_, size_ - 1,
               nodes_, nodes_ == 1 ? "" : "s", layout.c_str(), launcher_name(spawned_world_ != MPI_COMM_NULL).c_str());
  if (slurm.job_id.empty()) return;
  std::fprintf(stderr, "mpp: Slurm job %s: %d task%s on %d node%s (%s), %s CPUs on this node\n", slurm.job_id.c_str(),
               slurm.tasks, slurm.tasks == 1 ? "" : "s", slurm.nodes, slurm.nodes == 1 ? "" : "s",
               slurm.node_list.c_str(), slurm.cpus_on_node.c_str());
}

void Session::end() {
  if (comm_ == MPI_COMM_NULL) return;
  if (engine_) {
    detail::stop_daemon_processes();
    engine_->shutdown();
    if (const auto* statistics = engine_->statistics()) std::fputs(statistics->summary(hosts_).c_str(), stderr);
    engine_.reset();
  }
  running_id = 0;  // handles that outlive the session now refuse to work
  current_space = nullptr;
  shared_.reset();  // collective: the workers are past serve() too
  MPI_Comm_free(&comm_);
  if (spawned_world_ != MPI_COMM_NULL) MPI_Comm_free(&spawned_world_);
  current_session = nullptr;
  if (owns_mpi_) MPI_Finalize();
}

namespace detail {

void end_session_and_exit(int status) {
  if (Session* session = current_session.load()) session->end();
  std::exit(status);
}

}  // namespace detail

Session::~Session() {
  try {
    end();
  } catch (...) {
    abort_job();
  }
}

Session& Session::current() {
  Session* session = current_session.load();
  if (!session) throw UsageError("mpp: no mpp::Session is running; create one at the top of main");
  return *session;
}

namespace detail {
SharedSpace& shared_space() {
  SharedSpace* space = current_space.load();
  if (!space) throw UsageError("mpp: shared objects (Value, Array, Lock, ...) need a running mpp::Session");
  return *space;
}

std::uint64_t running_session_id() { return running_id.load(); }

void SessionBound::throw_ended(const char* what) {
  throw UsageError(std::string("mpp: ") + what +
                   " belongs to an mpp::Session that has ended; create pools, shared objects and "
                   "results while the Session runs and let them go before it ends");
}
}  // namespace detail

detail::Engine& Session::engine() {
  if (!engine_)
    throw UsageError("mpp: pools and tasks are created on the master rank only; branch on session.is_master()");
  return *engine_;
}

}  // namespace mpp
