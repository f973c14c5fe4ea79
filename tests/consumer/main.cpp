#include <iostream>
#include <mpp/mpp.hpp>

int square(int x) { return x * x; }

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Pool pool;
  const auto squares = pool.map(square, std::vector<int>{1, 2, 3});
  std::cout << "consumer " << squares[0] + squares[1] + squares[2] << std::endl;
}
