#pragma once
// mpp::journal(path): a map that survives being stopped. Every finished chunk's results are
// appended to the file; a rerun of the same map with the same journal takes the saved results
// and computes only the rest, so the result equals a run that never stopped.
//
//   auto energies = pool.starmap(simulate, params, mpp::journal("sweep.journal"));
//   mpp::JournalStatus s = mpp::journal_status("sweep.journal");   // from any program, any time
//
// Records are group-committed by a writer thread: many per write and per fdatasync, each on
// disk within `commit_interval` of its chunk finishing. Each record carries the index of its
// first item, a hash of its arguments' bytes and a CRC: a journal written for other inputs or
// another function is refused with an error that says so, and a record torn by a kill
// mid-write is dropped (its items run again). A journal belongs to one build of a program: the
// function is known by its code address, which a rebuild moves.
#include <chrono>
#include <cstddef>
#include <string>

namespace mpp {

struct Journal {
  std::string path;
  std::chrono::milliseconds commit_interval{200};
};

/// The map option; the file is created if absent.
Journal journal(std::string path, std::chrono::milliseconds commit_interval = std::chrono::milliseconds(200));

struct JournalStatus {
  std::size_t items = 0;  // the map's input items
  std::size_t done = 0;   // items whose results the journal holds
};

/// What the journal at `path` holds so far. Safe while its map runs: it reads whole records
/// only and changes nothing. Throws std::runtime_error if the file is not an mpp journal.
JournalStatus journal_status(const std::string& path);

}  // namespace mpp
