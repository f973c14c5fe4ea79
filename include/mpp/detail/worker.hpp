#pragma once
// The worker side: the service loop every rank but the master runs inside its Session.
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "mpp/detail/doorbell.hpp"
#include "mpp/detail/protocol.hpp"

namespace mpp::detail {

/// Runs task batches from rank 0 until it sends Tag::stop; idle, it polls at least every `max_nap`.
/// It naps on `doorbell`, which the master rings when it sends work.
void serve(MPI_Comm comm, int rank, const std::string& host, std::chrono::microseconds max_nap, Doorbell doorbell);

/// Where a task child shows its parent rank what it runs: a page both share across the fork.
struct RunningTask {
  std::atomic<std::uint64_t> id{0};         // the task running; 0 between tasks
  std::atomic<std::int64_t> started_ns{0};  // when it started (steady clock, the same in both)
  std::uint64_t item = 0;                   // the map item being run; read once the child is gone
  std::atomic<std::uint32_t> retiring{0};   // the child leaves on purpose (maxtasksperchild)
};

/// A worker rank's result messages on their way to the master. The rank posts them and goes
/// on with its next batch rather than wait until the master takes them: a large message waits
/// for the master's receive, and on a busy node the master may be waiting for a core.
class OutgoingResults {
 public:
  explicit OutgoingResults(MPI_Comm comm);
  ~OutgoingResults();  // waits until every posted message went out
  OutgoingResults(const OutgoingResults&) = delete;
  OutgoingResults& operator=(const OutgoingResults&) = delete;

  /// An empty buffer for the next results, with the capacity of one that went out before.
  Bytes buffer();
  /// Sends `bytes` to the master with `tag` without waiting; `bytes` becomes an empty buffer.
  void post(Tag tag, Bytes& bytes);
  /// Keeps `bytes`'s capacity for a later buffer().
  void give_back(Bytes&& bytes);
  /// Takes back the buffers of messages that went out.
  void reap();
  /// Waits until every posted message went out.
  void finish();

 private:
  struct Posted {
    MPI_Request request;
    Bytes bytes;
  };
  void wait_oldest();
  void recycle_oldest();

  MPI_Comm comm_;
  std::deque<Posted> posted_;
  std::vector<Bytes> spare_;
};

/// The arguments a batch's tasks have detached (TaskHeader::detached_size): the master sends
/// them in Tag::task_data messages right after the batch; a worker rank reads them in task order.
class DetachedArguments {
 public:
  explicit DetachedArguments(MPI_Comm comm) : comm_(comm) {}
  /// The next `size` bytes; MalformedMessage when the messages do not hold them.
  Reader take(std::size_t size);

 private:
  void receive();

  MPI_Comm comm_;
  Bytes buffer_;  // kept: a map's data would otherwise cost an allocation per batch
  Reader unread_;
};

/// What a worker rank (never a child) keeps from batch to batch: its results on their way and
/// the detached arguments coming in.
struct RankMail {
  explicit RankMail(MPI_Comm comm) : results(comm), arguments(comm) {}
  OutgoingResults results;
  DetachedArguments arguments;
};

/// Runs a batch ([TaskHeader][args] repeated) and sends its results to the master: posted
/// through `mail` when given (a worker rank), else sent before it returns (a child, which
/// relays them through its rank, and gets no detached arguments). Each task is shown in `shown`
/// when given; at most `budget` tasks run; returns how many ran.
std::size_t run_batch(std::span<const char> batch, int rank, const std::string& host, RankMail* mail,
                      RunningTask* shown = nullptr, std::size_t budget = std::numeric_limits<std::size_t>::max());

/// Runs a batch's tasks, keeping no result; a task's exception propagates (a pool initializer
/// run again in a new child process).
void run_quietly(std::span<const char> batch);

/// Type and message of the exception being handled (call inside a catch block).
ErrorReport describe_current_exception();

}  // namespace mpp::detail
