#pragma once
// Task functions shared by the tests (they run on worker ranks).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <mpp/mpp.hpp>
#include <numeric>
#include <ranges>
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

/// The median of timings (the upper middle one of an even count).
inline double median(std::vector<double> values) {
  std::ranges::nth_element(values, values.begin() + values.size() / 2);
  return values[values.size() / 2];
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

/// CPython's exception_throwing_generator(total, when): yields 0, 1, ... total-1 and throws
/// SayWhenError instead of `when`. A single-pass (input) range.
struct SayWhenError : std::runtime_error {
  SayWhenError() : std::runtime_error("Somebody said when") {}
};
class ThrowingGenerator {
 public:
  ThrowingGenerator(int total, int when) : total_(total), when_(when) {}
  struct iterator {
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    ThrowingGenerator* from;
    int operator*() const {
      if (from->next_ == from->when_) throw SayWhenError();
      return from->next_;
    }
    iterator& operator++() {
      ++from->next_;
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return from->next_ >= from->total_; }
  };
  iterator begin() { return {this}; }
  std::default_sentinel_t end() { return {}; }

 private:
  int total_;
  int when_;
  int next_ = 0;
};
static_assert(std::ranges::input_range<ThrowingGenerator> && !std::ranges::forward_range<ThrowingGenerator>);

}  // namespace mpp_test
