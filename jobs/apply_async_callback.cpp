// Port of the seed's apply_async example (jobs/python/apply_async_callback.py): each task
// sleeps a random time; the callback appends results in completion order, on the master.
//   mpirun -np 5 build/jobs/apply_async_callback
#include <chrono>
#include <iostream>
#include <mpp/mpp.hpp>
#include <random>
#include <thread>

#include "print.hpp"

int square_x(int x) {
  std::cout << x << " squared is " << x * x << std::endl;
  std::mt19937 random(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::duration<double>(std::uniform_real_distribution<>(0, 1)(random)));
  return x * x;
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Pool calculation(4);
  std::vector<int> results;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i)
    calculation.apply_async(square_x, i, mpp::callback([&results](int r) { results.push_back(r); }));
  calculation.close();
  calculation.join();
  std::cout << jobs::list(results) << '\n';
  std::cout << "calculation costs " << jobs::seconds_since(start) << " seconds.\n";
}
