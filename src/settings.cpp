#include "mpp/detail/settings.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "mpp/errors.hpp"

namespace mpp::detail {

std::int64_t env_integer(const char* name, std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const char* text = std::getenv(name);
  if (!text) return fallback;
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  const bool whole_number =
      end != text && *end == '\0' && errno == 0 && !std::isspace(static_cast<unsigned char>(text[0]));
  if (!whole_number || value < min || value > max)
    throw UsageError(std::string("mpp: environment variable ") + name + "=" + text +
                     " is not valid: it must be a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max) + " (unset it to use the default, " + std::to_string(fallback) + ")");
  return value;
}

}  // namespace mpp::detail
