// Misuse: a result type that cannot travel back.
#include <memory>
#include <mpp/mpp.hpp>

#ifdef MPP_MISUSE
std::unique_ptr<int> make(int x) { return std::make_unique<int>(x); }
#else
int make(int x) { return x; }
#endif

void use(mpp::Pool& pool, const std::vector<int>& xs) { pool.map(make, xs); }
