#include "mpp/detail/group_writer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mpp::detail {
namespace {

constexpr std::size_t commit_bytes = std::size_t{1} << 20;  // a batch this big is written at once

}  // namespace

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::strerror(errno));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

GroupWriter::GroupWriter(int fd, std::string name, std::chrono::milliseconds commit_interval)
    : fd_(fd), name_(std::move(name)), commit_interval_(commit_interval), writer_([this] { run(); }) {}

GroupWriter::~GroupWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  writer_.join();
}

void GroupWriter::append(std::span<const char> head, std::span<const char> body) {
  std::lock_guard lock(mutex_);
  throw_if_failed();
  pending_.insert(pending_.end(), head.begin(), head.end());
  pending_.insert(pending_.end(), body.begin(), body.end());
  appended_ += head.size() + body.size();
  if (pending_.size() >= commit_bytes) wake_writer_.notify_one();
}

void GroupWriter::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = appended_;
  flush_asked_ = true;
  wake_writer_.notify_one();
  written_.wait(lock, [&] { return durable_ >= target || !failure_.empty(); });
  throw_if_failed();
}

void GroupWriter::throw_if_failed() const {
  if (!failure_.empty()) throw std::runtime_error("mpp: " + name_ + ": writing failed: " + failure_);
}

void GroupWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_writer_.wait_for(lock, commit_interval_,
                          [this] { return stopping_ || flush_asked_ || pending_.size() >= commit_bytes; });
    flush_asked_ = false;
    if (!pending_.empty() && failure_.empty()) {
      Bytes batch;
      batch.swap(pending_);
      const std::uint64_t upto = appended_;
      lock.unlock();
      std::string error;
      try {
        write_all(fd_, batch.data(), batch.size());
        if (fdatasync(fd_) != 0) error = std::strerror(errno);
      } catch (const std::runtime_error& e) {
        error = e.what();
      }
      lock.lock();
      if (error.empty()) {
        durable_ = upto;
      } else {
        failure_ = error;
      }
    }
    written_.notify_all();
    if (stopping_ && (pending_.empty() || !failure_.empty())) return;
  }
}

}  // namespace mpp::detail
