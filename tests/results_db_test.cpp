#include "benchmarks_db/results_db.h"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <tuple>

#include "benchmarks_db/schema.h"
#include "foundation/errors.h"
#include "foundation/run_context.h"
#include "tests/schema_v1_fixture.h"

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

ProxyRow proxy(const std::string& name, int sign = 1, const std::string& params = "",
               int train_epochs = 0) {
  ProxyRow row{name, sign, "test", "score", "build", params, "a test proxy"};
  row.train_epochs = train_epochs;
  return row;
}

void expect_open_error(const std::string& path, const std::string& fragment) {
  try {
    ResultsDb db(path);
    FAIL() << path;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
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
  // Training epochs are part of the definition: the same name after k epochs is another proxy.
  try {
    db.ensure_proxies({proxy("p", 1, "k=1", 1)});
    FAIL() << "a changed train_epochs was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("0 training epochs"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 training epochs"), std::string::npos) << e.what();
  }
  EXPECT_THROW(db.ensure_proxies({proxy("q", 1, "", -1)}), Error);
  EXPECT_EQ(db.ensure_proxies({proxy("p", 1, "k=1", 0)}).size(), 1u);
}

TEST(ResultsDb, TrainEpochsAreStoredAndShownInTheView) {
  const auto path = temp_db();
  ResultsDb db(path);
  const auto archs = db.ensure_architectures("nb201", {{3, "arch-three", "k3"}});
  const auto proxies = db.ensure_proxies({proxy("lga"), proxy("lga_trained_1", 1, "", 1)});
  const auto run = db.find_or_create_run(sample_run("key"));
  const auto session = db.begin_session(run, "cmd", "host", "test");
  std::vector<ScoreRow> rows(2);
  rows[0].proxy_id = proxies.at("lga");
  rows[1].proxy_id = proxies.at("lga_trained_1");
  for (auto& r : rows) r.ok = true;
  db.store_arch_result(run, session, archs.at(3), rows, {});
  SQLite::Statement view(db.sql(), "SELECT proxy, train_epochs FROM proxy_scores ORDER BY proxy");
  ASSERT_TRUE(view.executeStep());
  EXPECT_EQ(view.getColumn(0).getString(), "lga");
  EXPECT_EQ(view.getColumn(1).getInt(), 0);
  ASSERT_TRUE(view.executeStep());
  EXPECT_EQ(view.getColumn(0).getString(), "lga_trained_1");
  EXPECT_EQ(view.getColumn(1).getInt(), 1);
  EXPECT_EQ(db.sql().execAndGet("PRAGMA user_version").getInt(), kSchemaVersion);
}

// Every (table or view, column) with its declared type, NOT NULL and default, in order.
std::string columns(SQLite::Database& db) {
  std::string out;
  SQLite::Statement objects(db, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                "ORDER BY name");
  while (objects.executeStep()) {
    const std::string name = objects.getColumn(0).getString();
    SQLite::Statement info(db, "PRAGMA table_info(\"" + name + "\")");
    while (info.executeStep())
      out += name + "." + info.getColumn(1).getString() + " " + info.getColumn(2).getString() +
             (info.getColumn(3).getInt() ? " NOT NULL" : "") + " default " +
             (info.getColumn(4).isNull() ? "none" : info.getColumn(4).getString()) + "\n";
  }
  return out;
}

int row_count(SQLite::Database& db, const std::string& table) {
  return db.execAndGet("SELECT count(*) FROM " + table).getInt();
}

