#include "farm_options.hpp"

#include <cmath>
#include <stdexcept>

namespace mpp::farm {
namespace {

bool is_separator(const std::string& word) { return word == ":::" || word == "::::"; }

double positive_number(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(value >= 0) || !std::isfinite(value))
    throw std::invalid_argument(option + " needs a number, not '" + text + "'");
  return value;
}

int whole_number(const std::string& option, const std::string& text, int least) {
  const double value = positive_number(option, text);
  if (value != std::floor(value) || value < least || value > 1e6)
    throw std::invalid_argument(option + " needs a whole number of at least " + std::to_string(least) + ", not '" +
                                text + "'");
  return static_cast<int>(value);
}

}  // namespace

bool wants_help(const std::vector<std::string>& arguments) {
  for (const auto& word : arguments) {
    if (word == "--" || is_separator(word)) return false;
    if (word == "-h" || word == "--help") return true;
  }
  return false;
}

bool wants_version(const std::vector<std::string>& arguments) {
  for (const auto& word : arguments) {
    if (word == "--" || is_separator(word)) return false;
    if (word == "--version") return true;
  }
  return false;
}

FarmOptions parse_farm_options(const std::vector<std::string>& arguments) {
  FarmOptions options;
  std::vector<std::string> positional;
  std::size_t at = 0;
  auto value_of = [&](const std::string& option) -> std::string {
    if (at + 1 >= arguments.size()) throw std::invalid_argument(option + " needs a value");
    return arguments[++at];
  };
  // Options come first; the first other word starts the task file or the command.
  for (; at < arguments.size(); ++at) {
    const std::string& word = arguments[at];
    if (word == "--") {
      ++at;
      break;
    }
    if (word.size() < 2 || word[0] != '-' || is_separator(word)) break;
    std::string name = word;
    std::optional<std::string> attached;
    if (const auto equals = word.find('='); word.rfind("--", 0) == 0 && equals != std::string::npos) {
      name = word.substr(0, equals);
      attached = word.substr(equals + 1);
    } else if (word.size() > 2 && word[1] != '-' && (word[1] == 'j' || word[1] == 'a')) {
      name = word.substr(0, 2);  // -j4, -afile
      attached = word.substr(2);
    }
    auto value = [&] { return attached ? *attached : value_of(name); };
    if (name == "-j" || name == "--jobs") {
      options.jobs_per_rank = whole_number(name, value(), 1);
    } else if (name == "--joblog") {
      options.joblog = value();
    } else if (name == "--resume") {
      options.resume = true;
    } else if (name == "--resume-failed") {
      options.resume_failed = true;
    } else if (name == "--retries") {
      options.tries = std::max(1, whole_number(name, value(), 0));
    } else if (name == "--timeout") {
      options.timeout = std::chrono::milliseconds(static_cast<long long>(positive_number(name, value()) * 1000));
      if (options.timeout.count() == 0) throw std::invalid_argument("--timeout needs more than 0 seconds");
    } else if (name == "--halt" || name == "--halt-on-error") {
      options.halt = HaltPolicy::parse(value());
    } else if (name == "--output") {
      options.output_dir = value();
    } else if (name == "--tag") {
      options.tag = true;
    } else if (name == "--progress" || name == "--bar") {
      options.progress = true;
    } else if (name == "--dry-run") {
      options.dry_run = true;
    } else if (name == "-a" || name == "--arg-file") {
      options.argument_files.push_back(value());
    } else {
      throw std::invalid_argument("unknown option " + word + " (mpp-farm --help lists them)");
    }
  }
  if ((options.resume || options.resume_failed) && options.joblog.empty())
    throw std::invalid_argument("--resume and --resume-failed read the joblog: give --joblog FILE too");

  // The command words up to the first ::: or ::::, then the argument lists.
  for (; at < arguments.size() && !is_separator(arguments[at]); ++at) positional.push_back(arguments[at]);
  while (at < arguments.size()) {
    const bool files = arguments[at] == "::::";
    std::vector<std::string> list;
    for (++at; at < arguments.size() && !is_separator(arguments[at]); ++at) list.push_back(arguments[at]);
    if (files) {
      if (list.empty()) throw std::invalid_argument(":::: needs the name of a file of arguments");
      options.argument_files.insert(options.argument_files.end(), list.begin(), list.end());
    } else {
      options.argument_lists.push_back(std::move(list));
    }
  }
  const bool has_arguments = !options.argument_lists.empty() || !options.argument_files.empty();
  for (const auto& word : positional) options.command_template += (options.command_template.empty() ? "" : " ") + word;
  if (has_arguments) {
    if (positional.empty()) throw std::invalid_argument("::: and :::: need a command before them, e.g. 'gzip {}'");
  } else if (positional.size() == 1 && positional[0].find_first_of("{ ") == std::string::npos) {
    options.task_file = positional[0];  // a file of command lines
    options.command_template.clear();
  } else if (positional.empty()) {
    options.task_file = "-";
  } else {
    options.arguments_from_stdin = true;  // `ls | mpp-farm gzip {}`, as GNU parallel
  }
  return options;
}

