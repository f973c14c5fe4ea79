#pragma once
// mpp::ImapResult<R>: what pool.imap / imap_unordered return — results as they can be handed out.
//
//   for (int y : pool.imap(square, xs)) ...             // in input order, each as soon as it is there
//   for (int y : pool.imap_unordered(square, xs)) ...   // in completion order
//   auto it = pool.imap(square, xs); auto y = it.next(std::chrono::seconds(1));  // TimeoutError
//
// A task that threw surfaces as mpp::RemoteError where its chunk's results would have been;
// iteration may continue past it.
#include <chrono>
#include <deque>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

#include "mpp/async_result.hpp"

namespace mpp {
namespace detail {

template <class R>
class ImapStream final : public TaskSink {
 public:
  ImapStream(bool ordered, std::size_t items, std::size_t chunksize)
      : ordered_(ordered), items_(items), chunksize_(chunksize) {
    if (ordered_) slots_.resize(items);
  }

  void deliver(std::uint64_t first, Reader& results) override {
    std::vector<R> values;
    try {
      results.read_items<R>([&values](std::size_t, R&& value) { values.push_back(std::move(value)); });
      if (values.size() != chunk_length(first))
        throw detail::MalformedMessage("mpp: a result with the wrong item count");
    } catch (...) {
      fail_chunk(first, std::current_exception());
      return;
    }
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (ordered_) {
        slots_[first + i].template emplace<R>(std::move(values[i]));
      } else {
        arrived_.emplace_back(std::in_place_type<R>, std::move(values[i]));
      }
    }
  }
  void fail(std::uint64_t first, const RemoteError& remote) override {
    fail_chunk(first, std::make_exception_ptr(remote));
  }
  void cancel(std::uint64_t first) override { fail_chunk(first, terminated_error()); }

  /// Whether next() would not block.
  bool available() {
    std::lock_guard lock(mutex_);
    if (handed_out_ >= items_) return true;
    if (!ordered_) return !arrived_.empty();
    return !std::holds_alternative<std::monostate>(slots_[handed_out_]);
  }

  /// The next result, or nullopt at the end; call only when available().
  std::optional<R> next() {
    std::lock_guard lock(mutex_);
    if (handed_out_ >= items_) return std::nullopt;
    Slot slot = std::move(ordered_ ? slots_[handed_out_] : arrived_.front());
    if (!ordered_) arrived_.pop_front();
    if (auto* error = std::get_if<ChunkError>(&slot)) {
      // The chunk's other items never come: skip them all.
      handed_out_ += ordered_ ? chunk_length(handed_out_) : error->items;
      std::rethrow_exception(error->error);
    }
    ++handed_out_;
    return std::move(std::get<R>(slot));
  }

 private:
  struct ChunkError {
    std::exception_ptr error;
    std::size_t items;
  };
  using Slot = std::variant<std::monostate, R, ChunkError>;

  std::size_t chunk_length(std::size_t first) const { return std::min(chunksize_, items_ - first); }

  void fail_chunk(std::uint64_t first, std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    ChunkError failure{std::move(error), chunk_length(first)};
    if (ordered_) {
      slots_[first] = std::move(failure);
    } else {
      arrived_.emplace_back(std::move(failure));
    }
  }

  const bool ordered_;
  const std::size_t items_;
  const std::size_t chunksize_;
  std::mutex mutex_;  // the consumer reads while the progress thread delivers
  std::vector<Slot> slots_;
  std::deque<Slot> arrived_;
  std::size_t handed_out_ = 0;
};

}  // namespace detail

template <class R>
class ImapResult {
 public:
  ImapResult(std::shared_ptr<detail::ImapStream<R>> stream, detail::Engine& engine)
      : stream_(std::move(stream)), engine_(engine, "this imap result") {}

  /// The next result, nullopt after the last; rethrows a failed task's RemoteError.
  std::optional<R> next() {
    engine_->wait_until([this] { return stream_->available(); });
    return stream_->next();
  }
  /// As next(), but throws mpp::TimeoutError when nothing arrives within `timeout`.
  template <class Rep, class Period>
  std::optional<R> next(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = detail::deadline_after(timeout);
    if (!engine_->wait_until([this] { return stream_->available(); }, deadline))
      throw TimeoutError("mpp: no imap result arrived within the timeout");
    return stream_->next();
  }

  class iterator {
   public:
    using value_type = R;
    using difference_type = std::ptrdiff_t;

    explicit iterator(ImapResult* owner = nullptr) : owner_(owner) {
      if (owner_) current_ = owner_->next();
    }
    R& operator*() { return *current_; }
    iterator& operator++() {
      current_ = owner_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return !it.current_; }

   private:
    ImapResult* owner_;
    std::optional<R> current_;
  };

  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() const { return {}; }

 private:
  std::shared_ptr<detail::ImapStream<R>> stream_;
  detail::SessionPtr<detail::Engine> engine_;
};

}  // namespace mpp
