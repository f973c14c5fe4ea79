#include "mpp/detail/requests.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
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

/// The reply to call `call` in `message`; nothing if it answers an earlier, abandoned call.
std::optional<Reply> parse_reply(const Bytes& message, std::uint64_t call) {
  const auto header = header_of<ReplyHeader>(message);
  if (header.call != call) return std::nullopt;
  Reply reply;
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
  const std::uint64_t call = header_of<RequestHeader>(message).call;
  Backoff backoff = message_backoff();
  SharedSpace& space = shared_space();
  Bytes answer;
  for (;;) {
    if (try_receive(comm, 0, static_cast<int>(Tag::replies), answer)) {
      try {
        if (auto reply = parse_reply(answer, call)) return std::move(*reply);
      } catch (const MalformedMessage& e) {
        end_job_on_malformed("reply", 0, e);
      }
      continue;
    }
    space.progress();  // RMA aimed at this rank keeps moving while it waits
    pause_for_message(backoff);
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

void post_process_ended(std::int32_t pid) {
  Request ended(Op::process_ended, 0);
  ended.arg(pid);
  post_master(ended);
}

void throw_failure(const Reply& reply) {
  const std::string message(reply.result.begin(), reply.result.end());
  switch (reply.failure) {
    case Failure::key_error:
      throw KeyError(message);
    case Failure::index_error:
      throw std::out_of_range(message);
    case Failure::value_error:
      throw ValueError(message);
    case Failure::broken_pipe:
      throw BrokenPipeError(message);
    case Failure::end_of_file:
      throw EOFError(message);
    case Failure::shut_down:
      throw ShutDown(message);
    case Failure::timed_out:
      throw TimeoutError("mpp: the call timed out");
    default:
      throw UsageError(message);
  }
}

int this_rank() { return Session::current().rank(); }

std::uint64_t next_call_number() {
  static std::atomic<std::uint32_t> count{0};
  return static_cast<std::uint64_t>(::getpid()) << 32 | ++count;
}

}  // namespace mpp::detail
