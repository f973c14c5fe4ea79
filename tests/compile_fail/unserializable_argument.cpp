// Misuse: an argument type with no way to serialize it.
#include <memory>
#include <mpp/mpp.hpp>

struct Handle {
  std::unique_ptr<int> resource;
#ifndef MPP_MISUSE
  template <class Archive>
  void serialize(Archive&, unsigned) {}
#endif
};
int use_handle(Handle) { return 0; }

void use(mpp::Pool& pool) { pool.apply_async(use_handle, Handle{}); }
