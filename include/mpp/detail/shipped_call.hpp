#pragma once
// ShippedCall: f(args...) packed so that any rank (or a child process) can run it later — a
// Barrier's action, which runs on whichever rank arrives last.
#include <boost/serialization/vector.hpp>
#include <cstdint>
#include <utility>

#include "mpp/detail/shipping.hpp"

namespace mpp::detail {

struct ShippedCall {
  CodeRef invoker;   // invoke_apply for f's type and its arguments' wire types
  CodeRef function;  // f itself (empty for a captureless lambda, rebuilt from its type)
  Bytes args;        // the arguments, serialized when the call was packed

  template <class F, class... Args>
  static ShippedCall of(F f, Args&&... args) {
    using Wire = wire_args_t<F, Args...>;
    check_shippable<F>();
    check_sendable_tuple<Wire>();
    Writer out;
    out.write(Wire(std::forward<Args>(args)...));
    return {invoker_ref<&invoke_apply<F, Wire>>(), function_ref(f), std::move(out.bytes())};
  }

  /// No call was packed (a default ShippedCall).
  bool empty() const { return invoker == CodeRef{}; }
  /// Runs the call here; its exception, if any, propagates.
  void run() const;

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& invoker.module& invoker.offset& function.module& function.offset& args;
  }
};

}  // namespace mpp::detail
