#include "mpp/errors.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <typeinfo>
#include <variant>
#include <vector>

#include "mpp/detail/code_ref.hpp"
#include "mpp/detail/mpi_check.hpp"

namespace mpp {
namespace {

std::string describe(const std::string& type, const std::string& message, int rank, const std::string& host,
                     std::optional<std::uint64_t> item) {
  std::string text = message + " (" + type + " raised";
  if (item) text += " by item " + std::to_string(*item);
  text += " on rank " + std::to_string(rank) + ", host " + host + ")";
  return text;
}

}  // namespace

RemoteError::RemoteError(std::string type, std::string message, int rank, std::string host,
                         std::optional<std::uint64_t> item, std::string thrown_as)
    : type_(std::move(type)),
      message_(std::move(message)),
      rank_(rank),
      host_(std::move(host)),
      item_(item),
      thrown_as_(std::move(thrown_as)),
      description_(describe(type_, message_, rank_, host_, item_)) {}

namespace detail {
namespace {

/// The exception types that travel as themselves: the standard ones (bases first), mpp's
/// own, and those a program declares with MPP_REMOTE_EXCEPTION.
class RemoteTypes {
 public:
  static RemoteTypes& instance() {
    static RemoteTypes types;
    return types;
  }
  void add(RemoteType type) {
    std::lock_guard lock(mutex_);
    if (std::none_of(types_.begin(), types_.end(), [&](const RemoteType& t) { return t.name == type.name; }))
      types_.push_back(std::move(type));
  }
  std::optional<RemoteType> named(const std::string& name) {
    std::lock_guard lock(mutex_);
    const auto it = std::find_if(types_.begin(), types_.end(), [&](const RemoteType& t) { return t.name == name; });
    if (it == types_.end()) return std::nullopt;
    return *it;
  }
  std::vector<RemoteType> all() {
    std::lock_guard lock(mutex_);
    return types_;
  }

 private:
  RemoteTypes() {
    types_ = {remote_type_of<std::exception>(),
              remote_type_of<std::logic_error>(),
              remote_type_of<std::invalid_argument>(),
              remote_type_of<std::domain_error>(),
              remote_type_of<std::length_error>(),
              remote_type_of<std::out_of_range>(),
              remote_type_of<std::runtime_error>(),
              remote_type_of<std::range_error>(),
              remote_type_of<std::overflow_error>(),
              remote_type_of<std::underflow_error>(),
              remote_type_of<std::bad_alloc>(),
              remote_type_of<std::bad_array_new_length>(),
              remote_type_of<std::bad_cast>(),
              remote_type_of<std::bad_typeid>(),
              remote_type_of<std::bad_optional_access>(),
              remote_type_of<std::bad_variant_access>(),
              remote_type_of<std::bad_function_call>(),
              remote_type_of<std::bad_weak_ptr>(),
              remote_type_of<std::bad_exception>(),
              remote_type_of<UsageError>(),
              remote_type_of<TimeoutError>(),
              remote_type_of<TerminatedError>(),
              remote_type_of<CancelledError>(),
              remote_type_of<Empty>(),
              remote_type_of<Full>(),
              remote_type_of<EOFError>(),
              remote_type_of<BrokenPipeError>(),
              remote_type_of<KeyError>()};
  }

  std::mutex mutex_;
  std::vector<RemoteType> types_;
};

}  // namespace

void register_remote_type(RemoteType type) { RemoteTypes::instance().add(std::move(type)); }

std::string demangled_name_of(const std::type_info& type) { return demangled(type.name()); }

std::exception_ptr thrown_on_master(const RemoteError& error) {
  static const RemoteType fallback = remote_type_of<std::runtime_error>();
  const auto type = RemoteTypes::instance().named(error.thrown_as());
  return (type ? *type : fallback).thrown(error);
}

const RemoteError* remote_error_in(const std::exception_ptr& error) {
  if (!error) return nullptr;
  try {
    std::rethrow_exception(error);
  } catch (const RemoteError& remote) {
    return &remote;  // the exception object itself, alive as long as `error`
  } catch (...) {
    return nullptr;
  }
}

std::string travelling_type_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    const std::string own = demangled_name_of(typeid(e));
    if (RemoteTypes::instance().named(own)) return own;
  } catch (...) {
    return {};  // not a std::exception: it travels as std::runtime_error
  }
  // Its nearest registered base: of the types that catch it, the one every other catches too.
  std::vector<RemoteType> holding;
  for (auto& type : RemoteTypes::instance().all())
    if (type.holds(error)) holding.push_back(std::move(type));
  for (const auto& candidate : holding) {
    const auto sample = candidate.thrown(RemoteError("", "", 0, ""));
    if (std::all_of(holding.begin(), holding.end(), [&](const RemoteType& other) { return other.holds(sample); }))
      return candidate.name;
  }
  return {};
}

void throw_mpi_error(int code, const char* call) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string("mpp: ") + call + " failed: " + text);
}

}  // namespace detail
}  // namespace mpp
