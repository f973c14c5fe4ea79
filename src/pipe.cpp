#include "mpp/pipe.hpp"

#include <unistd.h>

#include <map>
#include <mutex>
#include <string>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/engine.hpp"
#include "mpp/detail/requests.hpp"
#include "mpp/session.hpp"

namespace mpp::detail {
namespace {

/// A send does not wait for the master's answer (an OS pipe's write does not wait for the
/// reader either), except the first one of a copy and one in this many, so a sender to an end
/// closed everywhere stops with BrokenPipeError. On the master every call runs in place.
constexpr std::uint32_t send_confirm_interval = 64;

std::int32_t this_pid() { return static_cast<std::int32_t>(::getpid()); }

/// This process's copies of pipe ends, so a copy arriving again joins the one already here.
class Registry {
 public:
  /// The open copy of (`pipe`, `end`) this process holds, or a new one.
  std::shared_ptr<PipeEnd> find_or_add(std::uint64_t pipe, std::uint8_t end, bool readable, bool writable) {
    std::lock_guard lock(mutex_);
    if (owner_ != ::getpid()) {
      // A forked child starts with no copies: those of the rank it came from are the rank's.
      ends_.clear();
      owner_ = ::getpid();
    }
    auto& slot = ends_[{pipe, end}];
    auto here = slot.lock();
    if (!here || here->closed()) {
      here = std::make_shared<PipeEnd>(pipe, end, readable, writable);
      slot = here;
    }
    return here;
  }
  void forget(std::uint64_t pipe, std::uint8_t end) {
    std::lock_guard lock(mutex_);
    auto it = ends_.find({pipe, end});
    if (it != ends_.end() && it->second.expired()) ends_.erase(it);
  }

 private:
  std::mutex mutex_;
  pid_t owner_ = ::getpid();
  std::map<std::pair<std::uint64_t, std::uint8_t>, std::weak_ptr<PipeEnd>> ends_;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

Request pipe_call(Op op, const PipeEnd& end) {
  Request request(op, end.pipe());
  request.arg(end.end());
  return request;
}

}  // namespace

std::pair<std::shared_ptr<PipeEnd>, std::shared_ptr<PipeEnd>> PipeEnd::create(bool duplex) {
  Request create(Op::create_pipe, 0);
  create.arg(this_pid());
  const auto pipe = call_master(create).reader().read<std::uint64_t>();
  return {registry().find_or_add(pipe, 0, true, duplex), registry().find_or_add(pipe, 1, duplex, true)};
}

std::shared_ptr<PipeEnd> PipeEnd::adopt(std::uint64_t pipe, std::uint8_t end, bool readable, bool writable,
                                        bool stored) {
  auto here = registry().find_or_add(pipe, end, readable, writable);
  if (stored) here->ship();
  // The copy on its way is this process's now (a copy already held here absorbs it).
  Request arrived = pipe_call(Op::pipe_adopt, *here);
  arrived.arg(this_pid());
  post_master(arrived);
  return here;
}

PipeEnd::PipeEnd(std::uint64_t pipe, std::uint8_t end, bool readable, bool writable)
    : pipe_(pipe), end_(end), readable_(readable), writable_(writable) {}

PipeEnd::~PipeEnd() {
  try {
    close();
  } catch (...) {
    // MPI failed: there is no one left to tell.
  }
  registry().forget(pipe_, end_);
}

void PipeEnd::ship() const {
  require_open("send it to another process");
  Request retain = pipe_call(Op::pipe_retain, *this);
  call_master(retain);  // counted before the copy can reach anyone
}

void PipeEnd::require_open(const char* method) const {
  session_.require("this Connection");
  if (closed_) throw UsageError(std::string("mpp::Connection: cannot ") + method + ": this copy of the end is closed");
}

void PipeEnd::require_readable(const char* method) const {
  require_open(method);
  if (!readable_) throw UsageError("mpp::Connection: this end of a one-way Pipe only sends");
}

void PipeEnd::send(std::span<const char> message) {
  require_open("send");
  if (!writable_) throw UsageError("mpp::Connection::send: this end of a one-way Pipe only receives");
  Request request = pipe_call(Op::pipe_send, *this);
  request.args().write_raw(message.data(), message.size());
  if (sends_++ % send_confirm_interval == 0) {
    call_master(request);
  } else {
    post_master(request);
  }
}

std::optional<Bytes> PipeEnd::recv(std::optional<Clock::time_point> deadline) {
  require_readable("recv");
  Request request = pipe_call(Op::pipe_recv, *this);
  Reply reply = call_master(request, deadline);
  if (reply.failure == Failure::timed_out) return std::nullopt;
  return std::move(reply.result);
}

bool PipeEnd::poll(std::optional<Clock::time_point> deadline) {
  require_readable("poll");
  Request request = pipe_call(Op::pipe_poll, *this);
  return call_master(request, deadline).failure != Failure::timed_out;
}

void PipeEnd::close() {
  if (closed_.exchange(true) || !session_.alive()) return;
  Request close = pipe_call(Op::pipe_close, *this);
  close.arg(this_pid());
  post_master(close);
}

std::vector<std::size_t> wait_for_readable(std::span<PipeEnd* const> ends, std::optional<Clock::time_point> deadline) {
  for (const PipeEnd* end : ends) end->require_readable("wait for it");
  std::vector<std::size_t> ready;
  auto look = [&](auto&& ask) {
    ready.clear();
    for (std::size_t i = 0; i < ends.size(); ++i) {
      Request poll = pipe_call(Op::pipe_poll, *ends[i]);
      if (ask(poll)) ready.push_back(i);
    }
    return !ready.empty();
  };
  Session& session = Session::current();
  if (session.is_master()) {
    // Served in place; the engine wakes this thread when a call from elsewhere came in.
    Engine& engine = session.engine();
    auto ask = [&](Request& poll) {
      const Reply reply = engine.objects().try_call(poll.finish(-1, true));
      if (reply.failure != Failure::none && reply.failure != Failure::would_block) throw_failure(reply);
      return reply.failure == Failure::none;
    };
    ObjectServer::LocalWait waiting(engine.objects());
    engine.wait_until([&] { return look(ask); }, deadline);
    return ready;
  }
  auto ask = [](Request& poll) { return call_master_nowait(poll).failure != Failure::timed_out; };
  for (Backoff backoff = message_backoff();; backoff.pause()) {
    if (look(ask)) return ready;
    if (deadline && Clock::now() >= *deadline) return ready;
  }
}

}  // namespace mpp::detail
