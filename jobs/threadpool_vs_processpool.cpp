// Port of the seed's "ThreadPool vs ProcessPool" examples (jobs/python/threadpool_vs_processpool.py):
// Pool(8, initializer=func), Pool(8) with four apply_async, ProcessPoolExecutor(max_workers=8)
// with eight submit and with initializer=func, then ThreadPool and ThreadPoolExecutor.
// Each func prints five lines, sleeping between them (1 s as in the seed; argv[1] changes it).
// Eight processes on any launch, as Python starts them: isolated pools run them as child
// processes of the workers.
//   build/jobs/threadpool_vs_processpool            (alone: it spawns its workers)
//   mpirun -np 3 build/jobs/threadpool_vs_processpool 0.1
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mpp/mpp.hpp>
#include <thread>

namespace {

double pause_seconds = 1.0;

void func() {
  for (int j = 11; j < 16; ++j) {
    std::printf("%s %d\n", mpp::current_process().name.c_str(), j);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(pause_seconds));
  }
}

void thread_func() {
  for (int j = 11; j < 16; ++j) {
    std::printf("%s %d\n", mpp::current_thread_name().c_str(), j);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(pause_seconds));
  }
}

void say(const char* what) {
  std::printf("%s\n", what);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) pause_seconds = std::atof(argv[1]);  // before the Session: the workers read it too
  mpp::Session session(argc, argv);
  const mpp::PoolOptions eight{.processes = 8, .isolated = true};

  say("Pool(8, initializer=func): 8 processes start at once");
  {
    mpp::Pool po(eight, func);
    po.close();
    po.join();
  }

  say("Pool(8) with four apply_async: 4 run");
  {
    mpp::Pool po(eight);
    for (int i = 0; i < 4; ++i) po.apply_async(func);
    po.close();
    po.join();
  }

  say("ProcessPoolExecutor(max_workers=8) with eight submit");
  {
    mpp::ProcessPoolExecutor executor(eight);
    for (int i = 0; i < 8; ++i) executor.submit(func);
  }  // the destructor is shutdown(true)

  say("ProcessPoolExecutor(max_workers=8, initializer=func)");
  { mpp::ProcessPoolExecutor executor(eight, func); }

  say("ThreadPool(8, initializer=func): 8 threads start at once");
  {
    mpp::ThreadPool po(8, thread_func);
    po.close();
    po.join();
  }

  say("ThreadPool(8) with four apply_async: 4 run");
  {
    mpp::ThreadPool po(8);
    for (int i = 0; i < 4; ++i) po.apply_async(thread_func);
    po.close();
    po.join();
  }

  say("ThreadPoolExecutor(max_workers=8) with eight submit");
  {
    mpp::ThreadPoolExecutor executor(8);
    for (int i = 0; i < 8; ++i) executor.submit(thread_func);
  }
}
