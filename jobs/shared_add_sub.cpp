// Port of the seed's add/sub race (jobs/python/shared_add_sub.py): two tasks add and subtract
// 10, fifty times each, on one shared Value. Without the lock, read-modify-write steps of the
// two ranks interleave and updates are lost; with the Value's lock the result is 1000.
//   mpirun -np 3 build/jobs/shared_add_sub
#include <chrono>
#include <iostream>
#include <mpp/mpp.hpp>
#include <mutex>
#include <thread>

int add(mpp::Value<int> x, bool use_lock) {
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (use_lock) {
      std::lock_guard<mpp::Lock> hold(x.get_lock());
      x.set(x.get() + 10);
    } else {
      const int seen = x.get();
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // Python's interpreter is this slow
      x.set(seen + 10);
    }
  }
  return x.get();
}

int sub(mpp::Value<int> x, bool use_lock) {
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (use_lock) {
      std::lock_guard<mpp::Lock> hold(x.get_lock());
      x.set(x.get() - 10);
    } else {
      const int seen = x.get();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      x.set(seen - 10);
    }
  }
  return x.get();
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Pool pool(2);
  for (bool use_lock : {false, true}) {
    mpp::Value<int> x(1000);
    auto a = pool.apply_async(add, x, use_lock);
    auto s = pool.apply_async(sub, x, use_lock);
    a.get();
    s.get();
    std::cout << (use_lock ? "with the lock: " : "without a lock: ") << x.get() << '\n';
  }
}
