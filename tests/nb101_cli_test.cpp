// NAS-Bench-101 through the real CLI: a sweep of two ground-truth cells named by a hashes file
// (arch_index = position in the sorted space, arch = canonical_key = module hash), the ground
// truth imported with it, linear_regions stored as a failed row with its reason, a rerun that
// adds nothing, `nasbench report` against val_acc_108ep with the shorter trainings as
// baselines, and the options NB101 refuses (before the ~8 s enumeration). Every nb101 sweep
// enumerates the space, so this file runs as few of them as it can; NNGP, the default batch and
// the factory are tested without the CLI (tests/nb101_engine_test.cpp).
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/cli_support.h"
#include "tests/test_support.h"

namespace {

using namespace nbz::test;

// The first two rows of nasbench101/nb101_ground_truth_20k.csv, i.e. the first two hashes of the
// sorted space: arch_index 0 and 1.
const char* const kHash0 = "00005c142e6f48ac74fdcf73e3439874";
const char* const kHash1 = "0000718c96730a92ea6d5242f8ce77e2";

std::vector<std::string> sweep_args(const std::string& db, const std::string& archs) {
  return {NBZ_CLI_PATH, "sweep",   "--space",   "nb101", "--archs",  archs,
          "--proxies",  "params,flops,l2_norm,linear_regions", "--batch", "8",
          "--seed",     "0",       "--threads", "1",     "--db",     db,
          "--data",     data_dir(), "--no-progress-bar"};
}

TEST(Nb101Cli, SweepResumeAndReportAgainstValAcc108) {
  const auto dir = temp_dir();
  const std::string db = dir + "/nb101.sqlite", list = dir + "/cells.txt";
  std::ofstream(list) << "# two ground-truth cells\n" << kHash1 << "\n\n" << kHash0 << "\n";
  ASSERT_EQ(run_to_end(sweep_args(db, "hashes:" + list), dir + "/sweep.log"), 0)
      << slurp(dir + "/sweep.log");

  int total = 0;
  const auto scores = read_scores(db, &total);
  ASSERT_EQ(total, 2 * 4) << slurp(dir + "/sweep.log");
  // params is the exact network's count: the CSV's trainable_parameters of both rows.
  EXPECT_EQ(std::get<2>(scores.at({0, "params"})), "ok");
  EXPECT_EQ(std::get<3>(scores.at({0, "params"})), 8555530);
  EXPECT_EQ(std::get<3>(scores.at({1, "params"})), 5878154);
  for (int arch : {0, 1}) {
    EXPECT_EQ(std::get<2>(scores.at({arch, "flops"})), "ok");
    EXPECT_EQ(std::get<2>(scores.at({arch, "l2_norm"})), "ok");
  }

  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement archs(d, "SELECT space, arch_index, arch, canonical_key FROM architectures "
                             "ORDER BY arch_index");
  std::vector<std::string> hashes;
  while (archs.executeStep()) {
    EXPECT_EQ(archs.getColumn(0).getString(), "nb101");
    EXPECT_EQ(archs.getColumn(2).getString(), archs.getColumn(3).getString());
    hashes.push_back(archs.getColumn(2).getString());
  }
  EXPECT_EQ(hashes, (std::vector<std::string>{kHash0, kHash1}));

  SQLite::Statement lr(d, "SELECT s.status, s.value IS NULL, s.failure_reason FROM scores s "
                          "JOIN proxies p USING (proxy_id) WHERE p.name = 'linear_regions'");
  int failed = 0;
  while (lr.executeStep()) {
    ++failed;
    EXPECT_EQ(lr.getColumn(0).getString(), "failed");
    EXPECT_EQ(lr.getColumn(1).getInt(), 1);
    EXPECT_NE(lr.getColumn(2).getString().find("no thin network is defined"), std::string::npos)
        << lr.getColumn(2).getString();
  }
  EXPECT_EQ(failed, 2);

  EXPECT_EQ(d.execAndGet("SELECT space || ' ' || dataset || ' ' || batch_size FROM runs")
                .getString(),
            "nb101 cifar10 8");
  EXPECT_EQ(d.execAndGet("SELECT count(*) FROM ground_truth WHERE space = 'nb101'").getInt(),
            80004);
  EXPECT_EQ(d.execAndGet("SELECT count(*) FROM ground_truth WHERE space <> 'nb101'").getInt(), 0);
  EXPECT_NEAR(d.execAndGet("SELECT value FROM ground_truth WHERE space = 'nb101' AND "
                           "arch_index = 0 AND split = 'valid' AND epochs = 108")
                  .getDouble(),
              93.04887652397156, 1e-9);

  // Resume: the same command finds everything stored and adds nothing.
  ASSERT_EQ(run_to_end(sweep_args(db, "hashes:" + list), dir + "/rerun.log"), 0)
      << slurp(dir + "/rerun.log");
  EXPECT_NE(slurp(dir + "/rerun.log").find("2 were already complete, 0 scored now"),
            std::string::npos)
      << slurp(dir + "/rerun.log");
  int again = 0;
  EXPECT_EQ(read_scores(db, &again), scores);
  EXPECT_EQ(again, total);

  ASSERT_EQ(run_to_end({NBZ_CLI_PATH, "report", "--db", db}, dir + "/report.txt"), 0)
      << slurp(dir + "/report.txt");
  const auto report = slurp(dir + "/report.txt");
  EXPECT_NE(report.find("run 1: nb101 / cifar10"), std::string::npos) << report;
  EXPECT_NE(report.find("against 108, 36, 12, 4-epoch accuracy"), std::string::npos) << report;
  EXPECT_NE(report.find("cifar10_valid_108ep"), std::string::npos) << report;
  for (const char* row : {"36ep-acc*", "12ep-acc*", "4ep-acc*", "params", "l2_norm"})
    EXPECT_NE(report.find(row), std::string::npos) << row << "\n" << report;
  if (!HasFailure()) std::filesystem::remove_all(dir);  // kept for a look when something failed
}

TEST(Nb101Cli, RefusedOptionsNameTheValue) {
  const auto dir = temp_dir();
  const std::string db = dir + "/refused.sqlite";
  auto args = sweep_args(db, "truth");
  args.insert(args.end(), {"--dataset", "cifar100"});
  EXPECT_EQ(run_to_end(args, dir + "/dataset.log"), 2);
  EXPECT_NE(slurp(dir + "/dataset.log").find("NAS-Bench-101 is defined on CIFAR-10 only"),
            std::string::npos)
      << slurp(dir + "/dataset.log");
  EXPECT_EQ(run_to_end(sweep_args(db, "sample:x"), dir + "/spec.log"), 2);
  EXPECT_NE(slurp(dir + "/spec.log").find("--archs 'sample:x'"), std::string::npos)
      << slurp(dir + "/spec.log");
  EXPECT_EQ(run_to_end(sweep_args(db, "hashes:" + dir + "/missing.txt"), dir + "/file.log"), 2);
  EXPECT_NE(slurp(dir + "/file.log").find("missing.txt"), std::string::npos)
      << slurp(dir + "/file.log");
  EXPECT_EQ(run_to_end({NBZ_CLI_PATH, "score", "--space", "nb101", "--arch-index", "0",
                        "--dataset", "imagenet16-120"},
                       dir + "/score.log"),
            2);
  EXPECT_NE(slurp(dir + "/score.log").find("--dataset 'imagenet16-120'"), std::string::npos)
      << slurp(dir + "/score.log");
  EXPECT_EQ(run_to_end({NBZ_CLI_PATH, "sweep", "--space", "nb301", "--db", db}, dir + "/space.log"),
            2);
  EXPECT_NE(slurp(dir + "/space.log").find("unknown --space 'nb301'"), std::string::npos)
      << slurp(dir + "/space.log");
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
