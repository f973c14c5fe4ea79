#pragma once
// Handoff: a big payload that a worker rank and its child process pass through the rank's
// node-shared segment instead of their socket. The child inherited the segment's mapping at the
// fork, so a batch of tasks or a result of megabytes crosses as an address and a size: no copies
// through the kernel, and no rounds of socket-buffer-sized writes, each one waking the other side
// (on a busy node, a wait for a core every ~200 KiB).
//
// The rank allocates a block (a child asks its parent to), the writer fills it and names it in a
// frame, the reader reads it in place, and whoever owns it last retires it. When the segment has
// no room the payload goes through the socket as before.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "mpp/detail/shared_space.hpp"

namespace mpp::detail {

/// Payloads from this size on are handed off; below it the socket costs no more.
inline constexpr std::size_t handoff_threshold = std::size_t{64} << 10;

/// A block as a frame names it: where, how many bytes it holds now and how many it can hold.
struct HandoffRef {
  GlobalAddress block;
  std::uint64_t size = 0;
  std::uint64_t capacity = 0;
};

/// The bytes `ref` names, checked to lie in this rank's segment (MalformedMessage otherwise).
std::span<char> handed_bytes(const HandoffRef& ref);

/// A block in this rank's segment that its owner retires when done with it.
class Handoff {
 public:
  /// A block for `size` bytes, or nullopt when the segment has no room.
  static std::optional<Handoff> allocate(std::size_t size);
  /// Takes over the block `ref` names (checked as handed_bytes does).
  explicit Handoff(const HandoffRef& ref);
  ~Handoff();
  Handoff(Handoff&& other) noexcept;
  Handoff& operator=(Handoff&& other) noexcept;
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  std::span<char> bytes() const { return bytes_; }
  const HandoffRef& ref() const { return ref_; }
  /// Gives the block up without retiring it: its new owner was told its ref.
  HandoffRef release();

 private:
  HandoffRef ref_;
  std::span<char> bytes_;
  bool owned_ = true;
};

}  // namespace mpp::detail
