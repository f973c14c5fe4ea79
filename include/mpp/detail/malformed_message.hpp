#pragma once
// MalformedMessage: a message that does not decode (truncated, a size larger than the bytes
// there, an archive Boost cannot read, code outside any loaded module). Never trusted further:
// the rank that received it ends the job, naming the sender (end_job_on_malformed).
#include <stdexcept>

namespace mpp::detail {

class MalformedMessage : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mpp::detail
