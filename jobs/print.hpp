#pragma once
// Printing helpers so the jobs print what their Python twins print.
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

namespace jobs {

/// Python's repr of a list of numbers: [0, 1, 4, 9]
template <class T>
std::string list(const std::vector<T>& values) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
  out << ']';
  return out.str();
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace jobs
