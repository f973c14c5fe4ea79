#pragma once
// What every Manager proxy is built on: values encoded as bytes on the master, the proxy's
// id and calls, and the snapshot iterator range-for loops over a container use.
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mpp/detail/requests.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/detail/stored_copy.hpp"
#include "mpp/detail/wire.hpp"

namespace mpp::detail {

template <class T>
std::string encode(const T& value) {
  Writer out;
  out.write(value);
  return std::string(out.bytes().begin(), out.bytes().end());
}

/// A value taken out of its container (pop): handles in it take over the stored claims.
template <class T>
T decode_taken(const std::string& blob) {
  Reader in(blob.data(), blob.data() + blob.size());
  return in.read<T>();
}

/// A copy of a value that stays in its container: a Queue or pipe end in it takes a claim of
/// its own, so the stored one keeps its object alive.
template <class T>
T decode(const std::string& blob) {
  DecodingStoredCopy copy;
  return decode_taken<T>(blob);
}

/// What every proxy is: the id of its object on the master.
class Proxy {
 public:
  Proxy() = default;
  explicit Proxy(std::uint64_t id) : id_(id) {}
  std::uint64_t id() const { return id_; }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& id_;
  }

 protected:
  Request request(Op op) const { return Request(op, id_); }
  static Reply run(Request& request) { return call_master(request); }

 private:
  std::uint64_t id_ = 0;
};

/// Iterates a container's elements as they were when the loop began (one call for all), as
/// `for (x : proxy)` reads them; its end is std::default_sentinel.
template <class Item>
class SnapshotIterator {
 public:
  using value_type = Item;
  using difference_type = std::ptrdiff_t;

  SnapshotIterator() = default;
  explicit SnapshotIterator(std::vector<Item> items)
      : items_(std::make_shared<const std::vector<Item>>(std::move(items))) {}

  const Item& operator*() const { return (*items_)[at_]; }
  const Item* operator->() const { return &(*items_)[at_]; }
  SnapshotIterator& operator++() {
    ++at_;
    return *this;
  }
  SnapshotIterator operator++(int) {
    auto before = *this;
    ++at_;
    return before;
  }
  friend bool operator==(const SnapshotIterator& it, std::default_sentinel_t) { return it.at_ == it.items_->size(); }

 private:
  std::shared_ptr<const std::vector<Item>> items_;
  std::size_t at_ = 0;
};

}  // namespace mpp::detail
