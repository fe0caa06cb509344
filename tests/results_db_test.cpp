#include "benchmarks_db/results_db.h"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "benchmarks_db/schema.h"
#include "suite/errors.h"

namespace nbz::db {
namespace {

std::string temp_db() {
  char tmpl[] = "/tmp/nbz_db_XXXXXX";
  return std::string(mkdtemp(tmpl)) + "/results.sqlite";
}

RunRecord sample_run(const std::string& key) {
  RunRecord r;
  r.config_key = key;
  r.space = "nb201";
  r.dataset = "cifar10";
  r.images = "test images";
  r.batch_size = 2;
  r.batch_indices = "[0,1]";
  r.device = "cpu";
  r.device_name = "test cpu";
  r.blas = "test blas";
  r.torch_version = "1.13.0";
  r.code_version = "test";
  r.build = "Release";
  r.host = "host";
  r.cpu = "cpu";
  r.options_json = "{}";
  return r;
}

ProxyRow proxy(const std::string& name, int sign = 1, const std::string& params = "") {
  return {name, sign, "test", "score", "build", params, "a test proxy"};
}

TEST(ResultsDb, StoresScoresOnceAndExposesTheView) {
  const auto path = temp_db();
  ResultsDb db(path);
  const auto archs = db.ensure_architectures("nb201", {{5, "arch-five", "k5"}, {9, "arch-nine", "k9"}});
  const auto proxies = db.ensure_proxies({proxy("p1"), proxy("p2", -1)});
  bool created = false;
  const auto run = db.find_or_create_run(sample_run("key-a"), &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(db.find_or_create_run(sample_run("key-a"), &created), run);
  EXPECT_FALSE(created);
  const auto session = db.begin_session(run, "nasbench sweep ...", "host", "test");

  std::vector<ScoreRow> rows(2);
  rows[0].proxy_id = proxies.at("p1");
  rows[0].ok = true;
  rows[0].value = 1.5;
  rows[0].rank_value = 1.5;
  rows[0].own_seconds = 0.25;
  rows[0].shared_seconds = 0.5;
  rows[1].proxy_id = proxies.at("p2");
  rows[1].ok = false;
  rows[1].failure_reason = "non-finite value: nan";
  EXPECT_EQ(db.store_arch_result(run, session, archs.at(5), rows, {{"build", 0.1, "p1,p2", true}}), 2);
  // A second writer of the same architecture stores nothing and duplicates nothing.
  EXPECT_EQ(db.store_arch_result(run, session, archs.at(5), rows, {{"build", 0.1, "p1,p2", true}}), 0);
  db.end_session(session, "completed");

  EXPECT_EQ(db.stored_pairs(run).size(), 2u);
  SQLite::Statement view(db.sql(),
                         "SELECT space, arch_index, arch, proxy, value, rank_value, status, seconds, "
                         "run_id FROM proxy_scores ORDER BY proxy");
  ASSERT_TRUE(view.executeStep());
  EXPECT_EQ(view.getColumn(1).getInt(), 5);
  EXPECT_EQ(view.getColumn(2).getString(), "arch-five");
  EXPECT_EQ(view.getColumn(3).getString(), "p1");
  EXPECT_DOUBLE_EQ(view.getColumn(4).getDouble(), 1.5);
  EXPECT_DOUBLE_EQ(view.getColumn(7).getDouble(), 0.75);
  ASSERT_TRUE(view.executeStep());
  EXPECT_EQ(view.getColumn(6).getString(), "failed");
  EXPECT_TRUE(view.getColumn(4).isNull());
  EXPECT_FALSE(view.executeStep());
  EXPECT_EQ(db.sql().execAndGet("SELECT count(*) FROM passes").getInt(), 1);
  EXPECT_EQ(db.sql().execAndGet("SELECT archs_done FROM run_sessions").getInt(), 2);
  EXPECT_EQ(db.sql().execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(ResultsDb, ReopensAndKeepsEverything) {
  const auto path = temp_db();
  {
    ResultsDb db(path);
    db.ensure_architectures("nb201", {{1, "a", "k"}});
    db.import_truth("nb201", "file.csv", {{1, "cifar10", "test", 200, 93.5}});
  }
  ResultsDb again(path);
  EXPECT_TRUE(again.has_truth("nb201"));
  EXPECT_FALSE(again.has_truth("nb101"));
  EXPECT_EQ(again.ensure_architectures("nb201", {{1, "a", "k"}}).size(), 1u);
}

TEST(ResultsDb, ConflictingDefinitionsAreRefused) {
  const auto path = temp_db();
  ResultsDb db(path);
  db.ensure_architectures("nb201", {{1, "a", "k"}});
  EXPECT_THROW(db.ensure_architectures("nb201", {{1, "b", "k"}}), Error);
  db.ensure_proxies({proxy("p", 1, "k=1")});
  EXPECT_THROW(db.ensure_proxies({proxy("p", 1, "k=2")}), Error);
  EXPECT_THROW(db.ensure_proxies({proxy("p", -1, "k=1")}), Error);
}

void expect_open_error(const std::string& path, const std::string& fragment) {
  try {
    ResultsDb db(path);
    FAIL() << path;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ResultsDb, ForeignOrOldFilesAreNamedAndLeftUntouched) {
  const auto foreign = temp_db();
  {
    SQLite::Database other(foreign, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    other.exec("CREATE TABLE t(x); INSERT INTO t VALUES (42)");
  }
  expect_open_error(foreign, "not a nasbench-zc results database");
  {
    SQLite::Database other(foreign, SQLite::OPEN_READONLY);
    EXPECT_EQ(other.execAndGet("SELECT x FROM t").getInt(), 42);
  }
  const auto old = temp_db();
  {
    ResultsDb db(old);
  }
  {
    SQLite::Database raw(old, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = 0");
  }
  expect_open_error(old, "schema version 0");
  const auto text = temp_db();
  std::ofstream(text) << "this is not a database, just text that is long enough to be read\n";
  expect_open_error(text, text);
  expect_open_error("/nonexistent-dir/x.sqlite", "/nonexistent-dir/x.sqlite");
}

TEST(ResultsDb, UtcNowIsIso8601) {
  const auto t = utc_now();
  ASSERT_EQ(t.size(), 24u);
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace nbz::db
