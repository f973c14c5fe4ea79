#pragma once
// Timeouts become deadlines on the steady clock, rounded up so a wait is never shorter.
#include <chrono>

namespace mpp::detail {

using Clock = std::chrono::steady_clock;

template <class Rep, class Period>
Clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) {
  return Clock::now() + std::chrono::ceil<Clock::duration>(timeout);
}

}  // namespace mpp::detail
