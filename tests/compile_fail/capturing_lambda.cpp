// Misuse: a lambda with captures cannot run on another rank.
#include <mpp/mpp.hpp>

void use(mpp::Pool& pool, const std::vector<int>& xs) {
#ifdef MPP_MISUSE
  int offset = 3;
  pool.map([offset](int x) { return x + offset; }, xs);
#else
  pool.map([](int x) { return x + 3; }, xs);
#endif
}
