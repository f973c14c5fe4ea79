// Port of the seed's 60-Values example (jobs/python/sixty_values.py): sixty Values, each
// incremented by its own task; prints 1,2,...,60,
//   mpirun -np 5 build/jobs/sixty_values
#include <iostream>
#include <mpp/mpp.hpp>

void func(mpp::Value<int> num) { num.fetch_add(1); }

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Pool pool;
  std::vector<mpp::Value<int>> num_list;
  std::vector<mpp::AsyncResult<void>> process_list;
  for (int i = 0; i < 60; ++i) {
    num_list.emplace_back(i);
    process_list.push_back(pool.apply_async(func, num_list[static_cast<std::size_t>(i)]));
  }
  for (auto& process : process_list) process.get();
  for (auto& num : num_list) std::cout << num.get() << ',';
  std::cout << '\n';
}
