#pragma once
// How the master wakes a worker rank of its own node that naps between looks for messages.
//
// Open MPI has no call that sleeps until a message comes, so an idle worker polls ever less
// often, up to the idle poll interval (10 ms; see Backoff). Work sent to workers idle for a
// while then waited for each of them to look: a 1M-int map after the caller had computed for a
// second took 15-22 ms instead of 3-5. So every rank keeps a doorbell, a word in its own
// node-shared segment: a napping worker sleeps on it (a futex), and the master, right after it
// sends that worker something, wakes it if it naps. Workers on other nodes (whose words the
// master cannot touch) nap as before.
#include <chrono>
#include <cstdint>
#include <functional>

#include "mpp/detail/shared_space.hpp"

namespace mpp::detail {

/// One rank's doorbell, seen by its owner (nap) or by the master (ring).
class Doorbell {
 public:
  /// No doorbell: nap() just sleeps and ring() does nothing.
  Doorbell() = default;
  /// The doorbell at `word` of `space`, or none where this rank cannot reach it with CPU
  /// atomics (another node's rank, or every rank under MPP_FORCE_RMA=1).
  static Doorbell at(SharedSpace& space, GlobalAddress word);

  /// Sleeps for `pause`, or until rung. `message_waiting` looks for a message once the nap is
  /// announced, so one sent (and rung for) just before is not slept through.
  void nap(std::chrono::microseconds pause, const std::function<bool()>& message_waiting);
  /// Wakes the owner if it naps. Call after sending it the message it should wake for.
  void ring();

 private:
  static constexpr std::int64_t awake = 0;
  static constexpr std::int64_t napping = 1;
  Doorbell(SharedSpace& space, GlobalAddress word) : space_(&space), word_(word) {}
  SharedSpace* space_ = nullptr;
  GlobalAddress word_;
};

}  // namespace mpp::detail
