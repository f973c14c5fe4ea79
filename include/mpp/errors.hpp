#pragma once
// The exceptions mpp throws. A task's failure on a worker comes back as RemoteError;
// misuse of the API is a UsageError (a std::logic_error, like Python's ValueError for
// "Pool not running"); waiting too long is a TimeoutError.
//
//   try { pool.map(parse, files); }
//   catch (const mpp::RemoteError& e) { std::cerr << e.what(); }  // message, type, rank, host, item
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace mpp {

/// An exception thrown by a task on a worker rank, carried back to the master.
class RemoteError : public std::runtime_error {
 public:
  RemoteError(std::string type, std::string message, int rank, std::string host,
              std::optional<std::uint64_t> item = std::nullopt);

  /// The demangled type of the original exception, e.g. "std::invalid_argument".
  const std::string& type() const noexcept { return type_; }
  /// The original exception's what().
  const std::string& message() const noexcept { return message_; }
  /// The rank that ran the task and its host name.
  int rank() const noexcept { return rank_; }
  const std::string& host() const noexcept { return host_; }
  /// For map/starmap/imap: the index of the input item whose call threw.
  std::optional<std::uint64_t> item() const noexcept { return item_; }

 private:
  std::string type_;
  std::string message_;
  int rank_;
  std::string host_;
  std::optional<std::uint64_t> item_;
};

/// AsyncResult::get(timeout) ran out of time; the task itself keeps running, as in Python.
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The pool was terminated before this task finished; its result will never come.
class TerminatedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Future::result() or exception() of a future that was cancelled before its task ran.
class CancelledError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The API was used in a way it does not allow (submit after close(), join() before close(),
/// successful() before ready(), too few ranks). The message says what to do instead.
class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Queue::get(timeout) / get_nowait() found no item (Python's queue.Empty).
class Empty : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Queue::put(x, timeout) / put_nowait() found a bounded queue full (Python's queue.Full).
class Full : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Connection::recv() when nothing is left to receive and the other end is closed.
class EOFError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Connection::send() to an end that was closed.
class BrokenPipeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// DictProxy::get(key) for a key the dict does not hold (Python's KeyError).
class KeyError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

}  // namespace mpp
