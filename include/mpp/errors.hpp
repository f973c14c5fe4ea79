#pragma once
// The exceptions mpp throws. A task's failure on a worker comes back as the type it was thrown
// as, which is also a RemoteError; misuse of the API is a UsageError (a std::logic_error, like
// Python's ValueError for "Pool not running"); waiting too long is a TimeoutError.
//
//   try { pool.map(parse, files); }
//   catch (const std::invalid_argument& e) { ... }                 // as the task threw it
//   catch (const mpp::RemoteError& e) { std::cerr << e.what(); }  // any task's failure: type, rank, host, item
//
// Standard exception types travel as themselves; a program's own opt in with one line next
// to the type: MPP_REMOTE_EXCEPTION(my::ParseError). Others arrive as their nearest such base
// (a std::exception at least), non-standard ones as std::runtime_error.
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace mpp {

/// An exception thrown by a task on a worker rank, carried back to the master. What is thrown
/// there is an mpp::Remote<E>: both the original's type E and a RemoteError. RemoteError is not
/// itself a std::exception, so a Remote<E> has exactly one (E's) and `catch (const
/// std::exception&)` catches it unambiguously.
class RemoteError {
 public:
  RemoteError(std::string type, std::string message, int rank, std::string host,
              std::optional<std::uint64_t> item = std::nullopt, std::string thrown_as = {});
  virtual ~RemoteError() = default;
  RemoteError(const RemoteError&) = default;
  RemoteError& operator=(const RemoteError&) = default;

  /// The message, the original type, the item, the rank and the host in one line.
  const char* what() const noexcept { return description_.c_str(); }
  /// The demangled type of the original exception, e.g. "std::invalid_argument".
  const std::string& type() const noexcept { return type_; }
  /// The original exception's what().
  const std::string& message() const noexcept { return message_; }
  /// The rank that ran the task and its host name.
  int rank() const noexcept { return rank_; }
  const std::string& host() const noexcept { return host_; }
  /// For map/starmap/imap: the index of the input item whose call threw.
  std::optional<std::uint64_t> item() const noexcept { return item_; }
  /// The type it is thrown as on the master: type() itself when that travels (a standard
  /// type or one declared with MPP_REMOTE_EXCEPTION), else its nearest base that does.
  const std::string& thrown_as() const noexcept { return thrown_as_; }

 private:
  std::string type_;
  std::string message_;
  int rank_;
  std::string host_;
  std::optional<std::uint64_t> item_;
  std::string thrown_as_;
  std::string description_;
};

/// A task's exception as the master throws it: catchable as E and as RemoteError; what() is
/// the RemoteError's (message, type, rank, host, item).
template <class E>
class Remote final : public E, public RemoteError {
  static_assert(std::is_base_of_v<std::exception, E>, "mpp: a remote exception type must derive from std::exception");

 public:
  explicit Remote(const RemoteError& error) : E(base_of(error)), RemoteError(error) {}
  const char* what() const noexcept override { return RemoteError::what(); }

 private:
  static E base_of(const RemoteError& error) {
    if constexpr (std::is_constructible_v<E, const std::string&>) {
      return E(error.message());
    } else {
      return E();
    }
  }
};

namespace detail {

/// What the registry of exception types that travel knows of one.
struct RemoteType {
  std::string name;                                  // demangled, as RemoteError::type() says it
  bool (*holds)(const std::exception_ptr&);          // whether it catches the exception
  std::exception_ptr (*thrown)(const RemoteError&);  // the Remote<E> to throw on the master
};
void register_remote_type(RemoteType type);
std::string demangled_name_of(const std::type_info& type);

/// E's entry in the registry; the checks say what a type needs to travel.
template <class E>
RemoteType remote_type_of() {
  static_assert(std::is_base_of_v<std::exception, E>,
                "mpp: MPP_REMOTE_EXCEPTION(T): T must derive from std::exception to travel as itself");
  static_assert(!std::is_final_v<E>,
                "mpp: MPP_REMOTE_EXCEPTION(T): T must not be final (the master throws a class derived from it)");
  static_assert(std::is_constructible_v<E, const std::string&> || std::is_default_constructible_v<E>,
                "mpp: MPP_REMOTE_EXCEPTION(T): T needs a constructor from std::string (its message) or a default one");
  static_assert(std::is_copy_constructible_v<E>, "mpp: MPP_REMOTE_EXCEPTION(T): T must be copyable, as exceptions are");
  return RemoteType{demangled_name_of(typeid(E)),
                    [](const std::exception_ptr& error) {
                      try {
                        std::rethrow_exception(error);
                      } catch (const E&) {
                        return true;
                      } catch (...) {
                        return false;
                      }
                    },
                    [](const RemoteError& error) { return std::make_exception_ptr(Remote<E>(error)); }};
}

template <class E>
bool register_remote_exception() {
  register_remote_type(remote_type_of<E>());
  return true;
}

/// The exception to throw on the master for a task's failure: a Remote<E> of its thrown_as() type.
std::exception_ptr thrown_on_master(const RemoteError& error);
/// The RemoteError inside `error` (the very object rethrowing it throws), or null if none.
const RemoteError* remote_error_in(const std::exception_ptr& error);
/// The type name `error` travels as: its own when registered, else its nearest registered base.
std::string travelling_type_of(const std::exception_ptr& error);

}  // namespace detail

/// Lets a task's exception of type T reach the master as T (catch (const T&) works there).
/// One line at namespace scope, next to the type, in any file of the program.
#define MPP_REMOTE_EXCEPTION(...) MPP_REMOTE_EXCEPTION_AT(__COUNTER__, __VA_ARGS__)
#define MPP_REMOTE_EXCEPTION_AT(counter, ...) MPP_REMOTE_EXCEPTION_NAMED(counter, __VA_ARGS__)
#define MPP_REMOTE_EXCEPTION_NAMED(counter, ...)                      \
  [[maybe_unused]] static const bool mpp_remote_exception_##counter = \
      ::mpp::detail::register_remote_exception<__VA_ARGS__>()

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

/// Queue::put after Queue::shutdown(), or get once a shut-down queue is empty (Python 3.13's
/// queue.ShutDown).
class ShutDown : public std::runtime_error {
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

/// Connection::recv_bytes_into(buffer) with a buffer too short for the message, or
/// recv_bytes(maxlength) with a longer message (Python's multiprocessing.BufferTooShort). The
/// message is not lost: received() holds it whole (Python's e.args[0]).
class BufferTooShort : public std::runtime_error {
 public:
  BufferTooShort(const std::string& what, std::string received)
      : std::runtime_error(what), received_(std::move(received)) {}
  const std::string& received() const { return received_; }

 private:
  std::string received_;
};

/// ListProxy::remove(x) / index(x) for a value the list does not hold (Python's ValueError).
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// DictProxy::get(key) for a key the dict does not hold (Python's KeyError).
class KeyError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

}  // namespace mpp
