// A Manager's dict and list, held by the master as serialized keys and values. The dict keeps
// insertion order, as Python's does; keys compare by their serialized bytes.
#include <algorithm>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "mpp/detail/code_ref.hpp"
#include "mpp/detail/object_server.hpp"
#include "mpp/detail/served_sort.hpp"

namespace mpp::detail {
namespace {

using Blob = std::string;  // serialized key or value

class ServedDict final : public Served {
 public:
  bool execute(Op op, int, Reader& args, Writer& result) override {
    switch (op) {
      case Op::dict_set: {
        auto key = args.read<Blob>();
        set(std::move(key), args.read<Blob>());
        return true;
      }
      case Op::dict_get: {
        const auto it = index_.find(args.read<Blob>());
        result.write(static_cast<std::uint8_t>(it != index_.end()));
        if (it != index_.end()) result.write(it->second->second);
        return true;
      }
      case Op::dict_contains:
        result.write(static_cast<std::uint8_t>(index_.contains(args.read<Blob>())));
        return true;
      case Op::dict_erase: {
        const auto it = index_.find(args.read<Blob>());
        result.write(static_cast<std::uint8_t>(it != index_.end()));
        if (it != index_.end()) {
          items_.erase(it->second);
          index_.erase(it);
        }
        return true;
      }
      case Op::dict_size:
        result.write(static_cast<std::uint64_t>(items_.size()));
        return true;
      case Op::dict_keys:
        result.write_size(items_.size());
        for (const auto& item : items_) result.write(item.first);
        return true;
      case Op::dict_items:
        result.write_size(items_.size());
        for (const auto& item : items_) result.write(item);
        return true;
      case Op::dict_update:
        for (std::size_t n = args.read_size(); n > 0; --n) {
          auto key = args.read<Blob>();
          set(std::move(key), args.read<Blob>());
        }
        return true;
      case Op::dict_clear:
        items_.clear();
        index_.clear();
        return true;
      case Op::dict_pop: {  // [found][value]: the caller decides between KeyError and its default
        const auto it = index_.find(args.read<Blob>());
        result.write(static_cast<std::uint8_t>(it != index_.end()));
        if (it != index_.end()) {
          result.write(it->second->second);
          items_.erase(it->second);
          index_.erase(it);
        }
        return true;
      }
      case Op::dict_popitem:  // the last inserted, as Python 3.7
        if (items_.empty()) throw ServedFailure(Failure::key_error, "mpp::DictProxy::popitem: the dict is empty");
        result.write(items_.back());
        index_.erase(items_.back().first);
        items_.pop_back();
        return true;
      case Op::dict_setdefault: {
        auto key = args.read<Blob>();
        auto fallback = args.read<Blob>();
        const auto it = index_.find(key);
        if (it == index_.end()) {
          result.write(fallback);
          set(std::move(key), std::move(fallback));
        } else {
          result.write(it->second->second);
        }
        return true;
      }
      default:
        throw ServedFailure(Failure::usage, "mpp: internal error: not a dict call");
    }
  }

 private:
  void set(Blob key, Blob value) {
    const auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->second = std::move(value);
      return;
    }
    items_.emplace_back(key, std::move(value));
    index_.emplace(std::move(key), std::prev(items_.end()));
  }

  std::list<std::pair<Blob, Blob>> items_;  // in insertion order
  std::unordered_map<Blob, std::list<std::pair<Blob, Blob>>::iterator> index_;
};

class ServedList final : public Served {
 public:
  explicit ServedList(Reader& initial) { read_into(initial); }

