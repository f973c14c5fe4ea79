#pragma once
// The acquire/lock/unlock surface Lock and RLock share (std::lock_guard, std::scoped_lock).
#include <chrono>
#include <cstdint>
#include <optional>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/serialization.hpp"

namespace mpp::detail {
/// The acquire/lock/unlock surface Lock and RLock share; Derived provides acquire_until and release.
template <class Derived>
class LockInterface {
 public:
  void acquire() { self().acquire_until(std::nullopt); }
  /// False when the lock could not be had within `timeout`.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return self().acquire_until(deadline_after(timeout));
  }
  // BasicLockable / Lockable, for std::lock_guard, std::unique_lock and std::scoped_lock.
  void lock() { acquire(); }
  void unlock() { self().release(); }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};
}  // namespace mpp::detail
