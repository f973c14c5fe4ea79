#include "mpp/detail/status_log_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "mpp/detail/engine.hpp"
#include "mpp/errors.hpp"
#include "mpp/session.hpp"

namespace mpp::detail {
namespace {

constexpr auto commit_interval = std::chrono::milliseconds(500);

std::string seconds_since_epoch(std::uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%llu.%03llu", static_cast<unsigned long long>(ns / 1'000'000'000),
                static_cast<unsigned long long>(ns / 1'000'000 % 1000));
  return text;
}

/// ok, the exception's type, or the signal that ended the task's process ("signal SIGSEGV").
std::string outcome_of(const TaskRun& run) {
  if (run.result.end_signal != 0) {
    const char* abbrev = ::sigabbrev_np(run.result.end_signal);
    return abbrev ? std::string("signal SIG") + abbrev : "signal " + std::to_string(run.result.end_signal);
  }
  if (run.error_type.empty()) return "ok";
  return std::string(run.error_type);
}

/// What is unknown shows as "-".
std::string known(std::uint64_t value) { return value == 0 ? "-" : std::to_string(value); }

}  // namespace

StatusLogFile::StatusLogFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UsageError("mpp: cannot open status log " + path_ + ": " + std::strerror(errno));
  try {
    if (::lseek(fd_, 0, SEEK_END) == 0) write_all(fd_, columns, std::strlen(columns));
  } catch (const std::runtime_error& e) {
    ::close(fd_);
    throw std::runtime_error("mpp: status log " + path_ + ": " + e.what());
  }
  writer_.emplace(fd_, "status log " + path_, commit_interval);
}

StatusLogFile::~StatusLogFile() {
  writer_.reset();  // writes what is queued
  ::close(fd_);
}

void StatusLogFile::add(std::uint64_t first, std::size_t items, std::size_t attempt, const TaskRun& run) {
  const auto& result = run.result;
  const std::uint64_t start = result.started_unix_ns;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.6f", static_cast<double>(result.run_ns) * 1e-9);
  const std::string host = Session::current().host_of(run.rank);
  const std::string row =
      std::to_string(first) + '\t' + std::to_string(items) + '\t' + std::to_string(attempt) + '\t' +
      std::to_string(run.rank) + '\t' + host + '\t' + known(static_cast<std::uint64_t>(result.pid)) + '\t' +
      (start ? seconds_since_epoch(start) : "-") + '\t' + (start ? seconds_since_epoch(start + result.run_ns) : "-") +
      '\t' + seconds + '\t' + outcome_of(run) + '\t' + known(result.peak_rss_kib) + '\n';
  writer_->append(row);
}

}  // namespace mpp::detail
