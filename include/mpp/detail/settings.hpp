#pragma once
// Environment variables mpp reads, parsed strictly: a value that is not a whole number in its
// range is an error that names the variable and the range, never a silent fallback.
#include <cstdint>

namespace mpp::detail {

/// The integer in `name`; `fallback` when unset. Throws mpp::UsageError for anything but a
/// decimal integer in [min, max] (no sign games, no trailing text, no overflow).
std::int64_t env_integer(const char* name, std::int64_t fallback, std::int64_t min, std::int64_t max);

/// A 0/1 switch; false when unset.
inline bool env_flag(const char* name) { return env_integer(name, 0, 0, 1) == 1; }

}  // namespace mpp::detail
