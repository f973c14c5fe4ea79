#include "mpp/detail/object_server.hpp"

#include <cstdio>
#include <string>
#include <utility>

#include "mpp/detail/mpi_check.hpp"
#include "mpp/detail/protocol.hpp"

namespace mpp::detail {
namespace {

constexpr auto expiry_check_interval = std::chrono::milliseconds(1);

Reply failure_reply(Failure failure, const std::string& message) {
  Reply reply;
  reply.failure = failure;
  reply.result.assign(message.begin(), message.end());
  return reply;
}

}  // namespace

ObjectServer::ObjectServer(MPI_Comm comm, std::function<void()> changed) : comm_(comm), changed_(std::move(changed)) {}

bool ObjectServer::serve_requests(bool mail) {
  bool did = mail && serve_one_request();
  if (parked_count_ > 0) {
    std::lock_guard lock(mutex_);
    did |= expire_parked_locked();
  }
  if (did && local_waiters_ > 0) changed_();
  return did;
}

bool ObjectServer::serve_one_request() {
  Bytes request;
  const auto status = try_receive(comm_, MPI_ANY_SOURCE, static_cast<int>(Tag::requests), request);
  if (!status) return false;
  const int rank = status->MPI_SOURCE;
  std::lock_guard lock(mutex_);
  RequestHeader header{};
  Reply reply;
  try {
    header = header_of<RequestHeader>(request);
    reply = execute_locked(request, rank);
  } catch (const MalformedMessage& e) {
    end_job_on_malformed("request", rank, e);
  }
  if (reply.failure == Failure::would_block) {
    if (header.timeout_ns == 0) {
      reply = failure_reply(Failure::timed_out, "");
    } else {
      std::optional<Clock::time_point> deadline;
      if (header.timeout_ns > 0) deadline = deadline_after(std::chrono::nanoseconds(header.timeout_ns));
      objects_.at(header.object).parked.push_back(Parked{rank, header.call, std::move(request), deadline});
      ++parked_count_;
      return true;
    }
  }
  if (header.wants_reply) {
    answer(rank, header.call, reply);
  } else if (reply.failure != Failure::none && told_of_failed_posts_.insert({header.object, rank}).second) {
    // Once per object and rank: a producer's puts after a shutdown fail one after another.
    std::string message(reply.result.begin(), reply.result.end());
    std::fprintf(stderr,
                 "mpp: a call from rank %d that expects no answer failed: %s (further such failures on this "
                 "object from this rank are not shown)\n",
                 rank, message.c_str());
  }
  return true;
}

Reply ObjectServer::try_call(const Bytes& request) {
  std::lock_guard lock(mutex_);
  return execute_locked(request, 0);
}

Reply ObjectServer::execute_locked(const Bytes& request, int caller) {
  Reader args(request);
  const auto header = args.read<RequestHeader>();
  Reply reply;
  Writer result;
  try {
    if (header.object == 0 && header.op == Op::start_process) {
      if (!start_process_) throw ServedFailure(Failure::usage, "mpp: this session cannot start processes");
      start_process_(args);
    } else if (header.object == 0 && header.op == Op::process_ended) {
      forget_process_locked({caller, args.read<std::int32_t>()});
    } else if (header.object == 0) {
      result.write(create_locked(header.op, caller, args));
    } else {
      auto it = objects_.find(header.object);
      if (it == objects_.end())
        throw ServedFailure(Failure::gone,
                            "mpp: this object no longer exists (its Manager was shut down, or the session is ending)");
      Entry& entry = it->second;
      switch (header.op) {
        case Op::retain:
          ++entry.holders;
          break;
        case Op::release:
          if (--entry.holders == 0 && entry.counted) objects_.erase(it);
          return reply;
        case Op::drop:
          parked_count_ -= entry.parked.size();
          for (auto& parked : entry.parked)
            answer(parked.rank, parked.call, failure_reply(Failure::gone, "mpp: the Manager was shut down"));
          objects_.erase(it);
          return reply;
        default:
          if (!entry.object->execute(header.op, caller, args, result)) {
            reply.failure = Failure::would_block;
            return reply;
          }
          if (!entry.parked.empty()) retry_parked_locked(header.object);
          if (entry.object->finished() && entry.parked.empty()) objects_.erase(header.object);
      }
    }
  } catch (const ServedFailure& failure) {
    return failure_reply(failure.failure, failure.what());
  } catch (const MalformedMessage&) {
    throw;  // the caller's message is bad, not the call
  } catch (const std::exception& e) {
    return failure_reply(Failure::usage, std::string("mpp: a call on a served object failed: ") + e.what());
  }
  reply.result = std::move(result.bytes());
  return reply;
}

std::uint64_t ObjectServer::create_locked(Op op, int caller, Reader& args) {
  Entry entry;
  switch (op) {
    case Op::create_queue:
      entry.object = make_served_queue(args.read<std::int64_t>());
      entry.counted = true;
      break;
    case Op::create_dict:
      entry.object = make_served_dict();
      break;
    case Op::create_list:
      entry.object = make_served_list(args);
      break;
    case Op::create_pipe:
      entry.object = make_served_pipe({caller, args.read<std::int32_t>()});
      break;
    default:
      throw ServedFailure(Failure::usage, "mpp: internal error: not a creation call");
  }
  const std::uint64_t id = next_id_++;
  objects_.emplace(id, std::move(entry));
  return id;
}

/// A process gone (killed, crashed, or ended): its calls still waiting will never be read (an
/// answer would take an item nobody receives), and what it held is let go.
void ObjectServer::forget_process_locked(ProcessKey process) {
  for (auto it = objects_.begin(); it != objects_.end();) {
    Entry& entry = it->second;
    parked_count_ -= std::erase_if(entry.parked, [&](const Parked& parked) {
      return parked.rank == process.rank && static_cast<std::int32_t>(parked.call >> 32) == process.pid;
    });
    entry.object->process_ended(process);
    const std::uint64_t id = it->first;
    if (!entry.parked.empty()) retry_parked_locked(id);
    it = objects_.find(id);
    if (it->second.object->finished() && it->second.parked.empty()) {
      it = objects_.erase(it);
    } else {
      ++it;
    }
  }
}

/// After a call changed an object, parked calls on it may proceed; one that proceeds may
/// unblock another (a get makes room for a waiting put), so go round until nothing moves.
void ObjectServer::retry_parked_locked(std::uint64_t id) {
  for (bool moved = true; moved;) {
    moved = false;
    auto it = objects_.find(id);
    if (it == objects_.end()) return;
    auto& parked = it->second.parked;
    for (std::size_t i = 0; i < parked.size(); ++i) {
      const auto header = header_of<RequestHeader>(parked[i].request);
      Reader args(parked[i].request.data() + sizeof header, parked[i].request.data() + parked[i].request.size());
      Writer result;
      Reply reply;
      try {
        if (!it->second.object->execute(header.op, parked[i].rank, args, result)) continue;
        reply.result = std::move(result.bytes());
      } catch (const ServedFailure& failure) {
        reply = failure_reply(failure.failure, failure.what());
      }
      answer(parked[i].rank, header.call, reply);
      parked.erase(parked.begin() + static_cast<std::ptrdiff_t>(i));
      --parked_count_;
      moved = true;
      break;
    }
  }
}

bool ObjectServer::expire_parked_locked() {
  if (parked_count_ == 0) return false;
  const auto now = Clock::now();
  if (now < next_expiry_check_) return false;
  next_expiry_check_ = now + expiry_check_interval;
  bool did = false;
  for (auto& [id, entry] : objects_) {
    std::erase_if(entry.parked, [&](const Parked& parked) {
      if (!parked.deadline || *parked.deadline > now) return false;
      answer(parked.rank, parked.call, failure_reply(Failure::timed_out, ""));
      --parked_count_;
      did = true;
      return true;
    });
  }
  return did;
}

void ObjectServer::answer(int rank, std::uint64_t call, const Reply& reply) {
  Writer out;
  out.bytes().reserve(sizeof(ReplyHeader) + reply.result.size());
  const ReplyHeader header{call, reply.failure};
  out.write_raw(&header, sizeof header);
  out.write_raw(reply.result.data(), reply.result.size());
  // The caller is waiting for exactly this message, so a blocking send completes promptly.
  send_bytes(comm_, rank, Tag::replies, out.bytes());
}

}  // namespace mpp::detail