  bool execute(Op op, int, Reader& args, Writer& result) override {
    switch (op) {
      case Op::list_append:
        items_.push_back(args.read<Blob>());
        return true;
      case Op::list_extend:
        read_into(args);
        return true;
      case Op::list_at:
        result.write(items_[position(args.read<std::int64_t>(), "index")]);
        return true;
      case Op::list_set: {
        const std::size_t i = position(args.read<std::int64_t>(), "assignment index");
        items_[i] = args.read<Blob>();
        return true;
      }
      case Op::list_size:
        result.write(static_cast<std::uint64_t>(items_.size()));
        return true;
      case Op::list_items:
        result.write_size(items_.size());
        for (const auto& item : items_) result.write(item);
        return true;
      case Op::list_pop: {
        if (items_.empty()) throw ServedFailure(Failure::index_error, "mpp::ListProxy::pop: pop from empty list");
        const std::size_t i = position(args.read<std::int64_t>(), "pop index");
        result.write(items_[i]);
        items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(i));
        return true;
      }
      case Op::list_insert: {  // Python: an index past either end inserts at that end
        const auto size = static_cast<std::int64_t>(items_.size());
        std::int64_t i = args.read<std::int64_t>();
        i = std::clamp(i < 0 ? i + size : i, std::int64_t{0}, size);
        items_.insert(items_.begin() + i, args.read<Blob>());
        return true;
      }
      case Op::list_remove:
        items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(find(args.read<Blob>(), "remove")));
        return true;
      case Op::list_index:
        result.write(static_cast<std::uint64_t>(find(args.read<Blob>(), "index")));
        return true;
      case Op::list_count: {
        const auto value = args.read<Blob>();
        result.write(static_cast<std::uint64_t>(std::count(items_.begin(), items_.end(), value)));
        return true;
      }
      case Op::list_reverse:
        std::reverse(items_.begin(), items_.end());
        return true;
      case Op::list_clear:
        items_.clear();
        return true;
      case Op::list_slice: {  // Python's l[a:b]: bounds clamp, negatives count from the end
        const auto size = static_cast<std::int64_t>(items_.size());
        auto bound = [size](std::int64_t i) { return std::clamp(i < 0 ? i + size : i, std::int64_t{0}, size); };
        const std::int64_t first = bound(args.read<std::int64_t>());
        const std::int64_t last = std::max(first, bound(args.read<std::int64_t>()));
        result.write_size(static_cast<std::size_t>(last - first));
        for (std::int64_t i = first; i < last; ++i) result.write(items_[static_cast<std::size_t>(i)]);
        return true;
      }
      case Op::list_sort: {  // the element type's comparison is code of this same program
        const auto sorter = reinterpret_cast<SortEncoded>(args.read<CodeRef>().resolve());
        sorter(items_, args.read<bool>());
        return true;
      }
      default:
        throw ServedFailure(Failure::usage, "mpp: internal error: not a list call");
    }
  }

 private:
  void read_into(Reader& args) {
    for (std::size_t n = args.read_size(); n > 0; --n) items_.push_back(args.read<Blob>());
  }
  /// The first element equal to `value` (compared serialized); Python's ValueError if none.
  std::size_t find(const Blob& value, const char* method) const {
    const auto it = std::find(items_.begin(), items_.end(), value);
    if (it == items_.end())
      throw ServedFailure(Failure::value_error,
                          std::string("mpp::ListProxy::") + method + ": the value is not in the list");
    return static_cast<std::size_t>(it - items_.begin());
  }
  /// Python indexing: negative counts from the end.
  std::size_t position(std::int64_t index, const char* what) const {
    const auto size = static_cast<std::int64_t>(items_.size());
    const std::int64_t i = index < 0 ? index + size : index;
    if (i < 0 || i >= size)
      throw ServedFailure(Failure::index_error, "mpp::ListProxy: list " + std::string(what) + " " +
                                                    std::to_string(index) + " out of range for a list of " +
                                                    std::to_string(size));
    return static_cast<std::size_t>(i);
  }

  std::vector<Blob> items_;
};

}  // namespace

std::unique_ptr<Served> make_served_dict() { return std::make_unique<ServedDict>(); }
std::unique_ptr<Served> make_served_list(Reader& initial_items) { return std::make_unique<ServedList>(initial_items); }

}  // namespace mpp::detail
