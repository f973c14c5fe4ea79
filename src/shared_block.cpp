#include "mpp/detail/shared_block.hpp"

namespace mpp::detail {

SharedBlock::SharedBlock(std::size_t payload_bytes) {
  SharedSpace& space = shared_space();
  const std::size_t bytes = header_bytes + payload_bytes;
  hold_ = std::make_shared<Hold>(&space, space.allocate(bytes), bytes, false);
}

SharedBlock::Hold::~Hold() {
  if (!session.alive()) return;  // the session (and its memory) is already gone
  try {
    if (received) {
      space->fetch_add<std::int64_t>(block, -1);
    } else {
      space->retire(block, bytes);
    }
  } catch (...) {
    // A destructor must not throw; a failing MPI call here only leaks the block.
  }
}

}  // namespace mpp::detail
