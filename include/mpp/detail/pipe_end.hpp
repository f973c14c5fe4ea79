#pragma once
// PipeEnd: this process's copy of one end of a Pipe (an OS pipe's file descriptor), shared by
// every Connection of the process that refers to that end. The messages wait on the master
// (src/served_pipe.cpp), which also counts the copies of each end across processes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/session_bound.hpp"
#include "mpp/detail/wire.hpp"

namespace mpp::detail {

class PipeEnd {
 public:
  /// A new pipe's two ends, held by this process.
  static std::pair<std::shared_ptr<PipeEnd>, std::shared_ptr<PipeEnd>> create(bool duplex);
  /// A copy of an end that arrived in this process (the sender announced it with ship()): the
  /// copy this process already holds, or a new one. `stored`: read from where it stays stored
  /// (a Manager container), so it is announced here first.
  static std::shared_ptr<PipeEnd> adopt(std::uint64_t pipe, std::uint8_t end, bool readable, bool writable,
                                        bool stored);

  PipeEnd(std::uint64_t pipe, std::uint8_t end, bool readable, bool writable);
  ~PipeEnd();  // closes this copy
  PipeEnd(const PipeEnd&) = delete;
  PipeEnd& operator=(const PipeEnd&) = delete;

  /// Announces a copy of this end leaving for another process; the end stays open for it.
  void ship() const;
  void send(std::span<const char> message);
  /// The next message; EOFError once the other end is closed and drained; nothing when the
  /// deadline passed first.
  std::optional<Bytes> recv(std::optional<Clock::time_point> deadline);
  bool poll(std::optional<Clock::time_point> deadline);
  void close();
  bool closed() const { return closed_; }

  std::uint64_t pipe() const { return pipe_; }
  std::uint8_t end() const { return end_; }
  bool readable() const { return readable_; }
  bool writable() const { return writable_; }
  /// Throws mpp::UsageError naming `method` unless this copy is open and may receive.
  void require_readable(const char* method) const;

 private:
  void require_open(const char* method) const;

  std::uint64_t pipe_;
  std::uint8_t end_;
  bool readable_;
  bool writable_;
  SessionBound session_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint32_t> sends_{0};  // one in send_confirm_interval sends waits for the master
};

/// The indices in `ends` of those with a message or the end of the stream to read, waiting
/// until there is one or the deadline passes (connection_wait).
std::vector<std::size_t> wait_for_readable(std::span<PipeEnd* const> ends, std::optional<Clock::time_point> deadline);

}  // namespace mpp::detail
