#include "mpp/sync.hpp"

#include <algorithm>
#include <climits>
#include <limits>

#include "mpp/detail/polling.hpp"
#include "mpp/errors.hpp"

namespace mpp {
namespace {

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

/// The n-th 8-byte word of an object.
detail::GlobalAddress word(const detail::SharedBlock& block, int n) {
  return block.payload() + 8 * static_cast<std::uint64_t>(n);
}

/// Decrements the word if it is positive; whether it did.
bool take_one(detail::SharedSpace& space, detail::GlobalAddress counter) {
  std::int64_t value = space.load<std::int64_t>(counter);
  while (value > 0) {
    const std::int64_t seen = space.compare_exchange<std::int64_t>(counter, value, value - 1);
    if (seen == value) return true;
    value = seen;
  }
  return false;
}

}  // namespace

// Semaphore words: 0 value, 1 bound (0 = unbounded).
Semaphore::Semaphore(std::int64_t value) : block_(2 * sizeof(std::int64_t)) {
  if (value < 0) throw std::invalid_argument("mpp: a Semaphore's initial value must be >= 0");
  block_.space().store<std::int64_t>(word(block_, 0), value);
}

bool Semaphore::acquire_until(Deadline deadline) {
  auto& space = block_.space();
  return detail::Poller(space).until([&] { return take_one(space, word(block_, 0)); }, deadline, word(block_, 0));
}

void Semaphore::release() {
  auto& space = block_.space();
  const std::int64_t bound = space.load<std::int64_t>(word(block_, 1));
  if (bound == 0) {
    space.fetch_add<std::int64_t>(word(block_, 0), 1);
  } else {
    std::int64_t value = space.load<std::int64_t>(word(block_, 0));
    for (;;) {
      if (value >= bound) throw UsageError("mpp: BoundedSemaphore released too many times");
      const std::int64_t seen = space.compare_exchange<std::int64_t>(word(block_, 0), value, value + 1);
      if (seen == value) break;
      value = seen;
    }
  }
  space.wake(word(block_, 0), 1);
}

std::int64_t Semaphore::get_value() const { return block_.space().load<std::int64_t>(word(block_, 0)); }

BoundedSemaphore::BoundedSemaphore(std::int64_t value) : Semaphore(value) {
  block_.space().store<std::int64_t>(word(block_, 1), value);
}

// Event word: 0 set flag.
Event::Event() : block_(sizeof(std::int64_t)) {}
void Event::set() {
  block_.space().store<std::int64_t>(word(block_, 0), 1);
  block_.space().wake(word(block_, 0), INT_MAX);
}
void Event::clear() { block_.space().store<std::int64_t>(word(block_, 0), 0); }
bool Event::is_set() const { return block_.space().load<std::int64_t>(word(block_, 0)) != 0; }
bool Event::wait_until(Deadline deadline) {
  return detail::Poller(block_.space()).until([this] { return is_set(); }, deadline, word(block_, 0));
}

// Condition words: 0 waiting (changed only with the lock held), 1 wake-ups handed out.
Condition::Condition(Lock lock) : lock_(std::move(lock)), block_(2 * sizeof(std::int64_t)) {}

bool Condition::wait_until(Deadline deadline) {
  auto& space = block_.space();
  space.fetch_add<std::int64_t>(word(block_, 0), 1);
  lock_.release();  // throws, as Python, if we do not hold it
  auto take_wakeup = [&] { return take_one(space, word(block_, 1)); };
  const bool woken = detail::Poller(space).until(take_wakeup, deadline, word(block_, 1));
  lock_.acquire();
  if (woken) return true;
  // Timed out. Still counted as waiting: withdraw. Already converted into a wake-up by a
  // notify: that wake-up is ours, take it.
  if (space.load<std::int64_t>(word(block_, 0)) > 0) {
    space.fetch_add<std::int64_t>(word(block_, 0), -1);
    return false;
  }
  return take_wakeup();
}

void Condition::notify(std::int64_t n) {
  if (!lock_.held_here()) throw UsageError("mpp: Condition::notify() needs the condition's lock held, as in Python");
  auto& space = block_.space();
  const std::int64_t waiting = space.load<std::int64_t>(word(block_, 0));
  const std::int64_t wake = std::min(n, waiting);
  if (wake <= 0) return;
  space.fetch_add<std::int64_t>(word(block_, 0), -wake);
  space.fetch_add<std::int64_t>(word(block_, 1), wake);
  space.wake(word(block_, 1), static_cast<int>(std::min<std::int64_t>(wake, INT_MAX)));
}

void Condition::notify_all() { notify(std::numeric_limits<std::int64_t>::max()); }

// Barrier words: arrivals ever (ticket counter), epoch (bumped by reset), broken, parties, rounds
// opened. Ticket t belongs to round t / parties; the arrival that ends a round runs the action,
// then opens it. No word is reset between rounds, so a fast rank cannot slip into the wrong one.
namespace {
enum BarrierWord { arrivals, epoch_word, broken_word, parties_word, rounds_opened };
}  // namespace

Barrier::Barrier(std::int64_t parties) : block_(5 * sizeof(std::int64_t)) {
  if (parties < 1) throw std::invalid_argument("mpp: a Barrier needs at least one party");
  block_.space().store<std::int64_t>(word(block_, parties_word), parties);
}

std::int64_t Barrier::wait_until(Deadline deadline) {
  auto& space = block_.space();
  const std::int64_t epoch = space.load<std::int64_t>(word(block_, epoch_word));
  if (broken()) throw BrokenBarrierError("mpp: the barrier is broken");
  const std::int64_t n = parties();
  const std::int64_t ticket = space.fetch_add<std::int64_t>(word(block_, arrivals), 1);
  const std::int64_t round = ticket / n;
  if (ticket % n == n - 1) {  // the last arrival runs the action, then opens the round
    if (!action_.empty()) {
      try {
        action_.run();
      } catch (...) {
        abort();  // as Python: the others get BrokenBarrierError, this rank the action's error
        throw;
      }
    }
    open_round(round);
    return ticket % n;
  }
  auto opened = [&] { return space.load<std::int64_t>(word(block_, rounds_opened)) > round; };
  const bool ended = detail::Poller(space).until(
      [&] { return opened() || broken() || space.load<std::int64_t>(word(block_, epoch_word)) != epoch; }, deadline,
      word(block_, rounds_opened));
  if (ended && opened() && space.load<std::int64_t>(word(block_, epoch_word)) == epoch) return ticket % n;
  if (!ended) abort();  // a timeout breaks the barrier for everyone, as in Python
  throw BrokenBarrierError("mpp: the barrier was broken (abort, reset, a timeout or a failed action) while waiting");
}

/// Rounds opened only grows: a slow action of one round must not close the next one, which
/// may have filled and opened meanwhile.
void Barrier::open_round(std::int64_t round) {
  auto& space = block_.space();
  const auto opened = word(block_, rounds_opened);
  for (std::int64_t seen = space.load<std::int64_t>(opened); seen <= round;) {
    const std::int64_t before = space.compare_exchange<std::int64_t>(opened, seen, round + 1);
    if (before == seen) break;
    seen = before;
  }
  space.wake(opened, INT_MAX);
}

void Barrier::abort() {
  block_.space().store<std::int64_t>(word(block_, broken_word), 1);
  block_.space().wake(word(block_, rounds_opened), INT_MAX);  // waiters sleep on it
}
void Barrier::reset() {
  auto& space = block_.space();
  space.fetch_add<std::int64_t>(word(block_, epoch_word), 1);  // current waiters see a new epoch and give up
  space.store<std::int64_t>(word(block_, arrivals), 0);
  space.store<std::int64_t>(word(block_, rounds_opened), 0);
  space.store<std::int64_t>(word(block_, broken_word), 0);
  space.wake(word(block_, rounds_opened), INT_MAX);
}
bool Barrier::broken() const { return block_.space().load<std::int64_t>(word(block_, broken_word)) != 0; }
std::int64_t Barrier::parties() const { return block_.space().load<std::int64_t>(word(block_, parties_word)); }
std::int64_t Barrier::n_waiting() const {
  return block_.space().load<std::int64_t>(word(block_, arrivals)) % parties();
}

}  // namespace mpp
