// Port of the Python documentation's Pool example (jobs/python/pool_tour.py), line for line.
//   mpirun -np 5 build/jobs/pool_tour
// One difference MPI imposes: leaving the block cannot kill the worker that sleeps 10 s, so
// the session waits for it before the job ends (a terminated pool's tasks finish, unseen).
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <mpp/mpp.hpp>
#include <ranges>
#include <thread>

#include "print.hpp"

int f(int x) { return x * x; }
void sleep_seconds(int seconds) { std::this_thread::sleep_for(std::chrono::seconds(seconds)); }

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  using namespace std::chrono_literals;
  {
    // start 4 worker processes
    mpp::Pool pool(4);

    // print "[0, 1, 4,..., 81]"
    std::cout << jobs::list(pool.map(f, std::views::iota(0, 10))) << '\n';

    // print same numbers in arbitrary order
    for (int i : pool.imap_unordered(f, std::views::iota(0, 10))) std::cout << i << '\n';

    // evaluate "f(20)" asynchronously
    auto res = pool.apply_async(f, 20);  // runs in *only* one process
    std::cout << res.get(1s) << '\n';    // prints "400"

    // evaluate "getpid()" asynchronously
    auto pid = pool.apply_async(::getpid);  // runs in *only* one process
    std::cout << pid.get(1s) << '\n';       // prints the PID of that process

    // launching multiple evaluations asynchronously *may* use more processes
    std::vector<mpp::AsyncResult<pid_t>> multiple_results;
    for (int i = 0; i < 4; ++i) multiple_results.push_back(pool.apply_async(::getpid));
    std::vector<pid_t> pids;
    for (auto& r : multiple_results) pids.push_back(r.get(1s));
    std::cout << jobs::list(pids) << '\n';

    // make a single worker sleep for 10 secs
    auto sleeping = pool.apply_async(sleep_seconds, 10);
    try {
      sleeping.get(1s);
    } catch (const mpp::TimeoutError&) {
      std::cout << "We lacked patience and got a multiprocessing.TimeoutError\n";
    }

    std::cout << "For the moment, the pool remains available for more work\n";
  }
  // exiting the block has stopped the pool
  std::cout << "Now the pool is closed and no longer available" << std::endl;
}
