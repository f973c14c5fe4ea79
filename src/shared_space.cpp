#include "mpp/detail/shared_space.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "mpp/detail/child.hpp"

namespace mpp::detail {
namespace {

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

MPI_Datatype mpi_type(WordType type) {
  switch (type) {
    case WordType::i32:
      return MPI_INT32_T;
    case WordType::i64:
      return MPI_INT64_T;
    case WordType::u32:
      return MPI_UINT32_T;
    case WordType::u64:
      return MPI_UINT64_T;
    case WordType::f32:
      return MPI_FLOAT;
    case WordType::f64:
      return MPI_DOUBLE;
    case WordType::i8:
      return MPI_INT8_T;
    case WordType::u8:
      return MPI_UINT8_T;
    case WordType::i16:
      return MPI_INT16_T;
    case WordType::u16:
      return MPI_UINT16_T;
  }
  throw MalformedMessage("mpp: a remote access names no known word type");
}

MPI_Op mpi_op(RemoteAccess::Op op) {
  switch (op) {
    case RemoteAccess::Op::no_op:
      return MPI_NO_OP;
    case RemoteAccess::Op::replace:
      return MPI_REPLACE;
    case RemoteAccess::Op::sum:
      return MPI_SUM;
  }
  throw MalformedMessage("mpp: a remote access names no known operation");
}

}  // namespace

std::size_t word_bytes_of(WordType type) {
  switch (type) {
    case WordType::i8:
    case WordType::u8:
      return 1;
    case WordType::i16:
    case WordType::u16:
      return 2;
    case WordType::i32:
    case WordType::u32:
    case WordType::f32:
      return 4;
    case WordType::i64:
    case WordType::u64:
    case WordType::f64:
      return 8;
  }
  return 0;
}

std::size_t RemoteAccess::in_bytes() const {
  switch (kind) {
    case Kind::fetch_and_op:
      return word_bytes;
    case Kind::compare_and_swap:
      return 2 * std::size_t{word_bytes};
    case Kind::read:
      return 0;
    case Kind::write:
      return count * word_bytes;
  }
  return 0;
}

std::size_t RemoteAccess::out_bytes() const {
  switch (kind) {
    case Kind::fetch_and_op:
    case Kind::compare_and_swap:
      return word_bytes;
    case Kind::read:
      return count * word_bytes;
    case Kind::write:
      return 0;
  }
  return 0;
}

SharedSpace::SharedSpace(MPI_Comm comm, std::size_t my_segment_bytes, bool force_rma) {
  check_mpi(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  int size = 0;
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size), "MPI_Comm_size");
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_), "MPI_Comm_split_type");

  my_bytes_ = round_up(my_segment_bytes, alignment);
  check_mpi(
      MPI_Win_allocate_shared(static_cast<MPI_Aint>(my_bytes_), 1, MPI_INFO_NULL, node_, &my_base_, &node_window_),
      "MPI_Win_allocate_shared");
  // allocate() zeroes each block it hands out, so the segment is never touched (and never
  // faulted in) until it is used. The first line stays unused: no object sits at offset 0.
  const std::size_t reserved = alignment;

  // Which ranks share this node, and where their segments are mapped here.
  direct_base_.assign(static_cast<std::size_t>(size), nullptr);
  MPI_Group world_group;
  MPI_Group node_group;
  MPI_Comm_group(comm_, &world_group);
  MPI_Comm_group(node_, &node_group);
  for (int r = 0; r < size; ++r) {
    int node_rank = MPI_UNDEFINED;
    MPI_Group_translate_ranks(world_group, 1, &r, node_group, &node_rank);
    if (r == rank_) {
      direct_base_[static_cast<std::size_t>(r)] = my_base_;  // own memory: always CPU atomics
    } else if (node_rank != MPI_UNDEFINED && !force_rma) {
      MPI_Aint bytes = 0;
      int unit = 0;
      char* base = nullptr;
      check_mpi(MPI_Win_shared_query(node_window_, node_rank, &bytes, &unit, &base), "MPI_Win_shared_query");
      direct_base_[static_cast<std::size_t>(r)] = base;
    } else {
      uses_rma_ = true;
    }
  }
  MPI_Group_free(&world_group);
  MPI_Group_free(&node_group);
  // The world window serves RMA only. Every rank computes the same answer (all share one node,
  // or not; forced, or not), so the collective call is made by all or none. Skipping it matters
  // under srun, where creating it costs seconds per dozens of ranks.
  if (uses_rma_) {
    check_mpi(MPI_Win_create(my_base_, static_cast<MPI_Aint>(my_bytes_), 1, MPI_INFO_NULL, comm_, &world_),
              "MPI_Win_create");
    check_mpi(MPI_Win_lock_all(MPI_MODE_NOCHECK, world_), "MPI_Win_lock_all");
  }
  free_[reserved] = my_bytes_ - reserved;
}

SharedSpace::~SharedSpace() {
  if (world_ != MPI_WIN_NULL) {
    MPI_Win_unlock_all(world_);
    MPI_Win_free(&world_);
  }
  MPI_Win_free(&node_window_);
  MPI_Comm_free(&node_);
  MPI_Comm_free(&comm_);
}

