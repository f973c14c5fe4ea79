#include "mpp/lock.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

#include "mpp/detail/polling.hpp"
#include "mpp/errors.hpp"

namespace mpp {
namespace {

using detail::GlobalAddress;
using detail::SharedSpace;

// Queue node words (16 bytes, at SharedSpace::queue_node(rank, index)).
constexpr std::uint64_t state_word = 0;
constexpr std::uint64_t next_word = 8;
enum : std::int64_t { idle = 0, waiting = 1, granted = 2, abandoned = 3, reclaimed = 4 };

std::int64_t node_id(int rank, int index) {
  return static_cast<std::int64_t>(rank) * SharedSpace::queue_nodes + index + 1;  // 0 means "none"
}
GlobalAddress node_of(std::int64_t id) {
  return SharedSpace::queue_node(static_cast<int>((id - 1) / SharedSpace::queue_nodes),
                                 static_cast<int>((id - 1) % SharedSpace::queue_nodes));
}

/// This process's queue nodes and the locks it holds.
class QueueNodes {
 public:
  /// A free node of this rank, set to (waiting, no successor).
  int take(SharedSpace& space) {
    std::lock_guard lock(mutex_);
    if (in_use_.empty()) in_use_.assign(SharedSpace::queue_nodes, false);
    // Nodes abandoned by timed-out waiters come back once a releaser has stepped past them.
    std::erase_if(abandoned_, [&](int index) {
      if (space.load<std::int64_t>(SharedSpace::queue_node(space.rank(), index) + state_word) != reclaimed)
        return false;
      in_use_[static_cast<std::size_t>(index)] = false;
      return true;
    });
    for (int i = 0; i < SharedSpace::queue_nodes; ++i) {
      if (in_use_[static_cast<std::size_t>(i)]) continue;
      in_use_[static_cast<std::size_t>(i)] = true;
      const GlobalAddress node = SharedSpace::queue_node(space.rank(), i);
      space.store<std::int64_t>(node + next_word, 0);
      space.store<std::int64_t>(node + state_word, waiting);
      return i;
    }
    throw UsageError("mpp: this rank waits for or holds more than 256 locks at once");
  }
  void give_back(int index) {
    std::lock_guard lock(mutex_);
    in_use_[static_cast<std::size_t>(index)] = false;
  }
  void abandon(int index) {
    std::lock_guard lock(mutex_);
    abandoned_.push_back(index);
  }

  void hold(GlobalAddress lock_tail, int index) {
    std::lock_guard lock(mutex_);
    held_[lock_tail] = index;
  }
  bool holds(GlobalAddress lock_tail) {
    std::lock_guard lock(mutex_);
    return held_.count(lock_tail) > 0;
  }
  /// The node this process holds `lock_tail` with; throws if it holds none.
  int stop_holding(GlobalAddress lock_tail) {
    std::lock_guard lock(mutex_);
    auto it = held_.find(lock_tail);
    if (it == held_.end())
      throw UsageError(
          "mpp: release() of a lock this process does not hold (a Lock is released by the rank "
          "that acquired it)");
    const int index = it->second;
    held_.erase(it);
    return index;
  }

 private:
  std::mutex mutex_;
  std::vector<bool> in_use_;
  std::vector<int> abandoned_;
  std::map<GlobalAddress, int> held_;
};

QueueNodes& queue_nodes() {
  static QueueNodes nodes;
  return nodes;
}

}  // namespace

Lock::Lock() : block_(sizeof(std::int64_t)) {}

bool Lock::locked() const { return block_.space().load<std::int64_t>(tail()) != 0; }

bool Lock::held_here() const { return queue_nodes().holds(tail()); }

bool Lock::try_lock() {
  SharedSpace& space = block_.space();
  const int index = queue_nodes().take(space);
  if (space.compare_exchange<std::int64_t>(tail(), 0, node_id(space.rank(), index)) != 0) {
    queue_nodes().give_back(index);
    return false;
  }
  queue_nodes().hold(tail(), index);
  return true;
}

bool Lock::acquire_until(std::optional<detail::Clock::time_point> deadline) {
  SharedSpace& space = block_.space();
  const int index = queue_nodes().take(space);
  const GlobalAddress me = SharedSpace::queue_node(space.rank(), index);
  const std::int64_t predecessor = space.exchange<std::int64_t>(tail(), node_id(space.rank(), index));
  if (predecessor != 0) {
    space.store<std::int64_t>(node_of(predecessor) + next_word, node_id(space.rank(), index));
    detail::Poller waiter(space);
    while (space.load<std::int64_t>(me + state_word) != granted) {  // our own node: no traffic
      if (deadline && detail::Clock::now() >= *deadline) {
        if (space.compare_exchange<std::int64_t>(me + state_word, waiting, abandoned) == waiting) {
          queue_nodes().abandon(index);  // the releaser will step past it
          return false;
        }
        break;  // granted just now
      }
      waiter.pause();
    }
  }
  queue_nodes().hold(tail(), index);
  return true;
}

void Lock::release() {
  SharedSpace& space = block_.space();
  const int index = queue_nodes().stop_holding(tail());
  std::int64_t current = node_id(space.rank(), index);
  detail::Poller waiter(space);
  for (;;) {
    const GlobalAddress node = node_of(current);
    std::int64_t next = space.load<std::int64_t>(node + next_word);
    if (next == 0) {
      if (space.compare_exchange<std::int64_t>(tail(), current, 0) == current) break;   // nobody queued
      while ((next = space.load<std::int64_t>(node + next_word)) == 0) waiter.pause();  // one is linking in
    }
    const bool handed_over =
        space.compare_exchange<std::int64_t>(node_of(next) + state_word, waiting, granted) == waiting;
    if (current != node_id(space.rank(), index)) space.store<std::int64_t>(node + state_word, reclaimed);
    if (handed_over) {
      current = 0;
      break;
    }
    current = next;  // that waiter gave up: pass the lock on past it
  }
  if (current != 0 && current != node_id(space.rank(), index))
    space.store<std::int64_t>(node_of(current) + state_word, reclaimed);
  queue_nodes().give_back(index);
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
