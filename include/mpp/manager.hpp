#pragma once
// mpp::Manager: Python's multiprocessing.Manager(), a server of shared containers.
//
//   mpp::Manager manager;                              // like `with Manager() as manager:`
//   auto d = manager.dict<std::string, int>();         // mpp::DictProxy
//   auto l = manager.list<int>({1, 2, 3});             // mpp::ListProxy
//   mpp::Process p(f, d, l);  ...                      // proxies travel as ordinary arguments
//   d.set("1", 1); int one = d.get("1");
//
// The containers live on the master and every call is one atomic operation there (served while
// the master's own code runs or waits). Keys and values are copies, as with Python's proxies:
// d.get(k) returns a value, and changing it changes nothing until it is set() again. Keys compare
// by their serialized form. A Manager's objects go when it is shut down (or destroyed); using a
// proxy after that throws mpp::UsageError. m.Queue<T>() is an ordinary mpp::Queue and m.Lock()
// an mpp::Lock: both already work across ranks and outlive the Manager as they please.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mpp/detail/requests.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/lock.hpp"
#include "mpp/queue.hpp"

namespace mpp {

namespace detail {

template <class T>
std::string encode(const T& value) {
  Writer out;
  out.write(value);
  return std::string(out.bytes().begin(), out.bytes().end());
}

template <class T>
T decode(const std::string& blob) {
  Reader in(blob.data(), blob.data() + blob.size());
  return in.read<T>();
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

}  // namespace detail

template <class K, class V>
class DictProxy : public detail::Proxy {
 public:
  using Proxy::Proxy;

  void set(const K& key, const V& value) {
    auto r = request(detail::Op::dict_set);
    r.arg(detail::encode(key)).arg(detail::encode(value));
    run(r);
  }
  /// The value for `key`; mpp::KeyError if there is none.
  V get(const K& key) const {
    auto value = find(key);
    if (!value) throw KeyError("mpp::DictProxy::get: no such key");
    return std::move(*value);
  }
  /// The value for `key`, or `fallback`.
  V get(const K& key, const V& fallback) const { return find(key).value_or(fallback); }
  bool contains(const K& key) const {
    auto r = request(detail::Op::dict_contains);
    r.arg(detail::encode(key));
    return run(r).reader().template read<std::uint8_t>() != 0;
  }
  /// Removes `key`; false if it was not there.
  bool erase(const K& key) {
    auto r = request(detail::Op::dict_erase);
    r.arg(detail::encode(key));
    return run(r).reader().template read<std::uint8_t>() != 0;
  }
  std::size_t size() const {
    auto r = request(detail::Op::dict_size);
    return run(r).reader().template read<std::uint64_t>();
  }
  /// Keys in insertion order, as Python's dict.
  std::vector<K> keys() const {
    auto r = request(detail::Op::dict_keys);
    const auto reply = run(r);
    auto in = reply.reader();
    std::vector<K> out(in.read_size());
    for (auto& key : out) key = detail::decode<K>(in.template read<std::string>());
    return out;
  }
  std::vector<std::pair<K, V>> items() const {
    auto r = request(detail::Op::dict_items);
    const auto reply = run(r);
    auto in = reply.reader();
    std::vector<std::pair<K, V>> out;
    out.reserve(in.read_size());
    for (std::size_t n = out.capacity(); n > 0; --n) {
      auto key = detail::decode<K>(in.template read<std::string>());
      out.emplace_back(std::move(key), detail::decode<V>(in.template read<std::string>()));
    }
    return out;
  }
  /// Sets every (key, value) of `pairs` in one atomic call.
  template <class Pairs>
  void update(const Pairs& pairs) {
    auto r = request(detail::Op::dict_update);
    r.args().write_size(std::size(pairs));
    for (const auto& [key, value] : pairs) r.arg(detail::encode<K>(key)).arg(detail::encode<V>(value));
    run(r);
  }

