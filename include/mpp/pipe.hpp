#pragma once
// mpp::Pipe<T> and mpp::Connection<T>: Python's multiprocessing.Pipe across ranks, with an OS
// pipe's rules.
//
//   auto [parent_conn, child_conn] = mpp::Pipe<int>();   // Pipe<T>(false): one-way, first end reads
//   mpp::Process p(child, child_conn); p.start();
//   child_conn.close();                                  // as in Python: the child holds it now
//   parent_conn.send(42); int answer = parent_conn.recv();
//
// Every process holding an end holds its own copy of it, as an OS pipe's descriptors: any of
// them may send or receive on it (each message reaches one receiver), and close() — or the
// process's last Connection to that end going away, or the process ending however it ends —
// closes that copy only. recv() throws mpp::EOFError once every copy of the other end is closed
// and all it sent has been received; send() to an end whose copies are all closed throws
// mpp::BrokenPipeError. So, as in Python, a parent that waits for EOF from its child closes its
// own copy of the child's end first. The messages wait on the master, which serves every
// process's calls; T is any type mpp can send (mpp/serialization.hpp).
#include <boost/serialization/split_member.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/pipe_end.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/detail/stored_copy.hpp"
#include "mpp/detail/wire.hpp"
#include "mpp/errors.hpp"

namespace mpp {

/// One end of a Pipe. Copies in one process are the same end; a copy sent to another process
/// (as an argument, through a Queue) is that process's own copy.
template <class T>
class Connection {
 public:
  Connection() = default;
  explicit Connection(std::shared_ptr<detail::PipeEnd> end) : end_(std::move(end)) { detail::check_sendable<T>(); }

  /// Sends `value` to the other end; mpp::BrokenPipeError once every copy of it is closed.
  void send(const T& value) {
    detail::Writer out;
    out.write(value);
    end_->send(out.bytes());
  }
  /// The next message, waiting for one; mpp::EOFError once every copy of the other end is
  /// closed and everything sent has been received.
  T recv() {
    const detail::Bytes message = *end_->recv(std::nullopt);
    detail::Reader in(message);
    return in.read<T>();
  }
  /// Whether a message (or the end of the stream) is there now.
  bool poll() { return end_->poll(detail::Clock::now()); }
  /// Whether a message (or the end of the stream) arrives within `timeout`.
  template <class Rep, class Period>
  bool poll(std::chrono::duration<Rep, Period> timeout) {
    return end_->poll(detail::deadline_after(timeout));
  }

  /// Sends `size` bytes of `buffer` from byte `offset` (by default all after it) as one
  /// message, as Python's send_bytes; `buffer` is any contiguous range of plain values
  /// (std::string, std::vector<char>, std::array<double, N>, ...). mpp::ValueError when
  /// offset and size reach past its end.
  template <std::ranges::contiguous_range Buffer>
  void send_bytes(const Buffer& buffer, std::size_t offset = 0, std::optional<std::size_t> size = std::nullopt) {
    const auto bytes = byte_view(buffer);
    if (offset > bytes.size()) throw ValueError("mpp::Connection::send_bytes: buffer length < offset");
    const std::size_t count = size.value_or(bytes.size() - offset);
    if (count > bytes.size() - offset) throw ValueError("mpp::Connection::send_bytes: buffer length < offset + size");
    end_->send(bytes.subspan(offset, count));
  }
  /// The next message's bytes (what send_bytes sent, or the encoding of what send sent).
  std::string recv_bytes() {
    const detail::Bytes message = *end_->recv(std::nullopt);
    return std::string(message.begin(), message.end());
  }
  /// As recv_bytes(); a message longer than `maxlength` throws mpp::BufferTooShort holding it.
  std::string recv_bytes(std::size_t maxlength) {
    std::string message = recv_bytes();
    if (message.size() > maxlength)
      throw BufferTooShort("mpp::Connection::recv_bytes: the message is longer than maxlength", std::move(message));
    return message;
  }
  /// Reads the next message into `buffer` from byte `offset` and returns its size in bytes;
  /// a message that does not fit throws mpp::BufferTooShort holding it (Python's e.args[0]).
  template <std::ranges::contiguous_range Buffer>
  std::size_t recv_bytes_into(Buffer& buffer, std::size_t offset = 0) {
    static_assert(!std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<Buffer>>>,
                  "mpp::Connection::recv_bytes_into: the buffer must be writable");
    const auto space = std::as_writable_bytes(std::span(std::ranges::data(buffer), std::ranges::size(buffer)));
    if (offset > space.size()) throw ValueError("mpp::Connection::recv_bytes_into: offset is past the buffer's end");
    std::string message = recv_bytes();
    if (message.size() > space.size() - offset)
      throw BufferTooShort("mpp::Connection::recv_bytes_into: the message does not fit in the buffer",
                           std::move(message));
    std::memcpy(space.data() + offset, message.data(), message.size());
    return message.size();
  }

  /// Closes this process's copy of the end (all its Connections to it); other processes'
  /// copies stay open.
  void close() { end_->close(); }
  bool closed() const { return end_->closed(); }
  bool readable() const { return end_->readable(); }
  bool writable() const { return end_->writable(); }

  template <class Archive>
  void save(Archive& archive, unsigned) const {
    end_->ship();
    archive << end_->pipe() << end_->end() << end_->readable() << end_->writable();
  }
  template <class Archive>
  void load(Archive& archive, unsigned) {
    std::uint64_t pipe = 0;
    std::uint8_t end = 0;
    bool readable = false;
    bool writable = false;
    archive >> pipe >> end >> readable >> writable;
    end_ = detail::PipeEnd::adopt(pipe, end, readable, writable, detail::DecodingStoredCopy::active());
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

 private:
  template <class U>
  friend std::vector<Connection<U>> connection_wait_until(const std::vector<Connection<U>>&,
                                                          std::optional<detail::Clock::time_point>);

  template <class Buffer>
  static std::span<const char> byte_view(const Buffer& buffer) {
    static_assert(std::is_trivially_copyable_v<std::ranges::range_value_t<Buffer>>,
                  "mpp::Connection: send_bytes and recv_bytes_into take a contiguous range of plain values (bytes, "
                  "numbers, raw structs)");
    const auto bytes = std::as_bytes(std::span(std::ranges::data(buffer), std::ranges::size(buffer)));
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
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

/// The connections with a message (or the end of the stream) to read, waiting until there is
/// one: Python's multiprocessing.connection.wait().
template <class T>
std::vector<Connection<T>> connection_wait(const std::vector<Connection<T>>& connections) {
  return connection_wait_until(connections, std::nullopt);
}
/// As connection_wait(connections), waiting at most `timeout`: empty when none became ready.
template <class T, class Rep, class Period>
std::vector<Connection<T>> connection_wait(const std::vector<Connection<T>>& connections,
                                           std::chrono::duration<Rep, Period> timeout) {
  return connection_wait_until(connections, detail::deadline_after(timeout));
}

template <class T>
std::vector<Connection<T>> connection_wait_until(const std::vector<Connection<T>>& connections,
                                                 std::optional<detail::Clock::time_point> deadline) {
  std::vector<detail::PipeEnd*> ends;
  ends.reserve(connections.size());
  for (const auto& connection : connections) ends.push_back(connection.end_.get());
  std::vector<Connection<T>> ready;
  for (const std::size_t i : detail::wait_for_readable(ends, deadline)) ready.push_back(connections[i]);
  return ready;
}

}  // namespace mpp
