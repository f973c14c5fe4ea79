#pragma once
// NextIterator: the input iterator of a range whose owner hands out items by next() (an
// std::optional, empty at the end): imap results, as_completed, an executor's map.
#include <cstddef>
#include <iterator>
#include <optional>

namespace mpp::detail {

template <class Owner, class T>
class NextIterator {
 public:
  using value_type = T;
  using difference_type = std::ptrdiff_t;

  explicit NextIterator(Owner* owner = nullptr) : owner_(owner) {
    if (owner_) current_ = owner_->next();
  }
  T& operator*() { return *current_; }
  NextIterator& operator++() {
    current_ = owner_->next();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const NextIterator& it, std::default_sentinel_t) { return !it.current_; }

 private:
  Owner* owner_;
  std::optional<T> current_;
};

}  // namespace mpp::detail
