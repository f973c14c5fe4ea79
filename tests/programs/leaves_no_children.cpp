// When the session ends, no child process it started is left running or unreaped: an isolated
// pool with more processes than workers, some of them hanging in a task and some idle; a
// crashed task's replacement; a daemon process still running; a daemon grandchild whose parent
// was terminated (so it never stopped its children). Each says its pid; after the session every
// pid must be gone (kill(pid, 0) fails with ESRCH, which a zombie would not), and `ps` shows any
// that is not.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mpp/mpp.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

int say_pid(mpp::Queue<int> pids, int item) {
  pids.put(static_cast<int>(::getpid()));
  if (item % 2 == 1) {
    for (;;) std::this_thread::sleep_for(1s);  // still running when the pool goes
  }
  return item;
}

int crash(int) {
  std::raise(SIGSEGV);
  return 0;
}

void run_forever(mpp::Queue<int> pids) {
  pids.put(static_cast<int>(::getpid()));
  for (;;) std::this_thread::sleep_for(1ms);
}

/// A (non-daemon: daemons have no children) process that starts a daemon grandchild and then
/// waits for good itself.
void start_grandchild(mpp::Queue<int> pids) {
  mpp::Process grandchild(run_forever, pids);
  grandchild.set_daemon(true);
  grandchild.start();
  run_forever(pids);
}

int main(int argc, char** argv) {
  std::vector<int> pids;
  {
    mpp::Session session(argc, argv);
    mpp::Queue<int> said;
    const int processes = 2 * session.workers() + 1;
    {
      mpp::Pool pool(mpp::PoolOptions{.processes = processes, .isolated = true});
      std::vector<mpp::AsyncResult<int>> results;
      for (int i = 0; i < processes; ++i) results.push_back(pool.apply_async(say_pid, said, i));
      for (int i = 0; i < processes; ++i) pids.push_back(said.get(60s));
      try {
        pool.apply(crash, 0);
      } catch (const mpp::RemoteError&) {
        // its replacement is started by the next batch and left idle
      }
    }  // the pool goes: hanging tasks are killed, idle children leave
    mpp::Process parent(start_grandchild, said);
    parent.start();
    pids.push_back(said.get(60s));
    pids.push_back(said.get(60s));
    parent.terminate();  // killed, it stops no children: its daemon child runs on
    parent.join();
    mpp::Process daemon(run_forever, said);
    daemon.set_daemon(true);
    daemon.start();
    pids.push_back(said.get(60s));
    std::printf("session ends with a daemon and an orphaned daemon grandchild running\n");
  }
  // The workers may still be tearing down: give each pid a few seconds.
  int left = 0;
  for (const int pid : pids) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (::kill(pid, 0) == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    if (::kill(pid, 0) == 0 || errno != ESRCH) {
      ++left;
      std::fflush(stdout);
      std::system(("ps -o pid,ppid,stat,args -p " + std::to_string(pid)).c_str());
    }
  }
  if (left == 0) std::printf("no child left: %zu pids checked\n", pids.size());
  return left == 0 ? 0 : 1;
}
