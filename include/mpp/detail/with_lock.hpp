#pragma once
// detail::WithLock: a shared object with its own Lock, as Python's synchronized wrappers
// (Value and Array are WithLock<RawValue<T>> and WithLock<RawArray<T>>).
#include "mpp/lock.hpp"
#include "mpp/serialization.hpp"

namespace mpp::detail {

/// Raw (a RawValue or RawArray) with its own Lock: what Value and Array add.
template <class Raw>
class WithLock : public Raw {
 public:
  using Raw::Raw;
  explicit WithLock(for_loading_t) : Raw(for_loading), lock_(for_loading) {}

  /// The object's own lock, as Python's get_lock().
  Lock& get_lock() { return lock_; }
  /// The object without its lock, as Python's get_obj().
  Raw& get_obj() { return *this; }

  template <class Archive>
  void serialize(Archive& archive, unsigned version) {
    Raw::serialize(archive, version);
    archive& lock_;
  }

 private:
  Lock lock_;
};

}  // namespace mpp::detail
