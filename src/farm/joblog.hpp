#pragma once
// mpp-farm's --joblog: a row per finished task in GNU parallel's columns
//   Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
// (tab-separated, a header line first), written as each task ends, so a run stopped in any way
// leaves the rows of every task that finished; --resume and --resume-failed read it back.
#include <cstdint>
#include <map>
#include <string>

#include "command_run.hpp"
#include "task_list.hpp"

namespace mpp::farm {

class JobLog {
 public:
  /// Appends to `path`; a new or empty file gets the header line first.
  explicit JobLog(const std::string& path);
  ~JobLog();
  JobLog(const JobLog&) = delete;
  JobLog& operator=(const JobLog&) = delete;

  /// The task's row, in one write: on disk (in the page cache) when this returns.
  void write(const FarmTask& task, const CommandOutcome& outcome);

  /// What a joblog says about each task: by seq, the last row's verdict and command.
  struct Entry {
    bool failed = false;  // Exitval or Signal nonzero
    std::string command;
  };
  /// Reads `path` (no file: nothing ran yet). A row that does not parse (a line cut short by
  /// a crash) is skipped with a warning on stderr.
  static std::map<std::uint64_t, Entry> read(const std::string& path);

  /// The row's text (exposed for tests).
  static std::string row(const FarmTask& task, const CommandOutcome& outcome);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace mpp::farm
