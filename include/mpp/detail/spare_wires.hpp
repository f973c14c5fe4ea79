#pragma once
// Spare wires: the small task wires the engine has sent, kept for the threads that build tasks.
// A task's wire is built in the user's thread and was freed, once sent, in the progress thread:
// at every task the two threads took turns at malloc's arena lock (futex waits and wake-ups
// were a fifth of the master's time in apply_async's profile). Handed back and reused, a small
// wire is allocated once.
#include <vector>

#include "mpp/detail/wire.hpp"

namespace mpp::detail {

/// An empty wire with room for a small task: a sent one handed back, or a new one.
Bytes take_spare_wire();

/// Keeps the small wires of `sent` for take_spare_wire (up to a bound) and frees the others;
/// leaves `sent` empty. One lock per call: pass a batch's wires together.
void give_back_wires(std::vector<Bytes>& sent);

}  // namespace mpp::detail
