#pragma once
// The sink a ProcessPoolExecutor's task results reach its Futures through.
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpp/errors.hpp"
#include "mpp/future.hpp"
#include "mpp/pool.hpp"

namespace mpp::detail {

/// The sink of one submitted task: its future moves along as the engine reports.
template <class T>
class FutureSink final : public TaskSink {
 public:
  explicit FutureSink(std::shared_ptr<FutureState<T>> state) : state_(std::move(state)) {}

  void dispatched(std::uint64_t, int) override { state_->mark_running(); }
  void deliver(std::uint64_t, Reader& results) override {
    try {
      if constexpr (std::is_void_v<T>) {
        state_->finish(std::monostate{}, nullptr);
      } else {
        state_->finish(results.read<T>(), nullptr);
      }
    } catch (...) {
      state_->finish(std::nullopt, std::current_exception());
    }
  }
  void fail(std::uint64_t, const RemoteError& remote) override {
    state_->finish(std::nullopt, detail::thrown_on_master(remote));
  }
  void cancel(std::uint64_t) override { state_->finish_cancelled(); }

 private:
  std::shared_ptr<FutureState<T>> state_;
};

}  // namespace mpp::detail
