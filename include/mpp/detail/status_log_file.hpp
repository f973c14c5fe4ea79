#pragma once
// The status log of a map (mpp::status_log): one tab-separated row per run of a task, appended
// by a GroupWriter. A new file starts with the column names; an existing one is appended to, so
// the log of a sweep resumed over several jobs holds every job's rows.
#include <cstdint>
#include <optional>
#include <string>

#include "mpp/detail/group_writer.hpp"

namespace mpp::detail {

struct TaskRun;

class StatusLogFile {
 public:
  /// The columns, in order (also the file's first line).
  static constexpr const char* columns =
      "item\titems\tattempt\trank\thost\tpid\tstart\tend\tseconds\toutcome\tpeak_rss_kib\n";

  explicit StatusLogFile(std::string path);
  ~StatusLogFile();
  StatusLogFile(const StatusLogFile&) = delete;
  StatusLogFile& operator=(const StatusLogFile&) = delete;

  const std::string& path() const { return path_; }
  /// A row for the task of items first..first+items-1, run for the `attempt`th time.
  void add(std::uint64_t first, std::size_t items, std::size_t attempt, const TaskRun& run);
  /// Returns once every row is written.
  void flush() { writer_->flush(); }

 private:
  std::string path_;
  int fd_ = -1;
  std::optional<GroupWriter> writer_;
};

}  // namespace mpp::detail
