#pragma once
// Bytes: the buffer every message is built in and received into. A std::vector<char> whose
// growth leaves the new bytes as they are: a buffer grows only for bytes about to be written
// or received over, and std::vector's resize cleared them first — a map chunk's results were
// cleared before each was written (a worker's memset took half the time of its loop of
// inlined squares), a received message before MPI wrote it.
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace mpp::detail {

/// std::allocator, but constructing an element without a value default-initializes it (for
/// char: leaves it alone) instead of value-initializing it (zeroing).
template <class T>
class UninitializedAllocator : public std::allocator<T> {
 public:
  template <class U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  using std::allocator<T>::allocator;

  template <class U>
  void construct(U* at) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(at)) U;
  }
  template <class U, class... Args>
  void construct(U* at, Args&&... args) {
    ::new (static_cast<void*>(at)) U(std::forward<Args>(args)...);
  }
};

using Bytes = std::vector<char, UninitializedAllocator<char>>;

}  // namespace mpp::detail
