// End-to-end through the real CLI: a sweep killed with SIGKILL at arbitrary moments and rerun with
// the same arguments ends with exactly the rows of an uninterrupted sweep: none lost, none
// duplicated, bit-identical values.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>

#include "tests/cli_support.h"
#include "tests/test_support.h"

namespace {

using namespace nbz::test;

std::vector<std::string> sweep_args(const std::string& db) {
  return {NBZ_CLI_PATH, "sweep",    "--space",   "nb201", "--archs", "0-11",
          "--proxies",  "params,flops,l2_norm,grad_norm,naswot,synflow", "--seed", "3",
          "--batch",    "16",       "--threads", "1",     "--db",    db,
          "--data",     nbz::test::data_dir(), "--no-progress-bar"};
}

TEST(SweepResume, KilledSweepsResumeToTheCleanResult) {
  const auto dir = temp_dir();
  ASSERT_EQ(run_to_end(sweep_args(dir + "/clean.sqlite"), dir + "/clean.log"), 0)
      << slurp(dir + "/clean.log");
  int clean_total = 0;
  const auto clean = read_scores(dir + "/clean.sqlite", &clean_total);
  ASSERT_EQ(clean_total, 12 * 6);

  const std::string killed_db = dir + "/killed.sqlite";
  // One kill at a random early moment (start-up, schema creation, truth import), then kills once
  // at least 2, 6 and 10 architectures are stored, i.e. in the middle of writing.
  std::mt19937 gen(2024);
  const int early_ms = std::uniform_int_distribution<int>(50, 600)(gen);
  int kills = 0, kills_mid_sweep = 0;
  for (int threshold : {0, 2, 6, 10}) {
    const pid_t pid = spawn(sweep_args(killed_db), dir + "/killed.log");
    int status = 0;
    bool exited = false;
    if (threshold == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(early_ms));
    } else {
      for (int polls = 0; polls < 3000 && stored_archs(killed_db) < threshold; ++polls) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
          exited = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (!exited && waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ++kills;
      const int stored = stored_archs(killed_db);
      if (stored > 0 && stored < 12) ++kills_mid_sweep;
    }
    if (access(killed_db.c_str(), F_OK) == 0) {
      SQLite::Database d(killed_db, SQLite::OPEN_READONLY);
      EXPECT_EQ(d.execAndGet("PRAGMA integrity_check").getString(), "ok");
      // Whole architectures or nothing: every stored architecture has all six proxies.
      if (stored_archs(killed_db) > 0) {
        SQLite::Statement partial(d, "SELECT count(*) FROM (SELECT arch_id FROM scores GROUP BY "
                                     "arch_id HAVING count(*) != 6)");
        partial.executeStep();
        EXPECT_EQ(partial.getColumn(0).getInt(), 0);
      }
    }
  }
  RecordProperty("sigkills", kills);
  RecordProperty("sigkills_mid_sweep", kills_mid_sweep);
  EXPECT_GE(kills_mid_sweep, 2) << "too few kills landed mid-sweep for the test to mean much";
  ASSERT_EQ(run_to_end(sweep_args(killed_db), dir + "/killed.log"), 0) << slurp(dir + "/killed.log");
  int resumed_total = 0;
  const auto resumed = read_scores(killed_db, &resumed_total);
  EXPECT_EQ(resumed_total, clean_total);  // nothing duplicated
  EXPECT_EQ(resumed, clean);              // nothing lost, values bit-identical
  // One run, several sessions; rerunning a finished sweep stores nothing new.
  ASSERT_EQ(run_to_end(sweep_args(killed_db), dir + "/again.log"), 0);
  EXPECT_NE(slurp(dir + "/again.log").find("12 were already complete, 0 scored now"),
            std::string::npos)
      << slurp(dir + "/again.log");
  SQLite::Database d(killed_db, SQLite::OPEN_READONLY);
  EXPECT_EQ(d.execAndGet("SELECT count(*) FROM runs").getInt(), 1);
  // Every kill after start-up left a session that never ended; the last two ended normally.
  EXPECT_GE(d.execAndGet("SELECT count(*) FROM run_sessions").getInt(), 2 + kills_mid_sweep);
  EXPECT_EQ(d.execAndGet("SELECT count(*) FROM run_sessions WHERE outcome = 'completed'").getInt(), 2);
}

TEST(SweepCli, BadArgumentsAreNamedAndWriteNothing) {
  const auto dir = temp_dir();
  auto args = sweep_args(dir + "/bad.sqlite");
  args[5] = "7-3";  // --archs
  EXPECT_EQ(run_to_end(args, dir + "/bad.log"), 2);
  EXPECT_NE(slurp(dir + "/bad.log").find("'7-3' is reversed"), std::string::npos)
      << slurp(dir + "/bad.log");
  args = sweep_args(dir + "/bad.sqlite");
  args[7] = "params,nonsense";  // --proxies
  EXPECT_EQ(run_to_end(args, dir + "/bad2.log"), 2);
  EXPECT_NE(slurp(dir + "/bad2.log").find("unknown proxy 'nonsense'"), std::string::npos);
  EXPECT_NE(access((dir + "/bad.sqlite").c_str(), F_OK), 0);
}

TEST(SweepCli, ReportPrintsCorrelationsForTheSweptArchitectures) {
  const auto dir = temp_dir();
  ASSERT_EQ(run_to_end(sweep_args(dir + "/r.sqlite"), dir + "/sweep.log"), 0);
  ASSERT_EQ(run_to_end({NBZ_CLI_PATH, "report", "--db", dir + "/r.sqlite"}, dir + "/report.log"), 0);
  const auto report = slurp(dir + "/report.log");
  EXPECT_NE(report.find("cifar10_test"), std::string::npos) << report;
  EXPECT_NE(report.find("imagenet16_120_valid_12ep"), std::string::npos) << report;
  EXPECT_NE(report.find("grad_norm    12"), std::string::npos) << report;
  EXPECT_NE(report.find("seconds per architecture"), std::string::npos) << report;
}

}  // namespace
