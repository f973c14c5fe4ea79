#pragma once
// mpp::Value<T> and mpp::Array<T>: Python's multiprocessing.Value / Array, across ranks.
//
//   mpp::Value<int> counter(0);                       // hosted on the rank that creates it
//   pool.apply_async(work, counter);                  // handles travel as ordinary arguments
//   counter.fetch_add(1);                             // atomic, from any rank
//   { std::lock_guard<mpp::Lock> g(counter.get_lock()); counter.set(counter.get() + 10); }
//
// T is an arithmetic type of 1, 2, 4 or 8 bytes (char, short, int, long, float, double,
// std::int64_t, ...); Array<char> also reads and writes as a string (Python's Array('c')).
// mpp::RawValue / mpp::RawArray are the same without a lock (Python's RawValue/RawArray), and
// get_obj() gives a Value's or Array's unlocked self. Handles are cheap to copy; every copy
// refers to the same shared object. Memory rule: see mpp/detail/shared_block.hpp — an object
// lives while its creating rank holds a handle or a task still holds one it was sent. Handles
// must not outlive the mpp::Session.
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mpp/detail/shared_block.hpp"
#include "mpp/detail/with_lock.hpp"
#include "mpp/lock.hpp"

namespace mpp {

template <class T>
class RawValue;
template <class T>
class RawArray;

/// A shared number with its own lock, as Python's Value(..., lock=True): RawValue's get, set,
/// fetch_add, compare_exchange, plus get_lock() and get_obj() (the RawValue itself).
template <class T>
class Value : public detail::WithLock<RawValue<T>> {
 public:
  using detail::WithLock<RawValue<T>>::WithLock;
};

/// A shared array with its own lock, as Python's Array(..., lock=True): RawArray's element and
/// bulk access (and, for char, value()), plus get_lock() and get_obj().
template <class T>
class Array : public detail::WithLock<RawArray<T>> {
 public:
  using detail::WithLock<RawArray<T>>::WithLock;
};

/// A shared number without a lock (Python's RawValue): each call is atomic by itself.
template <class T>
class RawValue {
  static_assert(detail::shared_word<T>,
                "mpp::Value<T> and mpp::RawValue<T> hold an arithmetic type of 1, 2, 4 or 8 bytes (char, short, int, "
                "long, float, double, std::int64_t, ...); for bool use char");

 public:
  explicit RawValue(T initial = T{}) : block_(sizeof(T)) { set(initial); }
  /// An empty handle that deserialization fills in.
  explicit RawValue(detail::for_loading_t) {}

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

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& block_;
  }

 private:
  detail::SharedSpace& space() const { return block_.space(); }
  detail::GlobalAddress slot() const { return block_.payload(); }
  detail::SharedBlock block_;
};

/// A shared array without a lock (Python's RawArray): each element access is atomic by itself.
template <class T>
class RawArray {
  static_assert(detail::shared_word<T>,
                "mpp::Array<T> and mpp::RawArray<T> hold an arithmetic type of 1, 2, 4 or 8 bytes (char, short, int, "
                "long, float, double, std::int64_t, ...)");

 public:
  /// `size` elements, each `initial`.
  explicit RawArray(std::size_t size, T initial = T{}) : block_(size * sizeof(T)), size_(size) {
    write(0, std::vector<T>(size, initial));
  }
  explicit RawArray(const std::vector<T>& values) : block_(values.size() * sizeof(T)), size_(values.size()) {
    write(0, values);
  }
  /// Python's Array('c', b"text"): the characters, no terminating NUL.
  explicit RawArray(std::string_view text) requires std::is_same_v<T, char>
      : RawArray(std::vector<char>(text.begin(), text.end())) {}
  explicit RawArray(detail::for_loading_t) {}

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

  /// Python's `.value` of a char array: the characters up to the first NUL.
  std::string value() const requires std::is_same_v<T, char> {
    const std::string all = raw();
    return all.substr(0, all.find('\0'));
  }
  /// Python's `.value = b"..."`: writes `text`, and a NUL after it when it is shorter than the
  /// array; throws std::out_of_range when it is longer.
  void set_value(std::string_view text) requires std::is_same_v<T, char> {
    if (text.size() > size_)
      throw std::out_of_range("mpp::Array<char>::set_value: " + std::to_string(text.size()) +
                              " characters do not fit an array of " + std::to_string(size_));
    std::vector<char> chars(text.begin(), text.end());
    if (chars.size() < size_) chars.push_back('\0');
    write(0, chars);
  }
  /// Python's `.raw`: every character, NULs included.
  std::string raw() const requires std::is_same_v<T, char> {
    const auto chars = to_vector();
    return std::string(chars.begin(), chars.end());
  }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& block_& size_;
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
};

}  // namespace mpp
