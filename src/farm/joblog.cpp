#include "joblog.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <system_error>
#include <vector>

#include "mpp/detail/group_writer.hpp"

namespace mpp::farm {
namespace {

constexpr const char* header = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

void write_all(int fd, const std::string& text, const std::string& path) {
  try {
    detail::write_all(fd, text.data(), text.size());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("cannot write the joblog " + path + ": " + e.what());
  }
}

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t at = 0;
  // The command is the last column and may hold tabs itself.
  while (fields.size() < 8) {
    const auto tab = line.find('\t', at);
    if (tab == std::string::npos) break;
    fields.push_back(line.substr(at, tab - at));
    at = tab + 1;
  }
  fields.push_back(line.substr(at));
  return fields;
}

}  // namespace

JobLog::JobLog(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open the joblog " + path);
  struct stat info {};
  if (::fstat(fd_, &info) == 0 && info.st_size == 0) write_all(fd_, header, path_);
}

JobLog::~JobLog() { ::close(fd_); }

std::string JobLog::row(const FarmTask& task, const CommandOutcome& outcome) {
  std::string command = task.command;
  for (char& c : command)
    if (c == '\n') c = ' ';  // one row per task, whatever the command holds
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "%.3f\t%10.3f\t0\t%llu\t%d\t%d\t", outcome.start_unix, outcome.runtime,
                static_cast<unsigned long long>(outcome.output_bytes), outcome.exitval, outcome.signal);
  return std::to_string(task.seq) + "\t" + outcome.host + "\t" + numbers + command + "\n";
}

void JobLog::write(const FarmTask& task, const CommandOutcome& outcome) { write_all(fd_, row(task, outcome), path_); }

std::map<std::uint64_t, JobLog::Entry> JobLog::read(const std::string& path) {
  std::map<std::uint64_t, Entry> entries;
  std::ifstream in(path);
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line_number == 1 && line.rfind("Seq\t", 0) == 0) continue;
    const auto fields = fields_of(line);
    try {
      if (fields.size() != 9) throw std::invalid_argument("columns");
      std::size_t used = 0;
      const auto seq = std::stoull(fields[0], &used);
      if (used != fields[0].size() || seq == 0) throw std::invalid_argument("seq");
      const bool failed = std::stoi(fields[6]) != 0 || std::stoi(fields[7]) != 0;
      entries[seq] = Entry{failed, fields[8]};
    } catch (const std::exception&) {
      std::cerr << "mpp-farm: " << path << " line " << line_number
                << " is not a joblog row (skipped; its task counts as not run): " << line.substr(0, 80) << '\n';
    }
  }
  return entries;
}

}  // namespace mpp::farm
