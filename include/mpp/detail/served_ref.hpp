#pragma once
// ServedRef: a handle's counted claim on an object the master serves (a Queue).
//
// The object lives while a claim on it exists on any rank, or is on its way to one: sending a
// handle adds a claim before it leaves (on a worker, a call to the master), the receiving rank
// adopts it, and the last handle copy holding a claim gives it back. A handle read from a
// Manager container, which keeps the stored one, takes a claim of its own. A handle serialized
// but never received (a cancelled task, one erased from a Manager container unread) keeps its
// object until the session ends.
#include <boost/serialization/split_member.hpp>
#include <cstdint>
#include <memory>

#include "mpp/detail/session_bound.hpp"
#include "mpp/detail/stored_copy.hpp"

namespace mpp::detail {

class ServedRef {
 public:
  ServedRef() = default;
  /// Takes over one claim on object `id` (from its creation, or from the rank that sent it).
  explicit ServedRef(std::uint64_t id);

  /// Throws mpp::UsageError when the object's session has ended.
  std::uint64_t id() const {
    if (!claim_) return 0;
    claim_->session.require("this Queue (or Manager object)");
    return claim_->id;
  }

  template <class Archive>
  void save(Archive& archive, unsigned) const {
    const std::uint64_t sent = add_claim();
    archive << sent;
  }
  template <class Archive>
  void load(Archive& archive, unsigned) {
    std::uint64_t id = 0;
    archive >> id;
    *this = ServedRef(id);
    if (DecodingStoredCopy::active()) add_claim();  // the stored bytes keep theirs
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

 private:
  std::uint64_t add_claim() const;

  struct Claim {
    std::uint64_t id;
    SessionBound session;
    explicit Claim(std::uint64_t i) : id(i) {}
    ~Claim();
  };
  std::shared_ptr<Claim> claim_;
};

}  // namespace mpp::detail
