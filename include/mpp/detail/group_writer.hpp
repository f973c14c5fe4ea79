#pragma once
// Appends to a file from a writer thread, in group commits: many appends share one write() and
// one fdatasync, each on disk at most `commit_interval` after it was queued (or at once when a
// MiB waits). The journal and the status log write this way, so a map never waits for a disk.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "mpp/detail/wire.hpp"

namespace mpp::detail {

class GroupWriter {
 public:
  /// Appends to `fd`, which stays open until this is gone (the caller closes it); `name` says
  /// which file in errors, e.g. "journal sweep.journal".
  GroupWriter(int fd, std::string name, std::chrono::milliseconds commit_interval);
  /// Writes what is still queued, then stops the thread.
  ~GroupWriter();
  GroupWriter(const GroupWriter&) = delete;
  GroupWriter& operator=(const GroupWriter&) = delete;

  /// Queues `head` followed by `body`; throws if an earlier write failed.
  void append(std::span<const char> head, std::span<const char> body = {});
  /// Returns once everything appended is on disk; throws if writing failed.
  void flush();

 private:
  void run();
  void throw_if_failed() const;

  int fd_;
  std::string name_;
  std::chrono::milliseconds commit_interval_;

  std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable written_;
  Bytes pending_;
  std::uint64_t appended_ = 0;  // bytes queued so far
  std::uint64_t durable_ = 0;   // of those, bytes on disk
  bool flush_asked_ = false;
  bool stopping_ = false;
  std::string failure_;  // the first write error
  std::thread writer_;
};

/// Writes all of `data` to `fd`; std::runtime_error with errno's text if it cannot.
void write_all(int fd, const char* data, std::size_t size);

}  // namespace mpp::detail
