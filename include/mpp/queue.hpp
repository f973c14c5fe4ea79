#pragma once
// mpp::Queue<T> and mpp::JoinableQueue<T>: Python's multiprocessing.Queue across ranks.
//
//   mpp::Queue<std::string> q;          // Queue<T>(maxsize) bounds it
//   mpp::Process p(worker, q);          // handles travel as ordinary arguments
//   q.put("job"); auto r = q.get();     // FIFO for any producers and consumers, master included
//
// The items live on the master, which serves every rank's calls from its progress thread. A
// put on an unbounded queue from a worker does not wait for the master (as Python's feeder
// thread), so, as in Python, an item just put by one rank can take a moment to be visible to
// another rank's empty() or get_nowait(); mpp::SimpleQueue's put waits. T is any type mpp can
// send (mpp/serialization.hpp).
#include <chrono>
#include <cstdint>
#include <optional>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/requests.hpp"
#include "mpp/detail/served_ref.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/errors.hpp"

namespace mpp {

template <class T>
class Queue {
 public:
  /// maxsize <= 0: unbounded; otherwise put() waits while maxsize items are queued.
  explicit Queue(std::int64_t maxsize = 0) : maxsize_(maxsize) {
    detail::check_sendable<T>();
    detail::Request create(detail::Op::create_queue, 0);
    create.arg(maxsize);
    ref_ = detail::ServedRef(detail::call_master(create).reader().template read<std::uint64_t>());
  }
  explicit Queue(detail::for_loading_t) {}

  /// Adds `item`, waiting while a bounded queue is full.
  void put(const T& item) { put_until(item, std::nullopt); }
  /// Adds `item`, waiting at most `timeout` for room; throws mpp::Full when there is none.
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    put_until(item, detail::deadline_after(timeout));
  }
  /// Adds `item` if there is room now; throws mpp::Full otherwise.
  void put_nowait(const T& item) {
    auto request = put_request(item);
    if (detail::call_master_nowait(request).failure == detail::Failure::timed_out)
      throw Full("mpp::Queue::put_nowait: the queue is full");
  }

