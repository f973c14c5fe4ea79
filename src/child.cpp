#include "mpp/detail/child.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/frames.hpp"
#include "mpp/detail/handoff.hpp"
#include "mpp/detail/protocol.hpp"
#include "mpp/detail/requests.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/session.hpp"

namespace mpp::detail {
namespace {

/// In a child: its end of the socket pair to the parent; -1 elsewhere.
int link_to_parent = -1;
/// In a child: a block its parent lent for the next big message it sends (relay_lend).
std::optional<HandoffRef> lent_block;

/// In a parent rank: its ends of the links to its children, which a new child closes (a
/// sibling has no business with them, and holds no descriptors it does not need).
std::vector<int>& links_to_children() {
  static std::vector<int> links;
  return links;
}

enum class Call : std::uint8_t { send, remote_access, allocate, retire, note, end_job };

/// How often the parent looks at the stop word (on the RMA path, a remote read) and at whether
/// the child still runs.
constexpr auto supervision_interval = std::chrono::milliseconds(2);

// ---- the child's side ----

/// What the parent writes to the child: the answer to its call, or a message that reached the
/// parent rank (a reply: while its child runs, they are all for the child).
enum class Frame : std::uint8_t { answer, message };

/// The child's end of the link: its calls, and the messages pushed to it.
class LinkToParent {
 public:
  /// Sends one call and returns its answer; a call that failed in the parent throws here.
  Bytes ask(Writer& call) {
    std::lock_guard lock(mutex_);
    if (!write_frame(link_to_parent, call.bytes())) leave_without_parent();
    for (;;) {
      Bytes frame;
      next_frame(frame, true);
      Reader in(frame);
      if (in.read<Frame>() == Frame::message) {
        file(in);
        continue;
      }
      if (in.read<std::uint8_t>() == 0) throw std::runtime_error(in.read<std::string>());
      const auto rest = in.rest();
      return Bytes(rest.begin(), rest.end());
    }
  }

  /// Whether a pushed frame was read from the socket and waits in the buffer.
  bool has_frame() {
    std::lock_guard lock(mutex_);
    return reader_.has_frame();
  }

  /// Sends one call that has no answer.
  void tell(Writer& call) {
    std::lock_guard lock(mutex_);
    if (!write_frame(link_to_parent, call.bytes())) leave_without_parent();
  }

  /// A message from `source` (or any) with `tag` among those pushed so far, without waiting.
  std::optional<int> take(int source, int tag, Bytes& into) {
    std::lock_guard lock(mutex_);
    for (Bytes frame; next_frame(frame, false);) {
      Reader in(frame);
      if (in.read<Frame>() != Frame::message) throw MalformedMessage("mpp: an answer from the parent nobody asked for");
      file(in);
    }
    for (auto it = mailbox_.begin(); it != mailbox_.end(); ++it) {
      if (it->tag != tag || (source != MPI_ANY_SOURCE && it->source != source)) continue;
      const int from = it->source;
      into = std::move(it->bytes);
      mailbox_.erase(it);
      return from;
    }
    return std::nullopt;
  }

 private:
  struct Pushed {
    int source;
    int tag;
    Bytes bytes;
  };

  [[noreturn]] static void leave_without_parent() {
    // Without its parent the child has nothing left to do (PR_SET_PDEATHSIG is on its way).
    std::_Exit(1);
  }
  /// The next whole frame into `frame`; false when `wait` is false and none has arrived whole.
  bool next_frame(Bytes& frame, bool wait) {
    const auto got = reader_.next(link_to_parent, frame, wait);
    if (got == FrameReader::Got::closed || (got == FrameReader::Got::frame && frame.empty())) leave_without_parent();
    return got == FrameReader::Got::frame;
  }
  void file(Reader& in) {
    const int source = in.read<int>();
    const int tag = in.read<int>();
    const auto bytes = in.rest();
    mailbox_.push_back({source, tag, Bytes(bytes.begin(), bytes.end())});
  }

