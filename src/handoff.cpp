#include "mpp/detail/handoff.hpp"

#include <limits>
#include <utility>

#include "mpp/detail/malformed_message.hpp"
#include "mpp/detail/shared_block.hpp"

namespace mpp::detail {
namespace {

// The block's first word stays zero, as SharedSpace::retire expects of a block no other rank
// holds; the payload starts one cache line in.
constexpr std::size_t payload_offset = SharedSpace::alignment;

}  // namespace

std::span<char> handed_bytes(const HandoffRef& ref) {
  if (ref.size > ref.capacity || ref.capacity > std::numeric_limits<std::size_t>::max() - payload_offset)
    throw MalformedMessage("mpp: a handed-off block that holds more than it can");
  return shared_space().own_memory(ref.block, payload_offset + ref.capacity).subspan(payload_offset, ref.size);
}

std::optional<Handoff> Handoff::allocate(std::size_t size) {
  // Only the first line: the writer fills the payload before it is read.
  const auto block = shared_space().try_allocate(payload_offset + size, payload_offset);
  if (!block) return std::nullopt;
  return Handoff(HandoffRef{*block, size, size});
}

Handoff::Handoff(const HandoffRef& ref) : ref_(ref), bytes_(handed_bytes(ref)) {}

Handoff::Handoff(Handoff&& other) noexcept : ref_(other.ref_), bytes_(other.bytes_), owned_(other.owned_) {
  other.owned_ = false;
}

Handoff& Handoff::operator=(Handoff&& other) noexcept {
  std::swap(ref_, other.ref_);
  std::swap(bytes_, other.bytes_);
  std::swap(owned_, other.owned_);  // what this held retires with `other`
  return *this;
}

Handoff::~Handoff() {
  if (owned_) shared_space().retire(ref_.block, payload_offset + ref_.capacity);
}

HandoffRef Handoff::release() {
  owned_ = false;
  return ref_;
}

}  // namespace mpp::detail
