#pragma once
// How a rank waits on a shared word: spin briefly, then sleep in proportion to the wait,
// keeping RMA aimed at this rank moving meanwhile.
#include <chrono>
#include <optional>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/shared_space.hpp"

namespace mpp::detail {

class Poller {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Poller(SharedSpace& space)
      : space_(space),
        backoff_(std::chrono::microseconds(50), std::chrono::microseconds(5), std::chrono::microseconds(500)) {}

  void pause() {
    space_.progress();
    backoff_.pause();
  }

  /// Polls until ready() holds (true) or the deadline passes (false).
  template <class Ready>
  bool until(Ready&& ready, std::optional<Clock::time_point> deadline) {
    while (!ready()) {
      if (deadline && Clock::now() >= *deadline) return false;
      pause();
    }
    return true;
  }

 private:
  SharedSpace& space_;
  Backoff backoff_;
};

}  // namespace mpp::detail
