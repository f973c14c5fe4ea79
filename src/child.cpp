#include "mpp/detail/child.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <system_error>

#include "mpp/detail/protocol.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/session.hpp"

namespace mpp::detail {
namespace {

/// In a child: its end of the socket pair to the parent; -1 elsewhere.
int link_to_parent = -1;

enum class Call : std::uint8_t { send, try_receive, remote_access, allocate, retire, note, end_job };

/// How often a parent whose child is quiet looks at the stop word and the child's state.
constexpr int supervision_interval_ms = 2;

// Frames on the socket pair: [u64 size][bytes]. MSG_NOSIGNAL: a peer gone is an error to
// handle, not a SIGPIPE that ends the process.
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

bool read_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t got = ::recv(fd, data, size, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    data += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

bool write_frame(int fd, std::span<const char> bytes) {
  const std::uint64_t size = bytes.size();
  return write_all(fd, reinterpret_cast<const char*>(&size), sizeof size) && write_all(fd, bytes.data(), bytes.size());
}

bool read_frame(int fd, Bytes& into) {
  std::uint64_t size = 0;
  if (!read_all(fd, reinterpret_cast<char*>(&size), sizeof size)) return false;
  if (size > std::numeric_limits<std::uint32_t>::max()) return false;  // not a frame of ours
  into.resize(size);
  return read_all(fd, into.data(), size);
}

// ---- the child's side ----

/// Sends one call to the parent and returns its answer; a call that failed there throws here.
Bytes ask_parent(Writer& call) {
  static std::mutex one_call_at_a_time;  // first used in the child: never held across fork
  std::lock_guard lock(one_call_at_a_time);
  Bytes answer;
  // Without its parent the child has nothing left to do (and PR_SET_PDEATHSIG is on its way).
  if (!write_frame(link_to_parent, call.bytes()) || !read_frame(link_to_parent, answer)) std::_Exit(1);
  Reader in(answer);
  if (in.read<std::uint8_t>() == 0) throw std::runtime_error(in.read<std::string>());
  const auto rest = in.rest();
  return Bytes(rest.begin(), rest.end());
}

Writer call_of(Call kind) {
  Writer out;
  out.write(kind);
  return out;
}

/// on_exit handler registered first in the child, so it runs last: the target's own exit
/// handlers have run, the parent's (registered before the fork) must not.
void leave_child(int status, void*) {
  std::fflush(nullptr);
  std::_Exit(status);
}

void become_child(int link, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // no orphan outlives its rank
  if (::getppid() != parent) std::_Exit(1);
  // Open MPI's handlers print a rank's backtrace and take part in ending the job: a child's
  // crash is its own, reported by its exit status.
  for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM, SIGINT, SIGCHLD, SIGPIPE})
    std::signal(signal, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  link_to_parent = link;
  ::on_exit(leave_child, nullptr);
}

// ---- the parent's side ----

int python_exitcode(int status) {
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

/// Does what the child asked and writes the answer: [1][result] or [0][message].
Bytes answer(const Bytes& call, Bytes& note) {
  Writer out;
  out.write(std::uint8_t{1});
  try {
    Reader in(call);
    SharedSpace& space = shared_space();
    const MPI_Comm comm = Session::current().communicator();
    switch (in.read<Call>()) {
      case Call::send: {
        const int dest = in.read<int>();
        const int tag = in.read<int>();
        send_bytes(comm, dest, static_cast<Tag>(tag), in.rest());
        break;
      }
      case Call::try_receive: {
        const int source = in.read<int>();
        const int tag = in.read<int>();
        Bytes message;
        const auto status = try_receive(comm, source, tag, message);
        out.write(std::uint8_t{status.has_value()});
        out.write(status ? status->MPI_SOURCE : -1);
        out.write_raw(message.data(), message.size());
        break;
      }
      case Call::remote_access: {
        const auto access = in.read<RemoteAccess>();
        if ((access.word_bytes != 4 && access.word_bytes != 8) || access.count > std::numeric_limits<int>::max() ||
            access.in_bytes() != in.remaining())
          throw MalformedMessage("mpp: a child's remote access does not describe its operands");
        Bytes result(access.out_bytes());
        space.access_remote(access, in.rest().data(), result.data());
        out.write_raw(result.data(), result.size());
        break;
      }
      case Call::allocate:
        out.write(space.allocate(in.read<std::uint64_t>()));
        break;
      case Call::retire: {
        const auto block = in.read<GlobalAddress>();
        space.retire(block, in.read<std::uint64_t>());
        break;
      }
      case Call::note: {
        const auto bytes = in.rest();
        note.assign(bytes.begin(), bytes.end());
        break;
      }
      case Call::end_job:
        end_job_on_malformed("relayed", Session::current().rank(), std::runtime_error(in.read<std::string>()));
      default:
        throw MalformedMessage("mpp: a child asked its parent for an unknown call");
    }
  } catch (const MalformedMessage& e) {
    end_job_on_malformed("child", Session::current().rank(), e);
  } catch (const std::exception& e) {
    Writer failed;
    failed.write(std::uint8_t{0});
    failed.write(std::string(e.what()));
    return std::move(failed.bytes());
  }
  return std::move(out.bytes());
}

/// Relays the child's calls and passes on stop signals until it ends.
ChildEnding supervise(pid_t child, int link, const Supervision& supervision) {
  SharedSpace& space = shared_space();
  using Clock = std::chrono::steady_clock;
  auto next_look = Clock::now();
  int signal_sent = 0;
  bool link_open = true;
  Bytes call;
  Bytes note;
  for (;;) {
    if (link_open) {
      pollfd watch{link, POLLIN, 0};
      if (::poll(&watch, 1, supervision_interval_ms) > 0) {
        if (read_frame(link, call)) {
          write_frame(link, answer(call, note));  // a child gone meanwhile is seen by waitpid
        } else {
          link_open = false;  // the child is leaving: its end closes at exit
        }
      }
    }
    int status = 0;
    const pid_t ended = ::waitpid(child, &status, link_open ? WNOHANG : 0);
    if (ended == child) return {python_exitcode(status), std::move(note)};
    if (ended < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "mpp: waitpid");
    if (const auto now = Clock::now(); now >= next_look) {
      next_look = now + std::chrono::milliseconds(supervision_interval_ms);
      const int wanted = space.load<std::int32_t>(supervision.stop_signal);
      if (wanted != 0 && wanted != signal_sent) {
        ::kill(child, wanted);
        signal_sent = wanted;
      }
      space.progress();  // RMA aimed at this rank keeps moving while it waits
    }
  }
}

}  // namespace

bool in_child() { return link_to_parent >= 0; }

ChildEnding run_in_child(const std::function<int()>& body, const Supervision& supervision) {
  int link[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, link) != 0)
    throw std::system_error(errno, std::generic_category(), "mpp: socketpair for a child process");
  std::fflush(nullptr);  // what is buffered now must not be written twice
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    const int error = errno;
    ::close(link[0]);
    ::close(link[1]);
    throw std::system_error(error, std::generic_category(), "mpp: fork of a child process");
  }
  if (child == 0) {
    ::close(link[0]);
    become_child(link[1], parent);
    std::exit(body());
  }
  ::close(link[1]);
  struct CloseLink {
    int fd;
    ~CloseLink() { ::close(fd); }
  } close_link{link[0]};
  shared_space().store<std::int32_t>(supervision.child_pid, child);
  return supervise(child, link[0], supervision);
}

