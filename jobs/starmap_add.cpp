// Port of the seed's starmap example (jobs/python/starmap_add.py): add(x, y) over zip(a, b).
//   mpirun -np 5 build/jobs/starmap_add
#include <chrono>
#include <iostream>
#include <mpp/mpp.hpp>
#include <thread>
#include <tuple>

#include "print.hpp"

int add(int x, int y) {
  std::cout << x << " + " << y << " = " << x + y << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return x + y;
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const std::vector<int> a{0, 1, 2, 3};
  const std::vector<int> b{666, 233, 7, 8};
  std::vector<std::tuple<int, int>> zip_args;
  for (std::size_t i = 0; i < a.size(); ++i) zip_args.emplace_back(a[i], b[i]);

  mpp::Pool calculation(4);
  const auto start = std::chrono::steady_clock::now();
  const auto results = calculation.starmap(add, zip_args);
  calculation.close();
  calculation.join();
  std::cout << jobs::list(results) << '\n';
  std::cout << "calculation costs " << jobs::seconds_since(start) << " seconds.\n";
}
