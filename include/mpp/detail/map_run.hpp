#pragma once
// What a map does besides computing its results, when asked by its options
// (mpp/map_options.hpp): journal finished chunks, show progress, run failed chunks again, log
// every run of a task. Owned by the map's sink (MapSink, ImapStream) and called, like it, only
// under the engine's progress mutex.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mpp/detail/journal_file.hpp"
#include "mpp/detail/progress_meter.hpp"
#include "mpp/detail/status_log_file.hpp"
#include "mpp/errors.hpp"

namespace mpp::detail {

struct Task;
struct TaskRun;

/// The items of the chunk starting at `first`: `chunksize`, or fewer for the last one.
inline std::size_t chunk_length(std::uint64_t first, std::size_t chunksize, std::size_t items) {
  return std::min<std::size_t>(chunksize, items - first);
}

class MapRun {
 public:
  /// Sends a chunk's task again, keeping it away from `avoid_rank` where the pool has others.
  /// Returns false when it cannot (the pool is gone).
  using Resubmit = std::function<bool(Bytes wire, std::uint64_t first, int avoid_rank)>;

  MapRun(std::size_t items, std::size_t chunksize, std::unique_ptr<JournalFile> journal, int retries,
         std::unique_ptr<StatusLogFile> status_log);

  std::size_t items() const { return items_; }
  std::size_t chunksize() const { return chunksize_; }
  JournalFile* journal() const { return journal_.get(); }
  /// Notes the chunk's task before it is submitted (its argument hash, and its bytes when
  /// retries may need them); returns the journal's saved results for it, if any.
  const JournalFile::Saved* plan(const Task& task);
  void show_progress(std::optional<ProgressMeter> meter) { progress_ = std::move(meter); }
  void set_resubmit(Resubmit resubmit) { resubmit_ = std::move(resubmit); }

  void dispatched(std::uint64_t first, int rank);
  /// A chunk's task came back from a worker (its outcome follows): logs the run.
  void ran(std::uint64_t first, const TaskRun& run);
  /// A chunk's results arrived (from a worker, or replayed from the journal): journals new
  /// ones and counts them.
  void delivered(std::uint64_t first, std::span<const char> results);
  /// A chunk failed: true if it was sent again; else `error` becomes the final one, listing
  /// every attempt when there were several.
  bool retry(std::uint64_t first, RemoteError& error);
  /// The map is complete: every journal record and log row on disk, the last progress line drawn.
  void finish();
  /// The map is stopped by the wall time: its records on disk; returns where they are (or how
  /// to keep them next time), for map_wall_time_report.
  std::string flush_for_wall_time();

 private:
  struct Chunk {
    std::uint64_t args_hash = 0;
    Bytes wire;  // kept only when retries are allowed
    int rank = 0;
    bool replayed = false;  // answered by the journal
    std::vector<RemoteError> failures;
  };

  std::size_t items_;
  std::size_t chunksize_;
  std::unique_ptr<JournalFile> journal_;
  int retries_;
  std::unique_ptr<StatusLogFile> status_log_;
  std::vector<Chunk> chunks_;
  std::optional<ProgressMeter> progress_;
  Resubmit resubmit_;
};

/// What a map stopped by the wall time says: how far it got, and where its journal is (or how
/// to add one); `run` may be null.
std::string map_wall_time_report(std::size_t done, std::size_t items, MapRun* run);

}  // namespace mpp::detail
