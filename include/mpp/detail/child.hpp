#pragma once
// Supervised children: a worker rank runs a target in a child OS process that it forks and
// watches, so the target can be killed, can crash or exit on its own, without the MPI job
// noticing. The child never calls MPI (a forked process must not: see docs/ARCHITECTURE.md,
// "Children"). What the code in it needs from MPI — messages to the master and other ranks,
// one-sided operations on other ranks' memory, allocations in the rank's shared segment — its
// parent rank does for it: the parent waits for the child anyway, and answers its calls over a
// socket pair meanwhile (the relay).
#include <mpi.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/frames.hpp"
#include "mpp/detail/handoff.hpp"
#include "mpp/detail/shared_space.hpp"
#include "mpp/detail/wire.hpp"

namespace mpp::detail {

class RelayedSends;

/// True inside a supervised child: MPI is off limits, calls go through the relay.
bool in_child();

/// How a child ended.
struct ChildEnding {
  int exitcode;  // as Python reports it: the exit status, or -N when signal N ended it
  Bytes note;    // what the child sent with relay_note (an error report), if anything
  std::uint64_t peak_rss_kib = 0;
};

/// One message a child sends through its parent.
struct RelayedMessage {
  int tag;
  std::span<const char> bytes;
};

/// A forked child seen from its parent rank. The parent relays for it: messages for the child
/// are pushed to it, and its calls are answered. Destroying a child that still runs kills it
/// (SIGKILL) and reaps it.
class SupervisedChild {
 public:
  /// Whom signal() and the destructor's kill reach.
  enum class Reach {
    process,  // the child alone, as Python's Process.terminate(): its own children live on
    group,    // the child and every process it started (its own process group): a pool task's
              // shell commands die with it
  };
  /// Forks a child that runs `body` and leaves with its result as exit status (std::exit, so
  /// atexit handlers the body registered run; those of the parent do not).
  explicit SupervisedChild(const std::function<int()>& body, Reach reach = Reach::process);
  ~SupervisedChild();
  SupervisedChild(const SupervisedChild&) = delete;
  SupervisedChild& operator=(const SupervisedChild&) = delete;

  int pid() const { return pid_; }
  /// The messages of each call in which the child sends (one or more, to one `dest`) pass
  /// `watch(dest, messages)` together, before any is sent.
  using SendWatch = std::function<void(int dest, std::span<const RelayedMessage> messages)>;
  void watch_sends(SendWatch watch) { watch_sends_ = std::move(watch); }
  /// Hands the child a message as if it came from `source` with `tag` (relay_try_receive finds
  /// it); its bytes are `parts` joined.
  void push(int source, int tag, std::span<const std::span<const char>> parts);
  /// For relay_all: what to poll the link for, and the answers to what the poll found.
  pollfd link_watch() const;
  bool serve_link(short revents);
  enum class Look {
    when_due,  // every few milliseconds (waitpid is a system call), or at once when the link closed
    now,       // now, without waiting
    wait,      // wait until the child ends
  };
  /// How the child ended, once it has (its last calls answered first).
  std::optional<ChildEnding> ending(Look look = Look::when_due);
  void signal(int number);

 private:
  class Outbox;
  bool answer_waiting_calls();

  /// The target of kill(2): the pid, or the negated process group.
  int kill_target() const { return reach_ == Reach::group ? -pid_ : pid_; }

  int pid_ = -1;
  Reach reach_;
  int link_ = -1;
  bool link_open_ = true;
  FrameReader reader_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<RelayedSends> sends_;  // the child's messages on their way
  Bytes note_;
  std::optional<ChildEnding> ended_;
  std::chrono::steady_clock::time_point next_look_;
  SendWatch watch_sends_;
  std::function<void(int, std::span<const char>)> route_here_;
};

/// Receives the replies waiting for this rank and hands each to `route` (source, tag,
/// message); true if there were any.
bool collect_child_messages(const std::function<void(int, int, Bytes&)>& route);

/// Hands a reply that reached this rank to the child whose pid is in its call number (none if
/// that child is gone). Returns the child it went to.
SupervisedChild* route_to_children(std::span<SupervisedChild* const> children, int source, int tag,
                                   std::span<const char> message);

/// One round of relaying for several children of this rank: answers their calls, naps up to
/// `longest` while all are quiet (a call wakes it; zero: yields instead). True if anything
/// moved. Messages for them are the caller's to collect and route.
bool relay_all(std::span<SupervisedChild* const> children, std::chrono::nanoseconds longest);

// What a child does instead of calling MPI; each waits for the parent's answer.

/// MPI_Send of each message, in order, to `dest` on the session's communicator, in one call to
/// the parent: it sends all of them or, when the child dies first, none (results and the data
/// they announce never part). A big message goes through the shared segment
/// (detail/handoff.hpp): in the block lent by relay_lend when it fits there, else in one
/// allocated for it (a round trip to the parent).
void relay_send(int dest, std::span<const RelayedMessage> messages);
/// Lends the child a block of its parent's for the next big message it sends (none: takes the
/// loan back); the parent retires it when it no longer needs what was sent from it.
void relay_lend(std::optional<HandoffRef> block);
/// A message from `source` with `tag` if one waits (see try_receive); its source rank.
std::optional<int> relay_try_receive(int source, int tag, Bytes& into);
/// Sleeps until the parent pushes a message to the child, or `longest` passes.
void relay_wait(std::chrono::microseconds longest);
/// SharedSpace::access_remote in the parent.
void relay_remote_access(const RemoteAccess& access, std::span<const char> in, std::span<char> out);
/// SharedSpace::allocate and retire, which keep the segment's free list in the parent.
GlobalAddress relay_allocate(std::size_t bytes);
void relay_retire(GlobalAddress block, std::size_t bytes);
/// Hands `bytes` to the parent, which returns them in ChildEnding::note.
void relay_note(std::span<const char> bytes);
/// Has the parent print `message` and end the job (a malformed message reached the child).
[[noreturn]] void relay_end_job(const std::string& message);

}  // namespace mpp::detail
