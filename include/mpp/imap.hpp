#pragma once
// mpp::ImapResult<R>: what pool.imap / imap_unordered return — results as they can be handed out.
//
//   for (int y : pool.imap(square, xs)) ...             // in input order, each as soon as it is there
//   for (int y : pool.imap_unordered(square, xs)) ...   // in completion order
//   auto it = pool.imap(square, xs); auto y = it.next(std::chrono::seconds(1));  // TimeoutError
//
// A task that threw surfaces as mpp::RemoteError where its chunk's results would have been;
// iteration may continue past it. Options as map's (a chunksize, default 1, and
// mpp::journal / retries / progress / status_log of mpp/map_options.hpp).
#include <chrono>
#include <deque>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "mpp/async_result.hpp"
#include "mpp/detail/imap_stream.hpp"
#include "mpp/detail/map_run.hpp"
#include "mpp/detail/next_iterator.hpp"
#include "mpp/detail/waiter.hpp"

namespace mpp {

template <class R>
class ImapResult {
 public:
  ImapResult(std::shared_ptr<detail::ImapSlots<R>> slots, detail::Waiter waiter)
      : slots_(std::move(slots)), waiter_(std::move(waiter)) {}

  /// Every wait ends at `deadline` (an executor's map(timeout)): next() then throws
  /// mpp::TimeoutError.
  void stop_waiting_at(std::optional<detail::Clock::time_point> deadline) { deadline_ = deadline; }

  /// The next result, nullopt after the last; rethrows a failed task's RemoteError.
  std::optional<R> next() { return next_by(deadline_); }
  /// As next(), but throws mpp::TimeoutError when nothing arrives within `timeout`.
  template <class Rep, class Period>
  std::optional<R> next(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = detail::deadline_after(timeout);
    return next_by(deadline_ && (!deadline || *deadline_ < *deadline) ? deadline_ : deadline);
  }

  using iterator = detail::NextIterator<ImapResult, R>;
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() const { return {}; }

 private:
  std::optional<R> next_by(std::optional<detail::Clock::time_point> deadline) {
    if (!waiter_.wait_until([this] { return slots_->available(); }, deadline))
      throw TimeoutError("mpp: no result arrived within the timeout (the tasks keep running)");
    return slots_->next();
  }

  std::shared_ptr<detail::ImapSlots<R>> slots_;
  detail::Waiter waiter_;
  std::optional<detail::Clock::time_point> deadline_;
};

}  // namespace mpp
