#pragma once
// mpp::Value<T> and mpp::Array<T>: Python's multiprocessing.Value / Array, across ranks.
//
//   mpp::Value<int> counter(0);                       // hosted on the rank that creates it
//   pool.apply_async(work, counter);                  // handles travel as ordinary arguments
//   counter.fetch_add(1);                             // atomic, from any rank
//   { std::lock_guard<mpp::Lock> g(counter.get_lock()); counter.set(counter.get() + 10); }
//
// T is a 4- or 8-byte arithmetic type (int, long, float, double, std::int64_t, ...). Handles
// are cheap to copy; every copy refers to the same shared object. Memory rule: see
// mpp/detail/shared_block.hpp — an object lives while its creating rank holds a handle or a
// task still holds one it was sent. Handles must not outlive the mpp::Session.
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "mpp/detail/shared_block.hpp"
#include "mpp/lock.hpp"

namespace mpp {

template <class T>
class Value {
  static_assert(detail::shared_word<T>,
                "mpp::Value<T> holds a 4- or 8-byte arithmetic type (int, long, float, double, std::int64_t, ...); "
                "for bool or char use int");

 public:
  explicit Value(T initial = T{}) : block_(sizeof(T)) { set(initial); }
  /// An empty handle that deserialization fills in.
  explicit Value(detail::for_loading_t) : lock_(detail::for_loading) {}

  T get() const { return space().template load<T>(slot()); }
  void set(T value) { space().template store<T>(slot(), value); }
  /// Adds atomically; returns the value before.
  T fetch_add(T delta) { return space().template fetch_add<T>(slot(), delta); }
  /// Stores `desired` if the value equals `expected` (floating values compare bit patterns).
  /// Returns whether it did; on failure `expected` receives the current value, as std::atomic.
  bool compare_exchange(T& expected, T desired) {
    const T seen = space().template compare_exchange<T>(slot(), expected, desired);
    const bool stored = detail::bits_equal(seen, expected);
    expected = seen;
    return stored;
  }
  /// This Value's own lock, as Python's Value(..., lock=True).get_lock().
  Lock& get_lock() { return lock_; }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& block_& lock_;
  }

 private:
  detail::SharedSpace& space() const { return block_.space(); }
  detail::GlobalAddress slot() const { return block_.payload(); }
  detail::SharedBlock block_;
  Lock lock_;
};

template <class T>
class Array {
  static_assert(detail::shared_word<T>,
                "mpp::Array<T> holds a 4- or 8-byte arithmetic type (int, long, float, double, std::int64_t, ...)");

 public:
  /// `size` elements, each `initial`.
  explicit Array(std::size_t size, T initial = T{}) : block_(size * sizeof(T)), size_(size) {
    write(0, std::vector<T>(size, initial));
  }
  explicit Array(const std::vector<T>& values) : block_(values.size() * sizeof(T)), size_(values.size()) {
    write(0, values);
  }
  explicit Array(detail::for_loading_t) : lock_(detail::for_loading) {}

  std::size_t size() const { return size_; }
  T get(std::size_t i) const { return space().template load<T>(element(i)); }
  void set(std::size_t i, T value) { space().template store<T>(element(i), value); }
  T fetch_add(std::size_t i, T delta) { return space().template fetch_add<T>(element(i), delta); }

  /// `count` elements from `first` (each read atomically, not the run as a whole).
  std::vector<T> read(std::size_t first, std::size_t count) const {
    check_range(first, count);
    std::vector<T> out(count);
    if (count) space().template read<T>(block_.payload() + first * sizeof(T), out.data(), count);
    return out;
  }
  void write(std::size_t first, std::span<const T> values) {
    check_range(first, values.size());
    if (!values.empty()) space().template write<T>(block_.payload() + first * sizeof(T), values.data(), values.size());
  }
  std::vector<T> to_vector() const { return read(0, size_); }
  Lock& get_lock() { return lock_; }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& block_& size_& lock_;
  }

 private:
  detail::SharedSpace& space() const { return block_.space(); }
  detail::GlobalAddress element(std::size_t i) const {
    check_range(i, 1);
    return block_.payload() + i * sizeof(T);
  }
  void check_range(std::size_t first, std::size_t count) const {
    if (first > size_ || count > size_ - first)
      throw std::out_of_range("mpp::Array: elements [" + std::to_string(first) + ", " + std::to_string(first + count) +
                              ") are outside an array of " + std::to_string(size_));
  }
  detail::SharedBlock block_;
  std::size_t size_ = 0;
  Lock lock_;
};

}  // namespace mpp
