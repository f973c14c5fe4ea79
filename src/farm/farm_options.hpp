#pragma once
// mpp-farm's command line: what to run and how (GNU parallel's option names where it has one).
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "halt_policy.hpp"

namespace mpp::farm {

struct FarmOptions {
  int jobs_per_rank = 1;                 // -j
  std::string joblog;                    // --joblog
  bool resume = false;                   // --resume: skip tasks the joblog has
  bool resume_failed = false;            // --resume-failed: ... unless they failed
  int tries = 1;                         // --retries: runs of a failing task in all
  std::chrono::milliseconds timeout{0};  // --timeout; 0: none
  HaltPolicy halt;                       // --halt
  std::string output_dir;                // --output
  bool tag = false;                      // --tag
  bool progress = false;                 // --progress
  bool dry_run = false;                  // --dry-run: print the commands, run nothing
  // What to run: a task file ("-": stdin), or a template with argument lists.
  std::string task_file;
  std::string command_template;
  std::vector<std::vector<std::string>> argument_lists;
  std::vector<std::string> argument_files;  // :::: and -a: one argument per line (read on the master)
  bool arguments_from_stdin = false;        // a template and nothing else: arguments on stdin
};

/// What the command line asks for. Throws std::invalid_argument with a sentence for a usage
/// error; `--help` and `--version` are the caller's (see wants_help).
FarmOptions parse_farm_options(const std::vector<std::string>& arguments);

/// Whether the arguments ask for --help (or -h) / --version before anything else is done.
bool wants_help(const std::vector<std::string>& arguments);
bool wants_version(const std::vector<std::string>& arguments);

/// The text of --help.
const char* farm_help();

}  // namespace mpp::farm
