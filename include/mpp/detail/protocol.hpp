#pragma once
// Messages between the master (rank 0) and the workers, on the session's private communicator.
//
//   master -> worker  Tag::tasks    a batch: [TaskHeader][args bytes] repeated
//   master -> worker  Tag::task_data right after a batch whose tasks have detached arguments:
//                                   those bytes, in task order (one message per contiguous run;
//                                   per task after an isolated batch)
//   worker -> master  Tag::results  [ResultHeader][result bytes | ErrorReport] repeated
//   worker -> master  Tag::result_data right after results some of which came apart: their raw
//                                   items, in result order (received straight into a map's output)
//   master -> worker  Tag::stop     empty: leave the service loop
//   master -> worker  Tag::isolated_tasks  [IsolationHeader] then a batch, run in a child process
//   master -> worker  Tag::lane_end [LaneEnd]: an isolated pool ended; its children go
//   master -> worker  Tag::process  [ProcessStart][TaskHeader][args]: a Process, run in a child
//   any    -> master  Tag::requests a call on an object the master serves (detail/requests.hpp)
//   master -> any     Tag::replies  its answer
#include <mpi.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/child.hpp"
#include "mpp/detail/code_ref.hpp"
#include "mpp/detail/mpi_check.hpp"
#include "mpp/detail/wire.hpp"

