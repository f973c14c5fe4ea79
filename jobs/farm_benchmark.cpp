// mpp-farm against GNU parallel, in one run, on this machine's cores:
//   build/jobs/farm_benchmark [TRUE_TASKS=5000] [SLEEP_TASKS=1000] [ROUNDS=3]
// Workloads: TRUE_TASKS tasks of `true`, SLEEP_TASKS of `sleep 0.01`, both tools running as many
// at once as the machine has cores (parallel -j CORES; mpp-farm on CORES worker ranks, -j 1).
// Rates count from the first task's start to the last one's end, read from each tool's
// --joblog (the same columns in both); the tools' start-up and exit (Perl; mpirun and MPI) are
// the rest of the wall time, shown apart. The floor is this program starting `/bin/sh -c true`
// itself (posix_spawn + wait), CORES at once: no scheduler starts shell commands faster.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

/// One tool's run: its wall time, and the span from its first task's start to its last's end.
struct Run {
  double wall = 0;
  double span = 0;
  std::size_t tasks = 0;
};

Run run_with_joblog(const std::string& command, const std::string& joblog) {
  std::remove(joblog.c_str());
  const auto start = Clock::now();
  const int status = std::system(command.c_str());
  Run run;
  run.wall = std::chrono::duration<double>(Clock::now() - start).count();
  if (status != 0) {
    std::cerr << "farm_benchmark: failed (status " << status << "): " << command << '\n';
    std::exit(1);
  }
  std::ifstream in(joblog);
  std::string line;
  std::getline(in, line);  // the column names
  double first = 1e300;
  double last = 0;
  std::string seq, host;
  double started = 0, runtime = 0;
  while (in >> seq >> host >> started >> runtime && std::getline(in, line)) {
    first = std::min(first, started);
    last = std::max(last, started + runtime);
    ++run.tasks;
  }
  std::remove(joblog.c_str());
  run.span = last - first;
  return run;
}

/// `tasks` runs of /bin/sh -c `command`, `lanes` at once: the physical floor.
double spawn_floor_seconds(int tasks, int lanes, const char* command) {
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int lane = 0; lane < lanes; ++lane)
    threads.emplace_back([tasks, lanes, lane, command] {
      const char* argv[] = {"/bin/sh", "-c", command, nullptr};
      for (int i = lane; i < tasks; i += lanes) {
        pid_t pid = -1;
        if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) std::abort();
        int status = 0;
        waitpid(pid, &status, 0);
      }
    });
  for (auto& thread : threads) thread.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string argument_file(int count) {
  const std::string path = "farm_benchmark." + std::to_string(::getpid()) + "." + std::to_string(count) + ".args";
  std::ofstream out(path);
  for (int i = 1; i <= count; ++i) out << i << '\n';
  return path;
}

/// "min-max" of the rounds' figures.
std::string range_text(const std::vector<double>& values, int precision) {
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  char text[64];
  std::snprintf(text, sizeof text, "%.*f-%.*f", precision, *low, precision, *high);
  return text;
}

struct Figures {
  double true_rate;  // tasks/s over the tasks' span
  double sleep_eff;  // ideal / span
  double outside;    // wall time beyond the span: start-up and exit, `true` run
};

}  // namespace

