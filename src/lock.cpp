#include "mpp/lock.hpp"

#include <atomic>
#include <mutex>
#include <set>

#include "mpp/detail/polling.hpp"
#include "mpp/errors.hpp"

namespace mpp {
namespace {

using detail::GlobalAddress;
using detail::SharedSpace;

// The lock word: free, held, or held with ranks that may be asleep waiting for it.
enum : std::int64_t { free_word = 0, held = 1, contended = 2 };

/// The locks this process acquired and has not released (Condition::notify asks).
class HeldLocks {
 public:
  void hold(GlobalAddress lock) {
    std::lock_guard guard(mutex_);
    held_.insert(lock);
  }
  bool holds(GlobalAddress lock) {
    std::lock_guard guard(mutex_);
    return held_.count(lock) > 0;
  }
  void stop_holding(GlobalAddress lock) {
    std::lock_guard guard(mutex_);
    held_.erase(lock);
  }

 private:
  std::mutex mutex_;
  std::set<GlobalAddress> held_;
};

HeldLocks& held_locks() {
  static HeldLocks locks;
  return locks;
}

}  // namespace

Lock::Lock() : block_(sizeof(std::int64_t)) {}

bool Lock::locked() const { return block_.space().load<std::int64_t>(word()) != free_word; }

bool Lock::held_here() const { return held_locks().holds(word()); }

bool Lock::try_lock() {
  if (block_.space().compare_exchange<std::int64_t>(word(), free_word, held) != free_word) return false;
  held_locks().hold(word());
  return true;
}

bool Lock::acquire_until(std::optional<detail::Clock::time_point> deadline) {
  SharedSpace& space = block_.space();
  if (space.compare_exchange<std::int64_t>(word(), free_word, held) != free_word) {
    // Mark the lock contended, so its releaser wakes a sleeper, and take it if it came free.
    // A waiter that gives up leaves the mark: the cost is one needless wake-up, nothing stays
    // claimed, so abandoned waits exhaust nothing and never stand in the way of the others.
    detail::Poller waiter(space);
    while (space.exchange<std::int64_t>(word(), contended) != free_word) {
      if (deadline && detail::Clock::now() >= *deadline) return false;
      waiter.pause_on(word(), contended);
    }
  }
  held_locks().hold(word());
  return true;
}

void Lock::release() {
  SharedSpace& space = block_.space();
  // As Python's Lock (a semaphore), any process may release a held lock.
  std::int64_t expected = held;
  for (;;) {
    const std::int64_t seen = space.compare_exchange<std::int64_t>(word(), expected, free_word);
    if (seen == free_word)
      throw UsageError("mpp: Lock::release() of a lock that is not locked (Python: released too many times)");
    if (seen == expected) break;
    expected = seen;  // held <-> contended changed under us
  }
  if (expected == contended) space.wake(word(), 1);
  held_locks().stop_holding(word());
}

// RLock: the holder's token and a count, written only by the holder.
namespace {
constexpr std::uint64_t owner_word = 0;
constexpr std::uint64_t count_word = 8;
std::atomic<std::int64_t> next_thread_number{1};
std::int64_t my_token(int rank) {
  thread_local const std::int64_t thread_number = next_thread_number++;
  return (static_cast<std::int64_t>(rank) + 1) << 32 | thread_number;
}
}  // namespace

RLock::RLock() : state_(2 * sizeof(std::int64_t)) {}

bool RLock::enter_if_mine() {
  SharedSpace& space = state_.space();
  if (space.load<std::int64_t>(state_.payload() + owner_word) != my_token(space.rank())) return false;
  space.fetch_add<std::int64_t>(state_.payload() + count_word, 1);  // only the holder gets here
  return true;
}

void RLock::take_ownership() {
  SharedSpace& space = state_.space();
  space.store<std::int64_t>(state_.payload() + owner_word, my_token(space.rank()));
  space.store<std::int64_t>(state_.payload() + count_word, 1);
}

bool RLock::acquire_until(std::optional<detail::Clock::time_point> deadline) {
  if (enter_if_mine()) return true;
  const bool got = lock_.acquire_until(deadline);
  if (got) take_ownership();
  return got;
}

bool RLock::try_lock() {
  if (enter_if_mine()) return true;
  if (!lock_.try_lock()) return false;
  take_ownership();
  return true;
}

void RLock::release() {
  SharedSpace& space = state_.space();
  if (space.load<std::int64_t>(state_.payload() + owner_word) != my_token(space.rank()))
    throw UsageError("mpp: RLock::release() by a thread that does not hold it");
  if (space.fetch_add<std::int64_t>(state_.payload() + count_word, -1) == 1) {
    space.store<std::int64_t>(state_.payload() + owner_word, 0);
    lock_.release();
  }
}

}  // namespace mpp
