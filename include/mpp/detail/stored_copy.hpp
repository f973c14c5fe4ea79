#pragma once
// Reading a value that stays where it is stored (a Manager container's get): a Queue or a pipe
// end decoded from it is a new copy, which must take a claim of its own. The claim the stored
// bytes carry stays with them, so the object lives as long as the container holds it
// (CPython's test_nested_queue).
namespace mpp::detail {

class DecodingStoredCopy {
 public:
  DecodingStoredCopy() { ++depth(); }
  ~DecodingStoredCopy() { --depth(); }
  DecodingStoredCopy(const DecodingStoredCopy&) = delete;
  DecodingStoredCopy& operator=(const DecodingStoredCopy&) = delete;

  /// Whether this thread is decoding such a copy now.
  static bool active() { return depth() > 0; }

 private:
  static int& depth() {
    thread_local int count = 0;
    return count;
  }
};

}  // namespace mpp::detail
