#pragma once
// How a rank waits for MPI messages without burning a core: Open MPI's blocking calls busy-poll,
// so mpp polls itself — tightly for a short spin window after the last activity (that keeps
// round trips in microseconds), then sleeping for doubling intervals up to a cap.
#include <chrono>
#include <thread>

namespace mpp::detail {

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;

  Backoff(std::chrono::microseconds spin, std::chrono::microseconds first_sleep, std::chrono::microseconds max_sleep)
      : spin_(spin), first_sleep_(first_sleep), max_sleep_(max_sleep) {
    reset();
  }

  /// Something happened: poll tightly again.
  void reset() {
    last_activity_ = Clock::now();
    sleep_ = first_sleep_;
  }

  /// How long to pause before the next poll (zero while spinning).
  std::chrono::microseconds next_pause() {
    if (Clock::now() - last_activity_ < spin_) return std::chrono::microseconds(0);
    const auto pause = sleep_;
    sleep_ = std::min(sleep_ * 2, max_sleep_);
    return pause;
  }

  /// Pauses as next_pause() says; while spinning, yields so an oversubscribed core moves on.
  void pause() {
    const auto p = next_pause();
    if (p.count() == 0) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(p);
    }
  }

 private:
  std::chrono::microseconds spin_;
  std::chrono::microseconds first_sleep_;
  std::chrono::microseconds max_sleep_;
  Clock::time_point last_activity_;
  std::chrono::microseconds sleep_;
};

}  // namespace mpp::detail
