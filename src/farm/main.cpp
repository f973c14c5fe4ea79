// mpp-farm: a file of shell commands run across the ranks of an MPI job (see farm_help()).
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "farm.hpp"
#include "farm_options.hpp"
#include "mpp/errors.hpp"
#include "mpp/session.hpp"
#include "task_list.hpp"

namespace {

using mpp::farm::FarmOptions;
using mpp::farm::FarmTask;

/// An input stream for `path`, "-" being stdin; throws with the path when it cannot be read.
std::istream& open_input(const std::string& path, std::ifstream& file) {
  if (path == "-") return std::cin;
  file.open(path);
  if (!file) throw std::invalid_argument("cannot read " + path);
  return file;
}

std::vector<std::string> lines_of(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::vector<FarmTask> read_tasks(FarmOptions& options) {
  std::ifstream file;
  if (!options.task_file.empty()) {
    if (options.task_file == "-" && isatty(STDIN_FILENO))
      throw std::invalid_argument("no tasks given: name a task file, pipe command lines in, or use ::: (see --help)");
    return mpp::farm::read_task_file(open_input(options.task_file, file),
                                     options.task_file == "-" ? "stdin" : options.task_file);
  }
  if (options.arguments_from_stdin) {
    if (isatty(STDIN_FILENO))
      throw std::invalid_argument("'" + options.command_template +
                                  "' is no task file, and no arguments were given: add ::: ARGS, or pipe them in");
    options.argument_lists.push_back(lines_of(std::cin));
  }
  for (const auto& path : options.argument_files) {
    std::ifstream arguments;
    options.argument_lists.push_back(lines_of(open_input(path, arguments)));
  }
  return mpp::farm::tasks_from_arguments(options.command_template, options.argument_lists);
}

/// Whether the launcher started this process as rank 0 (or no launcher did), before MPI.
bool launched_as_rank_zero() {
  for (const char* variable : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* rank = std::getenv(variable)) return std::string(rank) == "0";
  return true;
}

int dry_run(FarmOptions& options) {
  try {
    for (const auto& task : read_tasks(options)) std::cout << task.command << '\n';
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "mpp-farm: " << e.what() << '\n';
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  if (mpp::farm::wants_help(arguments)) {
    std::cout << mpp::farm::farm_help();
    return 0;
  }
  if (mpp::farm::wants_version(arguments)) {
    std::cout << "mpp-farm " MPP_VERSION "\n";
    return 0;
  }
  // Usage errors and --dry-run need no MPI: every rank parses, rank 0 alone speaks.
  FarmOptions options;
  try {
    options = mpp::farm::parse_farm_options(arguments);
  } catch (const std::invalid_argument& e) {
    if (launched_as_rank_zero()) std::cerr << "mpp-farm: " << e.what() << '\n';
    return 2;
  }
  if (options.dry_run) return launched_as_rank_zero() ? dry_run(options) : 0;
  // Worker ranks serve the farm's tasks in here, and leave when the master is done.
  mpp::Session session(argc, argv);
  try {
    std::vector<FarmTask> tasks = read_tasks(options);
    if (!options.output_dir.empty() && access(options.output_dir.c_str(), W_OK) != 0)
      throw std::invalid_argument("--output " + options.output_dir + ": not a directory this user can write to");
    mpp::farm::Farm farm(std::move(options), std::move(tasks));
    return farm.run();
  } catch (const std::invalid_argument& e) {
    std::cerr << "mpp-farm: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mpp-farm: " << e.what() << '\n';
    return 255;
  }
}
