#pragma once
// The master's server for objects that live in its memory: queues, a Manager's dict/list/value
// containers and every Pipe (its messages and the copies of its ends). Items are held as serialized bytes, so one
// server serves every element type.
//
// Calls come from workers as messages (detail/requests.hpp), received by whichever master thread
// drives the engine's progress, so they are served while the user's code runs or waits; calls
// made on the master run in place under the same mutex.
#include <mpi.h>

#include <atomic>
#include <compare>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/requests.hpp"

namespace mpp::detail {

/// A process that calls the server: the rank its calls come from (a child's parent rank) and
/// its pid.
struct ProcessKey {
  int rank;
  std::int32_t pid;
  auto operator<=>(const ProcessKey&) const = default;
};

/// One served object. execute() runs one call from `caller` (a rank) with its arguments and
/// writes the result; it returns false, having written nothing, when the call has to wait for
/// another one (a get on an empty queue). Failures are thrown as ServedFailure.
class Served {
 public:
  virtual ~Served() = default;
  virtual bool execute(Op op, int caller, Reader& args, Writer& result) = 0;
  /// Nothing can use the object any more (both ends of a pipe closed): the server drops it.
  virtual bool finished() const { return false; }
  /// `process` ended, however it ended: what it held (a pipe end's copy) goes with it.
  virtual void process_ended(ProcessKey) {}
};

std::unique_ptr<Served> make_served_queue(std::int64_t maxsize);
std::unique_ptr<Served> make_served_dict();
std::unique_ptr<Served> make_served_list(Reader& initial_items);
std::unique_ptr<Served> make_served_pipe(ProcessKey creator);

class ObjectServer {
 public:
  /// `changed` is called after served requests while a master thread waits for a call (LocalWait).
  ObjectServer(MPI_Comm comm, std::function<void()> changed);

  /// Who starts the processes that processes outside the master start (Op::start_process).
  void on_start_process(std::function<void(Reader&)> start) { start_process_ = std::move(start); }

  /// Serves a request waiting from the workers, if `mail` says one waits (see waiting_message:
  /// one per call, so no call ends with a look that finds nothing), and answers parked calls
  /// whose time ran out. Called by the thread driving the engine's progress; true if it did
  /// anything.
  bool serve_requests(bool mail);

  /// A master thread waits for a call to proceed: from now on every served request wakes the
  /// master's waiters (otherwise they sleep through the workers' traffic undisturbed).
  class LocalWait {
   public:
    explicit LocalWait(ObjectServer& server) : server_(server) { ++server_.local_waiters_; }
    ~LocalWait() { --server_.local_waiters_; }
    LocalWait(const LocalWait&) = delete;
    LocalWait& operator=(const LocalWait&) = delete;

   private:
    ObjectServer& server_;
  };

  /// Runs a call made on the master. A call that would wait returns Failure::would_block.
  /// The caller wakes other waiting master threads afterwards (Engine::notify_waiters): this
  /// may run inside a wait predicate, where waking them here would deadlock.
  Reply try_call(const Bytes& request);

 private:
  struct Parked {
    int rank;
    std::uint64_t call;  // RequestHeader::call, echoed in the answer
    Bytes request;
    std::optional<Clock::time_point> deadline;
  };
  struct Entry {
    std::unique_ptr<Served> object;
    std::int64_t holders = 1;  // counted objects go when this reaches 0
    bool counted = false;
    std::deque<Parked> parked;
  };

  /// Receives and serves one request, if one waits.
  bool serve_one_request();
  Reply execute_locked(const Bytes& request, int caller);
  std::uint64_t create_locked(Op op, int caller, Reader& args);
  void forget_process_locked(ProcessKey process);
  void retry_parked_locked(std::uint64_t id);
  bool expire_parked_locked();
  void answer(int rank, std::uint64_t call, const Reply& reply);

  MPI_Comm comm_;
  std::function<void()> changed_;
  std::function<void(Reader&)> start_process_;
  std::atomic<int> local_waiters_{0};
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, Entry> objects_;
  std::uint64_t next_id_ = 1;
  std::set<std::pair<std::uint64_t, int>> told_of_failed_posts_;  // (object, rank) already on stderr
  std::atomic<std::size_t> parked_count_{0};                      // read unlocked to skip the expiry scan
  Clock::time_point next_expiry_check_{};
};

}  // namespace mpp::detail
