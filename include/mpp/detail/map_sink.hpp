#pragma once
// The sink of a map/starmap job: chunk results land straight in their slots of the output;
// the job completes when every chunk has answered, with the first error if any (as Python).
// A MapRun, when the map's options ask for one, journals chunks, counts progress and sends
// failed chunks again.
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mpp/async_result.hpp"
#include "mpp/detail/map_run.hpp"

namespace mpp::detail {

template <class R>
using map_output_t = std::conditional_t<std::is_void_v<R>, void, std::vector<R>>;

template <class R>
class MapSink final : public TaskSink {
 public:
  using Output = map_output_t<R>;

  MapSink(std::shared_ptr<ResultState<Output>> state, Callbacks<Output> callbacks, std::size_t items,
          std::size_t chunksize, std::unique_ptr<MapRun> run = nullptr)
      : state_(std::move(state)),
        callbacks_(std::move(callbacks)),
        items_(items),
        chunksize_(chunksize),
        chunks_left_((items + chunksize - 1) / chunksize),
        run_(std::move(run)) {}

  /// A job with no items completes at once.
  void finish_empty() {
    chunks_left_ = 1;
    chunk_done();
  }

  void deliver(std::uint64_t first, Reader& results) override { take(first, results, {}); }

  /// Raw results may land straight in their slots of the output (no journal to keep them for).
  std::span<char> landing(std::uint64_t first, std::size_t bytes) override {
    if constexpr (bulk_raw<R>) {
      if (error_ || run_ || first >= items_ || bytes / sizeof(R) > items_ - first) return {};
      output_.resize(items_);
      return {reinterpret_cast<char*>(output_.data() + first), bytes};
    }
    return {};
  }
  void deliver_apart(std::uint64_t first, Reader& results, std::span<const char> items) override {
    if constexpr (bulk_raw<R>) return take(first, results, items);
    TaskSink::deliver_apart(first, results, items);
  }

  void fail(std::uint64_t first, const RemoteError& remote) override {
    RemoteError error = remote;
    if (run_ && run_->retry(first, error)) return;  // it runs again; this chunk is not done
    if (!error_) error_ = thrown_on_master(error);
    chunk_done();
  }
  void dispatched(std::uint64_t first, int rank) override {
    if (run_) run_->dispatched(first, rank);
  }
  void ran(std::uint64_t first, const TaskRun& run) override {
    if (run_) noting_errors([&] { run_->ran(first, run); });
  }
  std::string wall_time_report() override { return map_wall_time_report(items_done_, items_, run_.get()); }
  bool news_for_waiters() const override { return chunks_left_ == 0; }
  void cancel(std::uint64_t) override {
    if (!error_) error_ = terminated_error();
    chunk_done();
  }

 private:
  /// A chunk's results, from `results` or, when its raw items came apart, from `items`.
  void take(std::uint64_t first, Reader& results, std::span<const char> items) {
    const auto bytes = results.rest();
    bool intact = true;
    if (!error_) {
      try {
        // Sized when the first chunk lands, while the workers compute the others.
        if constexpr (!std::is_void_v<R>) output_.resize(items_);
        if constexpr (std::is_void_v<R>) {
          results.read_size();
        } else if constexpr (bulk_raw<R>) {
          if (items.empty()) {
            results.read_items_into(output_.data() + first, output_.size() - first);
          } else {
            Reader apart(items);
            const std::size_t count = results.read_size();
            if (count > output_.size() - first) throw MalformedMessage("mpp: more items in a message than expected");
            const auto raw = apart.take_items(count, sizeof(R));
            char* slot = reinterpret_cast<char*>(output_.data() + first);
            if (raw.data() != slot) std::memcpy(slot, raw.data(), raw.size());  // it did not land in place
          }
        } else {
          results.read_items<R>([this, first](std::size_t i, R&& value) {
            if (first + i >= output_.size()) throw MalformedMessage("mpp: a result with more items than its chunk");
            output_[first + i] = std::move(value);
          });
        }
      } catch (...) {
        error_ = std::current_exception();
        intact = false;
      }
    }
    // Chunks that arrive after another failed are still journaled, for the rerun.
    if (run_ && intact) noting_errors([&] { run_->delivered(first, bytes); });
    items_done_ += chunk_length(first, chunksize_, items_);
    chunk_done();
  }
  template <class Act>
  void noting_errors(Act&& act) {
    try {
      act();
    } catch (...) {
      if (!error_) error_ = std::current_exception();
    }
  }

  void chunk_done() {
    if (--chunks_left_ > 0) return;
    if (run_) noting_errors([this] { run_->finish(); });  // the journal on disk before anyone sees the result
    std::optional<stored_t<Output>> value;
    if (!error_) {
      if constexpr (std::is_void_v<R>) {
        value.emplace();
      } else {
        output_.resize(items_);  // a map of no items
        value.emplace(std::move(output_));
      }
    }
    complete(*state_, callbacks_, std::move(value), error_, remote_error_in(error_));
  }

  std::shared_ptr<ResultState<Output>> state_;
  Callbacks<Output> callbacks_;
  std::size_t items_;
  std::size_t chunksize_;
  std::size_t chunks_left_;
  std::size_t items_done_ = 0;
  std::conditional_t<std::is_void_v<R>, std::monostate, std::vector<R>> output_;
  std::exception_ptr error_;
  std::unique_ptr<MapRun> run_;
};

}  // namespace mpp::detail
