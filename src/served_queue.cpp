// A Queue / JoinableQueue held by the master: FIFO of serialized items, optionally bounded.
#include <algorithm>
#include <deque>

#include "mpp/detail/object_server.hpp"

namespace mpp::detail {
namespace {

class ServedQueue final : public Served {
 public:
  explicit ServedQueue(std::int64_t maxsize) : maxsize_(maxsize) {}

  bool execute(Op op, int, Reader& args, Writer& result) override {
    switch (op) {
      case Op::queue_put: {
        if (shut_down_)
          throw ServedFailure(Failure::shut_down,
                              "mpp::Queue::put: the queue was shut down (Python's queue.ShutDown); the item was not "
                              "added");
        if (maxsize_ > 0 && static_cast<std::int64_t>(items_.size()) >= maxsize_) return false;
        const auto item = args.rest();
        items_.emplace_back(item.begin(), item.end());
        ++unfinished_;
        return true;
      }
      case Op::queue_get:
        if (items_.empty() && shut_down_)
          throw ServedFailure(Failure::shut_down,
                              "mpp::Queue::get: the queue was shut down and is empty (Python's queue.ShutDown)");
        if (items_.empty()) return false;
        result.write_raw(items_.front().data(), items_.front().size());
        items_.pop_front();
        return true;
      case Op::queue_size:
        result.write(static_cast<std::uint64_t>(items_.size()));
        return true;
      case Op::queue_task_done:
        if (unfinished_ == 0)
          throw ServedFailure(Failure::usage,
                              "mpp: JoinableQueue::task_done() called more times than items were put (Python's "
                              "ValueError); call it once per item taken with get()");
        --unfinished_;
        return true;
      case Op::queue_join:
        return unfinished_ == 0;
      case Op::queue_shutdown:
        // As Python 3.13: puts fail from now on, gets once the queue is empty; `immediate`
        // empties it now, counting each dropped item as done so join() returns.
        shut_down_ = true;
        if (args.read<bool>()) {
          unfinished_ -= std::min(unfinished_, static_cast<std::int64_t>(items_.size()));
          items_.clear();
        }
        return true;
      default:
        throw ServedFailure(Failure::usage, "mpp: internal error: not a queue call");
    }
  }

 private:
  std::deque<Bytes> items_;
  std::int64_t maxsize_;
  std::int64_t unfinished_ = 0;  // put but not yet task_done(): what JoinableQueue::join() waits for
  bool shut_down_ = false;
};

}  // namespace

std::unique_ptr<Served> make_served_queue(std::int64_t maxsize) { return std::make_unique<ServedQueue>(maxsize); }

}  // namespace mpp::detail
