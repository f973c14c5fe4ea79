#pragma once
// Runs a Python twin benchmark (jobs/python/<script>) with /usr/bin/python3 and reads the
// figures from the JSON object it prints: the baseline side of a side-by-side benchmark.
#include <cstdio>
#include <map>
#include <regex>
#include <string>

namespace jobs {

inline std::map<std::string, double> run_python_baseline(const std::string& python, const std::string& script,
                                                         const std::string& arguments) {
  std::map<std::string, double> figures;
  const std::string command = python + " " + MPP_JOBS_DIR + "/python/" + script + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return figures;
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  pclose(pipe);
  const std::regex pair("\"(\\w+)\": ([0-9.eE+-]+)");
  for (std::sregex_iterator it(output.begin(), output.end(), pair), end; it != end; ++it)
    figures[(*it)[1]] = std::stod((*it)[2]);
  if (figures.empty()) std::fprintf(stderr, "the Python baseline %s failed:\n%s\n", script.c_str(), output.c_str());
  return figures;
}

/// The command line every benchmark job takes: --quick (a smaller run), --no-python (skip the
/// baseline), --strict (exit 1 when a target is missed), --python PATH (the interpreter).
struct BenchmarkOptions {
  bool quick = false;
  bool with_python = true;
  bool strict = false;
  std::string python = "/usr/bin/python3";

  static BenchmarkOptions parse(int argc, char** argv) {
    BenchmarkOptions options;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--quick") options.quick = true;
      if (arg == "--no-python") options.with_python = false;
      if (arg == "--strict") options.strict = true;
      if (arg == "--python" && i + 1 < argc) options.python = argv[++i];
    }
    return options;
  }

  /// The figures of jobs/python/<script> run the same way (none with --no-python).
  std::map<std::string, double> python_baseline(const std::string& script) const {
    if (!with_python) return {};
    return run_python_baseline(python, script, quick ? "--quick" : "");
  }
};

}  // namespace jobs