GlobalAddress SharedSpace::allocate(std::size_t bytes) {
  if (in_child()) return relay_allocate(bytes);  // the free list lives in the parent
  if (const auto block = try_allocate(bytes)) return *block;
  throw std::runtime_error("mpp: the shared memory of rank " + std::to_string(rank_) + " (" +
                           std::to_string(my_bytes_ >> 20) +
                           " MiB) is full; set MPP_SHARED_MB to give the master more (workers get 1/16 of it)");
}

std::optional<GlobalAddress> SharedSpace::try_allocate(std::size_t bytes, std::size_t zeroed) {
  if (in_child()) {
    try {
      return relay_allocate(bytes);
    } catch (const std::runtime_error&) {
      return std::nullopt;  // the parent's allocate failed: its segment is full
    }
  }
  bytes = round_up(std::max<std::size_t>(bytes, 1), alignment);
  std::lock_guard lock(heap_mutex_);
  sweep_retired();
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < bytes) continue;
    const std::uint64_t offset = it->first;
    const std::uint64_t rest = it->second - bytes;
    free_.erase(it);
    if (rest > 0) free_[offset + bytes] = rest;
    std::memset(my_base_ + offset, 0, std::clamp<std::size_t>(zeroed, sizeof(std::int64_t), bytes));
    return GlobalAddress{rank_, offset};
  }
  return std::nullopt;
}

std::span<char> SharedSpace::own_memory(GlobalAddress at, std::size_t bytes) const {
  if (at.rank != rank_ || at.offset > my_bytes_ || bytes > my_bytes_ - at.offset)
    throw MalformedMessage("mpp: a message names memory outside this rank's shared segment");
  return {my_base_ + at.offset, bytes};
}

void SharedSpace::retire(GlobalAddress block, std::size_t bytes) {
  if (in_child()) return relay_retire(block, bytes);
  std::lock_guard lock(heap_mutex_);
  retired_.emplace_back(block, round_up(std::max<std::size_t>(bytes, 1), alignment));
  sweep_retired();
}

void SharedSpace::sweep_retired() {
  std::erase_if(retired_, [this](const auto& entry) {
    const auto& [block, bytes] = entry;
    if (load<std::int64_t>(block) != 0) return false;  // another rank still holds a handle
    auto next = free_.emplace(block.offset, bytes).first;
    // Coalesce with the neighbours, so the heap does not crumble.
    if (auto after = std::next(next); after != free_.end() && next->first + next->second == after->first) {
      next->second += after->second;
      free_.erase(after);
    }
    if (next != free_.begin()) {
      auto before = std::prev(next);
      if (before->first + before->second == next->first) {
        before->second += next->second;
        free_.erase(next);
      }
    }
    return true;
  });
}

void SharedSpace::wait_for_change(GlobalAddress at, std::int64_t seen, std::chrono::microseconds timeout) {
  char* p = local(at);
  if (!p) {
    std::this_thread::sleep_for(timeout);
    return;
  }
  // A futex on the word's low half (x86-64 is little-endian). Not FUTEX_PRIVATE: the segment is
  // mapped by several processes, and a shared futex is keyed by the mapping, not the address.
  const timespec limit{static_cast<time_t>(timeout.count() / 1'000'000),
                       static_cast<long>(timeout.count() % 1'000'000) * 1000};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(p), FUTEX_WAIT, static_cast<std::uint32_t>(seen), &limit, nullptr,
          0);
}

void SharedSpace::wake(GlobalAddress at, int how_many) {
  if (char* p = local(at))
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(p), FUTEX_WAKE, how_many, nullptr, nullptr, 0);
}

void SharedSpace::access_remote(const RemoteAccess& access, const void* in, void* out) {
  if (in_child()) {
    relay_remote_access(access, {static_cast<const char*>(in), access.in_bytes()},
                        {static_cast<char*>(out), access.out_bytes()});
    return;
  }
  const MPI_Datatype type = mpi_type(access.type);
  const auto offset = static_cast<MPI_Aint>(access.at.offset);
  const int rank = access.at.rank;
  const int count = static_cast<int>(access.count);
  switch (access.kind) {
    case RemoteAccess::Kind::fetch_and_op:
      check_mpi(MPI_Fetch_and_op(in, out, type, rank, offset, mpi_op(access.op), world_), "MPI_Fetch_and_op");
      break;
    case RemoteAccess::Kind::compare_and_swap: {
      const char* desired = static_cast<const char*>(in);
      check_mpi(MPI_Compare_and_swap(desired, desired + access.word_bytes, out, type, rank, offset, world_),
                "MPI_Compare_and_swap");
      break;
    }
    case RemoteAccess::Kind::read:
      check_mpi(MPI_Get_accumulate(nullptr, 0, type, out, count, type, rank, offset, count, type, MPI_NO_OP, world_),
                "MPI_Get_accumulate");
      break;
    case RemoteAccess::Kind::write:
      check_mpi(MPI_Accumulate(in, count, type, rank, offset, count, type, MPI_REPLACE, world_), "MPI_Accumulate");
      break;
  }
  check_mpi(MPI_Win_flush(rank, world_), "MPI_Win_flush");
}

void SharedSpace::progress() {
  if (!uses_rma_ || in_child()) return;
  int flag = 0;
  MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, MPI_STATUS_IGNORE);  // nothing is ever sent here
}

}  // namespace mpp::detail
