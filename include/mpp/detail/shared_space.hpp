#pragma once
// Where shared objects (Value, Array, Lock, ...) live, and how any rank reaches them.
//
// At session start every rank gets a segment of node-shared memory (MPI_Win_allocate_shared,
// collective, once) and the same memory is exposed to all ranks through one world window
// (MPI_Win_create, in a long-lived MPI_Win_lock_all epoch). Creating an object then only
// allocates inside the creating rank's own segment: nothing collective, no worker stops.
// An object is named by a GlobalAddress (host rank, offset in its segment). Word operations
// take the fastest path that reaches it:
//   own rank            std::atomic_ref on local memory
//   rank on this node   std::atomic_ref on the shared mapping (unless MPP_FORCE_RMA=1)
//   rank on another node MPI_Fetch_and_op / MPI_Compare_and_swap / accumulate + MPI_Win_flush
#include <mpi.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "mpp/detail/mpi_check.hpp"

namespace mpp::detail {

struct GlobalAddress {
  std::int32_t rank = -1;
  std::uint64_t offset = 0;
  GlobalAddress operator+(std::uint64_t bytes) const { return {rank, offset + bytes}; }
  friend bool operator==(const GlobalAddress&, const GlobalAddress&) = default;
  friend auto operator<=>(const GlobalAddress&, const GlobalAddress&) = default;
};

/// Element types that shared words may hold: 1-, 2-, 4- or 8-byte integers (not bool), 4- or
/// 8-byte floating types.
template <class T>
concept shared_word =
    std::is_arithmetic_v<T> && !std::is_same_v<T, bool> &&
    (std::is_floating_point_v<T> ? sizeof(T) == 4 || sizeof(T) == 8
                                 : sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);

/// The element type of a word operation, as it travels (a child's relayed call carries it).
enum class WordType : std::uint8_t { i32, i64, u32, u64, f32, f64, i8, u8, i16, u16 };

template <shared_word T>
constexpr WordType word_type() {
  if constexpr (std::is_floating_point_v<T>) {
    return sizeof(T) == 8 ? WordType::f64 : WordType::f32;
  } else if constexpr (std::is_signed_v<T>) {
    constexpr WordType by_size[] = {WordType::i8, WordType::i16, WordType::i32, WordType::i64};
    return by_size[std::bit_width(sizeof(T)) - 1];  // 1, 2, 4, 8 bytes
  } else {
    constexpr WordType by_size[] = {WordType::u8, WordType::u16, WordType::u32, WordType::u64};
    return by_size[std::bit_width(sizeof(T)) - 1];  // 1, 2, 4, 8 bytes
  }
}

/// The size of a word of `type`; 0 for a value no WordType has (a malformed message).
std::size_t word_bytes_of(WordType type);

/// One operation on another rank's memory through the world window.
struct RemoteAccess {
  enum class Kind : std::uint8_t { fetch_and_op, compare_and_swap, read, write };
  enum class Op : std::uint8_t { no_op, replace, sum };
  Kind kind;
  WordType type;
  Op op;
  std::uint8_t word_bytes;
  GlobalAddress at;
  std::uint64_t count;  // words read or written; 1 otherwise

  /// Bytes of operands it takes and of results it gives.
  std::size_t in_bytes() const;
  std::size_t out_bytes() const;
};

/// The unsigned integer of T's size: compare-and-swap of floating values compares their bits.
template <class T>
using bits_t = std::conditional_t<
    sizeof(T) == 8, std::uint64_t,
    std::conditional_t<sizeof(T) == 4, std::uint32_t, std::conditional_t<sizeof(T) == 2, std::uint16_t, std::uint8_t>>>;

template <class T>
bool bits_equal(T a, T b) {
  return std::bit_cast<bits_t<T>>(a) == std::bit_cast<bits_t<T>>(b);
}

class SharedSpace {
 public:
  static constexpr std::size_t alignment = 64;  // one cache line per object: no false sharing