TEST(ResultsDb, VersionOneFileIsMigratedInPlaceLosingNothing) {
  const auto path = temp_db();
  test::make_v1_database(path);
  const std::vector<std::string> tables = {"meta",   "runs",   "run_sessions", "architectures",
                                           "proxies", "scores", "passes",       "ground_truth"};
  std::map<std::string, int> before;
  {
    // A reader that must not write (merge inputs) sees version 1 and leaves it so.
    int version = 0;
    SQLite::Database ro = open_results_read_only(path, &version);
    EXPECT_EQ(version, 1);
    for (const auto& t : tables) before[t] = row_count(ro, t);
  }
  {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    EXPECT_EQ(raw.execAndGet("PRAGMA user_version").getInt(), 1);
  }

  ResultsDb db(path);
  EXPECT_EQ(db.sql().execAndGet("PRAGMA user_version").getInt(), kSchemaVersion);
  EXPECT_EQ(db.sql().execAndGet("PRAGMA integrity_check").getString(), "ok");
  for (const auto& t : tables) EXPECT_EQ(row_count(db.sql(), t), before[t]) << t;
  EXPECT_EQ(db.sql().execAndGet("SELECT value FROM meta WHERE key = 'created_at'").getString(),
            "2024-01-01T00:00:00.000Z");
  // Same columns as a file created at the current version.
  const auto fresh_path = temp_db();
  {
    ResultsDb fresh(fresh_path);
    EXPECT_EQ(columns(db.sql()), columns(fresh.sql()));
  }
  // The old rows read as computed at initialisation, through the view too.
  SQLite::Statement view(db.sql(), "SELECT arch_index, proxy, value, status, seconds, run_id, "
                                   "train_epochs FROM proxy_scores ORDER BY proxy");
  ASSERT_TRUE(view.executeStep());
  EXPECT_EQ(view.getColumn(0).getInt(), 5);
  EXPECT_EQ(view.getColumn(1).getString(), "p1");
  EXPECT_EQ(view.getColumn(2).getDouble(), 1.5);
  EXPECT_EQ(view.getColumn(4).getDouble(), 0.75);
  EXPECT_EQ(view.getColumn(6).getInt(), 0);
  ASSERT_TRUE(view.executeStep());
  EXPECT_EQ(view.getColumn(1).getString(), "p2");
  EXPECT_EQ(view.getColumn(3).getString(), "failed");
  EXPECT_EQ(view.getColumn(6).getInt(), 0);
  EXPECT_FALSE(view.executeStep());

  // The migrated file works as a current one: the old definitions match with 0 epochs, a
  // trained proxy is added, a changed epoch count is refused, the run resumes.
  const auto ids = db.ensure_proxies({proxy("p1", 1, "k=1"), proxy("p1_trained_2", 1, "", 2)});
  EXPECT_EQ(ids.at("p1"), 1);
  EXPECT_THROW(db.ensure_proxies({proxy("p2", -1, "", 3)}), Error);
  EXPECT_EQ(db.find_or_create_run(sample_run("v1-run")), 1);
  EXPECT_EQ(db.sql().execAndGet("SELECT train_epochs FROM proxies WHERE name = 'p1_trained_2'")
                .getInt(),
            2);

  // Opening again finds the current version and changes nothing.
  const std::string schema_before =
      db.sql().execAndGet("SELECT group_concat(sql, ';') FROM sqlite_master").getString();
  ResultsDb again(path);
  EXPECT_EQ(again.sql().execAndGet("SELECT group_concat(sql, ';') FROM sqlite_master").getString(),
            schema_before);
  EXPECT_EQ(row_count(again.sql(), "proxies"), 3);
}

// Two real OpenBLAS config strings of one Debian package on two EPYC generations: the runtime
// dispatch picked different kernels.
const std::string kBlasZen =
    "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblasp-r0.3.21.so (OpenBLAS 0.3.21 NO_LAPACKE "
    "DYNAMIC_ARCH NO_AFFINITY USE_OPENMP Zen MAX_THREADS=64)";
const std::string kBlasCooperlake =
    "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblasp-r0.3.21.so (OpenBLAS 0.3.21 NO_LAPACKE "
    "DYNAMIC_ARCH NO_AFFINITY USE_OPENMP Cooperlake MAX_THREADS=64)";

