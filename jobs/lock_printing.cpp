// Port of the seed's ten processes printing under a Lock (jobs/python/lock_printing.py): with
// the lock they print one at a time, each holding it while it sleeps; without it they print
// together. Each records when it held the screen, so the run shows whether prints overlapped.
//   mpirun -np 3 build/jobs/lock_printing [SLEEP_SECONDS]     (the seed sleeps 1 s; default 0.2)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mpp/mpp.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using Span = std::pair<double, double>;  // when a process started and stopped printing, in seconds

double monotonic() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string wall_clock_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", std::localtime(&seconds));
  char out[80];
  std::snprintf(out, sizeof out, "%s.%03lld", text, static_cast<long long>(ms));
  return out;
}

void print_and_sleep(int i, double sleep, mpp::ListProxy<Span> spans) {
  const double start = monotonic();
  std::printf("hello world %d %s\n", i, wall_clock_now().c_str());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::duration<double>(sleep));
  spans.append({start, monotonic()});
}

void f(mpp::Lock l, int i, double sleep, mpp::ListProxy<Span> spans) {
  std::lock_guard hold(l);
  print_and_sleep(i, sleep, spans);
}

void g(int i, double sleep, mpp::ListProxy<Span> spans) { print_and_sleep(i, sleep, spans); }

int most_at_once(const std::vector<Span>& spans) {
  std::vector<std::pair<double, int>> events;
  for (const auto& [s, e] : spans) {
    events.emplace_back(s, 1);
    events.emplace_back(e, -1);
  }
  std::sort(events.begin(), events.end());
  int now = 0;
  int best = 0;
  for (const auto& event : events) best = std::max(best, now += event.second);
  return best;
}

template <class Target, class... Args>
void run_ten(const char* label, mpp::Manager& manager, double sleep, Target target, Args... args) {
  auto spans = manager.list<Span>();
  std::vector<mpp::Process> ps;
  for (int num = 0; num < 10; ++num) ps.emplace_back(target, args..., num, sleep, spans);
  for (auto& p : ps) p.start();
  for (auto& p : ps) p.join();
  std::printf("%s: %zu prints, at most %d at once\n", label, spans.size(), most_at_once(spans.to_vector()));
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  const double sleep = argc > 1 ? std::atof(argv[1]) : 0.2;
  mpp::Manager manager;
  mpp::Lock lock;
  run_ten("with the lock", manager, sleep, f, lock);
  run_ten("without the lock", manager, sleep, g);
}
