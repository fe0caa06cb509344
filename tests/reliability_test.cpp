// Faults through the real CLI: concurrent writers, a full disk, a read-only database, bad
// arguments. In every case: no corruption, no duplicate, nothing already stored lost.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "tests/cli_support.h"
#include "tests/test_support.h"

namespace {

using namespace nbz::test;

std::vector<std::string> sweep(const std::string& db, const std::string& archs,
                               const std::string& proxies = "params,flops,l2_norm,grad_norm,naswot") {
  return {NBZ_CLI_PATH, "sweep", "--archs", archs, "--proxies", proxies,
          "--seed", "1", "--batch", "16", "--threads", "1", "--db", db,
          "--data", data_dir(), "--no-progress-bar"};
}

TEST(Reliability, ConcurrentWritersNeverCorruptOrDuplicate) {
  const auto dir = temp_dir();
  ASSERT_EQ(run_to_end(sweep(dir + "/clean.sqlite", "0-11"), dir + "/clean.log"), 0)
      << slurp(dir + "/clean.log");
  int clean_total = 0;
  const auto clean = read_scores(dir + "/clean.sqlite", &clean_total);
  ASSERT_EQ(clean_total, 12 * 5);

  // Three writers at once on one new file: two overlapping ranges and one identical set. They
  // race on creating the schema, the run, the architectures and the same scores.
  const std::string db = dir + "/shared.sqlite";
  const std::vector<std::string> sets = {"0-7", "4-11", "0-11"};
  std::vector<pid_t> writers;
  for (size_t i = 0; i < sets.size(); ++i)
    writers.push_back(spawn(sweep(db, sets[i]), dir + "/writer" + std::to_string(i) + ".log"));
  for (size_t i = 0; i < writers.size(); ++i)
    EXPECT_EQ(wait_exit_code(writers[i]), 0) << slurp(dir + "/writer" + std::to_string(i) + ".log");
  RecordProperty("concurrent_writers", static_cast<int>(writers.size()));

  EXPECT_EQ(integrity(db), "ok");
  int total = 0;
  const auto shared = read_scores(db, &total);
  EXPECT_EQ(total, clean_total);  // no duplicate
  EXPECT_EQ(shared, clean);       // nothing lost, same values
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  EXPECT_EQ(d.execAndGet("SELECT count(*) FROM runs").getInt(), 1);
  EXPECT_EQ(d.execAndGet("SELECT count(*) FROM run_sessions WHERE outcome = 'completed'").getInt(), 3);
  EXPECT_EQ(d.execAndGet("SELECT count(*) FROM ground_truth").getInt(), 15625 * 12);
}

TEST(Reliability, FullDiskIsAClearErrorAndStoredRowsSurvive) {
  const auto dir = temp_dir();
  const std::string db = dir + "/full.sqlite";
  // Architecture-only proxies: hundreds of architectures a second, enough rows to need new pages.
  const std::string cheap = "params,l2_norm";
  ASSERT_EQ(run_to_end(sweep(db, "0-3", cheap), dir + "/first.log"), 0) << slurp(dir + "/first.log");
  const auto before = read_scores(db);
  SQLite::Database probe(db, SQLite::OPEN_READONLY);
  const int pages = probe.execAndGet("PRAGMA page_count").getInt();
  // Cap the file at its current size: the next architecture cannot be stored.
  const std::string cap = std::to_string(pages);
  const pid_t pid = spawn(sweep(db, "0-999", cheap), dir + "/full.log",
                          [&] { setenv("NBZ_FAULT_MAX_PAGE_COUNT", cap.c_str(), 1); });
  EXPECT_EQ(wait_exit_code(pid), 2);
  const auto log = slurp(dir + "/full.log");
  EXPECT_NE(log.find("results database '" + db + "'"), std::string::npos) << log;
  EXPECT_NE(log.find("full"), std::string::npos) << log;
  EXPECT_EQ(integrity(db), "ok");
  const auto after = read_scores(db);
  for (const auto& [key, row] : before) EXPECT_EQ(after.at(key), row);  // nothing lost
  // Space again: the same command resumes to the complete result.
  ASSERT_EQ(run_to_end(sweep(db, "0-999", cheap), dir + "/resume.log"), 0) << slurp(dir + "/resume.log");
  int total = 0;
  read_scores(db, &total);
  EXPECT_EQ(total, 1000 * 2);
}

TEST(Reliability, ReadOnlyDatabaseIsAClearErrorAndUntouched) {
  const auto dir = temp_dir();
  chmod(dir.c_str(), 0755);
  const std::string db = dir + "/ro.sqlite";
  ASSERT_EQ(run_to_end(sweep(db, "0-1"), dir + "/first.log"), 0) << slurp(dir + "/first.log");
  const auto before = read_scores(db);
  chmod(db.c_str(), 0444);
  for (const char* side : {"-wal", "-shm"}) chmod((db + side).c_str(), 0444);
  // root ignores file modes: run the writer as an unprivileged user then.
  const bool root = geteuid() == 0;
  const pid_t pid = spawn(sweep(db, "0-5"), dir + "/ro.log", [&] {
    if (root && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(126);
  });
  const int code = wait_exit_code(pid);
  ASSERT_NE(code, 126) << "could not drop privileges for the read-only test";
  EXPECT_EQ(code, 2) << slurp(dir + "/ro.log");
  EXPECT_NE(slurp(dir + "/ro.log").find(db), std::string::npos) << slurp(dir + "/ro.log");
  chmod(db.c_str(), 0644);
  EXPECT_EQ(read_scores(db), before);
  EXPECT_EQ(integrity(db), "ok");
}

TEST(Reliability, BadArgumentsAreNamed) {
  const auto dir = temp_dir();
  struct Case {
    std::vector<std::string> extra;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {{"--device", "gpu"}, "unknown device 'gpu'"},
      {{"--device", "cuda:0"}, "cuda:0"},
      {{"--dataset", "mnist"}, "unknown --dataset 'mnist'"},
      {{"--space", "nb999"}, "unknown --space 'nb999'"},
      {{"--shard", "3/2"}, "--shard '3/2'"},
      {{"--batch", "5000"}, "batch size 5000"},
      {{"--batch-indices", "1,2,x"}, "'x'"},
      {{"--seed", "-4"}, "--seed -4"},
      {{"--threads", "two"}, "--threads 'two'"},
      {{"--data", "/nonexistent"}, "/nonexistent"},
  };
  int i = 0;
  for (const auto& c : cases) {
    auto args = sweep(dir + "/bad.sqlite", "0-1");
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    const std::string log = dir + "/bad" + std::to_string(i++) + ".log";
    EXPECT_EQ(run_to_end(args, log), 2) << c.extra[0] << ": " << slurp(log);
    EXPECT_NE(slurp(log).find(c.fragment), std::string::npos) << slurp(log);
  }
  EXPECT_NE(access((dir + "/bad.sqlite").c_str(), F_OK), 0);  // nothing was created
}

}  // namespace