const char* farm_help() {
  return R"(NAME
    mpp-farm - run a list of shell commands across the ranks of an MPI job

SYNOPSIS
    mpirun -np N mpp-farm [OPTIONS] TASKFILE
    srun mpp-farm [OPTIONS] TASKFILE
    mpp-farm [OPTIONS] COMMAND... ::: ARG... [::: ARG...] [:::: ARGFILE...]
    producer | mpp-farm [OPTIONS] [TASKFILE|-]
    producer | mpp-farm [OPTIONS] COMMAND...          (one argument per input line)

DESCRIPTION
    Rank 0 reads the tasks and hands them out one at a time, as ranks become free (dynamic
    scheduling); ranks 1..N-1 run them, each through /bin/sh -c, in a child process that the
    rank supervises, -j at once. A task that crashes, hangs or is killed fails alone. Nothing
    runs on rank 0: start one rank more than the tasks you want running at once per -j
    (mpirun -np 9 on 8 cores), or, under Slurm, give the job a task for it.

    TASKFILE holds one command per line ('-' or none: standard input). Blank lines and lines
    starting with # are skipped, except disBatch's #DISBATCH directives (see TASK FILES).
    With ::: the tasks are COMMAND with each combination of the argument lists (the last
    list varies fastest); :::: and -a take the arguments from files, one per line.

OPTIONS
    -j N, --jobs N        Run N tasks at once on each worker rank (default 1). With one rank
                          per node, -j the node's cores.
    --joblog FILE         Append a row per finished task to FILE, in GNU parallel's columns:
                          Seq Host Starttime JobRuntime Send Receive Exitval Signal Command.
                          A task killed by a signal has Exitval 0 and the signal's number;
                          one killed by --timeout has Exitval -1 and Signal 9.
    --resume              Skip the tasks (by Seq) that FILE of --joblog already has.
    --resume-failed       Skip the tasks FILE has as succeeded; rerun the failed ones.
    --retries N           Run a failing task up to N times in all (on any rank); the joblog
                          has its last run.
    --timeout SECONDS     Kill a task, and every process it started, after SECONDS.
    --halt WHEN,WHY=N[%]  Stop early, as GNU parallel: WHEN is soon (send no more tasks,
                          let running ones end) or now (kill them); WHY is fail, success or
                          done; N a count or a percentage of all tasks. E.g. now,fail=1.
                          (Each rank holds one task behind its running ones, so that a freed
                          slot starts it at once: with soon, that one still runs.)
    --output DIR          Write task output to DIR/rank-R.out and DIR/rank-R.err, one block
                          per task with a header line (task, exit, host, command), instead
                          of to mpp-farm's own stdout and stderr.
    --tag                 Put the task's arguments (or its line) and a tab before each line
                          of its output.
    --progress, --bar     Show progress on stderr: a bar on a terminal, else a line every
                          MPP_PROGRESS_INTERVAL seconds (default 60).
    --dry-run             Print the commands instead of running them (no launcher needed).
    -a FILE, --arg-file FILE
                          Arguments from FILE, one per line (as :::: FILE).
    -h, --help            This text.   --version   mpp-farm's version.

    Output: a task's stdout and stderr are held until it ends, then written whole, so the
    lines of tasks never mix.

PLACEHOLDERS (in COMMAND, as GNU parallel)
    {}      the arguments (shell-quoted)       {#}    the task's sequence number, 1, 2, ...
    {.}     without the extension               {%}    the job slot, 1 .. ranks x -j
    {/}     the base name                       {n}    the n-th argument (one per ::: list)
    {//}    the directory                       {n.} {n/} {n//} {n/.}  as above, of the n-th
    {/.}    the base name without extension
    With no argument placeholder the arguments are appended. Tasks see PARALLEL_SEQ and
    PARALLEL_JOBSLOT in their environment.

TASK FILES (disBatch's directives)
    #DISBATCH PREFIX text      put text before every later task line (a later one replaces it)
    #DISBATCH SUFFIX text      put text after every later task line
    #DISBATCH REPEAT n [start s] [step k] [command]
                               n tasks of prefix + command + suffix, DISBATCH_REPEAT_INDEX
                               set to s, s+k, s+2k, ... (start 0, step 1 by default)
    #DISBATCH BARRIER          later tasks start once every earlier task has ended
    #DISBATCH BARRIER CHECK    ... and the farm stops if one of them failed
    Every task sees DISBATCH_TASKID (its 0-based index) and DISBATCH_NAMETASKS (the file's
    name).

WALL TIME
    Inside a batch job mpp-farm knows when the allocation ends (Slurm, or MPP_JOB_END_TIME in
    Unix seconds). Once the end is nearer than the margin (MPP_WALLTIME_MARGIN seconds, by
    default twice the longest task so far plus 2 s), or once it gets SIGUSR1, it sends no
    more tasks (one a rank already holds may still start); running ones finish, or are killed 2 seconds before the end (or at once on
    SIGTERM). Killed tasks are not written to the joblog: they ran part way. It then exits
    with status 75; run it again with --resume (slurm/farm.sbatch resubmits itself) and it
    runs the killed tasks and those that never started.

EXIT STATUS
    0       every task succeeded (exit status 0, no signal)
    1-100   that many tasks failed (or, with --halt ...,fail=N%, the percentage that failed)
    101     more than 100 tasks failed
    n       --halt ...,fail=1 stopped it: the exit status of the failed task (1 if it had none)
    75      stopped for the wall time with tasks left; run again with --resume
    2       a usage error (bad option, unreadable task file)

ENVIRONMENT
    MPP_JOB_END_TIME, MPP_WALLTIME_MARGIN   see WALL TIME
    MPP_PROGRESS_INTERVAL                   seconds between progress lines in a log

EXAMPLES
    mpirun -np 9 mpp-farm --joblog run.log tasks.txt
    mpirun -np 3 mpp-farm -j 4 'convert {} {.}.png' ::: *.jpg
    srun mpp-farm --joblog run.log --resume --timeout 3600 --output out tasks.txt
    sbatch slurm/farm.sbatch tasks.txt           (resubmits itself until every task ran)
)";
}

}  // namespace mpp::farm
