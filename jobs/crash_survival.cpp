// A parameter sweep in which 1% of the items crash their task with a null write — the kind of
// bug a simulation code meets at a corner of its parameter space. In an isolated pool each
// crash fails its own item only: the sweep finishes with every other result and a table of
// the failures. (In a pool that is not isolated, the first crash would end the MPI job.)
//   mpirun -np 3 build/jobs/crash_survival [items]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mpp/mpp.hpp>
#include <string>
#include <vector>

#include "print.hpp"

namespace {

/// A stand-in for a simulation: ~0.2 ms of arithmetic, and a crash for one item in a hundred.
double simulate(int parameter) {
  if (parameter % 100 == 37) {
    volatile int* nowhere = nullptr;
    *nowhere = parameter;  // the bug: a null write, SIGSEGV
  }
  double x = parameter;
  for (int i = 0; i < 20000; ++i) x = std::sin(x) + 1e-3 * parameter;
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const int items = argc > 1 ? std::atoi(argv[1]) : 2000;

  std::vector<int> parameters(static_cast<std::size_t>(items));
  for (int i = 0; i < items; ++i) parameters[i] = i;

  const auto start = std::chrono::steady_clock::now();
  mpp::Pool pool(mpp::PoolOptions{.isolated = true});
  auto results = pool.imap_unordered(simulate, parameters);
  std::size_t finished = 0;
  std::map<std::uint64_t, mpp::RemoteError> failures;
  for (;;) {
    try {
      if (!results.next()) break;
      ++finished;
    } catch (const mpp::RemoteError& e) {
      failures.emplace(e.item().value_or(0), e);
    }
  }
  pool.close();
  pool.join();

  std::cout << finished << " of " << items << " items finished, " << failures.size() << " failed, in "
            << jobs::seconds_since(start) << " s on " << pool.size() << " workers\n";
  if (!failures.empty()) {
    std::printf("%6s  %4s  %-12s  %s\n", "item", "rank", "host", "how it ended");
    for (const auto& [item, e] : failures)
      std::printf("%6llu  %4d  %-12s  %s: %s\n", static_cast<unsigned long long>(item), e.rank(), e.host().c_str(),
                  e.type().c_str(), e.message().c_str());
  }
  return finished + failures.size() == parameters.size() ? 0 : 1;
}