void relay_send(int dest, int tag, std::span<const char> bytes) {
  Writer call = call_of(Call::send);
  call.write(dest);
  call.write(tag);
  call.write_raw(bytes.data(), bytes.size());
  ask_parent(call);
}

std::optional<int> relay_try_receive(int source, int tag, Bytes& into) {
  Writer call = call_of(Call::try_receive);
  call.write(source);
  call.write(tag);
  const Bytes answer = ask_parent(call);
  Reader in(answer);
  const bool found = in.read<std::uint8_t>() != 0;
  const int from = in.read<int>();
  if (!found) return std::nullopt;
  const auto message = in.rest();
  into.assign(message.begin(), message.end());
  return from;
}

void relay_remote_access(const RemoteAccess& access, std::span<const char> in, std::span<char> out) {
  Writer call = call_of(Call::remote_access);
  call.write(access);
  call.write_raw(in.data(), in.size());
  const Bytes answer = ask_parent(call);
  if (answer.size() != out.size())
    throw MalformedMessage("mpp: the parent's answer to a remote access has the wrong size");
  if (!out.empty()) std::memcpy(out.data(), answer.data(), out.size());
}

GlobalAddress relay_allocate(std::size_t bytes) {
  Writer call = call_of(Call::allocate);
  call.write(static_cast<std::uint64_t>(bytes));
  const Bytes answer = ask_parent(call);
  return Reader(answer).read<GlobalAddress>();
}

void relay_retire(GlobalAddress block, std::size_t bytes) {
  Writer call = call_of(Call::retire);
  call.write(block);
  call.write(static_cast<std::uint64_t>(bytes));
  ask_parent(call);
}

void relay_note(std::span<const char> bytes) {
  Writer call = call_of(Call::note);
  call.write_raw(bytes.data(), bytes.size());
  ask_parent(call);
}

void relay_end_job(const std::string& message) {
  Writer call = call_of(Call::end_job);
  call.write(message);
  ask_parent(call);
  std::_Exit(3);  // the parent ends the job; this is not reached unless it could not
}

}  // namespace mpp::detail
