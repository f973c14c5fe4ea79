#pragma once
// SharedBlock: a handle's claim on memory in a SharedSpace.
//
// The memory lives while (a) any handle to it exists on its host rank, and (b) every copy of a
// handle that was sent to another rank (as a task argument or result) is still alive there.
// (b) is counted in the block's first word: sending a handle adds one, the last copy on the
// receiving rank going away subtracts one. When the host's last handle goes, the block is
// retired, and the host frees it once that count is zero. A handle serialized but never
// received (a task cancelled by terminate()) keeps its block until the session ends.
#include <boost/serialization/split_member.hpp>
#include <cstdint>
#include <memory>

#include "mpp/detail/session_bound.hpp"
#include "mpp/detail/shared_space.hpp"

namespace mpp::detail {

/// The running session's shared space; throws mpp::UsageError when there is none.
SharedSpace& shared_space();

class SharedBlock {
 public:
  SharedBlock() = default;
  /// Allocates `payload_bytes` of zeroed shared memory on this rank.
  explicit SharedBlock(std::size_t payload_bytes);

  /// Where the object's own words start (cache-line aligned).
  GlobalAddress payload() const { return hold_->block + header_bytes; }
  /// Throws mpp::UsageError when the session the block lives in has ended.
  SharedSpace& space() const {
    hold_->session.require("this shared object (Value, Array, Lock, ...)");
    return *hold_->space;
  }
  bool valid() const { return hold_ != nullptr; }

  template <class Archive>
  void save(Archive& archive, unsigned) const {
    space().fetch_add<std::int64_t>(hold_->block, 1);  // the receiving rank now holds it too
    archive << hold_->block.rank << hold_->block.offset << hold_->bytes;
  }
  template <class Archive>
  void load(Archive& archive, unsigned) {
    GlobalAddress block;
    std::size_t bytes = 0;
    archive >> block.rank >> block.offset >> bytes;
    hold_ = std::make_shared<Hold>(&shared_space(), block, bytes, true);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

 private:
  static constexpr std::size_t header_bytes = SharedSpace::alignment;

  struct Hold {
    SharedSpace* space;
    GlobalAddress block;
    std::size_t bytes;
    bool received;  // a copy from another rank, rather than the host's own
    SessionBound session;
    Hold(SharedSpace* s, GlobalAddress b, std::size_t n, bool r) : space(s), block(b), bytes(n), received(r) {}
    ~Hold();
  };
  std::shared_ptr<Hold> hold_;
};

}  // namespace mpp::detail
