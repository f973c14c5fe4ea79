// The master throws out of main while workers idle: the whole job must end, loudly.
#include <mpp/mpp.hpp>
#include <stdexcept>

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Pool pool;
  pool.apply([](int x) { return x; }, 1);
  throw std::runtime_error("the master failed on purpose");
}
