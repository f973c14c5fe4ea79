// A session and one task; built twice with different code (MPP_VARIANT) for the mixed-binary test.
#include <iostream>
#include <mpp/mpp.hpp>

#ifdef MPP_VARIANT
int padding(int x) { return x * 3 + 1; }  // makes this binary's layout differ
#endif

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Pool pool;
  std::cout << "result " << pool.apply([](int x) { return x * 2; }, 21) << std::endl;
}
