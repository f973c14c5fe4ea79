#pragma once
// Frames on the socket pair between a worker rank and its child process: [u64 size][bytes].
// A child streaming calls (a producer putting items) writes a frame per call; the other side
// reads whatever has arrived in one recv and takes the frames from its buffer, so a stream of
// small frames costs a system call per buffer, not two per frame (plus a poll).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "mpp/detail/wire.hpp"

namespace mpp::detail {

/// Writes `bytes` as one frame (one sendmsg for size and bytes while the socket takes them);
/// false when the peer is gone. MSG_NOSIGNAL: a peer gone is an error to handle, not a SIGPIPE.
bool write_frame(int fd, std::span<const char> bytes);

/// One side's reading end of a link.
class FrameReader {
 public:
  enum class Got {
    frame,    // the next whole frame
    nothing,  // none has arrived whole yet (only when not waiting)
    closed,   // the peer closed its end, or sent what is not a frame of ours
  };
  /// The next frame into `into`; waits for it when `wait`, else takes only what has arrived.
  Got next(int fd, Bytes& into, bool wait);
  /// Whether a whole frame waits in the buffer: it has left the socket, so poll cannot see it.
  bool has_frame() const;

 private:
  /// The size of the frame at begin_, once its size field has arrived.
  std::optional<std::uint64_t> frame_size() const;

  Bytes buffer_;
  std::size_t begin_ = 0;  // the first byte not taken yet
  std::size_t end_ = 0;    // past the last byte received
};

}  // namespace mpp::detail
