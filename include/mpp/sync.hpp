#pragma once
// Python's multiprocessing synchronisation primitives across ranks: Semaphore,
// BoundedSemaphore, Event, Condition, Barrier. Like Lock and Value they are handles to one
// shared object, created on any rank and passed to tasks as arguments.
//
//   mpp::Semaphore slots(4);  slots.acquire(); ...; slots.release();
//   mpp::Event ready;         ready.wait();            // another rank: ready.set();
//   mpp::Barrier sync(3);     sync.wait();             // the third arrival releases all
//   mpp::Barrier(3, 10s, count_round, rounds)          // a default timeout; count_round(rounds) once a round
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/shared_block.hpp"
#include "mpp/detail/shipped_call.hpp"
#include "mpp/lock.hpp"
#include "mpp/serialization.hpp"

namespace mpp {

/// Barrier::wait() on a barrier that was aborted, reset or timed out (Python's BrokenBarrierError).
class BrokenBarrierError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Semaphore {
 public:
  explicit Semaphore(std::int64_t value = 1);
  explicit Semaphore(detail::for_loading_t) {}

  void acquire() { acquire_until(std::nullopt); }
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(detail::deadline_after(timeout));
  }
  void release();
  std::int64_t get_value() const;

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& block_;
  }

 protected:
  bool acquire_until(std::optional<std::chrono::steady_clock::time_point> deadline);
  detail::SharedBlock block_;  // words: value, the bound (0: unbounded)
};

/// A Semaphore whose release() throws mpp::UsageError beyond its initial value.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::int64_t value = 1);
  explicit BoundedSemaphore(detail::for_loading_t tag) : Semaphore(tag) {}
};

class Event {
 public:
  Event();
  explicit Event(detail::for_loading_t) {}
  void set();
  void clear();
  bool is_set() const;
  void wait() { wait_until(std::nullopt); }
  /// True when the event was set within `timeout`.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(detail::deadline_after(timeout));
  }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& block_;
  }

 private:
  bool wait_until(std::optional<std::chrono::steady_clock::time_point> deadline);
  detail::SharedBlock block_;
};

/// Python's Condition: wait() releases the lock, waits for notify(), and re-acquires it.
/// notify()/notify_all()/wait() need the lock held, as in Python.
class Condition {
 public:
  /// A condition with its own lock.
  Condition() : Condition(Lock()) {}
  explicit Condition(Lock lock);
  explicit Condition(detail::for_loading_t) : lock_(detail::for_loading) {}

  void acquire() { lock_.acquire(); }
  void release() { lock_.release(); }
  void lock() { lock_.acquire(); }
  void unlock() { lock_.release(); }
  Lock& get_lock() { return lock_; }

  void wait() { wait_until(std::nullopt); }
  /// False when not notified within `timeout` (the lock is held again either way).
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(detail::deadline_after(timeout));
  }
  /// Waits until predicate() holds; returns its last result.
  template <class Predicate>
  bool wait_for(Predicate predicate) {
    while (!predicate()) wait();
    return true;
  }
  template <class Predicate, class Rep, class Period>
  bool wait_for(Predicate predicate, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = detail::deadline_after(timeout);
    while (!predicate()) {
      if (!wait_until(deadline)) return predicate();
    }
    return true;
  }
  void notify(std::int64_t n = 1);
  void notify_all();

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& lock_& block_;
  }

 private:
  bool wait_until(std::optional<std::chrono::steady_clock::time_point> deadline);
  Lock lock_;
  detail::SharedBlock block_;  // words: waiting, wake-ups to hand out
};

class Barrier {
 public:
  explicit Barrier(std::int64_t parties);
  /// As Python's Barrier(parties, action): `action(args...)` runs once per round, on whichever
  /// rank arrives last, before anyone passes (arguments travel as a task's do: Values, proxies).
  template <class F, class... Args>
  requires(!detail::is_duration<F>) Barrier(std::int64_t parties, F action, Args&&... args) : Barrier(parties) {
    action_ = detail::ShippedCall::of(action, std::forward<Args>(args)...);
  }
  /// As Python's Barrier(parties, action, timeout): `timeout` is what wait() without one waits
  /// at most (C++ puts it before the action, whose arguments come last).
  template <class Rep, class Period, class... Action>
  Barrier(std::int64_t parties, std::chrono::duration<Rep, Period> timeout, Action&&... action)
      : Barrier(parties, std::forward<Action>(action)...) {
    timeout_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  }
  explicit Barrier(detail::for_loading_t) {}

  /// Returns this arrival's index (0 .. parties-1), as Python; throws BrokenBarrierError if
  /// the barrier is or becomes broken, and breaks it on timeout (the barrier's own, if it has
  /// one). If the action throws, the barrier breaks and its exception reaches the last arrival.
  std::int64_t wait() {
    return wait_until(timeout_ns_ < 0 ? std::nullopt : detail::deadline_after(std::chrono::nanoseconds(timeout_ns_)));
  }
  template <class Rep, class Period>
  std::int64_t wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(detail::deadline_after(timeout));
  }
  /// Breaks the barrier: current and future waiters get BrokenBarrierError until reset().
  void abort();
  /// Back to empty and unbroken; ranks waiting now get BrokenBarrierError.
  void reset();
  bool broken() const;
  std::int64_t parties() const;
  std::int64_t n_waiting() const;

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& block_& action_& timeout_ns_;
  }

 private:
  std::int64_t wait_until(std::optional<std::chrono::steady_clock::time_point> deadline);
  void open_round(std::int64_t round);
  detail::SharedBlock block_;     // words: arrivals, epoch, broken, parties, rounds opened
  detail::ShippedCall action_;    // empty: none
  std::int64_t timeout_ns_ = -1;  // < 0: wait() waits as long as it takes
};

}  // namespace mpp
