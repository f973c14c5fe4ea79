// At session end a daemon process is terminated and a non-daemon one is waited for, as
// Python does at interpreter exit; neither is left running, and the job ends promptly.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mpp/mpp.hpp>
#include <thread>

void run_forever(mpp::Queue<int> started) {
  started.put(static_cast<int>(::getpid()));
  for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void finish_later() {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::printf("non-daemon finished\n");
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  int daemon_pid = 0;
  {
    mpp::Session session(argc, argv);
    mpp::Queue<int> started;
    mpp::Process daemon(run_forever, started);
    daemon.set_daemon(true);
    daemon.start();
    daemon_pid = started.get();  // a daemon still waiting for a rank would just be cancelled
    mpp::Process regular(finish_later);
    regular.start();
    std::printf("master leaves the session without joining\n");
  }
  // One machine here: the daemon's child would still be visible if it outlived the session.
  if (::kill(daemon_pid, 0) != 0 && errno == ESRCH) std::printf("daemon ended with the session\n");
}
