#pragma once
// Task functions shared by the tests (they run on worker ranks).
#include <unistd.h>

#include <chrono>
#include <mpp/mpp.hpp>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mpp_test {

inline std::vector<int> iota_vector(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

inline int square(int x) { return x * x; }
inline int add(int x, int y) { return x + y; }
inline int rank_of(int) { return mpp::current_process().rank; }
inline int sleep_ms_then_return(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
inline int throw_at_seven(int x) {
  if (x == 7) throw std::invalid_argument("seven is not allowed");
  return x;
}

}  // namespace mpp_test
