// Port of the seed's Array example (jobs/python/shared_array.py): six shared Arrays, each
// increased by 10 in its own task; the master then writes one element and prints them all.
//   mpirun -np 4 build/jobs/shared_array
#include <iostream>
#include <mpp/mpp.hpp>
#include <numeric>

#include "print.hpp"

void func(mpp::Array<int> array) {
  for (std::size_t i = 0; i < array.size(); ++i) array.fetch_add(i, 10);
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Pool pool;
  std::vector<mpp::Array<int>> array_list;
  std::vector<mpp::AsyncResult<void>> process_list;
  for (int i = 0; i < 6; ++i) {
    std::vector<int> initial(static_cast<std::size_t>(i));
    std::iota(initial.begin(), initial.end(), 0);
    array_list.emplace_back(initial);
    process_list.push_back(pool.apply_async(func, array_list.back()));
  }
  for (auto& process : process_list) process.get();
  array_list[2].set(0, 111);
  std::cout << array_list[2].get(0) << '\n';
  for (auto& array : array_list) std::cout << jobs::list(array.to_vector()) << ',';
  std::cout << '\n';
}
