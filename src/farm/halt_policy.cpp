#include "halt_policy.hpp"

#include <stdexcept>

namespace mpp::farm {
namespace {

[[noreturn]] void refuse(const std::string& text) {
  throw std::invalid_argument("--halt " + text +
                              ": expected never, or soon|now,fail|success|done=N or =N% (e.g. now,fail=1, "
                              "soon,fail=10%), as GNU parallel");
}

double number_of(const std::string& text, const std::string& whole) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    refuse(whole);
  }
  if (used != text.size() || value <= 0) refuse(whole);
  return value;
}

}  // namespace

HaltPolicy HaltPolicy::parse(const std::string& text) {
  HaltPolicy policy;
  if (text == "never" || text == "0") return policy;
  // GNU parallel's older spellings.
  if (text == "1" || text == "2" || text == "-1" || text == "-2") {
    policy.when = (text == "1" || text == "-1") ? When::soon : When::now;
    policy.count = text[0] == '-' ? Count::success : Count::fail;
    policy.threshold = 1;
    return policy;
  }
  if (!text.empty() && text.back() == '%' && text.find(',') == std::string::npos) {
    policy.when = When::soon;
    policy.percent = true;
    policy.threshold = number_of(text.substr(0, text.size() - 1), text);
    return policy;
  }
  const auto comma = text.find(',');
  const auto equals = text.find('=', comma);
  if (comma == std::string::npos || equals == std::string::npos) refuse(text);
  const std::string when = text.substr(0, comma);
  const std::string count = text.substr(comma + 1, equals - comma - 1);
  std::string value = text.substr(equals + 1);
  if (when == "soon") {
    policy.when = When::soon;
  } else if (when == "now") {
    policy.when = When::now;
  } else {
    refuse(text);
  }
  if (count == "fail") {
    policy.count = Count::fail;
  } else if (count == "success") {
    policy.count = Count::success;
  } else if (count == "done") {
    policy.count = Count::done;
  } else {
    refuse(text);
  }
  if (!value.empty() && value.back() == '%') {
    policy.percent = true;
    value.pop_back();
  }
  policy.threshold = number_of(value, text);
  if (policy.percent && policy.threshold > 100) refuse(text);
  return policy;
}

bool HaltPolicy::reached(std::size_t failed, std::size_t succeeded, std::size_t total) const {
  if (when == When::never) return false;
  const std::size_t counted = count == Count::fail ? failed : count == Count::success ? succeeded : failed + succeeded;
  if (counted == 0) return false;
  const double needed = percent ? threshold / 100.0 * static_cast<double>(total) : threshold;
  return static_cast<double>(counted) >= needed;
}

}  // namespace mpp::farm