TEST(ResultsDb, MigrationDropsThePickedKernelFromKeysAndGivesSessionsTheirBlas) {
  const auto path = temp_db();
  test::make_v1_database(path);
  {
    // Run 2 started on one machine; run 3 is the same sweep started on another before version 3
    // (a new run then); run 4 names no BLAS in its key (timing runs).
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    SQLite::Statement add(raw,
                          "INSERT INTO runs(run_id, config_key, space, dataset, images, "
                          "num_classes, input_size, seed, batch_size, batch_indices, device, "
                          "device_name, threads, blas, torch_version, code_version, build, host, "
                          "cpu, options_json, started_at) SELECT ?1, ?2, space, dataset, images, "
                          "num_classes, input_size, seed, batch_size, batch_indices, device, "
                          "device_name, threads, ?3, torch_version, code_version, build, host, "
                          "cpu, options_json, started_at FROM runs WHERE run_id = 1");
    const std::vector<std::tuple<int, std::string, std::string>> runs = {
        {2, "seed=0;threads=1;blas=" + kBlasZen + ";torch=1.13.0", kBlasZen},
        {3, "seed=0;threads=1;blas=" + kBlasCooperlake + ";torch=1.13.0", kBlasCooperlake},
        {4, "timing;host=h", kBlasZen}};
    for (const auto& [id, key, blas] : runs) {
      add.reset();
      add.bind(1, id);
      add.bind(2, key);
      add.bind(3, blas);
      add.exec();
      raw.exec("INSERT INTO run_sessions(run_id, command_line, host, pid, code_version, "
               "started_at) VALUES (" + std::to_string(id) + ", 'sweep', 'h', 1, 'v', 't')");
    }
  }
  ResultsDb db(path);
  const std::string normalised = "seed=0;threads=1;blas=" + blas_build(kBlasZen) + ";torch=1.13.0";
  EXPECT_EQ(blas_build(kBlasZen), blas_build(kBlasCooperlake));
  EXPECT_EQ(db.sql().execAndGet("SELECT config_key FROM runs WHERE run_id = 2").getString(),
            normalised);
  // The key run 3 would get is taken: it keeps its own and stays a run of its own.
  EXPECT_EQ(db.sql().execAndGet("SELECT config_key FROM runs WHERE run_id = 3").getString(),
            "seed=0;threads=1;blas=" + kBlasCooperlake + ";torch=1.13.0");
  EXPECT_EQ(db.sql().execAndGet("SELECT config_key FROM runs WHERE run_id = 4").getString(),
            "timing;host=h");
  EXPECT_EQ(db.sql().execAndGet("SELECT config_key FROM runs WHERE run_id = 1").getString(),
            "v1-run");
  // Each old session gets its run's BLAS; its CPU and device were never recorded.
  SQLite::Statement sessions(db.sql(), "SELECT run_id, blas, cpu IS NULL, device_name IS NULL "
                                       "FROM run_sessions ORDER BY session_id");
  const std::vector<std::string> expected_blas = {"test blas", kBlasZen, kBlasCooperlake, kBlasZen};
  for (const auto& blas : expected_blas) {
    ASSERT_TRUE(sessions.executeStep());
    EXPECT_EQ(sessions.getColumn(1).getString(), blas);
    EXPECT_EQ(sessions.getColumn(2).getInt(), 1);
    EXPECT_EQ(sessions.getColumn(3).getInt(), 1);
  }
  EXPECT_FALSE(sessions.executeStep());

  // The sweep resumed on the second machine now finds run 2, and its session records that machine.
  RunRecord resumed = sample_run(normalised);
  resumed.blas = kBlasCooperlake;
  bool created = true;
  EXPECT_EQ(db.find_or_create_run(resumed, &created), 2);
  EXPECT_FALSE(created);
  const auto session = db.begin_session(2, "sweep", "h2", "v", {"AMD EPYC 9xx4", "AMD EPYC 9xx4",
                                                                kBlasCooperlake});
  SQLite::Statement machine(db.sql(), "SELECT cpu, device_name, blas FROM run_sessions "
                                      "WHERE session_id = ?");
  machine.bind(1, session);
  ASSERT_TRUE(machine.executeStep());
  EXPECT_EQ(machine.getColumn(0).getString(), "AMD EPYC 9xx4");
  EXPECT_EQ(machine.getColumn(1).getString(), "AMD EPYC 9xx4");
  EXPECT_EQ(machine.getColumn(2).getString(), kBlasCooperlake);
  // Without a machine (aggregate, import-bench) nothing is claimed.
  const auto bare = db.begin_session(2, "aggregate", "h2", "v");
  EXPECT_EQ(db.sql()
                .execAndGet("SELECT count(*) FROM run_sessions WHERE session_id = " +
                            std::to_string(bare) + " AND cpu IS NULL AND blas IS NULL")
                .getInt(),
            1);
}

TEST(ResultsDb, NewerSchemaIsRefusedByNameAndLeftUntouched) {
  const auto path = temp_db();
  { ResultsDb db(path); }
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = 99");
  }
  expect_open_error(path, "schema version 99");
  expect_open_error(path, path);
  try {
    (void)open_results_read_only(path);
    FAIL() << "read-only open accepted version 99";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("PRAGMA user_version").getInt(), 99);
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
