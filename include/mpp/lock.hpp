#pragma once
// mpp::Lock and mpp::RLock: Python's multiprocessing.Lock / RLock, across ranks and nodes.
//
//   mpp::Lock lock;                                   // create on any rank, pass to tasks
//   { std::lock_guard<mpp::Lock> hold(lock); ... }   // or lock.acquire(); ... lock.release();
//   if (lock.acquire(std::chrono::milliseconds(10))) { ...; lock.release(); }
//
// One word over shared memory or MPI RMA, free / held / held with sleepers, as a futex-based
// mutex (and Python's semaphore-based Lock): a waiter spins briefly, then sleeps in the kernel
// on the word when it is in this node's memory (the releaser wakes one sleeper) or polls it
// with a growing back-off through RMA. Not FIFO, like Python's: the releasing rank may take it
// again at once, which keeps an oversubscribed node moving. A waiter that times out leaves
// nothing behind. As Python's Lock, any process may release a held lock (one acquires, another
// releases); releasing a lock that is not locked throws.
#include <chrono>
#include <cstdint>
#include <optional>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/lock_interface.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/serialization.hpp"

namespace mpp {

class Lock : public detail::LockInterface<Lock> {
 public:
  /// A new, unlocked lock, hosted on this rank.
  Lock();
  /// An empty handle that deserialization fills in.
  explicit Lock(detail::for_loading_t) {}

  /// Takes the lock only if it is free right now.
  bool try_lock();
  /// Frees the lock, whoever acquired it; mpp::UsageError if it is not locked.
  void release();
  /// Whether some rank holds the lock (a snapshot, like Python's Lock.locked()).
  bool locked() const;
  /// Whether this process holds it.
  bool held_here() const;

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& block_;
  }

 private:
  friend class detail::LockInterface<Lock>;
  friend class RLock;
  bool acquire_until(std::optional<detail::Clock::time_point> deadline);
  detail::GlobalAddress word() const { return block_.payload(); }
  detail::SharedBlock block_;
};

/// A re-entrant lock: the holder (this thread of this rank) may acquire it again; it is free
/// when releases match acquisitions.
class RLock : public detail::LockInterface<RLock> {
 public:
  RLock();
  explicit RLock(detail::for_loading_t) : lock_(detail::for_loading) {}

  bool try_lock();
  /// Throws mpp::UsageError if this thread of this rank does not hold it.
  void release();
  /// Whether some thread of some rank holds it (a snapshot, like Python's RLock.locked()).
  bool locked() const { return lock_.locked(); }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& lock_& state_;
  }

 private:
  friend class detail::LockInterface<RLock>;
  bool acquire_until(std::optional<detail::Clock::time_point> deadline);
  bool enter_if_mine();
  void take_ownership();
  Lock lock_;
  detail::SharedBlock state_;  // words: owner token, recursion count
};

}  // namespace mpp
