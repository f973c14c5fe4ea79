#include "command_run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "mpp/detail/group_writer.hpp"
#include "mpp/session.hpp"

extern char** environ;

namespace mpp::farm {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

/// This process's slot among the -j K on its rank, 1..K; 0 if none was free. A slot is a name
/// in Linux's abstract socket namespace, held while the process lives: a child that replaces
/// one that died takes the slot it left, with no file to clean up.
int claim_slot(const std::string& run_id, int rank, int slots) {
  static int claimed = -1;
  if (claimed >= 0) return claimed;
  claimed = 0;
  for (int slot = 1; slot <= slots; ++slot) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string name = "mpp-farm/" + run_id + "/" + std::to_string(rank) + "/" + std::to_string(slot);
    std::memcpy(address.sun_path + 1, name.data(), std::min(name.size(), sizeof address.sun_path - 2));
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 +
                                               std::min(name.size(), sizeof address.sun_path - 2));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0) {
      claimed = slot;  // the descriptor stays open: the name is ours until we end
      break;
    }
    ::close(fd);
  }
  return claimed;
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

/// environ with `extra` set (replacing variables of the same name).
std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> out;
  for (char** entry = environ; *entry; ++entry) {
    bool replaced = false;
    for (const auto& [name, value] : extra)
      replaced = replaced || (std::strncmp(*entry, name.c_str(), name.size()) == 0 && (*entry)[name.size()] == '=');
    if (!replaced) out.emplace_back(*entry);
  }
  for (const auto& [name, value] : extra) out.push_back(name + "=" + value);
  return out;
}

/// Reads both pipes to their ends.
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* into[2] = {&out, &err};
  int open = 2;
  char buffer[65536];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll on a task's output");
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        into[i]->append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
}

/// `text` with `tag` and a tab before each line.
std::string tagged(const std::string& text, const std::string& tag) {
  if (tag.empty() || text.empty()) return text;
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = text.find('\n', at);
    const auto stop = end == std::string::npos ? text.size() : end + 1;
    out += tag + "\t" + text.substr(at, stop - at);
    at = stop;
  }
  return out;
}

/// Appends `block` to `path` in one write under an exclusive lock: the blocks of the tasks
/// that a rank's children run at once never interleave.
void append_block(const std::string& path, const std::string& block) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot open the output file " + path);
  ::flock(fd, LOCK_EX);
  try {
    detail::write_all(fd, block.data(), block.size());
  } catch (const std::runtime_error& e) {
    ::close(fd);
    throw std::runtime_error("cannot write the output file " + path + ": " + e.what());
  }
  ::close(fd);  // and the lock with it
}

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace

std::string output_file(const std::string& dir, int rank, const char* stream) {
  return dir + "/rank-" + std::to_string(rank) + "." + stream;
}

CommandOutcome run_command(CommandOrder order) {
  static const std::string host = host_name();
  const int rank = Session::current().rank();
  CommandOutcome outcome;
  outcome.host = host;
  outcome.slot = claim_slot(order.run_id, rank, order.slots_per_rank);
  const int job_slot = outcome.slot == 0 ? 0 : (rank - 1) * order.slots_per_rank + outcome.slot;
  for (auto at = order.command.find("{%}"); at != std::string::npos; at = order.command.find("{%}", at))
    order.command.replace(at, 3, std::to_string(job_slot));
  order.environment.emplace_back("PARALLEL_SEQ", std::to_string(order.seq));
  order.environment.emplace_back("PARALLEL_JOBSLOT", std::to_string(job_slot));
  const std::vector<std::string> environment = environment_with(order.environment);
  std::vector<char*> envp;
  for (const auto& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) fail("pipe");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) fail("pipe");
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&files, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&files, err_pipe[1], 2);
  // The shell starts with every signal at its default and none blocked (a worker rank ignores
  // SIGUSR1; an ignored signal would stay ignored across exec).
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  const char* argv[] = {"/bin/sh", "-c", order.command.c_str(), nullptr};

  outcome.start_unix = unix_now();
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, "/bin/sh", &files, &attributes, const_cast<char* const*>(argv), envp.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    errno = spawned;
    fail("cannot start /bin/sh");
  }
  drain(out_pipe[0], err_pipe[0], outcome.out, outcome.err);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail("waitpid");
  outcome.runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFSIGNALED(status)) {
    outcome.signal = WTERMSIG(status);
  } else {
    outcome.exitval = WEXITSTATUS(status);
  }
  outcome.output_bytes = outcome.out.size() + outcome.err.size();
  outcome.out = tagged(outcome.out, order.tag);
  outcome.err = tagged(outcome.err, order.tag);

  if (!order.output_dir.empty()) {
    const std::string header = "==> task " + std::to_string(order.seq) + " (exit " + std::to_string(outcome.exitval) +
                               (outcome.signal ? ", signal " + std::to_string(outcome.signal) : std::string()) + ", " +
                               host + "): " + order.command + " <==\n";
    // A last line without its newline would swallow the next task's header.
    for (std::string* text : {&outcome.out, &outcome.err})
      if (!text->empty() && text->back() != '\n') text->push_back('\n');
    append_block(output_file(order.output_dir, rank, "out"), header + outcome.out);
    if (!outcome.err.empty()) append_block(output_file(order.output_dir, rank, "err"), header + outcome.err);
    outcome.out.clear();
    outcome.err.clear();
  }
  return outcome;
}

}  // namespace mpp::farm
