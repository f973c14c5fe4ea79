// Misuse: a pointer points into this process's memory and cannot be sent.
#include <mpp/mpp.hpp>

#ifdef MPP_MISUSE
int read_it(const int* p) { return *p; }
#else
int read_it(int p) { return p; }
#endif

void use(mpp::Pool& pool) {
  static int value = 1;
#ifdef MPP_MISUSE
  pool.apply(read_it, &value);
#else
  pool.apply(read_it, value);
#endif
}