  /// Collective over `comm`. `force_rma` reaches even same-node ranks through the window.
  SharedSpace(MPI_Comm comm, std::size_t my_segment_bytes, bool force_rma);
  ~SharedSpace();  // collective
  SharedSpace(const SharedSpace&) = delete;
  SharedSpace& operator=(const SharedSpace&) = delete;

  int rank() const { return rank_; }
  /// Whether some rank is reached through RMA rather than shared memory.
  bool uses_rma() const { return uses_rma_; }

  /// `bytes` of zeroed memory in this rank's segment; throws when the segment is full.
  GlobalAddress allocate(std::size_t bytes);
  /// The same, or nullopt when the segment has no room. `zeroed` bytes from its start are
  /// cleared (at least the first word, the holder count retire reads): a payload its writer
  /// fills whole before anyone reads it (detail/handoff.hpp) need not be cleared first.
  std::optional<GlobalAddress> try_allocate(std::size_t bytes, std::size_t zeroed = all_bytes);
  static constexpr std::size_t all_bytes = ~std::size_t{0};
  /// Frees a block of this rank once no other rank holds it (its first word counts holders).
  void retire(GlobalAddress block, std::size_t bytes);

  template <shared_word T>
  T load(GlobalAddress at);
  template <shared_word T>
  void store(GlobalAddress at, T value);
  template <shared_word T>
  T fetch_add(GlobalAddress at, T delta);
  template <shared_word T>
  T exchange(GlobalAddress at, T value);
  /// Stores `desired` if the word holds `expected`; returns what it held.
  template <shared_word T>
  T compare_exchange(GlobalAddress at, T expected, T desired);
  /// Element-wise atomic bulk transfer of `count` words.
  template <shared_word T>
  void read(GlobalAddress at, T* out, std::size_t count);
  template <shared_word T>
  void write(GlobalAddress at, const T* in, std::size_t count);

  /// `bytes` of this rank's own memory from `at`; throws MalformedMessage unless they all lie in
  /// its segment (a block a message names is checked before it is touched).
  std::span<char> own_memory(GlobalAddress at, std::size_t bytes) const;

  /// Whether this rank reaches `at` with CPU atomics (its own or a same-node segment).
  bool is_local(GlobalAddress at) const { return local(at) != nullptr; }

  /// Runs `access` with MPI (in a supervised child: through its parent). `in` holds the operand
  /// (compare_and_swap: desired, then expected; write: the words); `out` gets the old value or
  /// the words read.
  void access_remote(const RemoteAccess& access, const void* in, void* out);

  /// Lets RMA aimed at this rank proceed (some transports need the target inside MPI).
  void progress();

  /// Sleeps at most `timeout` while the word at `at` still holds `seen`. A word in this node's
  /// memory is watched by the kernel (a futex): a change made here with wake() ends the sleep
  /// at once, so waiting ranks give their core away instead of spinning on it. A word reached
  /// through RMA is simply slept on, and a change from another node is seen on waking.
  void wait_for_change(GlobalAddress at, std::int64_t seen, std::chrono::microseconds timeout);
  /// Ends wait_for_change() of up to `how_many` ranks of this node sleeping on `at`.
  void wake(GlobalAddress at, int how_many);

 private:
  /// Local address of `at` when this rank can touch it directly, else nullptr.
  char* local(GlobalAddress at) const {
    auto* base = direct_base_[static_cast<std::size_t>(at.rank)];
    return base ? base + at.offset : nullptr;
  }
  template <shared_word T>
  T remote_fetch_and_op(GlobalAddress at, T operand, RemoteAccess::Op op);
  void sweep_retired();

