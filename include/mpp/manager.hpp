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
// proxy after that throws mpp::UsageError. m.Queue<T>(), m.Lock(), m.Event(), m.Barrier(n), ...
// are mpp's ordinary objects: they already work across ranks and outlive the Manager as they
// please.
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mpp/detail/proxy.hpp"
#include "mpp/detail/requests.hpp"
#include "mpp/detail/served_sort.hpp"
#include "mpp/detail/shipping.hpp"
#include "mpp/detail/stored_copy.hpp"
#include "mpp/lock.hpp"
#include "mpp/queue.hpp"
#include "mpp/shared.hpp"
#include "mpp/sync.hpp"

namespace mpp {

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
    auto value = keyed_value(detail::Op::dict_get, key);
    if (!value) throw KeyError("mpp::DictProxy::get: no such key");
    return std::move(*value);
  }
  /// The value for `key`, or `fallback`.
  V get(const K& key, const V& fallback) const { return keyed_value(detail::Op::dict_get, key).value_or(fallback); }
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
  /// Values in insertion order.
  std::vector<V> values() const {
    std::vector<V> out;
    for (auto& item : items()) out.push_back(std::move(item.second));
    return out;
  }
  /// A plain copy, as Python's d.copy(): a std::map by default, or any container built from
  /// (key, value) pairs (std::vector<std::pair<K, V>> keeps insertion order).
  template <class Container = std::map<K, V>>
  Container copy() const {
    auto all = items();
    return Container(std::make_move_iterator(all.begin()), std::make_move_iterator(all.end()));
  }
  void clear() {
    auto r = request(detail::Op::dict_clear);
    run(r);
  }
  /// Removes `key` and returns its value; mpp::KeyError if there is none.
  V pop(const K& key) {
    auto value = keyed_value(detail::Op::dict_pop, key);
    if (!value) throw KeyError("mpp::DictProxy::pop: no such key");
    return std::move(*value);
  }
  /// Removes `key` and returns its value, or `fallback` if there is none.
  V pop(const K& key, const V& fallback) { return keyed_value(detail::Op::dict_pop, key).value_or(fallback); }
  /// Removes and returns the item inserted last (Python 3.7); mpp::KeyError when empty.
  std::pair<K, V> popitem() {
    auto r = request(detail::Op::dict_popitem);
    const auto reply = run(r);
    auto in = reply.reader();
    auto key = detail::decode_taken<K>(in.template read<std::string>());
    return {std::move(key), detail::decode_taken<V>(in.template read<std::string>())};
  }
  /// The value for `key`, first setting it to `fallback` if there is none (one atomic call).
  V setdefault(const K& key, const V& fallback = V{}) {
    auto r = request(detail::Op::dict_setdefault);
    r.arg(detail::encode(key)).arg(detail::encode(fallback));
    return detail::decode<V>(run(r).reader().template read<std::string>());
  }
  /// `for (const auto& [key, value] : d)`: the items as they were when the loop began.
  detail::SnapshotIterator<std::pair<K, V>> begin() const { return detail::SnapshotIterator(items()); }
  std::default_sentinel_t end() const { return {}; }

 private:
  /// A call on `key` answered [found][value]: dict_get, or dict_pop, which also removes it.
  std::optional<V> keyed_value(detail::Op op, const K& key) const {
    auto r = request(op);
    r.arg(detail::encode(key));
    const auto reply = run(r);
    auto in = reply.reader();
    if (in.template read<std::uint8_t>() == 0) return std::nullopt;
    const auto blob = in.template read<std::string>();
    return op == detail::Op::dict_pop ? detail::decode_taken<V>(blob) : detail::decode<V>(blob);
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
    return decode_all(run(r));
  }
  /// Removes and returns element `index` (the last by default).
  T pop(std::int64_t index = -1) {
    auto r = request(detail::Op::list_pop);
    r.arg(index);
    return detail::decode_taken<T>(run(r).reader().template read<std::string>());
  }

  /// Inserts before element `index`, as Python: negative counts from the end, an index past
  /// either end inserts there.
  void insert(std::int64_t index, const T& value) {
    auto r = request(detail::Op::list_insert);
    r.arg(index).arg(detail::encode(value));
    run(r);
  }
  /// Removes the first element equal to `value`; mpp::ValueError if there is none. Elements
  /// compare by their serialized bytes, as Manager keys do.
  void remove(const T& value) {
    auto r = with_value(detail::Op::list_remove, value);
    run(r);
  }
  /// The position of the first element equal to `value`; mpp::ValueError if there is none.
  std::size_t index(const T& value) const {
    auto r = with_value(detail::Op::list_index, value);
    return run(r).reader().template read<std::uint64_t>();
  }
  std::size_t count(const T& value) const {
    auto r = with_value(detail::Op::list_count, value);
    return run(r).reader().template read<std::uint64_t>();
  }
  bool contains(const T& value) const { return count(value) > 0; }
  /// Sorts in place on the master by T's operator< (stable, as Python's sort).
  void sort(bool reverse = false) {
    static_assert(
        requires(const T& a, const T& b) { static_cast<bool>(a < b); },
        "mpp::ListProxy<T>::sort: T needs an operator< to be sorted");
    auto r = request(detail::Op::list_sort);
    r.arg(detail::CodeRef::of(detail::code_address(&detail::sort_encoded<T>))).arg(reverse);
    run(r);
  }
  void reverse() {
    auto r = request(detail::Op::list_reverse);
    run(r);
  }
  void clear() {
    auto r = request(detail::Op::list_clear);
    run(r);
  }
  /// Python's l[first:last]: negative bounds count from the end, bounds past the ends clamp.
  std::vector<T> slice(std::int64_t first, std::int64_t last) const {
    auto r = request(detail::Op::list_slice);
    r.arg(first).arg(last);
    return decode_all(run(r));
  }
  /// `for (const T& x : l)`: the elements as they were when the loop began.
  detail::SnapshotIterator<T> begin() const { return detail::SnapshotIterator(to_vector()); }
  std::default_sentinel_t end() const { return {}; }

  static void write_all(detail::Request& r, const std::vector<T>& values) {
    r.args().write_size(values.size());
    for (const auto& value : values) r.arg(detail::encode(value));
  }

 private:
  detail::Request with_value(detail::Op op, const T& value) const {
    auto r = request(op);
    r.arg(detail::encode(value));
    return r;
  }
  static std::vector<T> decode_all(const detail::Reply& reply) {
    auto in = reply.reader();
    std::vector<T> out;
    out.reserve(in.read_size());
    for (std::size_t n = out.capacity(); n > 0; --n) out.push_back(detail::decode<T>(in.template read<std::string>()));
    return out;
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

/// Python's manager.Namespace(): named fields, here all of one sendable type V (a std::variant
/// for fields of several types): ns.set("x", 1) for `ns.x = 1`, ns.get("x") for `ns.x`.
template <class V>
class NamespaceProxy {
 public:
  NamespaceProxy() = default;
  explicit NamespaceProxy(std::uint64_t id) : fields_(id) {}

  void set(const std::string& name, const V& value) { fields_.set(name, value); }
  /// The field's value; mpp::KeyError (Python's AttributeError) if it was never set.
  V get(const std::string& name) const {
    try {
      return fields_.get(name);
    } catch (const KeyError&) {
      throw KeyError("mpp::NamespaceProxy::get: the namespace has no field '" + name + "'");
    }
  }
  bool contains(const std::string& name) const { return fields_.contains(name); }
  /// Python's `del ns.x`; mpp::KeyError if there is no such field.
  void erase(const std::string& name) {
    if (!fields_.erase(name)) throw KeyError("mpp::NamespaceProxy::erase: the namespace has no field '" + name + "'");
  }

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& fields_;
  }

 private:
  DictProxy<std::string, V> fields_;
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
  template <class V>
  NamespaceProxy<V> Namespace() {
    detail::check_sendable<V>();
    detail::Request create(detail::Op::create_dict, 0);
    return NamespaceProxy<V>(make(create));
  }

  // SyncManager's other factories give mpp's own objects: they already work across ranks and
  // live as long as their handles, not the Manager.
  template <class T>
  mpp::Queue<T> Queue(std::int64_t maxsize = 0) {
    return mpp::Queue<T>(maxsize);
  }
  template <class T>
  mpp::JoinableQueue<T> JoinableQueue(std::int64_t maxsize = 0) {
    return mpp::JoinableQueue<T>(maxsize);
  }
  mpp::Lock Lock() { return mpp::Lock(); }
  mpp::RLock RLock() { return mpp::RLock(); }
  mpp::Semaphore Semaphore(std::int64_t value = 1) { return mpp::Semaphore(value); }
  mpp::BoundedSemaphore BoundedSemaphore(std::int64_t value = 1) { return mpp::BoundedSemaphore(value); }
  mpp::Condition Condition() { return mpp::Condition(mpp::Lock()); }
  mpp::Condition Condition(mpp::Lock lock) { return mpp::Condition(std::move(lock)); }
  mpp::Event Event() { return mpp::Event(); }
  template <class... BarrierArgs>
  mpp::Barrier Barrier(std::int64_t parties, BarrierArgs&&... args) {
    return mpp::Barrier(parties, std::forward<BarrierArgs>(args)...);
  }
  template <class T, class... ArrayArgs>
  mpp::Array<T> Array(ArrayArgs&&... args) {
    return mpp::Array<T>(std::forward<ArrayArgs>(args)...);
  }

  /// Drops every container this Manager made; their proxies then throw mpp::UsageError.
  void shutdown() noexcept;

 private:
  std::uint64_t make(detail::Request& create);

  std::vector<std::uint64_t> objects_;
};

}  // namespace mpp
