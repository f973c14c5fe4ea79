// Port of the seed's square_x example (jobs/python/square_x.py): a serial loop, then
// Pool(4).map; each call sleeps 1 s, so the pool finishes in ~1 s instead of ~4 s.
//   mpirun -np 5 build/jobs/square_x        (the master plus Pool(processes=4))
#include <chrono>
#include <iostream>
#include <mpp/mpp.hpp>
#include <ranges>
#include <thread>

#include "print.hpp"

int square_x(int x) {
  std::cout << x << " squared is " << x * x << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return x * x;
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);

  std::vector<int> results;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) results.push_back(square_x(i));
  std::cout << jobs::list(results) << '\n';
  std::cout << "serial calculation costs " << jobs::seconds_since(start) << " seconds.\n";

  mpp::Pool calculation(4);
  start = std::chrono::steady_clock::now();
  results = calculation.map(square_x, std::views::iota(0, 4));
  calculation.close();
  calculation.join();
  std::cout << jobs::list(results) << '\n';
  std::cout << "calculation costs " << jobs::seconds_since(start) << " seconds.\n";
}
