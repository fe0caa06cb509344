// Scale-out through the real CLI: a sweep split into shards (separate databases) and merged, and
// `sweep --jobs 2` into one database, must both equal a single-process sweep of the same
// architectures row for row (bit-identical values, one run); a merge that fails (conflicting
// values, a changed proxy definition, a foreign or missing file) leaves its output unchanged.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <tuple>

#include "benchmarks_db/results_db.h"
#include "benchmarks_db/schema.h"
#include "foundation/errors.h"
#include "foundation/run_context.h"
#include "spaces/arch_selection.h"
#include "suite/local_jobs.h"
#include "tests/cli_support.h"
#include "tests/schema_v1_fixture.h"
#include "tests/test_support.h"

namespace {

using namespace nbz::test;

// Cheap proxies (naswot and grad_norm need the minibatch and a backward), one thread so that
// every process computes bit-identical values and belongs to the same run (threads are part of
// the run's config_key).
std::vector<std::string> sweep_args(const std::string& db) {
  return {NBZ_CLI_PATH, "sweep", "--space", "nb201", "--archs", "0-8",
          "--proxies", "params,flops,l2_norm,naswot,grad_norm", "--seed", "1", "--batch", "16",
          "--threads", "1", "--db", db, "--data", data_dir(), "--no-progress-bar"};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// (space, arch_index, proxy, status, value bits or nothing): what must be equal, bit for bit.
using Score = std::tuple<std::string, std::int64_t, std::string, std::string,
                         std::optional<std::uint64_t>>;

std::vector<Score> scores(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d, "SELECT space, arch_index, proxy, status, value FROM proxy_scores "
                         "ORDER BY space, arch_index, proxy");
  std::vector<Score> out;
  while (q.executeStep()) {
    std::optional<std::uint64_t> bits;
    if (!q.getColumn(4).isNull()) {
      const double v = q.getColumn(4).getDouble();
      std::uint64_t b;
      std::memcpy(&b, &v, sizeof b);
      bits = b;
    }
    out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getInt64(),
                     q.getColumn(2).getString(), q.getColumn(3).getString(), bits);
  }
  return out;
}

int count(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getInt();
}

// Every row of every table, as text: equal dumps = the database did not change.
std::string dump(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  std::string out;
  SQLite::Statement tables(d, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (tables.executeStep()) {
    const std::string table = tables.getColumn(0).getString();
    SQLite::Statement rows(d, "SELECT * FROM \"" + table + "\"");
    std::multiset<std::string> lines;
    while (rows.executeStep()) {
      std::string line;
      for (int c = 0; c < rows.getColumnCount(); ++c)
        line += (rows.getColumn(c).isNull() ? "NULL" : rows.getColumn(c).getString()) + "|";
      lines.insert(line);
    }
    out += "[" + table + "]\n";
    for (const auto& line : lines) out += line + "\n";
  }
  return out;
}

int merge(const std::string& out, const std::vector<std::string>& inputs, const std::string& log) {
  return run_to_end(with({NBZ_CLI_PATH, "merge", out}, inputs), log);
}

// One single-process sweep and three shard databases, each made the first time a test of this
// process needs it (ctest runs every test in its own process).
class ShardMerge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = new std::string(temp_dir()); }
  static void TearDownTestSuite() { delete dir_; }
  static std::string path(const std::string& name) { return *dir_ + "/" + name; }
  static std::string made(const std::string& name, const std::vector<std::string>& args) {
    const std::string db = path(name);
    if (access(db.c_str(), F_OK) != 0) {
      const std::string log = path(name + ".log");
      EXPECT_EQ(run_to_end(args, log), 0) << slurp(log);
    }
    return db;
  }
  static std::string single() { return made("single.sqlite", sweep_args(path("single.sqlite"))); }
  static std::string shard(int k) {
    const std::string name = "shard" + std::to_string(k) + ".sqlite";
    return made(name, with(sweep_args(path(name)), {"--shard", std::to_string(k) + "/3"}));
  }
  static std::vector<std::string> shards() { return {shard(1), shard(2), shard(3)}; }
  static std::string* dir_;
};
std::string* ShardMerge::dir_ = nullptr;

