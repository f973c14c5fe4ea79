#pragma once
// The progress display of one map (mpp::progress()): on a terminal a bar redrawn in place at
// most five times a second; otherwise (a Slurm log) a plain line at most every `plain_interval`,
// so logs do not fill with redraws. Items found in a journal count as done but not in the rate.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>

namespace mpp::detail {

/// How a ProgressMeter's lines name what they count.
struct ProgressWords {
  std::string run = "mpp: map";        // starts each line
  std::string unit = "items";          // what is counted
  std::string record = "the journal";  // where the counts of earlier runs come from
};

class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;

  /// Writes to `out`; `terminal` picks the bar. `job_end`: when the allocation ends, if known
  /// (the ETA passing it earns a warning).
  ProgressMeter(std::size_t total, std::size_t already_done, std::FILE* out, bool terminal,
                std::chrono::seconds plain_interval, std::optional<std::chrono::system_clock::time_point> job_end,
                ProgressWords words = {});

  /// `items` more are done; redraws when due.
  void add(std::size_t items);
  /// The last line, with the totals.
  void finish();

  /// Text of one report (exposed for tests).
  std::string line(Clock::time_point now) const;

 private:
  void draw(Clock::time_point now);
  /// Once: a warning when the measured rate finishes the map after the job's end.
  void warn_if_late(Clock::time_point now);

  ProgressWords words_;
  std::size_t total_;
  std::size_t done_;
  std::size_t resumed_;  // done before this run started
  std::FILE* out_;
  bool terminal_;
  Clock::duration interval_;
  std::optional<std::chrono::system_clock::time_point> job_end_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_;
  bool warned_ = false;
};

}  // namespace mpp::detail
