#pragma once
// Trailing options of map, starmap, map_async, starmap_async, imap and imap_unordered, next to a chunksize and
// mpp::callback / mpp::error_callback — for long runs on a cluster:
//
//   auto r = pool.starmap(simulate, params,
//                         mpp::journal("sweep.journal"),   // resumable (mpp/journal.hpp)
//                         mpp::retries(2),                 // a failing chunk runs up to twice more
//                         mpp::progress(),                 // a bar on a terminal, a line a minute in a log
//                         mpp::status_log("tasks.tsv"));   // a row per task: where, when, how long, outcome
//
// MPP_PROGRESS=1 turns progress on for every map of a program; MPP_PROGRESS_INTERVAL=N sets the
// seconds between plain lines (default 60).
#include <chrono>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "mpp/journal.hpp"

namespace mpp {

struct Retries {
  int count = 0;
};

/// A chunk whose task throws (in an isolated pool also: crashes or times out) runs again, on
/// another worker where there is one, up to `count` more times; the chunk's other items run
/// again with it. If every attempt fails, the map's RemoteError lists them all.
inline Retries retries(int count) {
  if (count < 0) throw std::invalid_argument("mpp::retries needs 0 or more");
  return Retries{count};
}

struct Progress {
  /// Seconds between lines when stderr is not a terminal; 0: MPP_PROGRESS_INTERVAL or 60.
  std::chrono::seconds plain_interval{0};
};

/// Shows the map's progress on stderr: done/total, rate, elapsed and ETA; redrawn in place on
/// a terminal, a plain line at most every plain_interval otherwise.
inline Progress progress(std::chrono::seconds plain_interval = std::chrono::seconds(0)) {
  if (plain_interval.count() < 0) throw std::invalid_argument("mpp::progress: the interval must not be negative");
  return Progress{plain_interval};
}

struct StatusLog {
  std::string path;
};

/// Appends one tab-separated row per run of a task (a map chunk; one item at chunksize 1) to
/// `path`, columns: item (the first), items, attempt, rank, host, pid (the worker's, or its
/// child's in an isolated pool), start and end (Unix seconds), seconds, outcome (ok, the
/// exception's type, or the signal that ended the task's process, e.g. "signal SIGSEGV") and
/// peak_rss_kib (the process's peak resident memory; "-" where unknown). A new file starts
/// with the column names; an existing one is appended to. Rows of items a journal answered are
/// not repeated.
inline StatusLog status_log(std::string path) {
  if (path.empty()) throw std::invalid_argument("mpp::status_log needs a file path");
  return StatusLog{std::move(path)};
}

namespace detail {

template <class T>
inline constexpr bool is_long_run_option_v =
    std::is_same_v<std::remove_cvref_t<T>, Journal> || std::is_same_v<std::remove_cvref_t<T>, Retries> ||
    std::is_same_v<std::remove_cvref_t<T>, Progress> || std::is_same_v<std::remove_cvref_t<T>, StatusLog>;

}  // namespace detail
}  // namespace mpp
