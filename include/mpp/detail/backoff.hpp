#pragma once
// How a rank waits for MPI messages without burning a core. Open MPI's blocking calls
// busy-poll, so mpp polls itself: tightly for a short spin window after the last activity
// (round trips stay in microseconds), then sleeping for a fraction of the time it has been
// idle, capped. A long wait thus polls rarely, and the delay it adds stays a small fraction of
// the wait itself.
#include <algorithm>
#include <chrono>
#include <thread>

namespace mpp::detail {

/// A spinning poller yields the core once every so many fruitless polls, not after each: a
/// yield is a system call (about half a microsecond here, as long as a poll), and Open MPI
/// yields inside every poll that finds nothing anyway when it knows the node oversubscribed.
/// The occasional yield keeps a spinner fair where it does not know (measured: apply round
/// trip 8.2-8.4 -> 5.6-5.9 us in a plain apply loop, master + 2 workers on 2 cores).
inline constexpr unsigned polls_per_yield = 16;

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;
  using Micros = std::chrono::microseconds;

  Backoff(Micros spin, Micros min_sleep, Micros max_sleep)
      : spin_(spin), min_sleep_(min_sleep), max_sleep_(max_sleep), last_activity_(Clock::now()) {}

  /// Something happened: poll tightly again.
  void reset() { last_activity_ = Clock::now(); }

  /// How long to pause before the next poll (zero while spinning).
  Micros next_pause() const {
    const auto idle = std::chrono::duration_cast<Micros>(Clock::now() - last_activity_);
    if (idle < spin_) return Micros(0);
    return std::clamp(idle / idle_fraction, min_sleep_, max_sleep_);
  }

  /// Pauses as next_pause() says, sleeping with `nap(pause)`; while spinning, yields the core
  /// now and then (see polls_per_yield) so an oversubscribed core moves on.
  template <class Nap>
  void pause(Nap&& nap) {
    const auto p = next_pause();
    if (p.count() > 0) {
      nap(p);
    } else if (++spins_ % polls_per_yield == 0) {
      std::this_thread::yield();
    }
  }
  void pause() {
    pause([](Micros p) { std::this_thread::sleep_for(p); });
  }

 private:
  static constexpr int idle_fraction = 16;  // sleeping adds at most ~1/16 to a wait
  Micros spin_;
  Micros min_sleep_;
  Micros max_sleep_;
  Clock::time_point last_activity_;
  unsigned spins_ = 0;
};

/// How a rank waits for a message another rank sends on request (a reply, a pipe message):
/// tightly for 100 us, since an answer usually comes within microseconds, then ever less often.
inline Backoff message_backoff() {
  return Backoff(std::chrono::microseconds(100), std::chrono::microseconds(10), std::chrono::milliseconds(2));
}

}  // namespace mpp::detail
