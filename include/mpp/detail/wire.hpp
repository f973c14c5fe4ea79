#pragma once
// Writer and Reader: the byte format of task arguments and results.
// Fast path: raw-bytes types, std::string and vectors of raw-bytes types are copied as bytes.
// Everything else goes through one Boost binary archive per value (or per item run).
#include <cstdint>
#include <cstring>
#include <ranges>
#include <span>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "mpp/detail/checked_archive.hpp"
#include "mpp/detail/malformed_message.hpp"
#include "mpp/serialization.hpp"

namespace mpp::detail {

using Bytes = std::vector<char>;

template <class T>
struct is_std_vector : std::false_type {};
template <class T, class A>
struct is_std_vector<std::vector<T, A>> : std::true_type {};

template <class T>
struct is_tuple_like : std::false_type {};
template <class... Ts>
struct is_tuple_like<std::tuple<Ts...>> : std::true_type {};
template <class A, class B>
struct is_tuple_like<std::pair<A, B>> : std::true_type {};

/// A type written without a Boost archive.
template <class T>
concept fast_wire = raw_bytes<T> || std::same_as<T, std::string> ||
    (is_std_vector<T>::value&& raw_bytes<typename T::value_type> && !std::same_as<typename T::value_type, bool>);

/// Raw-bytes items that sit in a std::vector as a plain array (std::vector<bool> does not).
template <class T>
concept bulk_raw = raw_bytes<T> && !std::same_as<T, bool>;

/// Lets a Boost archive append to a byte vector.
class AppendBuffer : public std::streambuf {
 public:
  explicit AppendBuffer(Bytes& out) : out_(out) {}

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) out_.push_back(traits_type::to_char_type(c));
    return c;
  }
  std::streamsize xsputn(const char* data, std::streamsize n) override {
    out_.insert(out_.end(), data, data + n);
    return n;
  }

 private:
  Bytes& out_;
};

/// Lets a Boost archive read from a span of bytes and tells how much it consumed.
class ViewBuffer : public std::streambuf {
 public:
  ViewBuffer(const char* begin, const char* end) {
    char* b = const_cast<char*>(begin);  // streambuf's interface is non-const; we never write
    setg(b, b, const_cast<char*>(end));
  }
  std::size_t consumed() const { return static_cast<std::size_t>(gptr() - eback()); }
};

constexpr auto archive_flags = boost::archive::no_header | boost::archive::no_codecvt;

class Writer {
 public:
  Writer() = default;
  explicit Writer(Bytes initial) : bytes_(std::move(initial)) {}

  void write_raw(const void* data, std::size_t size) {
    // insert, not resize + memcpy: resize clears the bytes first, a rep stos per write (the
    // largest item in an apply_async submitting loop's own profile). GCC 12 warns falsely
    // about the copy insert inlines.
    const char* p = static_cast<const char*>(data);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
    bytes_.insert(bytes_.end(), p, p + size);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  }

  template <class T>
  void write(const T& value) {
    if constexpr (raw_bytes<T>) {
      write_raw(&value, sizeof(T));
    } else if constexpr (std::same_as<T, std::string> || fast_wire<T>) {
      write_size(value.size());
      write_raw(value.data(), value.size() * sizeof(typename T::value_type));
    } else if constexpr (is_tuple_like<T>::value) {
      std::apply([this](const auto&... element) { (write(element), ...); }, value);
    } else {
      AppendBuffer buffer(bytes_);
      boost::archive::binary_oarchive archive(buffer, archive_flags);
      archive << value;
    }
  }

  /// Writes `count` items of a range: a count, then the items (one archive for slow types).
  template <class T, std::ranges::input_range Items>
  void write_items(const Items& items, std::size_t count) {
    write_size(count);
    if constexpr (raw_bytes<T> && std::ranges::contiguous_range<Items> &&
                  std::same_as<std::ranges::range_value_t<Items>, T>) {
      write_raw(std::ranges::data(items), count * sizeof(T));
    } else if constexpr (raw_bytes<T>) {
      // Grow once, then place each item: no per-item reallocation checks.
      char* out = extend(count * sizeof(T));
      for (const auto& item : items) {
        const T converted = item;
        std::memcpy(out, &converted, sizeof(T));
        out += sizeof(T);
      }
    } else if constexpr (fast_wire<T> || is_tuple_like<T>::value) {
      for (const auto& item : items) write<T>(item);
    } else {
      AppendBuffer buffer(bytes_);
      boost::archive::binary_oarchive archive(buffer, archive_flags);
      for (const auto& item : items) {
        const T& converted = item;
        archive << converted;
      }
    }
  }

  void write_size(std::size_t size) { write(static_cast<std::uint64_t>(size)); }

  /// Grows by `size` bytes for the caller to fill; returns where they start (valid until the
  /// next write).
  char* extend(std::size_t size) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + size);
    return bytes_.data() + at;
  }

  Bytes& bytes() { return bytes_; }
  std::size_t size() const { return bytes_.size(); }

 private:
  Bytes bytes_;
};

