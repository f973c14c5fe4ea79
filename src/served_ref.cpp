#include "mpp/detail/served_ref.hpp"

#include "mpp/detail/requests.hpp"

namespace mpp::detail {

ServedRef::ServedRef(std::uint64_t id) : claim_(std::make_shared<Claim>(id)) {}

std::uint64_t ServedRef::add_claim() const {
  Request retain(Op::retain, id());
  call_master(retain);
  return id();
}

ServedRef::Claim::~Claim() {
  if (!session.alive()) return;  // the session ended, and its objects with it
  try {
    Request release(Op::release, id);
    post_master(release);
  } catch (...) {
    // MPI failed: nothing left to give back to.
  }
}

}  // namespace mpp::detail
