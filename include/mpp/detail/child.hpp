#pragma once
// Supervised children: a worker rank runs a target in a child OS process that it forks and
// watches, so the target can be killed, can crash or exit on its own, without the MPI job
// noticing. The child never calls MPI (a forked process must not: see docs/ARCHITECTURE.md,
// "Children"). What the code in it needs from MPI — messages to the master and other ranks,
// one-sided operations on other ranks' memory, allocations in the rank's shared segment — its
// parent rank does for it: the parent waits for the child anyway, and answers its calls over a
// socket pair meanwhile (the relay).
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "mpp/detail/shared_space.hpp"
#include "mpp/detail/wire.hpp"

namespace mpp::detail {

/// True inside a supervised child: MPI is off limits, calls go through the relay.
bool in_child();

/// What the parent watches while its child runs.
struct Supervision {
  GlobalAddress stop_signal;  // a shared int: nonzero asks the parent to send that signal
  GlobalAddress child_pid;    // a shared int: the parent stores the child's pid here
};

/// How a child ended.
struct ChildEnding {
  int exitcode;  // as Python reports it: the exit status, or -N when signal N ended it
  Bytes note;    // what the child sent with relay_note (an error report), if anything
};

/// Forks a child that runs `body` and leaves with its result as exit status (std::exit, so
/// atexit handlers the body registered run; those of the parent do not). Waits for it while
/// relaying its calls.
ChildEnding run_in_child(const std::function<int()>& body, const Supervision& supervision);

// What a child does instead of calling MPI; each waits for the parent's answer.

/// MPI_Send of `bytes` to `dest` on the session's communicator.
void relay_send(int dest, int tag, std::span<const char> bytes);
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
