// The master's record of one Pipe, kept as an OS pipe keeps it: the messages waiting for each
// end, and the copies of each end that processes hold. An end is open while a copy of it is
// held or on its way to a process; receiving at an end whose peer is no longer open gives EOF
// once its messages are read, sending to a closed end is a broken pipe.
#include <deque>
#include <set>
#include <utility>

#include "mpp/detail/object_server.hpp"

namespace mpp::detail {
namespace {

class ServedPipe final : public Served {
 public:
  explicit ServedPipe(ProcessKey creator) {
    for (auto& end : ends_) end.holders.insert(creator);
  }

  bool execute(Op op, int caller, Reader& args, Writer& result) override {
    const std::uint8_t index = args.read<std::uint8_t>() & 1;
    End& end = ends_[index];
    const End& peer = ends_[index ^ 1];
    switch (op) {
      case Op::pipe_retain:
        ++end.in_flight;
        return true;
      case Op::pipe_adopt:
        if (end.in_flight > 0) --end.in_flight;
        end.holders.insert({caller, args.read<std::int32_t>()});
        return true;
      case Op::pipe_close:
        end.holders.erase({caller, args.read<std::int32_t>()});
        return true;
      case Op::pipe_send: {
        if (!peer.open())
          throw ServedFailure(Failure::broken_pipe,
                              "mpp::Connection::send: every copy of the other end of the pipe is closed");
        const auto message = args.rest();
        ends_[index ^ 1].messages.emplace_back(message.begin(), message.end());
        return true;
      }
      case Op::pipe_recv:
        if (end.messages.empty()) return at_end_of_stream(index);
        result.write_raw(end.messages.front().data(), end.messages.front().size());
        end.messages.pop_front();
        return true;
      case Op::pipe_poll:
        if (end.messages.empty() && peer.open()) return false;
        result.write(true);
        return true;
      default:
        throw ServedFailure(Failure::usage, "mpp: internal error: not a pipe call");
    }
  }

  void process_ended(ProcessKey process) override {
    for (auto& end : ends_) end.holders.erase(process);
  }

  bool finished() const override { return !ends_[0].open() && !ends_[1].open(); }

 private:
  struct End {
    std::deque<Bytes> messages;    // sent by the other end, not yet received here
    std::set<ProcessKey> holders;  // processes holding a copy of this end
    std::int64_t in_flight = 0;    // copies sent to a process that has not adopted them yet
    bool open() const { return in_flight > 0 || !holders.empty(); }
  };

  bool at_end_of_stream(std::uint8_t index) const {
    if (ends_[index ^ 1].open()) return false;  // wait for a message
    throw ServedFailure(Failure::end_of_file,
                        "mpp::Connection::recv: every copy of the other end of the pipe is closed and all it sent "
                        "has been received");
  }

  End ends_[2];
};

}  // namespace

std::unique_ptr<Served> make_served_pipe(ProcessKey creator) { return std::make_unique<ServedPipe>(creator); }

}  // namespace mpp::detail
