#pragma once
// A code address that means the same thing on every rank.
//
// All ranks run the same executable, but ASLR loads it (and each shared library) at a different
// base in each process. The offset of a function inside its module, plus which module, is the
// same everywhere: that pair is what travels. Modules are named by a hash of their path
// (the main program's is the empty path), so shared libraries work too.
#include <cstdint>
#include <string>

namespace mpp::detail {

struct CodeRef {
  std::uint64_t module = 0;  // hash of the module's path
  std::uint64_t offset = 0;  // address minus the module's load address

  /// The reference for a code address in this process; throws if no loaded module holds it.
  static CodeRef of(const void* code);
  /// The address in this process; throws MalformedMessage unless it is code of a loaded module.
  void* resolve() const;

  friend bool operator==(const CodeRef&, const CodeRef&) = default;
};

template <class Fn>
const void* code_address(Fn* function) {
  return reinterpret_cast<const void*>(function);
}

/// A fingerprint of the main executable (its load layout and build id): equal on every rank
/// exactly when every rank runs the same binary.
std::uint64_t executable_fingerprint();

/// A type's readable name from its typeid name ("std::invalid_argument").
std::string demangled(const char* name);

}  // namespace mpp::detail
