#include "mpp/detail/shipped_call.hpp"

namespace mpp::detail {

void ShippedCall::run() const {
  Writer results;  // an action's result, if it has one, is not wanted
  std::uint64_t item = 0;
  TaskCall call{function, Reader(args), results, item};
  reinterpret_cast<Invoker>(invoker.resolve())(call);
}

}  // namespace mpp::detail
