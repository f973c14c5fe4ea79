// Port of the seed's uneven cube(n) example (jobs/python/cube_serial_vs_pool.py): the cost of
// cube(n) grows with n; serial loop vs Pool(cpu_count() - 1).map over range(10000).
//   mpirun -np 3 build/jobs/cube_serial_vs_pool
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mpp/mpp.hpp>
#include <ranges>

#include "print.hpp"

std::uint64_t cube(int number) {
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(number); ++i) {
    total += i * i * i;
    asm volatile("" : "+r"(total));  // keep the loop a loop: the compiler would find the closed form
  }
  return total;
}

std::vector<std::uint64_t> cubing_multiprocess(int numbers) {
  const int cpus = mpp::cpu_count();
  const auto start = std::chrono::steady_clock::now();
  // Python's Pool(cpus - 1), bounded by the workers this job has.
  mpp::Pool p(std::clamp(cpus - 1, 1, mpp::Session::current().workers()));
  auto result = p.map(cube, std::views::iota(0, numbers));
  p.close();
  p.join();
  std::cout << "Multiprocess time:  " << jobs::seconds_since(start) << '\n';
  return result;
}

std::vector<std::uint64_t> cubing_serial(int numbers) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> result;
  for (int i = 0; i < numbers; ++i) result.push_back(cube(i));
  std::cout << "Serial time:  " << jobs::seconds_since(start) << '\n';
  return result;
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  std::cout << jobs::list(mpp::Pool(1).map(cube, std::views::iota(0, 5))) << '\n';
  const int number = 10000;
  const auto parallel = cubing_multiprocess(number);
  const auto serial = cubing_serial(number);
  std::cout << "same results: " << (parallel == serial ? "True" : "False") << " last: " << serial.back() << '\n';
}
