// Helpers for the tests that drive the real `nasbench` executable: spawn, wait, kill, read the
// resulting database.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace nbz::test {

inline std::string temp_dir() {
  char tmpl[] = "/tmp/nbz_cli_XXXXXX";
  return mkdtemp(tmpl);
}

// Starts `args` (args[0] = executable) with stdout and stderr appended to `log`. `before_exec`
// runs in the child (e.g. to drop privileges or set the environment).
template <typename BeforeExec>
pid_t spawn(const std::vector<std::string>& args, const std::string& log, BeforeExec before_exec) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "a");
    dup2(fileno(f), STDOUT_FILENO);
    dup2(fileno(f), STDERR_FILENO);
    before_exec();
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

inline pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  return spawn(args, log, [] {});
}

inline int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline int run_to_end(const std::vector<std::string>& args, const std::string& log) {
  return wait_exit_code(spawn(args, log));
}

using ScoreRow = std::tuple<int, std::string, std::string, double>;  // arch, proxy, status, value

// Every score of the database keyed by (arch_index, proxy); `total` counts rows (duplicates
// would make it larger than the map).
inline std::map<std::pair<int, std::string>, ScoreRow> read_scores(const std::string& db,
                                                                   int* total = nullptr) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d, "SELECT arch_index, proxy, status, coalesce(value, 0) FROM proxy_scores");
  std::map<std::pair<int, std::string>, ScoreRow> rows;
  int n = 0;
  while (q.executeStep()) {
    ++n;
    ScoreRow r{q.getColumn(0).getInt(), q.getColumn(1).getString(), q.getColumn(2).getString(),
               q.getColumn(3).getDouble()};
    rows[{std::get<0>(r), std::get<1>(r)}] = r;
  }
  if (total) *total = n;
  return rows;
}

// Architectures with stored scores, 0 while the database or its schema does not exist yet.
inline int stored_archs(const std::string& db) {
  if (access(db.c_str(), F_OK) != 0) return 0;
  try {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    return d.execAndGet("SELECT count(DISTINCT arch_id) FROM scores").getInt();
  } catch (const SQLite::Exception&) {
    return 0;
  }
}

inline std::string integrity(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  return d.execAndGet("PRAGMA integrity_check").getString();
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace nbz::test
