#include "mpp/detail/requests.hpp"

#include <algorithm>
#include <mutex>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/engine.hpp"
#include "mpp/detail/mpi_check.hpp"
#include "mpp/detail/protocol.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/errors.hpp"
#include "mpp/session.hpp"

namespace mpp::detail {
namespace {

/// One call at a time per worker process: the answer to a call is the next reply from rank 0.
std::mutex& worker_call_mutex() {
  static std::mutex mutex;
  return mutex;
}

Reply parse_reply(const Bytes& message) {
  Reply reply;
  const auto header = header_of<ReplyHeader>(message);
  reply.failure = header.failure;
  reply.result.assign(message.begin() + sizeof header, message.end());
  return reply;
}

/// Sends a call to the master and, if it wants one, waits for its answer.
Reply exchange_with_master(Bytes& message, bool wants_reply) {
  const Session& session = Session::current();
  const MPI_Comm comm = session.communicator();
  std::lock_guard lock(worker_call_mutex());
  send_bytes(comm, 0, Tag::requests, message);
  if (!wants_reply) return {};
  Backoff backoff = message_backoff();
  SharedSpace& space = shared_space();
  Bytes answer;
  while (!try_receive(comm, 0, static_cast<int>(Tag::replies), answer)) {
    space.progress();  // RMA aimed at this rank keeps moving while it waits
    backoff.pause();
  }
  try {
    return parse_reply(answer);
  } catch (const MalformedMessage& e) {
    end_job_on_malformed("reply", 0, e);
  }
}

Reply call(Request& request, std::optional<Clock::time_point> deadline, bool nowait) {
  Session& session = Session::current();
  if (session.is_master()) {
    Engine& engine = session.engine();
    const Bytes& message = request.finish(-1, true);
    Reply reply;
    auto attempt = [&] {
      reply = engine.objects().try_call(message);
      return reply.failure != Failure::would_block;
    };
    bool done = attempt();
    if (!done && !nowait) {
      ObjectServer::LocalWait waiting(engine.objects());
      done = engine.wait_until(attempt, deadline);
    }
    engine.notify_waiters();  // the call may have made room or an item for another master thread
    if (!done) reply = Reply{Failure::timed_out, {}};
    return reply;
  }
  std::int64_t timeout_ns = -1;
  if (nowait) {
    timeout_ns = 0;
  } else if (deadline) {
    timeout_ns = std::max<std::int64_t>(0, std::chrono::nanoseconds(*deadline - Clock::now()).count());
  }
  return exchange_with_master(request.finish(timeout_ns, true), true);
}

Reply checked(Reply reply) {
  if (reply.failure != Failure::none && reply.failure != Failure::timed_out) throw_failure(reply);
  return reply;
}

}  // namespace

Reply call_master(Request& request, std::optional<Clock::time_point> deadline) {
  return checked(call(request, deadline, false));
}

Reply call_master_nowait(Request& request) { return checked(call(request, std::nullopt, true)); }

void post_master(Request& request) {
  if (Session::current().is_master()) {
    call_master(request);
  } else {
    exchange_with_master(request.finish(-1, false), false);
  }
}

void throw_failure(const Reply& reply) {
  const std::string message(reply.result.begin(), reply.result.end());
  switch (reply.failure) {
    case Failure::key_error:
      throw KeyError(message);
    case Failure::index_error:
      throw std::out_of_range(message);
    case Failure::broken_pipe:
      throw BrokenPipeError(message);
    case Failure::timed_out:
      throw TimeoutError("mpp: the call timed out");
    default:
      throw UsageError(message);
  }
}

int this_rank() { return Session::current().rank(); }

}  // namespace mpp::detail
