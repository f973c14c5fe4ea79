#pragma once
// Isolated pools, the worker's side. An isolated pool has child processes on the rank (as many
// as the master's header says are its share, SupervisedChild each, kept between batches) that
// run its tasks, so a task may segfault, abort, exit or be killed for running too long without
// taking the rank, or the job, down. Like ProcessChildren, the rank's service loop tends them
// between its own messages: several pools, and several children of one pool, run side by side.
//
// The rank watches each child through a shared page (which task runs, since when) and through
// the results it relays. When a child ends with tasks of its batches unsettled, the rank
// settles them: the task that was running fails with a report naming how its process ended;
// the others run again in a fresh child (a finished task whose result the child had not sent
// yet runs twice). terminate() kills the pool's children at once.
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/protocol.hpp"
#include "mpp/detail/wire.hpp"

namespace mpp::detail {

struct ChildEnding;
class SupervisedChild;

class IsolatedTasks {
 public:
  IsolatedTasks(MPI_Comm comm, int rank, std::string host);
  /// Kills the children left (the session ends).
  ~IsolatedTasks();
  IsolatedTasks(const IsolatedTasks&) = delete;
  IsolatedTasks& operator=(const IsolatedTasks&) = delete;

  /// Receives the master's Tag::isolated_tasks message, if one waits (false if none), and hands
  /// it to a child of its pool: an idle one, a new one while the pool has fewer here than its
  /// share, else the one with the least left to do. A big batch is received straight into the
  /// shared block its child reads it from.
  bool take_waiting();
  /// A Tag::lane_end message: that pool's children leave; tasks they still had fail as
  /// terminated.
  void end_lane(const Bytes& message);
  /// True while no task given to this rank is unsettled.
  bool idle() const { return unsettled_ == 0; }
  /// Whether a pool running here has fewer batches than the master keeps in flight on the rank
  /// (one per child and one waiting): another may be on its way, and should be taken at once.
  bool has_room() const;
  /// One round for every child: relays (napping up to the backoff's pause while all are quiet),
  /// settles the tasks of children that ended and kills those past their pool's task_timeout.
  bool tend(Backoff& backoff);

 private:
  struct Batch;
  struct TaskChild;
  struct PoolChildren;

  void take(Batch batch);
  /// The Tag::task_data messages of the batch's tasks with arguments apart, matched in order,
  /// each as large as its header says (else MalformedMessage); none if no task has any.
  std::vector<Matched> match_detached(std::span<const char> batch);
  /// The batch with each task's arguments from `apart` received behind its header.
  Batch attach_detached(std::span<const char> batch, std::span<Matched> apart);
  PoolChildren& pool_of(const Batch& batch);
  /// Answers a batch of a terminated pool with failures; true if so.
  bool refuse_if_ended(Batch& batch);
  /// A fresh process for `child`, given every batch it still has.
  void retire_process(TaskChild& child);
  void restart(PoolChildren& pool, TaskChild& child);
  void note_results(TaskChild& child, std::span<const char> message);
  void settle_after_ending(const PoolChildren& pool, TaskChild& child, const ChildEnding& ending);
  /// Fails `tasks` of `batch` with an error of `type`; `how` says how the task's process
  /// ran and ended (ResultHeader's fields from started_unix_ns on), when it is known.
  void send_failures(Batch& batch, std::span<const std::size_t> tasks, const std::string& type,
                     const std::string& message, std::uint64_t item_in_task = 0, const ResultHeader& how = {});
  /// Every child process running now, of every pool.
  std::vector<SupervisedChild*> processes() const;
  /// Whether a child waits for the master's answer to a call (the rank then looks for replies
  /// every round, else every child_messages_interval).
  bool awaits_replies() const;
  void note_reply_to(const SupervisedChild& process);

  MPI_Comm comm_;
  int rank_;
  std::string host_;
  std::unordered_map<std::uint32_t, std::unique_ptr<PoolChildren>> pools_;
  std::set<std::uint32_t> ended_lanes_;                 // terminated pools: batches still on their way are refused
  std::size_t unsettled_ = 0;                           // tasks given to children and not answered yet, all pools
  std::chrono::steady_clock::time_point next_look_;     // at running tasks' timeouts
  std::chrono::steady_clock::time_point next_collect_;  // for messages to the children
};

}  // namespace mpp::detail
