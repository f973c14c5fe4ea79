#include "mpp/detail/spare_wires.hpp"

#include <mutex>
#include <utility>

namespace mpp::detail {
namespace {

constexpr std::size_t new_wire_bytes = 128;    // room for a header and a few arguments
constexpr std::size_t small_wire_bytes = 512;  // bigger ones (a chunk's copied items) are freed
constexpr std::size_t most_spares = 1024;      // at most 512 KiB kept

struct Spares {
  std::mutex mutex;
  std::vector<Bytes> wires;
};

// Never destroyed: a progress thread may hand wires back while static objects are destroyed.
Spares& spares() {
  static auto* const kept = new Spares;
  return *kept;
}

// This thread's share, taken from spares() all at once: one lock per many tasks.
thread_local std::vector<Bytes> taken;

}  // namespace

Bytes take_spare_wire() {
  if (taken.empty()) {
    // Never wait for the lock: a new wire costs less, and a forked child may find it held.
    std::unique_lock lock(spares().mutex, std::try_to_lock);
    if (lock.owns_lock()) std::swap(taken, spares().wires);
  }
  if (taken.empty()) {
    Bytes wire;
    wire.reserve(new_wire_bytes);
    return wire;
  }
  Bytes wire = std::move(taken.back());
  taken.pop_back();
  wire.clear();
  return wire;
}

void give_back_wires(std::vector<Bytes>& sent) {
  {
    std::lock_guard lock(spares().mutex);
    auto& wires = spares().wires;
    for (auto& wire : sent)
      if (wire.capacity() >= new_wire_bytes && wire.capacity() <= small_wire_bytes && wires.size() < most_spares)
        wires.push_back(std::move(wire));
  }
  sent.clear();  // frees the others outside the lock
}

}  // namespace mpp::detail