int main(int argc, char** argv) {
  const int true_tasks = argc > 1 ? std::atoi(argv[1]) : 5000;
  const int sleep_tasks = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  const int cores = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  if (std::system("parallel --version > /dev/null 2>&1") != 0) {
    std::cerr << "farm_benchmark: GNU parallel is missing (apt-get install parallel)\n";
    return 1;
  }
  const std::string trues = argument_file(true_tasks);
  const std::string sleeps = argument_file(sleep_tasks);
  const std::string joblog = "farm_benchmark." + std::to_string(::getpid()) + ".joblog";
  const std::string quiet = " > /dev/null 2>&1";
  const std::string gnu = "parallel -j " + std::to_string(cores) + " --joblog " + joblog + " -a ";
  const std::string farm = std::string(MPP_SOURCE_DIR "/tools/mpprun -q -np ") + std::to_string(cores + 1) +
                           " " MPP_FARM_PATH " --joblog " + joblog + " -a ";
  const double ideal_sleep = sleep_tasks * 0.01 / cores;

  std::cout << "farm_benchmark: " << true_tasks << " x `true`, " << sleep_tasks << " x `sleep 0.01`, " << cores
            << " at once (GNU parallel -j " << cores << "; mpp-farm on " << cores << " worker ranks), " << rounds
            << " rounds\n";
  std::vector<Figures> gnu_runs;
  std::vector<Figures> farm_runs;
  std::vector<double> floor_rates;
  std::vector<double> floor_sleep_eff;
  for (int round = 0; round < rounds; ++round) {
    floor_rates.push_back(true_tasks / spawn_floor_seconds(true_tasks, cores, "true"));
    floor_sleep_eff.push_back(ideal_sleep / spawn_floor_seconds(sleep_tasks, cores, "sleep 0.01"));
    for (auto [command, runs] : {std::pair{gnu, &gnu_runs}, std::pair{farm, &farm_runs}}) {
      const Run trues_run = run_with_joblog(command + trues + " true" + quiet, joblog);
      // The argument each tool appends lands in a comment, not in sleep's time.
      const Run sleeps_run = run_with_joblog(command + sleeps + " 'sleep 0.01 #'" + quiet, joblog);
      if (trues_run.tasks != static_cast<std::size_t>(true_tasks) ||
          sleeps_run.tasks != static_cast<std::size_t>(sleep_tasks)) {
        std::cerr << "farm_benchmark: a joblog lacks tasks: " << command << '\n';
        return 1;
      }
      runs->push_back(
          Figures{true_tasks / trues_run.span, ideal_sleep / sleeps_run.span, trues_run.wall - trues_run.span});
    }
  }
  for (const auto& path : {trues, sleeps}) std::remove(path.c_str());

  const auto range = range_text;
  auto column = [](const std::vector<Figures>& runs, double Figures::*field) {
    std::vector<double> values;
    for (const auto& f : runs) values.push_back(f.*field);
    return values;
  };
  std::vector<double> ratios;
  std::vector<double> overhead_us;
  std::vector<double> floor_us;
  for (int round = 0; round < rounds; ++round) {
    ratios.push_back(farm_runs[round].true_rate / gnu_runs[round].true_rate);
    // Per task and core: what a task costs beyond the bare spawn of its shell.
    floor_us.push_back(1e6 * cores / floor_rates[round]);
    overhead_us.push_back(1e6 * cores / farm_runs[round].true_rate - floor_us.back());
  }
  std::printf("%-34s %-22s %-22s\n", "", "GNU parallel", "mpp-farm");
  std::printf("%-34s %-22s %-22s\n", "`true` tasks/s", range(column(gnu_runs, &Figures::true_rate), 0).c_str(),
              range(column(farm_runs, &Figures::true_rate), 0).c_str());
  std::printf("%-34s %-22s %-22s\n", "`sleep 0.01` efficiency", range(column(gnu_runs, &Figures::sleep_eff), 2).c_str(),
              range(column(farm_runs, &Figures::sleep_eff), 2).c_str());
  std::printf("%-34s %-22s %-22s\n", "start-up and exit (s)", range(column(gnu_runs, &Figures::outside), 2).c_str(),
              range(column(farm_runs, &Figures::outside), 2).c_str());
  std::printf("floor: posix_spawn of `/bin/sh -c true`, %d at once: %s tasks/s (%s us per task and core)\n", cores,
              range(floor_rates, 0).c_str(), range(floor_us, 0).c_str());
  std::printf("floor: posix_spawn of `/bin/sh -c 'sleep 0.01'`, %d at once: efficiency %s\n", cores,
              range(floor_sleep_eff, 2).c_str());
  std::printf("mpp-farm overhead beyond the floor: %s us per task and core\n", range(overhead_us, 0).c_str());
  std::vector<double> sleep_vs_floor;
  for (int round = 0; round < rounds; ++round)
    sleep_vs_floor.push_back(farm_runs[round].sleep_eff / floor_sleep_eff[round]);
  std::printf("mpp-farm vs GNU parallel, `true` tasks/s: %sx\n", range(ratios, 1).c_str());
  std::printf("mpp-farm `sleep 0.01` efficiency / the floor's: %s\n", range(sleep_vs_floor, 2).c_str());
}
