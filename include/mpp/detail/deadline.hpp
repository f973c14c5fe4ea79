#pragma once
// Timeouts become deadlines on the steady clock, rounded up so a wait is never shorter.
// A timeout too large for the clock (seconds::max(), 300 years) means "no deadline": adding it
// to now() would overflow into the past and give up at once.
#include <chrono>
#include <optional>

namespace mpp::detail {

using Clock = std::chrono::steady_clock;

template <class Rep, class Period>
std::optional<Clock::time_point> deadline_after(std::chrono::duration<Rep, Period> timeout) {
  const Clock::time_point now = Clock::now();
  // Compared in floating point: converting `timeout` to the clock's ticks may itself overflow.
  using Seconds = std::chrono::duration<long double>;
  if (Seconds(timeout) >= Seconds(Clock::time_point::max() - now)) return std::nullopt;
  if (timeout <= timeout.zero()) return now;
  return now + std::chrono::ceil<Clock::duration>(timeout);
}

/// Whether T is a std::chrono::duration (a timeout where an overload also takes a function).
template <class T>
inline constexpr bool is_duration = false;
template <class Rep, class Period>
inline constexpr bool is_duration<std::chrono::duration<Rep, Period>> = true;

}  // namespace mpp::detail
