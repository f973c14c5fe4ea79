#include "mpp/pipe.hpp"

#include <map>
#include <string>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/mpi_check.hpp"
#include "mpp/detail/protocol.hpp"
#include "mpp/detail/requests.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/session.hpp"

namespace mpp::detail {
namespace {

using EndKey = std::pair<std::uint64_t, std::uint8_t>;

struct PipeHeader {
  std::uint64_t pipe;
  std::uint8_t to_end;
  std::uint8_t eof;
};

/// This rank's ends and the messages that arrived for them.
struct Inbox {
  struct Box {
    std::weak_ptr<PipeEnd> end;
    std::deque<Bytes> messages;
    bool eof = false;
  };
  std::mutex mutex;
  std::map<EndKey, Box> boxes;

  /// Files `payload` for an end held here; messages for an end gone from this rank are dropped.
  void file(EndKey key, bool eof, std::span<const char> payload) {
    auto it = boxes.find(key);
    if (it == boxes.end()) return;
    if (eof) {
      it->second.eof = true;
    } else {
      it->second.messages.emplace_back(payload.begin(), payload.end());
    }
  }
  /// Receives every pipe message waiting for this rank.
  void drain(MPI_Comm comm) {
    Bytes message;
    while (const auto status = try_receive(comm, MPI_ANY_SOURCE, static_cast<int>(Tag::pipe), message)) {
      PipeHeader header;
      try {
        header = header_of<PipeHeader>(message);
      } catch (const MalformedMessage& e) {
        end_job_on_malformed("pipe", status->MPI_SOURCE, e);
      }
      std::lock_guard lock(mutex);
      file({header.pipe, header.to_end}, header.eof != 0,
           std::span<const char>(message.data() + sizeof header, message.size() - sizeof header));
    }
  }
};

Inbox& inbox() {
  static Inbox instance;
  return instance;
}

}  // namespace

std::shared_ptr<PipeEnd> PipeEnd::on_this_rank(std::uint64_t pipe, std::uint8_t end, bool readable, bool writable) {
  std::shared_ptr<PipeEnd> here;
  {
    std::lock_guard lock(inbox().mutex);
    auto& box = inbox().boxes[{pipe, end}];
    here = box.end.lock();
    if (!here) {
      here = std::make_shared<PipeEnd>(pipe, end, readable, writable);
      box.end = here;
    }
  }
  if (!Session::current().is_master()) here->take();
  return here;
}

std::pair<std::shared_ptr<PipeEnd>, std::shared_ptr<PipeEnd>> PipeEnd::create(bool duplex) {
  Request create(Op::create_pipe, 0);
  const auto pipe = call_master(create).reader().read<std::uint64_t>();
  return {on_this_rank(pipe, 0, true, duplex), on_this_rank(pipe, 1, duplex, true)};
}

PipeEnd::PipeEnd(std::uint64_t pipe, std::uint8_t end, bool readable, bool writable)
    : pipe_(pipe), end_(end), readable_(readable), writable_(writable) {}

PipeEnd::~PipeEnd() {
  try {
    send_eof_if_held();
  } catch (...) {
    // The session is over (or MPI failed): there is no one left to tell.
  }
  std::lock_guard lock(inbox().mutex);
  auto it = inbox().boxes.find({pipe_, end_});
  if (it != inbox().boxes.end() && it->second.end.expired()) inbox().boxes.erase(it);
}

void PipeEnd::require_open(const char* method) const {
  std::lock_guard lock(mutex_);
  if (closed_) throw UsageError(std::string("mpp::Connection::") + method + ": the connection is closed");
}

/// Claims the end at the master; messages sent to it before go into this rank's inbox first,
/// so nothing sent later (straight to this rank) can overtake them.
void PipeEnd::take() {
  std::lock_guard lock(mutex_);
  if (held_) return;
  Request claim(Op::pipe_claim, pipe_);
  claim.arg(end_);
  const Reply reply = call_master(claim);
  Reader in = reply.reader();
  std::lock_guard inbox_lock(inbox().mutex);
  for (std::size_t n = in.read_size(); n > 0; --n) {
    const auto message = in.read<std::string>();  // [eof flag][payload]
    inbox().file({pipe_, end_}, message.front() != 0, std::span<const char>(message.data() + 1, message.size() - 1));
  }
  held_ = true;
}

void PipeEnd::deliver_to_peer(bool eof, const Bytes& payload) {
  const std::uint8_t peer = end_ ^ 1;
  int rank = -1;
  {
    std::lock_guard lock(mutex_);
    rank = peer_rank_;
  }
  if (rank < 0) {
    // Where is the other end? The master answers, or keeps the message until a rank takes it.
    std::string message(1, eof ? 1 : 0);
    message.append(payload.begin(), payload.end());
    Request send(Op::pipe_send, pipe_);
    send.arg(peer).arg(message);
    rank = call_master(send).reader().read<int>();
    if (rank < 0) return;
    std::lock_guard lock(mutex_);
    peer_rank_ = rank;
  }
  if (rank == this_rank()) {
    // The other end is in this process, or (in a child) perhaps in a sibling child of the same
    // rank: then the parent rank routes the message.
    std::lock_guard lock(inbox().mutex);
    if (!in_child() || inbox().boxes.contains({pipe_, peer})) {
      inbox().file({pipe_, peer}, eof, payload);
      return;
    }
  }
  Writer out;
  out.bytes().reserve(sizeof(PipeHeader) + payload.size());
  const PipeHeader header{pipe_, peer, static_cast<std::uint8_t>(eof)};
  out.write_raw(&header, sizeof header);
  out.write_raw(payload.data(), payload.size());
  send_bytes(Session::current().communicator(), rank, Tag::pipe, out.bytes());
}

void PipeEnd::send(const Bytes& message) {
  require_open("send");
  if (!writable_) throw UsageError("mpp::Connection::send: this end of a one-way Pipe only receives");
  take();
  {
    std::lock_guard lock(inbox().mutex);
    if (inbox().boxes[{pipe_, end_}].eof)
      throw BrokenPipeError("mpp::Connection::send: the other end of the pipe is closed");
  }
  deliver_to_peer(false, message);
}

Bytes PipeEnd::recv(std::optional<Clock::time_point> deadline) {
  if (!poll(deadline)) throw TimeoutError("mpp::Connection::recv: no message within the timeout");
  std::lock_guard lock(inbox().mutex);
  auto& box = inbox().boxes[{pipe_, end_}];
  if (box.messages.empty()) throw EOFError("mpp::Connection::recv: the other end of the pipe is closed");
  Bytes message = std::move(box.messages.front());
  box.messages.pop_front();
  return message;
}

bool PipeEnd::poll(std::optional<Clock::time_point> deadline) {
  require_open("recv");
  if (!readable_) throw UsageError("mpp::Connection: this end of a one-way Pipe only sends");
  take();
  const MPI_Comm comm = Session::current().communicator();
  SharedSpace& space = shared_space();
  auto backoff = message_backoff();
  for (;;) {
    inbox().drain(comm);
    {
      std::lock_guard lock(inbox().mutex);
      const auto& box = inbox().boxes[{pipe_, end_}];
      if (!box.messages.empty() || box.eof) return true;
    }
    if (deadline && Clock::now() >= *deadline) return false;
    space.progress();
    pause_for_message(backoff);
  }
}

void PipeEnd::close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
  }
  send_eof_if_held();
}

bool PipeEnd::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

/// The rank holding an end closes it for good: the other end hears EOF, the master forgets it.
void PipeEnd::send_eof_if_held() {
  {
    std::lock_guard lock(mutex_);
    if (!held_) return;
    held_ = false;
  }
  deliver_to_peer(true, {});
  Request close(Op::pipe_close, pipe_);
  close.arg(end_);
  post_master(close);
}

}  // namespace mpp::detail
