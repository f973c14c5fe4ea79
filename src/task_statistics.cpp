#include "mpp/detail/task_statistics.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "mpp/detail/protocol.hpp"

namespace mpp::detail {
namespace {

constexpr std::size_t slowest_kept = 5;
constexpr std::size_t workers_listed = 32;  // beyond: the busiest and the idlest few

std::string seconds(std::uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f s", static_cast<double>(ns) * 1e-9);
  return text;
}

}  // namespace

TaskStatistics::TaskStatistics(int ranks) : workers_(static_cast<std::size_t>(std::max(ranks, 1))) {}

void TaskStatistics::record(int rank, std::uint64_t run_ns, std::uint64_t first_index) {
  auto& worker = workers_.at(static_cast<std::size_t>(rank));
  ++worker.tasks;
  worker.busy_ns += run_ns;
  if (slowest_.size() == slowest_kept && run_ns <= slowest_.back().run_ns) return;
  const auto at = std::find_if(slowest_.begin(), slowest_.end(), [&](const Slow& s) { return s.run_ns < run_ns; });
  slowest_.insert(at, Slow{run_ns, rank, first_index});
  if (slowest_.size() > slowest_kept) slowest_.pop_back();
}

std::string TaskStatistics::summary(const std::vector<std::string>& hosts) const {
  const auto elapsed_ns =
      static_cast<std::uint64_t>(std::chrono::nanoseconds(std::chrono::steady_clock::now() - started_).count());
  const auto host = [&](int rank) {
    return static_cast<std::size_t>(rank) < hosts.size() ? hosts[static_cast<std::size_t>(rank)] : std::string("?");
  };
  std::vector<int> ranks(workers_.size() - 1);
  std::iota(ranks.begin(), ranks.end(), 1);
  const auto worker = [&](int rank) -> const Worker& { return workers_[static_cast<std::size_t>(rank)]; };
  std::uint64_t tasks = 0;
  std::uint64_t busy = 0;
  std::uint64_t busiest = 0;
  for (int r : ranks) {
    tasks += worker(r).tasks;
    busy += worker(r).busy_ns;
    busiest = std::max(busiest, worker(r).busy_ns);
  }
  std::string text = "mpp: summary: " + std::to_string(tasks) + " pool tasks on " + std::to_string(ranks.size()) +
                     " workers in " + seconds(elapsed_ns) + "\n";
  // Busiest first; a big job lists both ends, where the imbalance shows.
  std::stable_sort(ranks.begin(), ranks.end(), [&](int a, int b) { return worker(a).busy_ns > worker(b).busy_ns; });
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    if (ranks.size() > workers_listed && i == workers_listed / 2) {
      text += "mpp:   ... " + std::to_string(ranks.size() - workers_listed) + " more workers ...\n";
      i = ranks.size() - workers_listed / 2;
    }
    const int r = ranks[i];
    const double share = elapsed_ns ? 100.0 * static_cast<double>(worker(r).busy_ns) / elapsed_ns : 0.0;
    char line[64];
    std::snprintf(line, sizeof line, " (%.0f%% of the session)", share);
    text += "mpp:   rank " + std::to_string(r) + " on " + host(r) + ": " + std::to_string(worker(r).tasks) +
            " tasks, busy " + seconds(worker(r).busy_ns) + line + "\n";
  }
  if (busiest > 0 && !ranks.empty()) {
    char line[160];
    const double mean = static_cast<double>(busy) / static_cast<double>(ranks.size());
    std::snprintf(line, sizeof line,
                  "mpp:   load balance: mean busy %.3f s / busiest %.3f s = %.2f (1.00: every worker equally busy)\n",
                  mean * 1e-9, static_cast<double>(busiest) * 1e-9, mean / static_cast<double>(busiest));
    text += line;
  }
  for (const auto& slow : slowest_) {
    const std::string what = slow.first_index == no_item
                                 ? std::string("a single task (apply/apply_async)")
                                 : "the map chunk from item " + std::to_string(slow.first_index);
    text += "mpp:   slow: " + seconds(slow.run_ns) + " " + what + " on rank " + std::to_string(slow.rank) + ", " +
            host(slow.rank) + "\n";
  }
  return text;
}

}  // namespace mpp::detail
