#pragma once
// SessionBound: which Session a handle (a shared object, a pool, a result) belongs to.
// Handles point into their session's memory and engine; once that session has ended, using
// one throws mpp::UsageError instead of touching freed memory, and letting one go does nothing.
// Sessions are numbered, so a handle from an ended session never acts on a later one.
#include <cstdint>

namespace mpp::detail {

/// The running session's number, 0 when none runs.
std::uint64_t running_session_id();

class SessionBound {
 public:
  SessionBound() : id_(running_session_id()) {}

  bool alive() const { return id_ != 0 && id_ == running_session_id(); }
  /// Throws mpp::UsageError naming `what` when its session has ended.
  void require(const char* what) const {
    if (!alive()) throw_ended(what);
  }

 private:
  [[noreturn]] static void throw_ended(const char* what);
  std::uint64_t id_;
};

/// A pointer to something the running session owns (its engine): dereferencing it after that
/// session ended throws mpp::UsageError naming `what` instead of reading freed memory.
template <class T>
class SessionPtr {
 public:
  SessionPtr(T& target, const char* what) : target_(&target), what_(what) {}
  T& operator*() const {
    session_.require(what_);
    return *target_;
  }
  T* operator->() const { return &**this; }
  bool alive() const { return session_.alive(); }

 private:
  T* target_;
  const char* what_;
  SessionBound session_;
};

}  // namespace mpp::detail
