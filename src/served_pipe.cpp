// The master's record of one Pipe: which rank holds each end, and the messages sent to an end
// before any rank held it. Once both ends are held, messages go rank to rank (mpp/pipe.hpp) and
// the master only hears of closes.
#include <deque>
#include <string>

#include "mpp/detail/object_server.hpp"

namespace mpp::detail {
namespace {

class ServedPipe final : public Served {
 public:
  bool execute(Op op, int caller, Reader& args, Writer& result) override {
    End& end = ends_[args.read<std::uint8_t>() & 1];
    switch (op) {
      case Op::pipe_claim:
        if (end.rank >= 0 && end.rank != caller)
          throw ServedFailure(Failure::usage,
                              "mpp: this Pipe end is already in use on rank " + std::to_string(end.rank) +
                                  "; an end serves the one rank that first used it (pass each end to one process)");
        end.rank = caller;
        result.write_size(end.mailbox.size());
        for (const auto& message : end.mailbox) result.write(message);
        end.mailbox.clear();
        return true;
      case Op::pipe_send: {
        auto message = args.read<std::string>();  // [eof flag][payload]
        const bool eof = !message.empty() && message.front() != 0;
        if (end.closed && !eof)
          throw ServedFailure(Failure::broken_pipe, "mpp: Connection::send: the other end of the pipe is closed");
        if (end.closed) {
          result.write(-1);  // both ends closed: nobody is left to hear the EOF
        } else {
          if (end.rank < 0) end.mailbox.push_back(std::move(message));
          result.write(end.rank);  // >= 0: the sender sends this and the rest straight to that rank
        }
        return true;
      }
      case Op::pipe_close:
        end.closed = true;
        return true;
      default:
        throw ServedFailure(Failure::usage, "mpp: internal error: not a pipe call");
    }
  }
  bool finished() const override { return ends_[0].closed && ends_[1].closed; }

 private:
  struct End {
    int rank = -1;  // the rank holding this end; -1 until one uses it
    bool closed = false;
    std::deque<std::string> mailbox;
  };
  End ends_[2];
};

}  // namespace

std::unique_ptr<Served> make_served_pipe() { return std::make_unique<ServedPipe>(); }

}  // namespace mpp::detail