TEST_F(ShardMerge, ThreeShardsMergedEqualTheSingleProcessSweep) {
  const auto expected = scores(single());
  ASSERT_EQ(expected.size(), 9u * 5u);
  // Each shard holds its own third of the architectures.
  std::set<std::int64_t> seen;
  for (const auto& shard : shards()) {
    std::set<std::int64_t> mine;
    for (const auto& s : scores(shard)) mine.insert(std::get<1>(s));
    EXPECT_EQ(mine.size(), 3u) << shard;
    for (auto i : mine) EXPECT_TRUE(seen.insert(i).second) << "arch " << i << " in two shards";
  }
  EXPECT_EQ(seen.size(), 9u);

  const std::string merged = path("merged.sqlite");
  ASSERT_EQ(merge(merged, shards(), path("merge.log")), 0) << slurp(path("merge.log"));
  EXPECT_EQ(scores(merged), expected);
  EXPECT_EQ(count(merged, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(count(merged, "SELECT count(*) FROM run_sessions WHERE outcome = 'completed'"), 3);
  EXPECT_EQ(count(merged, "SELECT count(*) FROM passes"),
            count(single(), "SELECT count(*) FROM passes"));
  EXPECT_EQ(count(merged, "SELECT count(*) FROM ground_truth"),
            count(single(), "SELECT count(*) FROM ground_truth"));
  EXPECT_EQ(integrity(merged), "ok");
  // The run spans the shards' runs: the earliest start and the latest end.
  std::string first_start = "~", last_end;
  for (const auto& shard : shards()) {
    SQLite::Database d(shard, SQLite::OPEN_READONLY);
    first_start = std::min(first_start, d.execAndGet("SELECT started_at FROM runs").getString());
    last_end = std::max(last_end, d.execAndGet("SELECT ended_at FROM runs").getString());
  }
  SQLite::Database m(merged, SQLite::OPEN_READONLY);
  EXPECT_EQ(m.execAndGet("SELECT started_at FROM runs").getString(), first_start);
  EXPECT_EQ(m.execAndGet("SELECT ended_at FROM runs").getString(), last_end);

  // Merging the same files again adds nothing, not even sessions.
  const std::string before = dump(merged);
  ASSERT_EQ(merge(merged, {shards()[1], shards()[0]}, path("again.log")), 0)
      << slurp(path("again.log"));
  EXPECT_NE(slurp(path("again.log")).find("0 scores added, 30 already present"), std::string::npos)
      << slurp(path("again.log"));
  EXPECT_EQ(scores(merged), expected);
  EXPECT_EQ(count(merged, "SELECT count(*) FROM run_sessions"), 3);
  EXPECT_EQ(count(merged, "SELECT count(*) FROM meta WHERE key LIKE 'merge %'"), 2);
}

TEST_F(ShardMerge, MergeIntoAnExistingDatabaseExtendsItsRun) {
  // shard 1 as the starting output, the other two merged into it: the same result.
  const std::string out = path("grown.sqlite");
  ASSERT_EQ(merge(out, {shards()[0]}, path("grown.log")), 0) << slurp(path("grown.log"));
  ASSERT_EQ(merge(out, {shards()[1], shards()[2]}, path("grown.log")), 0)
      << slurp(path("grown.log"));
  EXPECT_EQ(scores(out), scores(single()));
  EXPECT_EQ(count(out, "SELECT count(*) FROM runs"), 1);
}

TEST_F(ShardMerge, ConflictingValueIsAnErrorNamingTheKeyAndLeavesTheOutputUnchanged) {
  const std::string out = path("conflict_out.sqlite");
  ASSERT_EQ(merge(out, {shards()[0], shards()[1]}, path("c0.log")), 0) << slurp(path("c0.log"));
  // A copy of shard 2 whose naswot value of one architecture differs in the last bits.
  const std::string bad = path("bad_value.sqlite");
  ASSERT_EQ(merge(bad, {shards()[1]}, path("c1.log")), 0);
  std::int64_t arch_index = 0;
  {
    SQLite::Database b(bad, SQLite::OPEN_READWRITE);
    arch_index = b.execAndGet("SELECT min(arch_index) FROM proxy_scores WHERE proxy = 'naswot'")
                     .getInt64();
    b.exec("UPDATE scores SET value = value * (1 + 1e-12) WHERE proxy_id = (SELECT proxy_id "
           "FROM proxies WHERE name = 'naswot') AND arch_id = (SELECT arch_id FROM "
           "architectures WHERE arch_index = " + std::to_string(arch_index) + ")");
  }
  const std::string before = dump(out);
  // Shard 3 first: its rows would be new, and must not stay either.
  EXPECT_EQ(merge(out, {shards()[2], bad}, path("c2.log")), 2);
  const std::string log = slurp(path("c2.log"));
  EXPECT_NE(log.find("conflicting score"), std::string::npos) << log;
  EXPECT_NE(log.find("nb201 arch_index " + std::to_string(arch_index) + ", proxy 'naswot'"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("'" + out + "'"), std::string::npos) << log;
  EXPECT_NE(log.find("'" + bad + "'"), std::string::npos) << log;
  EXPECT_EQ(dump(out), before);

  // Into a new output: the failed merge leaves no file behind.
  const std::string fresh = path("never_created.sqlite");
  EXPECT_EQ(merge(fresh, {shards()[1], bad}, path("c3.log")), 2);
  EXPECT_NE(access(fresh.c_str(), F_OK), 0);
}

TEST_F(ShardMerge, ChangedProxyDefinitionIsAnErrorNamingBothFiles) {
  const std::string out = path("proxy_out.sqlite");
  ASSERT_EQ(merge(out, {shard(1)}, path("p0.log")), 0);
  const std::string bad = path("bad_proxy.sqlite");
  ASSERT_EQ(merge(bad, {shard(2)}, path("p1.log")), 0);
  {
    SQLite::Database b(bad, SQLite::OPEN_READWRITE);
    b.exec("UPDATE proxies SET parameters = 'loss=sum_ce;bn=train' WHERE name = 'grad_norm'");
  }
  const std::string before = dump(out);
  EXPECT_EQ(merge(out, {bad}, path("p2.log")), 2);
  const std::string log = slurp(path("p2.log"));
  EXPECT_NE(log.find("proxy 'grad_norm'"), std::string::npos) << log;
  EXPECT_NE(log.find("'" + out + "'"), std::string::npos) << log;
  EXPECT_NE(log.find("'" + bad + "'"), std::string::npos) << log;
  EXPECT_EQ(dump(out), before);
}

TEST_F(ShardMerge, ForeignMissingOrSelfInputsAreNamedAndChangeNothing) {
  const std::string out = path("foreign_out.sqlite");
  ASSERT_EQ(merge(out, {shard(1)}, path("f0.log")), 0);
  const std::string before = dump(out);
  const std::string foreign = path("foreign.sqlite");
  {
    SQLite::Database f(foreign, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    f.exec("CREATE TABLE scores(x)");
  }
  const std::string text = path("notes.txt");
  std::FILE* t = std::fopen(text.c_str(), "w");
  std::fputs("not a database, not even close to one, but long enough to be read as a header\n", t);
  std::fclose(t);
  const std::string missing = path("missing.sqlite");
  struct Case {
    std::string input, expected;
  };
  for (const Case& c : {Case{foreign, "not a nasbench-zc results database"},
                        Case{text, "file is not a database"}, Case{missing, "does not exist"},
                        Case{out, "is the output file"}}) {
    const std::string log = path("f1.log");
    std::remove(log.c_str());
    // The bad file last: the good input before it must not be merged either.
    EXPECT_EQ(merge(out, {shard(2), c.input}, log), 2) << c.input;
    EXPECT_NE(slurp(log).find(c.expected), std::string::npos) << slurp(log);
    EXPECT_NE(slurp(log).find("'" + c.input + "'"), std::string::npos) << slurp(log);
    EXPECT_EQ(dump(out), before) << c.input;
  }
  // The foreign file was only read.
  EXPECT_EQ(count(foreign, "SELECT count(*) FROM sqlite_master"), 1);
  EXPECT_EQ(count(foreign, "PRAGMA application_id"), 0);
}

TEST_F(ShardMerge, JobsTwoIntoOneDatabaseEqualsTheSingleProcessSweep) {
  const std::string db = path("jobs.sqlite");
  ASSERT_EQ(run_to_end(with(sweep_args(db), {"--jobs", "2"}), path("jobs.log")), 0)
      << slurp(path("jobs.log"));
  EXPECT_EQ(scores(db), scores(single()));
  EXPECT_EQ(count(db, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(count(db, "SELECT count(*) FROM run_sessions WHERE outcome = 'completed'"), 2);
  EXPECT_EQ(count(db, "SELECT count(*) FROM run_sessions WHERE command_line LIKE '%--shard 1/2%'"),
            1);
  const std::string log = slurp(path("jobs.log"));
  EXPECT_NE(log.find("[job 1/2 shard 1/2] sweep done"), std::string::npos) << log;
  EXPECT_NE(log.find("[job 2/2 shard 2/2] sweep done"), std::string::npos) << log;
  EXPECT_NE(log.find("2 of 2 processes completed"), std::string::npos) << log;
  // Rerun: both children find their shard complete.
  ASSERT_EQ(run_to_end(with(sweep_args(db), {"--jobs", "2"}), path("jobs2.log")), 0);
  EXPECT_NE(slurp(path("jobs2.log")).find("0 scored now"), std::string::npos);
  EXPECT_EQ(scores(db), scores(single()));
}

// A version-2 shard of the run of make_v1_database: p1 again (0 epochs, as in version 1) on a new
// architecture, and a proxy after `trained_epochs` epochs of training.
void make_v2_shard(const std::string& path, const std::string& trained_name, int trained_epochs) {
  nbz::db::ResultsDb db(path);
  const auto archs =
      db.ensure_architectures("nb201", {{5, "arch-five", "k5"}, {6, "arch-six", "k6"}});
  nbz::db::ProxyRow p1{"p1", 1, "test", "score", "build", "k=1", "a test proxy"};
  nbz::db::ProxyRow trained{trained_name, 1, "test", "score", "build", "", "after training"};
  trained.train_epochs = trained_epochs;
  const auto proxies = db.ensure_proxies({p1, trained});
  nbz::db::RunRecord run;
  run.config_key = "v1-run";
  run.space = "nb201";
  run.dataset = "cifar10";
  run.seed = 7;
  const auto run_id = db.find_or_create_run(run);
  const auto session = db.begin_session(run_id, "nasbench sweep v2", "host2", "v2");
  std::vector<nbz::db::ScoreRow> rows(2);
  rows[0].proxy_id = proxies.at("p1");
  rows[1].proxy_id = proxies.at(trained_name);
  rows[0].ok = rows[1].ok = true;
  rows[0].value = 2.5;
  rows[1].value = 0.25;
  db.store_arch_result(run_id, session, archs.at(6), rows, {});
  db.end_session(session, "completed");
}

TEST(MergeSchemaVersions, OldAndCurrentInputsMergeIntoTheCurrentVersion) {
  const std::string dir = temp_dir();
  const std::string v1 = dir + "/v1.sqlite", v2 = dir + "/v2.sqlite";
  make_v1_database(v1);
  make_v2_shard(v2, "p1_trained_1", 1);
  const std::string v1_before = dump(v1), v2_before = dump(v2);

  const std::string out = dir + "/merged.sqlite";
  ASSERT_EQ(merge(out, {v1, v2}, dir + "/m.log"), 0) << slurp(dir + "/m.log");
  EXPECT_EQ(count(out, "PRAGMA user_version"), nbz::db::kSchemaVersion);
  EXPECT_EQ(count(out, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(count(out, "SELECT count(*) FROM scores"), 4);
  EXPECT_EQ(count(out, "SELECT count(*) FROM proxy_scores WHERE train_epochs = 0"), 3);
  EXPECT_EQ(count(out, "SELECT train_epochs FROM proxy_scores WHERE proxy = 'p1_trained_1'"), 1);
  EXPECT_EQ(count(out, "SELECT count(*) FROM proxies WHERE name = 'p2' AND train_epochs = 0"), 1);
  EXPECT_EQ(integrity(out), "ok");
  // Inputs are only read: the version-1 file stays version 1.
  EXPECT_EQ(dump(v1), v1_before);
  EXPECT_EQ(dump(v2), v2_before);
  EXPECT_EQ(count(v1, "PRAGMA user_version"), 1);

  // A shard that computed p2 after 2 epochs, where version 1 has it at initialisation.
  const std::string bad = dir + "/bad.sqlite";
  make_v2_shard(bad, "p2", 2);
  {
    SQLite::Database b(bad, SQLite::OPEN_READWRITE);
    b.exec("UPDATE proxies SET sign = -1, parameters = '', description = 'another test proxy' "
           "WHERE name = 'p2'");
  }
  const std::string before = dump(out);
  EXPECT_EQ(merge(out, {bad}, dir + "/bad.log"), 2);
  const std::string log = slurp(dir + "/bad.log");
  EXPECT_NE(log.find("proxy 'p2'"), std::string::npos) << log;
  EXPECT_NE(log.find("0 training epochs in '" + out + "'"), std::string::npos) << log;
  EXPECT_NE(log.find("2 training epochs in '" + bad + "'"), std::string::npos) << log;
  EXPECT_EQ(dump(out), before);

  // A version-1 output is migrated and then extended.
  const std::string old_out = dir + "/old_out.sqlite";
  make_v1_database(old_out);
  ASSERT_EQ(merge(old_out, {v2}, dir + "/o.log"), 0) << slurp(dir + "/o.log");
  EXPECT_EQ(count(old_out, "PRAGMA user_version"), nbz::db::kSchemaVersion);
  EXPECT_EQ(count(old_out, "SELECT count(*) FROM proxy_scores"), 4);
}

// A version-1 shard made before runs stopped keying on OpenBLAS's picked kernel joins the run of a
// current database made on another machine, and its session keeps the BLAS it really used.
TEST(MergeSchemaVersions, OldShardJoinsTheRunItsKeyNamesWithoutThePickedKernel) {
  const std::string dir = temp_dir();
  const std::string blas = "/usr/lib/libopenblasp-r0.3.21.so (OpenBLAS 0.3.21 DYNAMIC_ARCH "
                           "USE_OPENMP %s MAX_THREADS=64)";
  auto with_kernel = [&](const std::string& kernel) {
    std::string b = blas;
    return b.replace(b.find("%s"), 2, kernel);
  };
  const std::string old_shard = dir + "/old.sqlite";
  make_v1_database(old_shard);
  {
    SQLite::Database raw(old_shard, SQLite::OPEN_READWRITE);
    SQLite::Statement set(raw, "UPDATE runs SET blas = ?1, config_key = 'seed=7;blas=' || ?1 || "
                               "';torch=1.13.0'");
    set.bind(1, with_kernel("Zen"));
    set.exec();
  }
  const std::string current = dir + "/current.sqlite";
  {
    nbz::db::ResultsDb db(current);
    nbz::db::RunRecord run;
    run.config_key = "seed=7;blas=" + nbz::blas_build(with_kernel("Cooperlake")) + ";torch=1.13.0";
    run.space = "nb201";
    run.dataset = "cifar10";
    run.seed = 7;
    run.blas = with_kernel("Cooperlake");
    const auto run_id = db.find_or_create_run(run);
    db.end_session(db.begin_session(run_id, "sweep", "h2", "v", {"cpu2", "cpu2", run.blas}),
                   "completed");
  }
  ASSERT_EQ(merge(current, {old_shard}, dir + "/m.log"), 0) << slurp(dir + "/m.log");
  EXPECT_EQ(count(current, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(count(current, "SELECT count(*) FROM scores WHERE run_id = 1"), 2);
  SQLite::Database merged(current, SQLite::OPEN_READONLY);
  SQLite::Statement sessions(merged, "SELECT blas, coalesce(cpu, 'not recorded') FROM "
                                     "run_sessions ORDER BY session_id");
  ASSERT_TRUE(sessions.executeStep());
  EXPECT_EQ(sessions.getColumn(0).getString(), with_kernel("Cooperlake"));
  EXPECT_EQ(sessions.getColumn(1).getString(), "cpu2");
  ASSERT_TRUE(sessions.executeStep());
  EXPECT_EQ(sessions.getColumn(0).getString(), with_kernel("Zen"));
  EXPECT_EQ(sessions.getColumn(1).getString(), "not recorded");
  EXPECT_FALSE(sessions.executeStep());
}

TEST(SweepJobs, FailingChildrenAreReportedAndFailTheSweep) {
  const std::string dir = temp_dir();
  auto args = with(sweep_args(dir + "/j.sqlite"), {"--jobs", "2"});
  args[17] = dir + "/no_such_data";  // --data
  EXPECT_EQ(run_to_end(args, dir + "/j.log"), 2);
  const std::string log = slurp(dir + "/j.log");
  EXPECT_NE(log.find("job 1/2 shard 1/2 (pid"), std::string::npos) << log;
  EXPECT_NE(log.find("exited with status 2"), std::string::npos) << log;
  EXPECT_NE(log.find("0 of 2 processes completed"), std::string::npos) << log;
  // Arguments that need no data are checked once, before any child starts.
  args = with(sweep_args(dir + "/k.sqlite"), {"--jobs", "2"});
  args[5] = "9-3";
  EXPECT_EQ(run_to_end(args, dir + "/k.log"), 2);
  EXPECT_NE(slurp(dir + "/k.log").find("'9-3' is reversed"), std::string::npos);
  EXPECT_EQ(slurp(dir + "/k.log").find("[job"), std::string::npos) << slurp(dir + "/k.log");
  EXPECT_NE(access((dir + "/k.sqlite").c_str(), F_OK), 0);
}

TEST(LocalJobs, ChildShardsPartitionTheUsersShard) {
  std::vector<std::int64_t> all(100);
  for (int i = 0; i < 100; ++i) all[static_cast<size_t>(i)] = i * 3 + 1;
  EXPECT_EQ(nbz::child_shard("", 2, 3), "2/3");
  EXPECT_EQ(nbz::child_shard("2/3", 1, 2), "2/6");
  EXPECT_EQ(nbz::child_shard("2/3", 2, 2), "5/6");
  for (const std::string user : {"", "1/1", "2/3", "4/4", "1/7"}) {
    const auto target = user.empty() ? all : nbz::shard_selection(all, user);
    for (int jobs : {1, 2, 3, 5}) {
      std::vector<std::int64_t> covered;
      for (int k = 1; k <= jobs; ++k)
        for (auto i : nbz::shard_selection(all, nbz::child_shard(user, k, jobs)))
          covered.push_back(i);
      std::sort(covered.begin(), covered.end());
      EXPECT_EQ(covered, target) << "user shard '" << user << "', " << jobs << " jobs";
    }
  }
  EXPECT_THROW(nbz::child_shard("3/2", 1, 2), nbz::Error);
}

TEST(LocalJobs, ChildArgumentsReplaceShardThreadsAndJobs) {
  const std::vector<std::string> args = {"--archs", "0-9", "--jobs", "4", "--threads=8",
                                         "--no-progress-bar", "--shard", "1/2", "--db", "x.db"};
  EXPECT_EQ(nbz::child_sweep_args(args, {"no-progress-bar"}, "1/8", 2),
            (std::vector<std::string>{"sweep", "--archs", "0-9", "--db", "x.db", "--shard", "1/8",
                                      "--threads", "2", "--no-progress-bar"}));
  EXPECT_EQ(nbz::child_threads(0, 2, 16), 8);
  EXPECT_EQ(nbz::child_threads(0, 3, 2), 1);
  EXPECT_EQ(nbz::child_threads(4, 3, 2), 4);
}

}  // namespace
