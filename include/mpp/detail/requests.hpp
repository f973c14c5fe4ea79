#pragma once
// Calls on the objects the master serves: queues, a Manager's containers, pipe bookkeeping.
//
// A call travels as [RequestHeader][arguments] on Tag::requests; the master answers
// [ReplyHeader][result] on Tag::replies, unless the caller asked for no answer (a put on an
// unbounded queue: fire and forget, still FIFO because MPI keeps one sender's messages in
// order). On the master the same call runs directly on the ObjectServer. A call that must wait
// (a get on an empty queue) is parked by the server and answered when it can proceed or when its
// timeout passes: the master decides timeouts, so an item is never handed to a caller that has
// stopped waiting.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/wire.hpp"

namespace mpp::detail {

enum class Op : std::uint16_t {
  // object lifetime (counted handles: Queue)
  retain,
  release,
  drop,  // a Manager's shutdown: its objects go at once
  // creation, on object 0
  create_queue,
  create_dict,
  create_list,
  create_pipe,
  start_process,  // a Process started outside the master (detail::start_process_for_another)
  process_ended,  // a rank's child process ended: whatever it held (pipe copies, waiting calls) goes
  // queues
  queue_put,
  queue_get,
  queue_size,
  queue_task_done,
  queue_join,
  queue_shutdown,
  // dict
  dict_set,
  dict_get,
  dict_contains,
  dict_erase,
  dict_size,
  dict_keys,
  dict_items,
  dict_update,
  dict_clear,
  dict_pop,
  dict_popitem,
  dict_setdefault,
  // list
  list_append,
  list_extend,
  list_at,
  list_set,
  list_size,
  list_items,
  list_pop,
  list_insert,
  list_remove,
  list_index,
  list_count,
  list_reverse,
  list_clear,
  list_slice,
  list_sort,
  // pipes: every process holding an end holds a copy of it, as an OS pipe's descriptors
  pipe_retain,  // a copy of an end is on its way to another process
  pipe_adopt,   // ... and arrived there
  pipe_close,   // a process closed its copy
  pipe_send,
  pipe_recv,
  pipe_poll,
};

/// Why a call did not produce a result.
enum class Failure : std::uint8_t {
  none,
  would_block,  // inside the server only: the call waits for another one
  timed_out,    // waited as long as the caller allowed
  key_error,
  index_error,
  value_error,  // Python's ValueError: list.remove or list.index of a value not there
  broken_pipe,
  usage,
  gone,         // the object no longer exists
  shut_down,    // Queue::shutdown() came first
  end_of_file,  // a pipe end's recv: nothing left, and every copy of the other end is closed
};

struct RequestHeader {
  std::uint64_t call;  // unique per call (the caller's pid in the high half): see ReplyHeader
  std::uint64_t object;
  std::int64_t timeout_ns;  // < 0: wait as long as it takes; 0: do not wait
  Op op;
  std::uint8_t wants_reply;
};

struct ReplyHeader {
  /// The call answered. A caller skips answers to calls it no longer waits for: a child process
  /// killed during a call leaves its answer to arrive at its rank after it is gone.
  std::uint64_t call;
  Failure failure;
};

/// Thrown by a served object's operation; reaches the caller as its Failure and message.
struct ServedFailure : std::runtime_error {
  ServedFailure(Failure f, const std::string& message) : std::runtime_error(message), failure(f) {}
  Failure failure;
};

/// A number no other call of this job has had: this process's pid, then a count.
std::uint64_t next_call_number();

/// A call being put together: the header sits in front of the arguments, so the message is
/// sent as it is.
class Request {
 public:
  Request(Op op, std::uint64_t object) : header_{0, object, -1, op, 1} {
    out_.bytes().resize(sizeof header_);  // filled in by finish()
  }

  template <class T>
  Request& arg(const T& value) {
    out_.write(value);
    return *this;
  }
  Writer& args() { return out_; }
  const RequestHeader& header() const { return header_; }

  /// The message as sent, with a new call number and the header's final timeout and reply flag.
  Bytes& finish(std::int64_t timeout_ns, bool wants_reply) {
    header_.call = next_call_number();
    header_.timeout_ns = timeout_ns;
    header_.wants_reply = wants_reply ? 1 : 0;
    std::memcpy(out_.bytes().data(), &header_, sizeof header_);
    return out_.bytes();
  }

 private:
  RequestHeader header_;
  Writer out_;
};

struct Reply {
  Failure failure = Failure::none;
  Bytes result;  // the result; for a failure, its message

  Reader reader() const { return Reader(result); }
};

/// Runs `request` on the master's ObjectServer and waits for its answer (on the master itself
/// it runs in place). Timeouts come back as Failure::timed_out for the caller to name (Empty,
/// Full, ...); every other failure is thrown as the matching mpp exception.
Reply call_master(Request& request, std::optional<Clock::time_point> deadline = std::nullopt);

/// Like call_master with a zero timeout: a call that would wait fails with timed_out at once.
Reply call_master_nowait(Request& request);

/// Sends `request` without waiting for an answer (its effect still happens in order with this
/// rank's other calls).
void post_master(Request& request);

/// Tells the master that this rank's child `pid` ended, however it ended: its calls still
/// waiting and what it held (pipe copies) go. Sent after everything the child sent.
void post_process_ended(std::int32_t pid);

/// Throws `reply`'s failure as the mpp exception for it (UsageError, std::out_of_range, ...).
[[noreturn]] void throw_failure(const Reply& reply);

/// The session's rank of this process.
int this_rank();

}  // namespace mpp::detail
