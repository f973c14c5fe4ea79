#pragma once
// FNV-1a: a 64-bit hash of bytes that is the same on every rank, every run and every build
// (std::hash promises none of that). Names modules and keys journal records.
#include <cstddef>
#include <cstdint>

namespace mpp::detail {

inline constexpr std::uint64_t fnv1a_basis = 1469598103934665603ull;

inline std::uint64_t fnv1a(const void* data, std::size_t size, std::uint64_t hash = fnv1a_basis) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  return hash;
}

}  // namespace mpp::detail