class Reader {
 public:
  Reader() = default;  // reads nothing
  Reader(const char* begin, const char* end) : pos_(begin), end_(end) {}
  explicit Reader(std::span<const char> bytes) : Reader(bytes.data(), bytes.data() + bytes.size()) {}

  void read_raw(void* out, std::size_t size) {
    require(size);
    if (size == 0) return;  // `out` may be null (an empty vector's data()): memcpy forbids it even for 0 bytes
    std::memcpy(out, pos_, size);
    pos_ += size;
  }

  template <class T>
  T read() {
    if constexpr (raw_bytes<T>) {
      T value;
      read_raw(&value, sizeof(T));
      return value;
    } else if constexpr (fast_wire<T>) {
      const std::size_t count = read_count(sizeof(typename T::value_type));  // checked before allocating
      T value(count, typename T::value_type{});
      read_raw(value.data(), count * sizeof(typename T::value_type));
      return value;
    } else if constexpr (is_tuple_like<T>::value) {
      return read_tuple<T>(std::make_index_sequence<std::tuple_size_v<T>>{});
    } else {
      T value = blank<T>();
      read_archive([&](auto& archive) { archive >> value; });
      return value;
    }
  }

  /// Reads what write_items wrote, handing each item to sink(index, T&&).
  template <class T, class Sink>
  void read_items(Sink&& sink) {
    if constexpr (raw_bytes<T>) {
      const std::size_t count = read_count(sizeof(T));
      for (std::size_t i = 0; i < count; ++i) {
        T value;
        std::memcpy(&value, pos_ + i * sizeof(T), sizeof(T));
        sink(i, std::move(value));
      }
      pos_ += count * sizeof(T);
    } else if constexpr (fast_wire<T> || is_tuple_like<T>::value) {
      const std::size_t count = read_size();
      for (std::size_t i = 0; i < count; ++i) sink(i, read<T>());
    } else {
      const std::size_t count = read_size();
      read_archive([&](auto& archive) {
        for (std::size_t i = 0; i < count; ++i) {
          T value = blank<T>();
          archive >> value;
          sink(i, std::move(value));
        }
      });
    }
  }

  /// Reads what write_items wrote for a raw-bytes T straight into `out` (room for `capacity`).
  template <bulk_raw T>
  std::size_t read_items_into(T* out, std::size_t capacity) {
    const std::size_t count = read_count(sizeof(T));
    if (count > capacity) throw MalformedMessage("mpp: more items in a message than expected");
    read_raw(out, count * sizeof(T));
    return count;
  }

  std::size_t read_size() { return static_cast<std::size_t>(read<std::uint64_t>()); }
  /// A count of items of `item_bytes` each, refused unless that many bytes are really there.
  std::size_t read_count(std::size_t item_bytes) {
    const std::size_t count = read_size();
    require_items(count, item_bytes);
    return count;
  }
  /// The next `count` items of `item_bytes` each, as raw bytes, skipped here.
  std::span<const char> take_items(std::size_t count, std::size_t item_bytes) {
    require_items(count, item_bytes);
    const std::span<const char> items(pos_, count * item_bytes);
    pos_ += items.size();
    return items;
  }
  /// The next `size` bytes as a reader of their own, skipped here.
  Reader take(std::size_t size) {
    require(size);
    Reader part(pos_, pos_ + size);
    pos_ += size;
    return part;
  }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - pos_); }
  bool empty() const { return pos_ == end_; }
  /// The bytes not read yet.
  std::span<const char> rest() const { return {pos_, remaining()}; }

 private:
  template <class T, std::size_t... I>
  T read_tuple(std::index_sequence<I...>) {
    // Braced initialisation evaluates the reads left to right.
    return T{read<std::remove_cvref_t<std::tuple_element_t<I, T>>>()...};
  }
  void require_items(std::size_t count, std::size_t item_bytes) const {
    if (item_bytes != 0 && count > remaining() / item_bytes)
      throw MalformedMessage("mpp: a message announces " + std::to_string(count) + " items of " +
                             std::to_string(item_bytes) + " bytes but holds " + std::to_string(remaining()) + " bytes");
  }
  void require(std::size_t size) const {
    if (remaining() < size)
      throw MalformedMessage("mpp: truncated message: " + std::to_string(size) + " bytes needed, " +
                             std::to_string(remaining()) + " left");
  }
  /// Runs read(archive) on a Boost archive over the rest; what Boost cannot read is malformed.
  template <class Read>
  void read_archive(Read&& read) {
    ViewBuffer buffer(pos_, end_);
    try {
      CheckedArchive archive(buffer, archive_flags);
      read(archive);
    } catch (const boost::archive::archive_exception& e) {
      throw MalformedMessage(std::string("mpp: an archive in a message does not decode: ") + e.what());
    } catch (const std::bad_alloc&) {
      throw MalformedMessage("mpp: an archive in a message announces more data than memory holds");
    }
    pos_ += buffer.consumed();
  }

  const char* pos_ = nullptr;
  const char* end_ = nullptr;
};

}  // namespace mpp::detail
