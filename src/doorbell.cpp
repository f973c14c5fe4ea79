#include "mpp/detail/doorbell.hpp"

#include <atomic>
#include <thread>

namespace mpp::detail {

Doorbell Doorbell::at(SharedSpace& space, GlobalAddress word) {
  return space.is_local(word) ? Doorbell(space, word) : Doorbell();
}

void Doorbell::nap(std::chrono::microseconds pause, const std::function<bool()>& message_waiting) {
  if (!space_) {
    std::this_thread::sleep_for(pause);
    return;
  }
  // Announce, then look (the store is sequentially consistent): a master that sent before the
  // announcement and so did not ring left a message the look finds.
  space_->store<std::int64_t>(word_, napping);
  if (!message_waiting()) space_->wait_for_change(word_, napping, pause);
  space_->store<std::int64_t>(word_, awake);
}

void Doorbell::ring() {
  if (!space_) return;
  // The message went out before this look: the other half of nap()'s announce-then-look.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (space_->load<std::int64_t>(word_) != napping) return;
  space_->store<std::int64_t>(word_, awake);
  space_->wake(word_, 1);
}

}  // namespace mpp::detail
