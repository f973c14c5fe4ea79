#pragma once
// Waiting on many futures: Python's concurrent.futures.wait and as_completed.
//
//   auto [done, not_done] = mpp::wait(futures, std::chrono::seconds(5), mpp::FIRST_COMPLETED);
//   for (mpp::Future<int>& f : mpp::as_completed(futures)) std::cout << f.result();
//   for (auto& f : mpp::as_completed(futures, std::chrono::seconds(10))) ...  // mpp::TimeoutError when late
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mpp/detail/deadline.hpp"
#include "mpp/detail/next_iterator.hpp"
#include "mpp/errors.hpp"
#include "mpp/future.hpp"

namespace mpp {

/// When mpp::wait returns, as Python's return_when.
enum class ReturnWhen { first_completed, first_exception, all_completed };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::first_completed;
/// The first future that finishes with an exception; ALL_COMPLETED when none does.
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::first_exception;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::all_completed;

template <class T>
struct WaitResult {
  std::vector<Future<T>> done;
  std::vector<Future<T>> not_done;
};

namespace detail {

/// Copies of one future count once, as in Python's set of futures.
template <class T>
std::vector<Future<T>> distinct(const std::vector<Future<T>>& futures) {
  std::vector<Future<T>> unique;
  for (const auto& f : futures)
    if (std::find(unique.begin(), unique.end(), f) == unique.end()) unique.push_back(f);
  return unique;
}

/// Waits until `ready()` holds or the deadline passes. Futures of one executor wake their
/// waiter when one is done; futures of different executors are looked at every 2 ms.
template <class T, class Ready>
bool wait_for(const std::vector<Future<T>>& futures, Ready ready, std::optional<Clock::time_point> deadline) {
  if (ready() || futures.empty()) return ready();
  const Waiter& waiter = futures.front().waiter();
  const bool one_source =
      std::all_of(futures.begin(), futures.end(), [&](const Future<T>& f) { return f.waiter().same_source(waiter); });
  if (one_source) return waiter.wait_until(ready, deadline);
  constexpr auto slice = std::chrono::milliseconds(2);
  while (!ready()) {
    const auto now = Clock::now();
    if (deadline && now >= *deadline) return false;
    waiter.wait_until(ready, deadline ? std::min(*deadline, now + slice) : now + slice);
  }
  return true;
}

template <class T>
bool failed(const Future<T>& f) {
  return f.done() && !f.cancelled() && f.exception() != nullptr;
}

template <class T>
WaitResult<T> wait_until(const std::vector<Future<T>>& given, std::optional<Clock::time_point> deadline,
                         ReturnWhen when) {
  const auto futures = distinct(given);
  auto enough = [&] {
    switch (when) {
      case ReturnWhen::first_completed:
        return std::any_of(futures.begin(), futures.end(), [](const Future<T>& f) { return f.done(); });
      case ReturnWhen::first_exception:
        if (std::any_of(futures.begin(), futures.end(), [](const Future<T>& f) { return failed(f); })) return true;
        [[fallthrough]];
      case ReturnWhen::all_completed:
        break;
    }
    return std::all_of(futures.begin(), futures.end(), [](const Future<T>& f) { return f.done(); });
  };
  wait_for(futures, enough, deadline);
  WaitResult<T> result;
  for (const auto& f : futures) (f.done() ? result.done : result.not_done).push_back(f);
  return result;
}

}  // namespace detail

/// Waits for the futures (Python's wait with timeout=None): {done, not_done}.
template <class T>
WaitResult<T> wait(const std::vector<Future<T>>& futures, ReturnWhen when = ALL_COMPLETED) {
  return detail::wait_until(futures, std::nullopt, when);
}
/// As wait(futures, when), returning when `timeout` has passed at the latest.
template <class T, class Rep, class Period>
WaitResult<T> wait(const std::vector<Future<T>>& futures, std::chrono::duration<Rep, Period> timeout,
                   ReturnWhen when = ALL_COMPLETED) {
  return detail::wait_until(futures, detail::deadline_after(timeout), when);
}

/// The futures in the order they finish (those done already first); iterating past the
/// deadline throws mpp::TimeoutError naming how many are unfinished.
template <class T>
class AsCompleted {
 public:
  AsCompleted(const std::vector<Future<T>>& futures, std::optional<detail::Clock::time_point> deadline)
      : pending_(detail::distinct(futures)), total_(pending_.size()), deadline_(deadline) {}

  /// The next future to finish, nullopt when all were handed out.
  std::optional<Future<T>> next() {
    if (pending_.empty()) return std::nullopt;
    auto done = [this] { return std::any_of(pending_.begin(), pending_.end(), [](auto& f) { return f.done(); }); };
    if (!detail::wait_for(pending_, done, deadline_))
      throw TimeoutError("mpp: " + std::to_string(pending_.size()) + " (of " + std::to_string(total_) +
                         ") futures unfinished");
    auto it = std::find_if(pending_.begin(), pending_.end(), [](auto& f) { return f.done(); });
    Future<T> finished = *it;
    pending_.erase(it);
    return finished;
  }

  using iterator = detail::NextIterator<AsCompleted, Future<T>>;
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() const { return {}; }

 private:
  std::vector<Future<T>> pending_;
  std::size_t total_;
  std::optional<detail::Clock::time_point> deadline_;
};

template <class T>
AsCompleted<T> as_completed(const std::vector<Future<T>>& futures) {
  return AsCompleted<T>(futures, std::nullopt);
}
template <class T, class Rep, class Period>
AsCompleted<T> as_completed(const std::vector<Future<T>>& futures, std::chrono::duration<Rep, Period> timeout) {
  return AsCompleted<T>(futures, detail::deadline_after(timeout));
}

}  // namespace mpp
