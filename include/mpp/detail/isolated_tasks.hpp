#pragma once
// Isolated pools, the worker's side. Each isolated pool gets a child process on the rank that
// runs its tasks (a SupervisedChild, kept between batches), so a task may segfault, abort,
// exit or be killed for running too long without taking the rank, or the job, down.
//
// The rank watches the child through a shared page (which task runs, since when) and through
// the results it relays. When the child ends in the middle of a batch, the rank settles what
// is left: the task that was running fails with a report naming how its process ended; the
// others run again in a fresh child (a finished task whose result the child had not sent yet
// runs twice). terminate() kills the child at once.
#include <mpi.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "mpp/detail/wire.hpp"

namespace mpp::detail {

class IsolatedTasks {
 public:
  IsolatedTasks(MPI_Comm comm, int rank, std::string host);
  /// Kills the children left (the session ends).
  ~IsolatedTasks();
  IsolatedTasks(const IsolatedTasks&) = delete;
  IsolatedTasks& operator=(const IsolatedTasks&) = delete;

  /// Runs a Tag::isolated_tasks message to its end: a result or a failure goes to the master
  /// for every task in it (and in the same pool's batches that arrive meanwhile).
  void run(Bytes message);
  /// A Tag::lane_end message: that pool's child leaves.
  void end_lane(const Bytes& message);

 private:
  struct PoolChild;
  struct Batch;

  PoolChild& pool_of(const Batch& batch);
  /// Answers a batch of a terminated pool with failures; false if its pool is alive.
  bool refuse_if_ended(Batch& batch);
  void run_lane(Batch first);
  void start_child(PoolChild& pool, bool run_initializer);
  /// Relays for the child until every batch is settled or the child ends; takes the pool's
  /// next batches meanwhile and gives them to the child (`given` counts those it has).
  void supervise(PoolChild& pool, std::size_t& given);
  /// Handles lane_end messages that arrive while a batch runs; true if one ends `running_lane`.
  bool take_lane_ends(std::uint32_t running_lane);
  void settle_after_ending(PoolChild& pool);
  void note_results(std::span<const char> message);
  std::size_t unsettled() const;
  void send_failures(Batch& batch, std::span<const std::size_t> tasks, const std::string& type,
                     const std::string& message, std::uint64_t item_in_task = 0);

  MPI_Comm comm_;
  int rank_;
  std::string host_;
  std::unordered_map<std::uint32_t, std::unique_ptr<PoolChild>> pools_;
  std::set<std::uint32_t> ended_lanes_;     // terminated pools: batches still on their way are refused
  std::vector<Batch> batches_;              // of the pool running now, in the order received
  std::deque<Bytes> deferred_;              // other pools' batches that came meanwhile
  bool terminated_ = false;                 // the running pool was terminated
  std::optional<std::uint64_t> timed_out_;  // the task killed for running past its timeout
};

}  // namespace mpp::detail
