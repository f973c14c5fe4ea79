#pragma once
// What an ImapResult reads from: slots the results of imap/imap_unordered land in, in input
// order or as they come, and the sink that fills them while the input is read lazily.
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
#include "mpp/detail/map_run.hpp"
#include "mpp/detail/next_iterator.hpp"
#include "mpp/detail/waiter.hpp"

namespace mpp::detail {

/// The results of an imap as they are handed out: in input order or in arrival order. Chunks
/// are put in by whoever computes them (the engine's sink, a ThreadPool's threads).
template <class R>
class ImapSlots {
 public:
  ImapSlots(bool ordered, std::size_t items, std::size_t chunksize)
      : ordered_(ordered), items_(items), chunksize_(chunksize) {
    if (ordered_) slots_.resize(items);
  }

  void put_chunk(std::uint64_t first, std::vector<R> values) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (ordered_) {
        slots_[first + i].template emplace<R>(std::move(values[i]));
      } else {
        arrived_.emplace_back(std::in_place_type<R>, std::move(values[i]));
      }
    }
  }
  void fail_chunk(std::uint64_t first, std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    ChunkError failure{std::move(error), chunk_length(first, chunksize_, items_)};
    if (ordered_) {
      slots_[first] = std::move(failure);
    } else {
      arrived_.emplace_back(std::move(failure));
    }
  }
  /// Thrown by next() at the end, after the last result (the first such error kept).
  void fail_at_end(std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (!finish_error_) finish_error_ = std::move(error);
  }

  /// Whether next() would not block.
  bool available() {
    std::lock_guard lock(mutex_);
    if (handed_out_ >= items_) return true;
    if (!ordered_) return !arrived_.empty();
    return !std::holds_alternative<std::monostate>(slots_[handed_out_]);
  }

  /// The next result, or nullopt at the end; call only when available(). Throws a failed
  /// chunk's error in its place, and at the end an error of writing the journal or log.
  std::optional<R> next() {
    std::lock_guard lock(mutex_);
    if (handed_out_ >= items_) {
      if (finish_error_) std::rethrow_exception(std::exchange(finish_error_, nullptr));
      return std::nullopt;
    }
    Slot slot = std::move(ordered_ ? slots_[handed_out_] : arrived_.front());
    if (!ordered_) arrived_.pop_front();
    if (auto* error = std::get_if<ChunkError>(&slot)) {
      // The chunk's other items never come: skip them all.
      handed_out_ += ordered_ ? chunk_length(handed_out_, chunksize_, items_) : error->items;
      std::rethrow_exception(error->error);
    }
    ++handed_out_;
    return std::move(std::get<R>(slot));
  }

 protected:
  const std::size_t items_;
  const std::size_t chunksize_;

 private:
  struct ChunkError {
    std::exception_ptr error;
    std::size_t items;
  };
  using Slot = std::variant<std::monostate, R, ChunkError>;

  const bool ordered_;
  std::mutex mutex_;  // the consumer reads while results are put in
  std::vector<Slot> slots_;
  std::deque<Slot> arrived_;
  std::size_t handed_out_ = 0;
  std::exception_ptr finish_error_;
};

/// Reads `xs` into `items` until its end or until iterating it throws; returns that exception.
/// An imap then hands out the results of the whole chunks read and throws it after them, as
/// Python's imap does with an iterable that raises.
template <class Xs, class Item>
std::exception_ptr read_input(Xs& xs, std::vector<Item>& items) {
  if constexpr (std::ranges::sized_range<Xs>) items.reserve(std::ranges::size(xs));
  try {
    for (auto&& x : xs) items.push_back(std::forward<decltype(x)>(x));
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

/// Reads all of `xs` into a vector, rethrowing what iterating it throws (a single-pass range
/// is read whole before chunks are cut from it, as Python's map reads an iterable).
template <class Xs>
auto read_all(Xs& xs) {
  std::vector<std::remove_cvref_t<std::ranges::range_value_t<Xs>>> items;
  if (auto error = read_input(xs, items)) std::rethrow_exception(error);
  return items;
}

/// An imap's results as the engine delivers them.
template <class R>
class ImapStream final : public TaskSink, public ImapSlots<R> {
 public:
  /// `run`, when the imap's options ask for one, journals, retries, logs and shows progress.
  ImapStream(bool ordered, std::size_t items, std::size_t chunksize, std::unique_ptr<MapRun> run = nullptr)
      : ImapSlots<R>(ordered, items, chunksize),
        chunks_left_((items + chunksize - 1) / chunksize),
        run_(std::move(run)) {}

  void deliver(std::uint64_t first, Reader& results) override {
    const auto bytes = results.rest();
    std::vector<R> values;
    try {
      results.read_items<R>([&values](std::size_t, R&& value) { values.push_back(std::move(value)); });
      if (values.size() != chunk_length(first, this->chunksize_, this->items_))
        throw detail::MalformedMessage("mpp: a result with the wrong item count");
      if (run_) run_->delivered(first, bytes);
    } catch (...) {
      chunk_failed(first, std::current_exception());
      return;
    }
    items_done_ += values.size();
    chunk_done();  // the journal on disk before the last results are handed out
    this->put_chunk(first, std::move(values));
  }
  void fail(std::uint64_t first, const RemoteError& remote) override {
    RemoteError error = remote;
    if (run_ && run_->retry(first, error)) return;  // it runs again; its slots wait
    chunk_failed(first, thrown_on_master(error));
  }
  void cancel(std::uint64_t first) override { chunk_failed(first, terminated_error()); }
  void dispatched(std::uint64_t first, int rank) override {
    if (run_) run_->dispatched(first, rank);
  }
  void ran(std::uint64_t first, const TaskRun& run) override {
    if (!run_) return;
    try {
      run_->ran(first, run);
    } catch (...) {  // the status log cannot be written: said at the end, as the journal's errors
      this->fail_at_end(std::current_exception());
    }
  }
  std::string wall_time_report() override { return map_wall_time_report(items_done_, this->items_, run_.get()); }

  /// An imap of no items is done at once.
  void finish_empty() {
    chunks_left_ = 1;
    chunk_done();
  }

 private:
  void chunk_failed(std::uint64_t first, std::exception_ptr error) {
    chunk_done();
    this->fail_chunk(first, std::move(error));
  }

  void chunk_done() {
    if (--chunks_left_ > 0 || !run_) return;
    try {
      run_->finish();
    } catch (...) {
      this->fail_at_end(std::current_exception());
    }
  }

  std::size_t chunks_left_;  // these two only under the engine's progress mutex
  std::size_t items_done_ = 0;
  std::unique_ptr<MapRun> run_;
};

}  // namespace mpp::detail
