#pragma once
// mpp::Pipe<T>: Python's multiprocessing.Pipe across ranks.
//
//   auto [parent_conn, child_conn] = mpp::Pipe<int>();   // Pipe<T>(false): one-way, first end reads
//   mpp::Process p(child, child_conn);                   // the child's rank now holds that end
//   parent_conn.send(42); int answer = parent_conn.recv();
//
// Each end is held by one rank: the rank that first uses it, or the worker that receives it as
// an argument. Messages then go straight from rank to rank; the master only keeps the
// directory, and holds messages sent to an end that no rank holds yet. An end closes with
// close() on its rank, or when its last copy there goes away (a Process's target returning):
// the other end's recv() then throws mpp::EOFError once it has read everything. close() on a
// rank that does not hold the end (the parent's copy of the child's end) only retires that
// copy, as closing a copy in Python does.
#include <boost/serialization/split_member.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/detail/wire.hpp"
#include "mpp/errors.hpp"

namespace mpp {

namespace detail {

/// One end of a pipe as this rank holds it, shared by every Connection copy on the rank.
class PipeEnd {
 public:
  /// The end (`pipe`, `end`) on this rank: the one already here, or a new one. On a worker the
  /// rank takes the end at once (it came as a task's argument).
  static std::shared_ptr<PipeEnd> on_this_rank(std::uint64_t pipe, std::uint8_t end, bool readable, bool writable);
  /// A new pipe's two ends.
  static std::pair<std::shared_ptr<PipeEnd>, std::shared_ptr<PipeEnd>> create(bool duplex);

  PipeEnd(std::uint64_t pipe, std::uint8_t end, bool readable, bool writable);
  ~PipeEnd();
  PipeEnd(const PipeEnd&) = delete;
  PipeEnd& operator=(const PipeEnd&) = delete;

  void send(const Bytes& message);
  Bytes recv(std::optional<Clock::time_point> deadline);
  bool poll(std::optional<Clock::time_point> deadline);
  void close();
  bool closed() const;

  std::uint64_t pipe() const { return pipe_; }
  std::uint8_t end() const { return end_; }
  bool readable() const { return readable_; }
  bool writable() const { return writable_; }

 private:
  void require_open(const char* method) const;
  void take();
  void deliver_to_peer(bool eof, const Bytes& payload);
  void send_eof_if_held();

  std::uint64_t pipe_;
  std::uint8_t end_;
  bool readable_;
  bool writable_;
  mutable std::mutex mutex_;
  bool held_ = false;    // this rank holds the end (claimed it at the master)
  bool closed_ = false;  // close() was called here
  int peer_rank_ = -1;   // the rank holding the other end, once known
};

}  // namespace detail

template <class T>
class Connection {
 public:
  explicit Connection(std::shared_ptr<detail::PipeEnd> end) : end_(std::move(end)) { detail::check_sendable<T>(); }
  Connection() = default;

  /// Sends `value` to the other end; mpp::BrokenPipeError if that end is known to be closed.
  void send(const T& value) {
    detail::Writer out;
    out.write(value);
    end_->send(out.bytes());
  }
  /// The next message, waiting for one; mpp::EOFError once the other end is closed and
  /// everything it sent has been received.
  T recv() { return decode(end_->recv(std::nullopt)); }
  /// Whether a message (or the end of the stream) is there now.
  bool poll() { return end_->poll(detail::Clock::now()); }
  /// Whether a message (or the end of the stream) arrives within `timeout`.
  template <class Rep, class Period>
  bool poll(std::chrono::duration<Rep, Period> timeout) {
    return end_->poll(detail::deadline_after(timeout));
  }
  void close() { end_->close(); }
  bool closed() const { return end_->closed(); }
  bool readable() const { return end_->readable(); }
  bool writable() const { return end_->writable(); }

  template <class Archive>
  void save(Archive& archive, unsigned) const {
    archive << end_->pipe() << end_->end() << end_->readable() << end_->writable();
  }
  template <class Archive>
  void load(Archive& archive, unsigned) {
    std::uint64_t pipe = 0;
    std::uint8_t end = 0;
    bool readable = false;
    bool writable = false;
    archive >> pipe >> end >> readable >> writable;
    end_ = detail::PipeEnd::on_this_rank(pipe, end, readable, writable);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

 private:
  static T decode(const detail::Bytes& message) {
    detail::Reader in(message);
    return in.read<T>();
  }
  std::shared_ptr<detail::PipeEnd> end_;
};

/// Two connected ends. duplex: both send and receive; otherwise the first only receives and
/// the second only sends, as Python's Pipe(duplex=False).
template <class T>
std::pair<Connection<T>, Connection<T>> Pipe(bool duplex = true) {
  auto [first, second] = detail::PipeEnd::create(duplex);
  return {Connection<T>(std::move(first)), Connection<T>(std::move(second))};
}

}  // namespace mpp