  /// Removes and returns the oldest item, waiting for one.
  T get() { return get_until(std::nullopt); }
  /// As get(), waiting at most `timeout`; throws mpp::Empty when no item came.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return get_until(detail::deadline_after(timeout));
  }
  /// The oldest item if there is one now; throws mpp::Empty otherwise.
  T get_nowait() {
    auto request = call(detail::Op::queue_get, "get_nowait");
    auto reply = detail::call_master_nowait(request);
    if (reply.failure == detail::Failure::timed_out) throw Empty("mpp::Queue::get_nowait: the queue is empty");
    return reply.reader().template read<T>();
  }

  /// Items queued now (approximate while other ranks put and get, as in Python).
  std::size_t qsize() const {
    auto request = query(detail::Op::queue_size, "qsize");
    return detail::call_master(request).reader().template read<std::uint64_t>();
  }
  bool empty() const { return qsize() == 0; }
  bool full() const { return maxsize_ > 0 && static_cast<std::int64_t>(qsize()) >= maxsize_; }
  std::int64_t maxsize() const { return maxsize_; }

  /// Python 3.13's shutdown(), for every rank's handles: put() throws mpp::ShutDown from now on,
  /// get() once the queue is empty, and waiting puts and gets wake to throw it. `immediate`
  /// also drops the queued items, counting them done (JoinableQueue::join() returns).
  void shutdown(bool immediate = false) {
    auto request = call(detail::Op::queue_shutdown, "shutdown");
    request.arg(immediate);
    detail::call_master(request);
  }

  /// This handle (and its copies on this rank) will put and get no more; other ranks' handles
  /// are unaffected, as a Python process closing its queue. As in Python, qsize() and empty()
  /// still answer on a handle that never put an item.
  void close() { state_->closed = true; }
  /// After close(): returns once every item this rank put has reached the queue.
  void join_thread() {
    if (!state_->closed) throw UsageError("mpp::Queue::join_thread: call close() first, as in Python");
    detail::Request flushed(detail::Op::queue_size, ref_.id());  // answered after this rank's puts
    detail::call_master(flushed);
  }
  /// Kept for ports: mpp never waits for a queue's puts when a process ends, so there is
  /// nothing to cancel.
  void cancel_join_thread() {}

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& ref_& maxsize_;
  }

 protected:
  detail::Request call(detail::Op op, const char* method) const {
    if (state_->closed) throw UsageError(std::string("mpp::Queue::") + method + ": the queue was closed on this rank");
    return detail::Request(op, ref_.id());
  }

 private:
  template <class>
  friend class SimpleQueue;

  /// One in this many puts on an unbounded queue waits for the master's answer, so a producer
  /// learns of a shutdown() (the puts in between are refused with a line on stderr).
  static constexpr std::uint32_t puts_per_confirmation = 256;

  struct HandleState {
    bool closed = false;
    bool has_put = false;
    std::uint32_t unconfirmed_puts = 0;
  };

  /// A call that only reads the queue: Python allows it after close() until the handle put.
  detail::Request query(detail::Op op, const char* method) const {
    if (state_->closed && !state_->has_put) return detail::Request(op, ref_.id());
    return call(op, method);
  }
  detail::Request put_request(const T& item) const {
    auto request = call(detail::Op::queue_put, "put");
    request.arg(item);
    state_->has_put = true;
    return request;
  }
  void put_until(const T& item, std::optional<detail::Clock::time_point> deadline) {
    auto request = put_request(item);
    if (maxsize_ <= 0 && ++state_->unconfirmed_puts < puts_per_confirmation)
      return detail::post_master(request);  // never waits for room: no answer needed
    state_->unconfirmed_puts = 0;
    if (detail::call_master(request, deadline).failure == detail::Failure::timed_out)
      throw Full("mpp::Queue::put: the queue stayed full for the whole timeout");
  }
  /// A put that returns once the item is in the queue (SimpleQueue's, as Python's pipe write).
  void put_confirmed(const T& item) {
    auto request = put_request(item);
    detail::call_master(request);
  }
  T get_until(std::optional<detail::Clock::time_point> deadline) {
    auto request = call(detail::Op::queue_get, "get");
    auto reply = detail::call_master(request, deadline);
    if (reply.failure == detail::Failure::timed_out) throw Empty("mpp::Queue::get: no item came within the timeout");
    return reply.reader().template read<T>();
  }

  detail::ServedRef ref_;
  std::int64_t maxsize_ = 0;
  std::shared_ptr<HandleState> state_ = std::make_shared<HandleState>();
};

/// A Queue that also counts unfinished items: task_done() after each get(), join() waits until
/// every item put has been marked done.
template <class T>
class JoinableQueue : public Queue<T> {
 public:
  using Queue<T>::Queue;

  /// Marks one item taken with get() as processed; throws mpp::UsageError if called more
  /// often than items were put.
  void task_done() {
    auto request = this->call(detail::Op::queue_task_done, "task_done");
    detail::call_master(request);
  }
  /// Waits until every item put so far has been marked with task_done().
  void join() {
    auto request = this->call(detail::Op::queue_join, "join");
    detail::call_master(request);
  }
};

/// Python's SimpleQueue: unbounded, no timeouts; put() returns once the item is in the queue,
/// so another rank's empty() sees it at once.
template <class T>
class SimpleQueue {
 public:
  SimpleQueue() = default;
  explicit SimpleQueue(detail::for_loading_t) : queue_(detail::for_loading) {}

  void put(const T& item) { queue_.put_confirmed(item); }
  /// Removes and returns the oldest item, waiting for one.
  T get() { return queue_.get(); }
  bool empty() const { return queue_.empty(); }
  /// This handle and its copies on this rank will put and get no more (closing twice is fine).
  void close() { queue_.close(); }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& queue_;
  }

 private:
  Queue<T> queue_;
};

}  // namespace mpp
