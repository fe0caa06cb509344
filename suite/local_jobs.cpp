#include "suite/local_jobs.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <tuple>
#include <csignal>
#include <cstring>
#include <iostream>

#include "foundation/errors.h"
#include "spaces/arch_selection.h"

namespace nbz {
namespace {

// Children to forward SIGINT/SIGTERM to; written before the handlers are installed, read by them.
constexpr int kMaxChildren = 1024;
pid_t g_children[kMaxChildren];
volatile sig_atomic_t g_child_count = 0;

extern "C" void forward_signal(int sig) {
  const int saved_errno = errno;
  for (int i = 0; i < g_child_count; ++i)
    if (g_children[i] > 0) kill(g_children[i], sig);
  errno = saved_errno;
}

std::pair<std::int64_t, std::int64_t> parse_shard(const std::string& shard) {
  // shard_selection validates the spec with the sweep's own messages; an empty selection costs
  // nothing.
  (void)shard_selection({}, shard);
  const auto slash = shard.find('/');
  return {std::stoll(shard.substr(0, slash)), std::stoll(shard.substr(slash + 1))};
}

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // our own output is gone (closed pipe): nothing sensible to do
    done += static_cast<size_t>(n);
  }
}

// One pipe end of a child: its pending partial line and where its lines go.
struct Stream {
  int fd = -1;
  int target = STDOUT_FILENO;
  std::string prefix, pending;
};

// Writes the complete lines of `s.pending` (all of it when `flush`) with the prefix.
void emit_lines(Stream& s, bool flush) {
  size_t start = 0;
  std::string out;
  for (size_t nl; (nl = s.pending.find('\n', start)) != std::string::npos; start = nl + 1)
    out += s.prefix + s.pending.substr(start, nl + 1 - start);
  s.pending.erase(0, start);
  if (flush && !s.pending.empty()) {
    out += s.prefix + s.pending + "\n";
    s.pending.clear();
  }
  if (!out.empty()) write_all(s.target, out);
}

}  // namespace

std::string child_shard(const std::string& user_shard, int k, int jobs) {
  NBZ_ASSERT(jobs >= 1 && k >= 1 && k <= jobs, "child shard out of range");
  std::int64_t user_k = 1, user_n = 1;
  if (!user_shard.empty()) std::tie(user_k, user_n) = parse_shard(user_shard);
  return std::to_string(user_k + (k - 1) * user_n) + "/" + std::to_string(user_n * jobs);
}

int child_threads(int user_threads, int jobs, int cores) {
  if (user_threads > 0) return user_threads;
  return std::max(1, cores / std::max(1, jobs));
}

std::vector<std::string> child_sweep_args(const std::vector<std::string>& args,
                                          const std::vector<std::string>& flags,
                                          const std::string& shard, int threads) {
  const std::vector<std::string> replaced = {"jobs", "shard", "threads", "no-progress-bar"};
  std::vector<std::string> out = {"sweep"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      out.push_back(arg);
      continue;
    }
    const auto eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const bool is_flag = std::find(flags.begin(), flags.end(), name) != flags.end();
    // An option given as "--name VALUE" takes the next argument with it.
    const bool takes_next = !is_flag && eq == std::string::npos && i + 1 < args.size();
    if (std::find(replaced.begin(), replaced.end(), name) != replaced.end()) {
      if (takes_next) ++i;
      continue;
    }
    out.push_back(arg);
    if (takes_next) out.push_back(args[++i]);
  }
  out.insert(out.end(), {"--shard", shard, "--threads", std::to_string(threads),
                         "--no-progress-bar"});
  return out;
}

std::string self_executable() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) throw Error(std::string("cannot find this executable (/proc/self/exe): ") +
                          std::strerror(errno));
  return std::string(path, static_cast<size_t>(n));
}

std::vector<ChildOutcome> run_children(const std::vector<ChildProcess>& children) {
  if (children.size() > static_cast<size_t>(kMaxChildren))
    throw Error("--jobs " + std::to_string(children.size()) + ": at most " +
                std::to_string(kMaxChildren) + " child processes");
  std::cout.flush();
  std::cerr.flush();
  std::vector<ChildOutcome> outcomes;
  std::vector<Stream> streams;
  std::string start_error;
  g_child_count = 0;
  struct sigaction forward {}, old_int {}, old_term {};
  forward.sa_handler = forward_signal;
  sigemptyset(&forward.sa_mask);
  sigaction(SIGINT, &forward, &old_int);
  sigaction(SIGTERM, &forward, &old_term);

  for (const auto& child : children) {
    int out_pipe[2], err_pipe[2];
    // Close-on-exec, so that no child inherits its siblings' pipes (their EOF would never come).
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
      start_error = std::string("pipe: ") + std::strerror(errno);
      break;
    }
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
      start_error = std::string("pipe: ") + std::strerror(errno);
      close(out_pipe[0]);
      close(out_pipe[1]);
      break;
    }
    std::vector<char*> argv;
    for (const auto& a : child.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(out_pipe[1], STDOUT_FILENO);
      dup2(err_pipe[1], STDERR_FILENO);
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      execv(argv[0], argv.data());
      const std::string msg = "cannot execute '" + child.argv[0] + "': " + std::strerror(errno) + "\n";
      write_all(STDERR_FILENO, msg);
      _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (pid < 0) {
      start_error = std::string("fork: ") + std::strerror(errno);
      close(out_pipe[0]);
      close(err_pipe[0]);
      break;
    }
    g_children[g_child_count] = pid;
    g_child_count = g_child_count + 1;
    outcomes.push_back({child.label, pid, 0, 0});
    const std::string prefix = "[" + child.label + "] ";
    streams.push_back({out_pipe[0], STDOUT_FILENO, prefix, ""});
    streams.push_back({err_pipe[0], STDERR_FILENO, prefix, ""});
  }

  // Relay output until every pipe is closed (the children have exited or closed their output).
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    for (const auto& s : streams)
      if (s.fd >= 0) fds.push_back({s.fd, POLLIN, 0});
    if (fds.empty()) break;
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (const auto& p : fds) {
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto& s = *std::find_if(streams.begin(), streams.end(),
                              [&](const Stream& x) { return x.fd == p.fd; });
      char buf[8192];
      const ssize_t n = read(s.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        emit_lines(s, true);
        close(s.fd);
        s.fd = -1;
        continue;
      }
      s.pending.append(buf, static_cast<size_t>(n));
      emit_lines(s, false);
    }
  }

  for (auto& o : outcomes) {
    int status = 0;
    while (waitpid(o.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
      o.term_signal = WTERMSIG(status);
      o.exit_code = 128 + o.term_signal;
    } else {
      o.exit_code = WEXITSTATUS(status);
    }
  }
  g_child_count = 0;
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (!start_error.empty())
    throw Error("could not start child " + std::to_string(outcomes.size() + 1) + " of " +
                std::to_string(children.size()) + " (" + start_error + "); the " +
                std::to_string(outcomes.size()) + " started ones have finished");
  return outcomes;
}

}  // namespace nbz
