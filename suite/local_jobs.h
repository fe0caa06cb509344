// Local multi-process parallelism for `nasbench sweep --jobs J`: J child processes, each a
// `nasbench sweep --shard ...` of its own, all writing into the same results database (WAL mode
// and the busy timeout serialise their transactions; the (run, arch, proxy) primary key makes a
// duplicate impossible). Torch-free.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace nbz {

// The shard of child k (1-based) of `jobs`, inside the user's shard `user_shard` ("" = the whole
// selection). --shard K/N keeps positions K-1, K-1+N, K-1+2N, ... of the sorted selection; the
// k-th of every J of those are positions (K-1) + (k-1)N + mJN, which is exactly the shard
// (K + (k-1)N) / (N*J). Throws nbz::Error when user_shard is not K/N with 1 <= K <= N.
std::string child_shard(const std::string& user_shard, int k, int jobs);

// Intra-op threads of each child: the user's explicit --threads (kept as given: the thread count
// is part of the run's config_key), else the cores split evenly, at least one.
int child_threads(int user_threads, int jobs, int cores);

// The sweep arguments of a child: `args` (the parent's, without the program and subcommand) with
// --jobs, --shard, --threads and --no-progress-bar removed, then --shard SHARD --threads THREADS
// --no-progress-bar appended. `flags` lists the options that take no value.
std::vector<std::string> child_sweep_args(const std::vector<std::string>& args,
                                          const std::vector<std::string>& flags,
                                          const std::string& shard, int threads);

struct ChildProcess {
  std::string label;               // prefixed to every output line: "[label] "
  std::vector<std::string> argv;   // argv[0] = the executable
};

struct ChildOutcome {
  std::string label;
  pid_t pid = 0;
  int exit_code = 0;    // exit status, or 128 + signal number when killed by a signal
  int term_signal = 0;  // the signal that killed it, 0 if it exited
};

// Starts every child at once and waits for all. Each line a child writes to stdout (stderr) is
// written to our stdout (stderr) prefixed with "[label] ", whole lines only, so lines of different
// children never interleave mid-line. SIGINT and SIGTERM received meanwhile are forwarded to the
// children (a sweep stops cleanly after its current architecture). Throws nbz::Error when a child
// cannot be started (the ones already started are waited for first).
std::vector<ChildOutcome> run_children(const std::vector<ChildProcess>& children);

// This executable's path (/proc/self/exe), to start children of the same build.
std::string self_executable();

}  // namespace nbz
