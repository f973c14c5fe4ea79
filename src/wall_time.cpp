#include "mpp/detail/wall_time.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "mpp/detail/settings.hpp"

namespace mpp::detail {
namespace {

using SystemClock = std::chrono::system_clock;

std::optional<SystemClock::time_point> from_unix_seconds(std::int64_t seconds) {
  if (seconds <= 0) return std::nullopt;
  return SystemClock::time_point(std::chrono::seconds(seconds));
}

/// squeue's end time of the job ("2026-11-21T14:03:00", local time), or nullopt.
std::optional<SystemClock::time_point> ask_squeue(const char* job_id) {
  for (const char* c = job_id; *c; ++c)
    if (*c < '0' || *c > '9') return std::nullopt;  // it goes into a shell command
  const std::string command = std::string("squeue -h -j ") + job_id + " -o %e 2>/dev/null";
  std::FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return std::nullopt;
  char line[128] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  pclose(pipe);
  std::tm when{};
  if (!got || !strptime(line, "%Y-%m-%dT%H:%M:%S", &when)) return std::nullopt;  // "N/A", "Unknown", nothing
  when.tm_isdst = -1;
  const std::time_t end = std::mktime(&when);
  return end == -1 ? std::nullopt : from_unix_seconds(end);
}

std::optional<SystemClock::time_point> find_job_end() {
  if (std::getenv("MPP_JOB_END_TIME")) return from_unix_seconds(env_integer("MPP_JOB_END_TIME", 0, 1, INT64_MAX));
  if (std::getenv("SLURM_JOB_END_TIME")) return from_unix_seconds(env_integer("SLURM_JOB_END_TIME", 0, 0, INT64_MAX));
  if (const char* job = std::getenv("SLURM_JOB_ID")) return ask_squeue(job);
  return std::nullopt;
}

std::atomic<const std::atomic<std::size_t>*> watched_pool_tasks{nullptr};
volatile std::sig_atomic_t signalled = 0;

extern "C" void on_wind_down_signal(int signal) {
  const auto* pool_tasks = watched_pool_tasks.load();
  if (signalled || !pool_tasks || pool_tasks->load() == 0) {
    // Nothing to wind down, or asked twice: what the signal would do without mpp.
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  signalled = 1;
}

}  // namespace

std::optional<SystemClock::time_point> job_end_time() {
  static const auto end = find_job_end();
  return end;
}

std::optional<std::chrono::seconds> wall_time_margin_setting() {
  if (!std::getenv("MPP_WALLTIME_MARGIN")) return std::nullopt;
  return std::chrono::seconds(env_integer("MPP_WALLTIME_MARGIN", 0, 0, 86400 * 365));
}

void watch_wind_down_signals(const std::atomic<std::size_t>* pool_tasks) {
  watched_pool_tasks = pool_tasks;
  struct sigaction action {};
  action.sa_handler = on_wind_down_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signal : {SIGUSR1, SIGTERM}) {
    struct sigaction current {};
    sigaction(signal, nullptr, &current);
    // A program (or the MPI code embedding mpp) that handles the signal itself keeps it.
    if (current.sa_handler == SIG_DFL || current.sa_handler == on_wind_down_signal) sigaction(signal, &action, nullptr);
  }
}

bool wind_down_signalled() { return signalled != 0; }

void ignore_wind_down_signal() { std::signal(SIGUSR1, SIG_IGN); }

}  // namespace mpp::detail