 private:
  std::optional<V> find(const K& key) const {
    auto r = request(detail::Op::dict_get);
    r.arg(detail::encode(key));
    const auto reply = run(r);
    auto in = reply.reader();
    if (in.template read<std::uint8_t>() == 0) return std::nullopt;
    return detail::decode<V>(in.template read<std::string>());
  }
};

template <class T>
class ListProxy : public detail::Proxy {
 public:
  using Proxy::Proxy;

  void append(const T& value) {
    auto r = request(detail::Op::list_append);
    r.arg(detail::encode(value));
    run(r);
  }
  void extend(const std::vector<T>& values) {
    auto r = request(detail::Op::list_extend);
    write_all(r, values);
    run(r);
  }
  /// Element `index`; negative counts from the end. std::out_of_range outside the list.
  T at(std::int64_t index) const {
    auto r = request(detail::Op::list_at);
    r.arg(index);
    return detail::decode<T>(run(r).reader().template read<std::string>());
  }
  void set(std::int64_t index, const T& value) {
    auto r = request(detail::Op::list_set);
    r.arg(index).arg(detail::encode(value));
    run(r);
  }
  std::size_t size() const {
    auto r = request(detail::Op::list_size);
    return run(r).reader().template read<std::uint64_t>();
  }
  std::vector<T> to_vector() const {
    auto r = request(detail::Op::list_items);
    const auto reply = run(r);
    auto in = reply.reader();
    std::vector<T> out;
    out.reserve(in.read_size());
    for (std::size_t n = out.capacity(); n > 0; --n) out.push_back(detail::decode<T>(in.template read<std::string>()));
    return out;
  }
  /// Removes and returns element `index` (the last by default).
  T pop(std::int64_t index = -1) {
    auto r = request(detail::Op::list_pop);
    r.arg(index);
    return detail::decode<T>(run(r).reader().template read<std::string>());
  }

  static void write_all(detail::Request& r, const std::vector<T>& values) {
    r.args().write_size(values.size());
    for (const auto& value : values) r.arg(detail::encode(value));
  }
};

/// Python's manager.Value(typecode, value) for any sendable T: get() and set(). Served as a
/// one-element list.
template <class T>
class ValueProxy {
 public:
  ValueProxy() = default;
  explicit ValueProxy(std::uint64_t id) : element_(id) {}

  T get() const { return element_.at(0); }
  void set(const T& value) { element_.set(0, value); }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& element_;
  }

 private:
  ListProxy<T> element_;
};

class Manager {
 public:
  Manager() = default;
  /// Shuts down, as leaving Python's `with Manager() as manager:`.
  ~Manager() { shutdown(); }
  Manager(Manager&& other) noexcept : objects_(std::exchange(other.objects_, {})) {}
  Manager& operator=(Manager&&) = delete;
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  template <class K, class V>
  DictProxy<K, V> dict() {
    detail::check_sendable<K>();
    detail::check_sendable<V>();
    detail::Request create(detail::Op::create_dict, 0);
    return DictProxy<K, V>(make(create));
  }
  template <class T>
  ListProxy<T> list(const std::vector<T>& initial = {}) {
    detail::check_sendable<T>();
    detail::Request create(detail::Op::create_list, 0);
    ListProxy<T>::write_all(create, initial);
    return ListProxy<T>(make(create));
  }
  template <class T>
  ValueProxy<T> Value(const T& initial = T{}) {
    detail::check_sendable<T>();
    detail::Request create(detail::Op::create_list, 0);
    ListProxy<T>::write_all(create, {initial});
    return ValueProxy<T>(make(create));
  }
  template <class T>
  mpp::Queue<T> Queue(std::int64_t maxsize = 0) {
    return mpp::Queue<T>(maxsize);
  }
  mpp::Lock Lock() { return mpp::Lock(); }

  /// Drops every container this Manager made; their proxies then throw mpp::UsageError.
  void shutdown() noexcept;

 private:
  std::uint64_t make(detail::Request& create);

  std::vector<std::uint64_t> objects_;
};

}  // namespace mpp
