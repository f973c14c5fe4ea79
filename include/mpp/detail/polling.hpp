#pragma once
// How a rank waits on a shared word: spin briefly, then sleep in proportion to the wait,
// keeping RMA aimed at this rank moving meanwhile. A wait that names the word it watches
// sleeps in the kernel on it (SharedSpace::wait_for_change), so the rank that changes the word
// wakes it at once with SharedSpace::wake, and an oversubscribed core is not spent polling.
#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "mpp/detail/backoff.hpp"
#include "mpp/detail/shared_space.hpp"

namespace mpp::detail {

class Poller {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Poller(SharedSpace& space)
      : space_(space),
        backoff_(std::chrono::microseconds(50), std::chrono::microseconds(5), std::chrono::microseconds(500)) {}

  /// Spins (yielding) briefly, then sleeps for a fraction of the wait so far; a sleep ends as
  /// soon as the word at `watched` no longer holds `seen`.
  void pause_on(GlobalAddress watched, std::int64_t seen) {
    space_.progress();
    auto sleep = backoff_.next_pause();
    // Spinning on a word reached through RMA would flood its host with operations it must
    // progress itself (and each caller busy-waits in MPI_Win_flush meanwhile): poll those at a
    // distance from the start, backing off further than on local words.
    if (!space_.is_local(watched)) sleep = std::clamp(4 * sleep, remote_min_poll, remote_max_poll);
    if (sleep.count() == 0) {
      std::this_thread::yield();
    } else {
      space_.wait_for_change(watched, seen, sleep);
    }
  }

  /// Polls until ready() holds (true) or the deadline passes (false); `watched` is the word
  /// whose change (announced with SharedSpace::wake) can make ready() hold.
  template <class Ready>
  bool until(Ready&& ready, std::optional<Clock::time_point> deadline, GlobalAddress watched) {
    for (;;) {
      // Read before ready(): a change after this read makes the sleep below end at once. Only a
      // local word is slept on in the kernel; reading a remote one would cost an RMA operation.
      const std::int64_t seen = space_.is_local(watched) ? space_.load<std::int64_t>(watched) : 0;
      if (ready()) return true;
      if (deadline && Clock::now() >= *deadline) return false;
      pause_on(watched, seen);
    }
  }

 private:
  static constexpr std::chrono::microseconds remote_min_poll{100};
  static constexpr std::chrono::microseconds remote_max_poll{5000};
  SharedSpace& space_;
  Backoff backoff_;
};

}  // namespace mpp::detail
