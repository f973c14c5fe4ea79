#include "mpp/manager.hpp"

namespace mpp {

std::uint64_t Manager::make(detail::Request& create) {
  const auto id = detail::call_master(create).reader().read<std::uint64_t>();
  objects_.push_back(id);
  return id;
}

void Manager::shutdown() noexcept {
  for (const auto id : objects_) {
    try {
      detail::Request drop(detail::Op::drop, id);
      detail::post_master(drop);
    } catch (...) {
      // The session ended first, and its objects with it.
    }
  }
  objects_.clear();
}

}  // namespace mpp
