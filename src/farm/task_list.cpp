#include "task_list.hpp"

#include <cctype>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace mpp::farm {
namespace {

/// `text` without the blanks at its start and end.
std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

std::string without_extension(const std::string& path) {
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == slash + 1) return path;
  return path.substr(0, dot);
}
std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// The argument placeholder `name` (what is between the braces, the position removed)
/// applied to `argument`; nullopt if `name` is no such placeholder.
std::optional<std::string> transformed(const std::string& name, const std::string& argument) {
  if (name.empty()) return argument;
  if (name == ".") return without_extension(argument);
  if (name == "/") return base_name(argument);
  if (name == "//") return directory_of(argument);
  if (name == "/.") return without_extension(base_name(argument));
  return std::nullopt;
}

std::string joined(const std::vector<std::string>& words, const std::string& separator) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : separator) + word;
  return out;
}

/// A line of a task file split at its first blank: the directive's keyword and the rest.
std::pair<std::string, std::string> first_word(const std::string& text) {
  const auto blank = text.find_first_of(" \t");
  if (blank == std::string::npos) return {text, {}};
  const auto rest = text.find_first_not_of(" \t", blank);
  return {text.substr(0, blank), rest == std::string::npos ? std::string() : text.substr(rest)};
}

long long parse_count(const std::string& word, int line_number, const char* what) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(word, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != word.size() || word.empty())
    throw std::invalid_argument("line " + std::to_string(line_number) + ": #DISBATCH REPEAT needs a number for " +
                                what + ", not '" + word + "'");
  return value;
}

}  // namespace

std::string shell_quote(const std::string& word) {
  if (!word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") ==
          std::string::npos)
    return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string fill_placeholders(const std::string& command_template, const std::vector<std::string>& arguments,
                              std::uint64_t seq) {
  std::vector<std::string> quoted;
  for (const auto& argument : arguments) quoted.push_back(shell_quote(argument));
  std::string out;
  bool used_arguments = false;
  std::size_t at = 0;
  while (at < command_template.size()) {
    const auto open = command_template.find('{', at);
    const auto close = open == std::string::npos ? open : command_template.find('}', open);
    if (close == std::string::npos) break;
    const std::string name = command_template.substr(open + 1, close - open - 1);
    std::optional<std::string> value;
    if (name == "#") {
      value = std::to_string(seq);
    } else if (auto whole = transformed(name, joined(arguments, " "))) {
      // {} of several arguments is each of them quoted, as GNU parallel does.
      value = name.empty() ? joined(quoted, " ") : shell_quote(*whole);
      used_arguments = true;
    } else if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
      std::size_t digits = 0;
      while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
      const auto position = std::stoul(name.substr(0, digits));
      if (position >= 1 && position <= arguments.size())
        if (auto part = transformed(name.substr(digits), arguments[position - 1])) {
          value = shell_quote(*part);
          used_arguments = true;
        }
    }
    out.append(command_template, at, open - at);
    if (value) {
      out += *value;
    } else {
      out.append(command_template, open, close - open + 1);  // {%} and strangers stay
    }
    at = close + 1;
  }
  if (at < command_template.size()) out.append(command_template, at);
  if (!used_arguments && !arguments.empty()) out.append(" ").append(joined(quoted, " "));
  return out;
}

std::vector<FarmTask> tasks_from_arguments(const std::string& command_template,
                                           const std::vector<std::vector<std::string>>& sources) {
  std::vector<FarmTask> tasks;
  for (const auto& source : sources)
    if (source.empty()) return tasks;  // a product with an empty factor
  std::vector<std::size_t> position(sources.size(), 0);
  while (true) {
    std::vector<std::string> arguments;
    for (std::size_t s = 0; s < sources.size(); ++s) arguments.push_back(sources[s][position[s]]);
    FarmTask task;
    task.seq = tasks.size() + 1;
    task.command = fill_placeholders(command_template, arguments, task.seq);
    task.tag = joined(arguments, "\t");
    tasks.push_back(std::move(task));
    // The next combination: the last list varies fastest.
    std::size_t s = sources.size();
    while (s > 0 && ++position[s - 1] == sources[s - 1].size()) position[--s] = 0;
    if (s == 0) break;
  }
  return tasks;
}

std::vector<FarmTask> read_task_file(std::istream& in, const std::string& path) {
  const std::string name = base_name(path);
  std::vector<FarmTask> tasks;
  std::string prefix;
  std::string suffix;
  bool barrier_pending = false;
  bool barrier_checks = false;
  auto add = [&](const std::string& command, std::optional<long long> repeat_index) {
    FarmTask task;
    task.seq = tasks.size() + 1;
    task.command = prefix + command + suffix;
    task.tag = command;
    task.environment = {{"DISBATCH_TASKID", std::to_string(tasks.size())}, {"DISBATCH_NAMETASKS", name}};
    if (repeat_index) task.environment.emplace_back("DISBATCH_REPEAT_INDEX", std::to_string(*repeat_index));
    task.after_barrier = barrier_pending;
    task.barrier_checks = barrier_checks;
    barrier_pending = barrier_checks = false;
    tasks.push_back(std::move(task));
  };
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string text = trimmed(line);
    if (text.empty()) continue;
    if (text.rfind("#DISBATCH", 0) != 0) {
      if (text[0] != '#') add(line, std::nullopt);
      continue;
    }
    // The directive's argument keeps its blanks: "#DISBATCH PREFIX cd dir ; " ends in one.
    const std::string after = line.substr(line.find("#DISBATCH") + 9);
    const auto [keyword, rest_trimmed] = first_word(trimmed(after));
    const auto keyword_at = after.find(keyword);
    std::string rest = after.substr(keyword_at + keyword.size());
    if (!rest.empty() && (rest[0] == ' ' || rest[0] == '\t')) rest.erase(0, 1);
    if (keyword == "PREFIX") {
      prefix = rest;
    } else if (keyword == "SUFFIX") {
      suffix = rest;
    } else if (keyword == "BARRIER") {
      if (!rest_trimmed.empty() && rest_trimmed != "CHECK")
        throw std::invalid_argument(path + " line " + std::to_string(line_number) +
                                    ": mpp-farm knows '#DISBATCH BARRIER' and '#DISBATCH BARRIER CHECK', not '" + text +
                                    "'");
      barrier_pending = true;
      barrier_checks = barrier_checks || rest_trimmed == "CHECK";
    } else if (keyword == "REPEAT") {
      std::istringstream words(rest_trimmed);
      std::string word;
      words >> word;
      const long long count = parse_count(word, line_number, "the count");
      long long start = 0;
      long long step = 1;
      std::string command;
      while (words >> word) {
        if (word == "start" || word == "step") {
          std::string number;
          words >> number;
          (word == "start" ? start : step) = parse_count(number, line_number, word.c_str());
        } else {
          std::getline(words, command);
          command = word + command;
          break;
        }
      }
      for (long long i = 0; i < count; ++i) add(command, start + i * step);
    } else {
      throw std::invalid_argument(path + " line " + std::to_string(line_number) + ": '#DISBATCH " + keyword +
                                  "' is not supported by mpp-farm (it knows PREFIX, SUFFIX, REPEAT and BARRIER)");
    }
  }
  return tasks;  // a barrier after the last task orders nothing
}

}  // namespace mpp::farm
