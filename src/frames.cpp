#include "mpp/detail/frames.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

namespace mpp::detail {
namespace {

/// How much one recv asks for: many small frames, or a good part of a big one.
constexpr std::size_t read_chunk = std::size_t{64} << 10;

}  // namespace

bool write_frame(int fd, std::span<const char> bytes) {
  std::uint64_t size = bytes.size();
  const std::size_t total = sizeof size + bytes.size();
  for (std::size_t done = 0; done < total;) {
    // What is left: the rest of the size field, if any, and the rest of the bytes.
    iovec parts[2];
    std::size_t count = 0;
    if (done < sizeof size) parts[count++] = {reinterpret_cast<char*>(&size) + done, sizeof size - done};
    const std::size_t bytes_done = done > sizeof size ? done - sizeof size : 0;
    if (bytes_done < bytes.size())
      parts[count++] = {const_cast<char*>(bytes.data() + bytes_done), bytes.size() - bytes_done};
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    done += static_cast<std::size_t>(sent);
  }
  return true;
}

std::optional<std::uint64_t> FrameReader::frame_size() const {
  std::uint64_t size = 0;
  if (end_ - begin_ < sizeof size) return std::nullopt;
  std::memcpy(&size, buffer_.data() + begin_, sizeof size);
  return size;
}

bool FrameReader::has_frame() const {
  const auto size = frame_size();
  return size && end_ - begin_ - sizeof(std::uint64_t) >= *size;
}

FrameReader::Got FrameReader::next(int fd, Bytes& into, bool wait) {
  for (;;) {
    const auto size = frame_size();
    if (size && *size > std::numeric_limits<std::uint32_t>::max()) return Got::closed;  // not a frame of ours
    if (has_frame()) {
      const char* payload = buffer_.data() + begin_ + sizeof(std::uint64_t);
      into.assign(payload, payload + *size);
      begin_ += sizeof(std::uint64_t) + *size;
      if (begin_ == end_) {
        begin_ = end_ = 0;
        if (buffer_.size() > 4 * read_chunk) Bytes().swap(buffer_);  // a big frame passed: let its room go
      }
      return Got::frame;
    }
    // Room for the whole frame behind what has arrived of it, moved to the front.
    const std::size_t held = end_ - begin_;
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, held);
      begin_ = 0;
      end_ = held;
    }
    const std::size_t whole = size ? sizeof(std::uint64_t) + *size : sizeof(std::uint64_t);
    if (buffer_.size() < std::max(whole, read_chunk)) buffer_.resize(std::max(whole, read_chunk));
    const ssize_t got = ::recv(fd, buffer_.data() + end_, buffer_.size() - end_, wait ? 0 : MSG_DONTWAIT);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK)) return Got::nothing;
    if (got <= 0) return Got::closed;
    end_ += static_cast<std::size_t>(got);
  }
}

}  // namespace mpp::detail