  MPI_Comm comm_ = MPI_COMM_NULL;  // a duplicate: never carries messages, only progress and windows
  MPI_Comm node_ = MPI_COMM_NULL;
  MPI_Win node_window_ = MPI_WIN_NULL;
  MPI_Win world_ = MPI_WIN_NULL;
  int rank_ = 0;
  bool uses_rma_ = false;
  char* my_base_ = nullptr;
  std::size_t my_bytes_ = 0;
  std::vector<char*> direct_base_;  // per rank: mapped base, or nullptr if reached through RMA

  std::mutex heap_mutex_;
  std::map<std::uint64_t, std::uint64_t> free_;                 // offset -> size, coalesced
  std::vector<std::pair<GlobalAddress, std::size_t>> retired_;  // waiting for remote holders to go
};

template <shared_word T>
T SharedSpace::remote_fetch_and_op(GlobalAddress at, T operand, RemoteAccess::Op op) {
  T old{};
  access_remote({RemoteAccess::Kind::fetch_and_op, word_type<T>(), op, sizeof(T), at, 1}, &operand, &old);
  return old;
}

template <shared_word T>
T SharedSpace::load(GlobalAddress at) {
  if (char* p = local(at)) return std::atomic_ref<T>(*reinterpret_cast<T*>(p)).load();
  return remote_fetch_and_op(at, T{}, RemoteAccess::Op::no_op);
}

template <shared_word T>
void SharedSpace::store(GlobalAddress at, T value) {
  if (char* p = local(at)) return std::atomic_ref<T>(*reinterpret_cast<T*>(p)).store(value);
  remote_fetch_and_op(at, value, RemoteAccess::Op::replace);
}

template <shared_word T>
T SharedSpace::fetch_add(GlobalAddress at, T delta) {
  if (char* p = local(at)) return std::atomic_ref<T>(*reinterpret_cast<T*>(p)).fetch_add(delta);
  return remote_fetch_and_op(at, delta, RemoteAccess::Op::sum);
}

template <shared_word T>
T SharedSpace::exchange(GlobalAddress at, T value) {
  if (char* p = local(at)) return std::atomic_ref<T>(*reinterpret_cast<T*>(p)).exchange(value);
  return remote_fetch_and_op(at, value, RemoteAccess::Op::replace);
}

template <shared_word T>
T SharedSpace::compare_exchange(GlobalAddress at, T expected, T desired) {
  if constexpr (std::is_floating_point_v<T>) {
    using B = bits_t<T>;
    return std::bit_cast<T>(compare_exchange<B>(at, std::bit_cast<B>(expected), std::bit_cast<B>(desired)));
  } else {
    if (char* p = local(at)) {
      std::atomic_ref<T>(*reinterpret_cast<T*>(p)).compare_exchange_strong(expected, desired);
      return expected;  // on failure compare_exchange_strong loaded the current value into it
    }
    const T operands[2] = {desired, expected};
    T old{};
    access_remote({RemoteAccess::Kind::compare_and_swap, word_type<T>(), RemoteAccess::Op::replace, sizeof(T), at, 1},
                  operands, &old);
    return old;
  }
}

template <shared_word T>
void SharedSpace::read(GlobalAddress at, T* out, std::size_t count) {
  if (char* p = local(at)) {
    for (std::size_t i = 0; i < count; ++i) out[i] = std::atomic_ref<T>(reinterpret_cast<T*>(p)[i]).load();
    return;
  }
  access_remote({RemoteAccess::Kind::read, word_type<T>(), RemoteAccess::Op::no_op, sizeof(T), at, count}, nullptr,
                out);
}

template <shared_word T>
void SharedSpace::write(GlobalAddress at, const T* in, std::size_t count) {
  if (char* p = local(at)) {
    for (std::size_t i = 0; i < count; ++i) std::atomic_ref<T>(reinterpret_cast<T*>(p)[i]).store(in[i]);
    return;
  }
  access_remote({RemoteAccess::Kind::write, word_type<T>(), RemoteAccess::Op::replace, sizeof(T), at, count}, in,
                nullptr);
}

}  // namespace mpp::detail