  std::mutex mutex_;
  std::deque<Pushed> mailbox_;
  FrameReader reader_;
};

LinkToParent& parent_link() {
  static LinkToParent link;  // first used in the child: never copied across a fork half-built
  return link;
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

/// Does what the child asked; the answer to write, [answer][1][result] or [answer][0][message],
/// except for a send, which the child does not wait for (an MPI failure there ends the job).
}  // namespace

/// The child's messages on their way. The parent sends them without blocking: a receiver
/// slow to take one would otherwise hold the parent in MPI_Send, spinning on a core its children
/// need and relaying nothing. Each keeps its bytes until it completes.
class RelayedSends {
 public:
  RelayedSends() = default;
  RelayedSends(const RelayedSends&) = delete;
  RelayedSends& operator=(const RelayedSends&) = delete;
  ~RelayedSends() { finish(); }
  /// Sends a handed-off block (retired once sent).
  void start(int dest, int tag, Handoff block) { start(dest, tag, Pending{MPI_REQUEST_NULL, std::move(block), {}}); }
  /// Sends a copy of `bytes`.
  void start_copy(int dest, int tag, std::span<const char> bytes) {
    start(dest, tag, Pending{MPI_REQUEST_NULL, std::nullopt, Bytes(bytes.begin(), bytes.end())});
  }
  /// Waits for every send to complete.
  void finish() {
    for (auto& send : pending_) check_mpi(MPI_Wait(&send.request, MPI_STATUS_IGNORE), "MPI_Wait");
    pending_.clear();
  }
  /// Lets go of the sends that completed.
  void progress() {
    while (!pending_.empty()) {
      int done = 0;
      check_mpi(MPI_Test(&pending_.front().request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (!done) return;
      pending_.pop_front();  // tested in order: one done behind an unfinished one waits its turn
    }
  }

 private:
  struct Pending {
    MPI_Request request;
    std::optional<Handoff> block;
    Bytes copy;
  };
  /// Sends what `pending` holds, from where the deque keeps it.
  void start(int dest, int tag, Pending pending) {
    auto& send = pending_.emplace_back(std::move(pending));
    const std::span<const char> bytes = send.block ? send.block->bytes() : std::span<const char>(send.copy);
    check_mpi(MPI_Isend(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag,
                        Session::current().communicator(), &send.request),
              "MPI_Isend");
  }
  std::deque<Pending> pending_;
};

/// Above this a message is sent by rendezvous: MPI_Send waits for its receiver (Open MPI's
/// shared-memory eager limit; networks' are larger). An isolated batch's results (512 tiny
/// ones are 26 KB) held a rank in MPI_Send for milliseconds while the master was busy.
inline constexpr std::size_t eager_bytes = std::size_t{4} << 10;

namespace {

std::optional<Bytes> answer(const Bytes& call, Bytes& note, RelayedSends& sends,
                            const SupervisedChild::SendWatch& watch_sends,
                            const std::function<void(int, std::span<const char>)>& route_here) {
  Reader in(call);
  const auto kind = in.read<Call>();
  if (kind == Call::send) {
    // [dest][count] then per message [tag][handed] and a HandoffRef, or [size][bytes].
    int dest = 0;
    std::vector<RelayedMessage> messages;
    std::vector<std::optional<Handoff>> handed;
    try {
      dest = in.read<int>();
      const auto count = in.read<std::uint8_t>();
      for (std::uint8_t i = 0; i < count; ++i) {
        const int tag = in.read<int>();
        auto& block = handed.emplace_back();
        if (in.read<std::uint8_t>() != 0) {
          messages.push_back({tag, block.emplace(in.read<HandoffRef>()).bytes()});
        } else {
          const std::size_t size = in.read_size();
          messages.push_back({tag, in.take(size).rest()});
        }
      }
    } catch (const MalformedMessage& e) {
      end_job_on_malformed("child", Session::current().rank(), e);
    }
    if (watch_sends) watch_sends(dest, messages);
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const auto [tag, bytes] = messages[i];
      if (dest == Session::current().rank()) {
        route_here(tag, bytes);  // MPI to itself could block on a large message: route it here
      } else if (handed[i]) {
        sends.start(dest, tag, std::move(*handed[i]));
      } else if (bytes.size() > eager_bytes) {
        sends.start_copy(dest, tag, bytes);
      } else {  // sent at once: a request each would only slow a stream of small messages
        send_bytes(Session::current().communicator(), dest, static_cast<Tag>(tag), bytes);
      }
    }
    return std::nullopt;
  }
  Writer out;
  out.write(Frame::answer);
  out.write(std::uint8_t{1});
  try {
    SharedSpace& space = shared_space();
    switch (kind) {
      case Call::remote_access: {
        const auto access = in.read<RemoteAccess>();
        if (access.word_bytes == 0 || access.word_bytes != word_bytes_of(access.type) ||
            access.count > std::numeric_limits<int>::max() || access.in_bytes() != in.remaining())
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
    failed.write(Frame::answer);
    failed.write(std::uint8_t{0});
    failed.write(std::string(e.what()));
    return std::move(failed.bytes());
  }
  return std::move(out.bytes());
}

}  // namespace

bool collect_child_messages(const std::function<void(int, int, Bytes&)>& route) {
  const MPI_Comm comm = Session::current().communicator();
  bool did = false;
  Bytes message;
  while (const auto status = try_receive(comm, 0, static_cast<int>(Tag::replies), message)) {
    route(status->MPI_SOURCE, static_cast<int>(Tag::replies), message);
    did = true;
  }
  return did;
}

/// Frames for the child, written as fast as it reads them: the parent never blocks on a child
/// busy computing, so it keeps relaying, watching and passing on signals.
class SupervisedChild::Outbox {
 public:
  void add(std::span<const char> payload) {
    const std::uint64_t size = payload.size();
    Bytes frame(sizeof size);
    std::memcpy(frame.data(), &size, sizeof size);
    frame.insert(frame.end(), payload.begin(), payload.end());
    add_frame(std::move(frame));
  }
  /// A frame already sized ([u64 size][payload]).
  void add_frame(Bytes frame) { frames_.push_back(std::move(frame)); }
  bool empty() const { return frames_.empty(); }
  void clear() {
    frames_.clear();
    written_ = 0;
  }
  /// Writes what the socket takes now; false when the child is gone.
  bool flush(int link) {
    while (!frames_.empty()) {
      const Bytes& frame = frames_.front();
      const ssize_t sent = ::send(link, frame.data() + written_, frame.size() - written_, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      written_ += static_cast<std::size_t>(sent);
      if (written_ == frame.size()) {
        frames_.pop_front();
        written_ = 0;
      }
    }
    return true;
  }

 private:
  std::deque<Bytes> frames_;
  std::size_t written_ = 0;
};

SupervisedChild::SupervisedChild(const std::function<int()>& body, Reach reach)
    : reach_(reach), outbox_(std::make_unique<Outbox>()), sends_(std::make_unique<RelayedSends>()) {
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
    if (reach == Reach::group) ::setpgid(0, 0);
    ::close(link[0]);
    for (const int sibling : links_to_children()) ::close(sibling);
    links_to_children().clear();
    become_child(link[1], parent);
    int status = 1;
    try {
      status = body();
    } catch (const std::exception& e) {
      // The body's own failures are reported by it; what escapes is a message it could not
      // decode (or a bug of ours): never let the child run on in the parent's code.
      relay_end_job(std::string("a child process could not run its task: ") + e.what());
    } catch (...) {
      relay_end_job("a child process could not run its task");
    }
    std::exit(status);
  }
  ::close(link[1]);
  // Both sides set the group, so no kill can come before it exists.
  if (reach == Reach::group) ::setpgid(child, child);
  pid_ = child;
  link_ = link[0];
  links_to_children().push_back(link_);
  next_look_ = std::chrono::steady_clock::now();
  route_here_ = [this](int tag, std::span<const char> bytes) {
    const std::span<const char> whole[] = {bytes};
    push(Session::current().rank(), tag, whole);
  };
}

SupervisedChild::~SupervisedChild() {
  if (!ended_) {
    ::kill(kill_target(), SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  std::erase(links_to_children(), link_);
  ::close(link_);
}

void SupervisedChild::push(int source, int tag, std::span<const std::span<const char>> parts) {
  std::uint64_t size = sizeof(Frame) + sizeof source + sizeof tag;
  for (const auto& part : parts) size += part.size();
  Writer frame;
  frame.bytes().reserve(sizeof size + size);
  frame.write(size);
  frame.write(Frame::message);
  frame.write(source);
  frame.write(tag);
  for (const auto& part : parts) frame.write_raw(part.data(), part.size());
  outbox_->add_frame(std::move(frame.bytes()));
}

bool SupervisedChild::answer_waiting_calls() {
  // Every call waiting, not one per wake-up: a child putting items streams them.
  bool did = false;
  Bytes call;
  while (link_open_) {
    const auto got = reader_.next(link_, call, false);
    if (got == FrameReader::Got::nothing) break;
    if (got == FrameReader::Got::closed) {
      link_open_ = false;  // the child is leaving: its end closes at exit
      break;
    }
    if (auto reply = answer(call, note_, *sends_, watch_sends_, route_here_)) outbox_->add(*reply);
    did = true;
  }
  return did;
}

pollfd SupervisedChild::link_watch() const {
  // A negative descriptor is skipped by poll: a closed link has nothing more to say.
  return pollfd{link_open_ ? link_ : -1, static_cast<short>(POLLIN | (outbox_->empty() ? 0 : POLLOUT)), 0};
}

bool SupervisedChild::serve_link(short revents) {
  sends_->progress();
  if (!link_open_) return false;
  // What waits for the child goes first: answering a call may block in MPI_Send for a while,
  // and the child's next batch should run meanwhile.
  if (!outbox_->flush(link_)) outbox_->clear();
  const bool did = revents != 0 && answer_waiting_calls();
  // A child that left cannot read what is still for it; what it wrote before leaving is
  // still read (and answered) until its end of the link reports closed.
  if (link_open_ && !outbox_->flush(link_)) outbox_->clear();
  return did;
}

SupervisedChild* route_to_children(std::span<SupervisedChild* const> children, int source, int tag,
                                   std::span<const char> message) {
  const std::span<const char> whole[] = {message};
  std::uint64_t call = 0;
  try {
    call = header_of<ReplyHeader>(message).call;
  } catch (const MalformedMessage& e) {
    end_job_on_malformed("reply", source, e);
  }
  const int pid = static_cast<int>(call >> 32);
  for (auto* child : children) {
    if (child->pid() != pid) continue;
    child->push(source, tag, whole);
    return child;
  }
  return nullptr;
}

bool relay_all(std::span<SupervisedChild* const> children, std::chrono::nanoseconds longest) {
  std::vector<pollfd> watches;
  watches.reserve(children.size());
  for (const auto* child : children) watches.push_back(child->link_watch());
  longest = std::max(longest, std::chrono::nanoseconds(0));
  const timespec limit{static_cast<time_t>(longest.count() / 1'000'000'000),
                       static_cast<long>(longest.count() % 1'000'000'000)};
  const int ready = ::ppoll(watches.data(), watches.size(), &limit, nullptr);
  if (ready <= 0 && longest.count() == 0) std::this_thread::yield();
  bool did = false;
  for (std::size_t i = 0; i < children.size(); ++i) did |= children[i]->serve_link(ready > 0 ? watches[i].revents : 0);
  return did;
}

std::optional<ChildEnding> SupervisedChild::ending(Look look) {
  if (ended_) return ended_;
  const auto clock = std::chrono::steady_clock::now();
  if (look == Look::when_due && link_open_ && clock < next_look_) return std::nullopt;
  next_look_ = clock + supervision_interval;
  // A closed link means the child is leaving: wait for it.
  const bool block = look == Look::wait || (look == Look::when_due && !link_open_);
  int status = 0;
  rusage usage{};
  const pid_t ended = ::wait4(pid_, &status, block ? 0 : WNOHANG, &usage);
  if (ended == pid_) {
    // What it sent just before leaving (a put, a pipe message, its note) still counts, and is
    // on its way before its ending is told: the master may stop listening once it knows.
    answer_waiting_calls();
    sends_->finish();
    link_open_ = false;
    ended_ = ChildEnding{python_exitcode(status), std::move(note_), static_cast<std::uint64_t>(usage.ru_maxrss)};
    return ended_;
  }
  if (ended < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "mpp: wait4");
  return std::nullopt;
}

void SupervisedChild::signal(int number) {
  if (!ended_) ::kill(kill_target(), number);
}

bool in_child() { return link_to_parent >= 0; }

void relay_lend(std::optional<HandoffRef> block) { lent_block = block; }

void relay_send(int dest, std::span<const RelayedMessage> messages) {
  Writer call = call_of(Call::send);
  call.write(dest);
  call.write(static_cast<std::uint8_t>(messages.size()));
  for (const auto& [tag, bytes] : messages) {
    const bool big = bytes.size() >= handoff_threshold;
    std::optional<HandoffRef> block;
    if (big && lent_block && bytes.size() <= lent_block->size) {
      block = std::exchange(lent_block, std::nullopt);
      block->size = bytes.size();
    } else if (std::optional<Handoff> allocated; big && (allocated = Handoff::allocate(bytes.size()))) {
      block = allocated->release();
    }
    call.write(tag);
    call.write(static_cast<std::uint8_t>(block ? 1 : 0));
    if (block) {
      std::ranges::copy(bytes, handed_bytes(*block).begin());
      call.write(*block);  // the parent sends it and retires it
    } else {
      call.write(static_cast<std::uint64_t>(bytes.size()));
      call.write_raw(bytes.data(), bytes.size());
    }
  }
  parent_link().tell(call);
}

std::optional<int> relay_try_receive(int source, int tag, Bytes& into) { return parent_link().take(source, tag, into); }

void relay_wait(std::chrono::microseconds longest) {
  if (parent_link().has_frame()) return;  // read already: the socket has no news of it
  if (longest.count() == 0) return std::this_thread::yield();
  const timespec limit{static_cast<time_t>(longest.count() / 1'000'000),
                       static_cast<long>(longest.count() % 1'000'000) * 1000};
  pollfd pushed{link_to_parent, POLLIN, 0};
  ::ppoll(&pushed, 1, &limit, nullptr);
}

void relay_remote_access(const RemoteAccess& access, std::span<const char> in, std::span<char> out) {
  Writer call = call_of(Call::remote_access);
  call.write(access);
  call.write_raw(in.data(), in.size());
  const Bytes answer = parent_link().ask(call);
  if (answer.size() != out.size())
    throw MalformedMessage("mpp: the parent's answer to a remote access has the wrong size");
  if (!out.empty()) std::memcpy(out.data(), answer.data(), out.size());
}

GlobalAddress relay_allocate(std::size_t bytes) {
  Writer call = call_of(Call::allocate);
  call.write(static_cast<std::uint64_t>(bytes));
  const Bytes answer = parent_link().ask(call);
  return Reader(answer).read<GlobalAddress>();
}

void relay_retire(GlobalAddress block, std::size_t bytes) {
  Writer call = call_of(Call::retire);
  call.write(block);
  call.write(static_cast<std::uint64_t>(bytes));
  parent_link().ask(call);
}

void relay_note(std::span<const char> bytes) {
  Writer call = call_of(Call::note);
  call.write_raw(bytes.data(), bytes.size());
  parent_link().ask(call);
}

void relay_end_job(const std::string& message) {
  Writer call = call_of(Call::end_job);
  call.write(message);
  parent_link().ask(call);
  std::_Exit(3);  // the parent ends the job; this is not reached unless it could not
}

}  // namespace mpp::detail
