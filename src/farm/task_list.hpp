#pragma once
// mpp-farm's tasks: the command lines it runs, read from a task file (with disBatch's
// #DISBATCH directives) or made from a command template and argument lists (GNU parallel's
// ::: and ::::), with GNU parallel's placeholders filled in.
#include <cstdint>
#include <istream>
#include <string>
#include <utility>
#include <vector>

namespace mpp::farm {

struct FarmTask {
  std::uint64_t seq = 0;  // 1, 2, ...: GNU parallel's {#} and joblog Seq
  std::string command;    // for /bin/sh -c; `{%}` (the slot) is left for the worker
  std::string tag;        // what --tag puts before each output line: the arguments, or the line
  std::vector<std::pair<std::string, std::string>> environment;  // DISBATCH_* variables
  bool after_barrier = false;                                    // starts once every task before it has ended
  bool barrier_checks = false;  // ... and only if none of them failed (#DISBATCH BARRIER CHECK)
};

/// The lines of a task file, each a task, with disBatch's directives applied:
///   #DISBATCH PREFIX text / SUFFIX text    put around every later line (a later one replaces)
///   #DISBATCH REPEAT n [start s] [step k] [command]   n tasks of prefix+command+suffix, each
///                                          with DISBATCH_REPEAT_INDEX = s, s+k, ...
///   #DISBATCH BARRIER [CHECK]              later tasks wait until the earlier ones ended
/// Blank lines and other # comments are skipped. Every task gets DISBATCH_TASKID (its 0-based
/// index) and DISBATCH_NAMETASKS (the base name of `path`, the file's name as given). Throws
/// std::invalid_argument naming the path and line for a directive mpp-farm does not know.
std::vector<FarmTask> read_task_file(std::istream& in, const std::string& path);

/// Tasks from `command_template` and the argument lists (GNU parallel's `::: a b c`, one list
/// per :::): one task per combination, the last list varying fastest.
std::vector<FarmTask> tasks_from_arguments(const std::string& command_template,
                                           const std::vector<std::vector<std::string>>& sources);

/// `command_template` with GNU parallel's placeholders filled: {} (the arguments), {.}
/// (without extension), {/} (base name), {//} (directory), {/.} (base name without
/// extension), {n} and {n.} {n/} {n//} {n/.} (the n-th argument), {#} (seq). Arguments are
/// shell-quoted where they need it; with no argument placeholder they are appended. {%} is
/// left as it is.
std::string fill_placeholders(const std::string& command_template, const std::vector<std::string>& arguments,
                              std::uint64_t seq);

/// `word` quoted for /bin/sh when it holds anything but letters, digits and _-./:=@%+,
std::string shell_quote(const std::string& word);

}  // namespace mpp::farm
