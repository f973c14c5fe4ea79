// At session end a daemon process is asked to stop and a non-daemon one is waited for, as
// Python does at interpreter exit; neither is left running, and the job ends promptly.
#include <chrono>
#include <cstdio>
#include <mpp/mpp.hpp>
#include <thread>

void spin_until_stopped(mpp::Queue<int> started) {
  started.put(1);
  while (!mpp::stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::printf("daemon stopped on request\n");
  std::fflush(stdout);
}

void finish_later() {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::printf("non-daemon finished\n");
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Queue<int> started;
  mpp::Process daemon(spin_until_stopped, started);
  daemon.set_daemon(true);
  daemon.start();
  started.get();  // a daemon still waiting for a rank would just be cancelled
  mpp::Process regular(finish_later);
  regular.start();
  std::printf("master leaves main without joining\n");
}
