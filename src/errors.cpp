#include "mpp/errors.hpp"

#include <string>

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
                         std::optional<std::uint64_t> item)
    : std::runtime_error(describe(type, message, rank, host, item)),
      type_(std::move(type)),
      message_(std::move(message)),
      rank_(rank),
      host_(std::move(host)),
      item_(item) {}

namespace detail {

void throw_mpi_error(int code, const char* call) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string("mpp: ") + call + " failed: " + text);
}

}  // namespace detail
}  // namespace mpp