namespace mpp::detail {

/// One MPI message carries at most INT_MAX bytes.
inline constexpr std::size_t max_message_bytes = static_cast<std::size_t>(std::numeric_limits<int>::max());

enum class Tag : int {
  tasks = 7101,
  results = 7102,
  stop = 7103,
  requests = 7104,
  replies = 7105,
  isolated_tasks = 7107,
  lane_end = 7108,
  process = 7109,
  task_data = 7110,
  result_data = 7111,
};

/// TaskHeader::first_index of a task that is a single call, not items of a map.
inline constexpr std::uint64_t no_item = ~std::uint64_t{0};

/// A message matched by MPI_Improbe (so no other thread's probe takes it), to be received with
/// receive_matched wherever its receiver chooses once it knows the size.
struct Matched {
  MPI_Message handle;
  std::size_t size;  // in bytes
  MPI_Status status;
};

/// The message with `tag` from `source` (wildcards allowed) waiting on `comm`, matched, if one waits.
inline std::optional<Matched> try_match(MPI_Comm comm, int source, int tag) {
  int flag = 0;
  Matched matched{MPI_MESSAGE_NULL, 0, {}};
  check_mpi(MPI_Improbe(source, tag, comm, &flag, &matched.handle, &matched.status), "MPI_Improbe");
  if (!flag) return std::nullopt;
  int count = 0;
  check_mpi(MPI_Get_count(&matched.status, MPI_BYTE, &count), "MPI_Get_count");
  matched.size = static_cast<std::size_t>(count);
  return matched;
}

/// Receives a matched message into `into`, which holds at least its size.
inline void receive_matched(Matched& matched, char* into) {
  check_mpi(MPI_Mrecv(into, static_cast<int>(matched.size), MPI_BYTE, &matched.handle, MPI_STATUS_IGNORE), "MPI_Mrecv");
}

struct Received {
  MPI_Status status;
  std::size_t size;  // the message's bytes, at the start of the buffer
};

/// try_receive's MPI part, for a rank (never a child): the message is written over `buffer`,
/// which grows if it must but never shrinks, so a receiver that keeps one buffer does not
/// clear megabytes before each message.
inline std::optional<Received> try_receive_over(MPI_Comm comm, int source, int tag, Bytes& buffer) {
  auto matched = try_match(comm, source, tag);
  if (!matched) return std::nullopt;
  if (buffer.size() < matched->size) buffer.resize(matched->size);
  receive_matched(*matched, buffer.data());
  return Received{matched->status, matched->size};
}

/// If a message from `source` with `tag` (wildcards allowed) is waiting, receives it whole into
/// `into` and returns its status; otherwise returns nothing at once. Matched probe + receive,
/// so two threads polling one communicator never take each other's message. In a supervised
/// child the parent rank receives it (on the session's communicator, the only one a child uses).
inline std::optional<MPI_Status> try_receive(MPI_Comm comm, int source, int tag, Bytes& into) {
  if (in_child()) {
    const auto from = relay_try_receive(source, tag, into);
    if (!from) return std::nullopt;
    MPI_Status status{};
    status.MPI_SOURCE = *from;
    status.MPI_TAG = tag;
    return status;
  }
  const auto received = try_receive_over(comm, source, tag, into);
  if (!received) return std::nullopt;
  into.resize(received->size);
  return received->status;
}

/// The tag of the first message from `source` (a wildcard allowed) waiting on `comm`, if any.
/// Pollers look with this once, then take only what it found: each MPI call that finds nothing
/// may give up the core (Open MPI yields when the node is oversubscribed), so one look beats
/// five, and a take that finds nothing costs a yield on the hot path.
inline std::optional<Tag> waiting_message(MPI_Comm comm, int source) {
  int flag = 0;
  MPI_Status status;
  check_mpi(MPI_Iprobe(source, MPI_ANY_TAG, comm, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  return static_cast<Tag>(status.MPI_TAG);
}

/// A message with `tag` from `source` that one received before announced (its sender posts it
/// right after that one, so it is on its way), matched. MalformedMessage, saying `what` did not
/// come, when it is not there within 10 s.
Matched wait_for_announced(MPI_Comm comm, int source, Tag tag, const char* what);

/// The pause between two looks for a message: in a supervised child it ends as soon as the
/// parent pushes one, so the child does not poll its parent.
inline void pause_for_message(Backoff& backoff) {
  if (in_child()) {
    relay_wait(backoff.next_pause());
  } else {
    backoff.pause();
  }
}

/// MPI_Send of `bytes` to `dest`; in a supervised child the parent rank sends it.
void send_bytes(MPI_Comm comm, int dest, Tag tag, std::span<const char> bytes);

/// The fixed-size header that starts `message`; MalformedMessage when the message is shorter.
template <class Header>
Header header_of(std::span<const char> message) {
  return Reader(message).read<Header>();
}

/// A message from `sender` on `channel` did not decode: print what, naming both ranks, and end
/// the job (MPI_Abort). Nothing of it is used, and no rank waits forever for what it meant.
[[noreturn]] void end_job_on_malformed(const char* channel, int sender, const std::exception& problem);

struct TaskHeader {
  std::uint64_t id;
  CodeRef invoker;
  CodeRef function;
  std::uint64_t first_index;  // the job's index of this task's first item
  std::uint64_t args_size;    // the arguments that follow in the batch
  // Further arguments sent in the batch's Tag::task_data messages, not in the batch: a blocking
  // map's items, sent from the caller's input as they lie.
  std::uint32_t detached_size = 0;  // (a message holds at most 2 GiB)
  // 1: the worker may send the raw items of the result apart (Tag::result_data), for the master
  // to receive them straight into the job's output (a map's, see TaskSink::landing).
  std::uint32_t detach_result = 0;
};

/// The header of one task's result; the fields after `last_of_batch` say how it ran, for
/// mpp::status_log and the MPP_VERBOSE summary (0 where the worker cannot know).
struct ResultHeader {
  std::uint64_t id;
  std::uint64_t payload_size;
  std::uint64_t run_ns;  // how long the task ran: the master's cue for batching

  std::uint16_t ok;             // 0: the payload is an ErrorReport
  std::uint16_t last_of_batch;  // the worker is done with the batch this task came in
  // Bytes of the payload sent apart (TaskHeader::detach_result); a message holds at most 2 GiB.
  std::uint32_t detached_size = 0;

  std::uint64_t started_unix_ns = 0;  // when it started, on the worker's clock
  // The peak resident memory of the process that ran it, KiB: read after tasks of 50 us or
  // more, else at most every 0.1 s, so a tiny task shows the peak as of shortly before it.
  std::uint64_t peak_rss_kib = 0;
  std::int32_t pid = 0;         // the process that ran it: the worker rank or its child
  std::int32_t end_signal = 0;  // the signal that ended that process while running it
};

/// Appends [header][payload] to a results message, payload_size set to what `write_payload` wrote.
template <class WritePayload>
void append_result(Writer& out, ResultHeader header, WritePayload&& write_payload) {
  const std::size_t header_at = out.size();
  out.write_raw(&header, sizeof header);
  write_payload(out);
  header.payload_size = out.size() - header_at - sizeof header;
  std::memcpy(out.bytes().data() + header_at, &header, sizeof header);
}

/// How an isolated pool runs its tasks; starts every Tag::isolated_tasks message.
struct IsolationHeader {
  std::uint64_t task_timeout_ns;   // 0: no limit
  std::uint32_t lane;              // the pool, unique in the session
  std::uint32_t maxtasksperchild;  // 0: no limit
  std::uint32_t initializer;       // 1: the batch is the pool's initializer, run again in every new child
  std::uint32_t children_here;     // how many child processes the pool has on the receiving rank
};

/// Starts every Tag::process message: the words a process's master and its rank share.
struct ProcessStart {
  GlobalAddress stop_signal;  // an int32: nonzero asks the rank to send that signal to the child
  GlobalAddress child_pid;    // an int32: the rank stores the child's pid there
};

struct LaneEnd {
  std::uint32_t lane;
  std::uint32_t kill;  // 1: terminate() — kill running tasks; 0: the pool is done, children leave
};

/// What a worker knows about a task that threw.
struct ErrorReport {
  std::string type;
  std::string message;
  std::string host;
  int rank = 0;
  std::optional<std::uint64_t> item;
  std::string thrown_as;  // see RemoteError::thrown_as

  void write(Writer& out) const {
    out.write(type);
    out.write(message);
    out.write(host);
    out.write(rank);
    out.write(static_cast<std::uint8_t>(item.has_value()));
    out.write(item.value_or(0));
    out.write(thrown_as);
  }
  static ErrorReport read(Reader& in) {
    ErrorReport report;
    report.type = in.read<std::string>();
    report.message = in.read<std::string>();
    report.host = in.read<std::string>();
    report.rank = in.read<int>();
    const bool has_item = in.read<std::uint8_t>() != 0;
    const auto item = in.read<std::uint64_t>();
    if (has_item) report.item = item;
    report.thrown_as = in.read<std::string>();
    return report;
  }
};

}  // namespace mpp::detail
