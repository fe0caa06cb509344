// nasbench import-bench's reader: Google Benchmark JSON as build/nasbench_bench writes it (a
// synthetic file here, so the test needs no LibTorch and no benchmark run) becomes one timing run
// with medians, failures, floors and whole-set timings; a second import adds nothing; malformed
// or foreign JSON is an error naming the file.
#include "benchmarks_db/bench_import.h"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "foundation/errors.h"
#include "reports/correlation_report.h"
#include "reports/report_data.h"
#include "reports/report_tables.h"
#include "reports/report_writer.h"

namespace nbz::db {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/nbz_bench_import_XXXXXX";
  return mkdtemp(tmpl);
}

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

const char* kArch = "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|";

std::string context() {
  return std::string(R"J({
  "date": "2026-11-22T11:00:00+00:00", "host_name": "vm", "executable": "build/nasbench_bench",
  "num_cpus": 2, "load_avg": [1.5, 1.0, 0.5], "library_build_type": "release",
  "nbz_host": "vm", "nbz_cpu": "Test CPU", "nbz_cores": "2", "nbz_device": "cpu",
  "nbz_threads": "1", "nbz_blas": "/usr/lib/libopenblas.so (OpenBLAS 0.3.21)",
  "nbz_torch_version": "1.13.0", "nbz_build": "Release, GNU 12.2.0", "nbz_code_version": "abc123",
  "nbz_seed": "0", "nbz_batch_size": "64", "nbz_batch_indices": "[1,2,3]",
  "nbz_images": "cifar10 training images \"exact\"", "nbz_nngp": "1000 train",
  "nbz_arch nb201-smallest": "nb201 3 )J") + kArch + R"J( params=73306"
})J";
}

std::string iteration(const std::string& name, double ms, const std::string& extra = "") {
  return R"({"name": ")" + name + R"(", "run_name": ")" + name +
         R"(", "run_type": "iteration", "repetitions": 3, "iterations": 1, "real_time": )" +
         std::to_string(ms) + R"(, "cpu_time": 1.0, "time_unit": "ms")" + extra + "}";
}

std::string aggregate(const std::string& name, const std::string& which, double ms) {
  return R"({"name": ")" + name + "_" + which + R"(", "run_name": ")" + name +
         R"(", "run_type": "aggregate", "aggregate_name": ")" + which +
         R"(", "aggregate_unit": "time", "iterations": 3, "real_time": )" + std::to_string(ms) +
         R"(, "cpu_time": 1.0, "time_unit": "ms"})";
}

std::string bench_json(bool with_all = false) {
  const std::string params = "engine/params/nb201-smallest";
  std::vector<std::string> entries = {
      iteration(params, 1.0, R"(, "label": "floor build")"),
      iteration(params, 3.0, R"(, "label": "floor build")"),
      iteration(params, 2.5, R"(, "label": "floor build")"),
      aggregate(params, "mean", 2.1666),
      aggregate(params, "median", 2.5),
      // One repetition only: its value is used as it is.
      iteration("engine/naswot/nb201-smallest", 200.0,
                R"(, "label": "floor build+train_forward; failed naswot: non-finite value: -inf")"),
      R"({"name": "engine/flops/nb201-smallest", "run_name": "engine/flops/nb201-smallest",
          "run_type": "iteration", "error_occurred": true, "error_message": "out of memory"})",
      iteration("engine/zc/nb201-smallest", 3000.0, R"(, "label": "floor everything")"),
      iteration("floor/build/nb201-smallest", 0.5,
                R"(, "builds": 1, "forwards": 0, "backwards": 0, "samples": 0)"),
      iteration("floor/build+train_forward/nb201-smallest", 150.0,
                R"(, "builds": 1, "forwards": 1, "backwards": 0, "samples": 6.4e1)"),
      iteration("something/else", 1.0),
  };
  if (with_all)
    entries.push_back(iteration("engine/all/nb201-smallest", 9000.0, R"(, "label": "floor everything")"));
  std::string json = "{\n\"context\": " + context() + ",\n\"benchmarks\": [\n";
  for (size_t i = 0; i < entries.size(); ++i) json += (i ? ",\n" : "") + entries[i];
  return json + "\n]\n}\n";
}

TEST(BenchImport, StoresOneTimingRunWithMediansFailuresFloorsAndSets) {
  const std::string dir = temp_dir();
  const std::string json = write(dir + "/bench.json", bench_json());
  ResultsDb db(dir + "/timing.sqlite");
  const auto s = import_benchmark_json(db, json, "nasbench import-bench ...");
  EXPECT_TRUE(s.run_created);
  EXPECT_EQ(s.archs, 1);
  EXPECT_EQ(s.proxy_timings, 3);
  EXPECT_EQ(s.failed_timings, 2);
  EXPECT_EQ(s.floors, 2);
  EXPECT_EQ(s.sets, 1);
  EXPECT_EQ(s.rows_inserted, 3);
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_NE(s.notes[0].find("something/else"), std::string::npos);

  auto& sql = db.sql();
  EXPECT_EQ(sql.execAndGet("SELECT count(*) FROM runs").getInt(), 1);
  EXPECT_EQ(sql.execAndGet("SELECT substr(config_key, 1, 7) FROM runs").getString(), "timing;");
  EXPECT_EQ(sql.execAndGet("SELECT threads || ' ' || blas || ' ' || torch_version || ' ' || host "
                           "FROM runs").getString(),
            "1 /usr/lib/libopenblas.so (OpenBLAS 0.3.21) 1.13.0 vm");
  // No nbz_device_name in the context (an older file): the CPU is the device.
  EXPECT_EQ(sql.execAndGet("SELECT device_name FROM runs").getString(), "Test CPU");
  EXPECT_NE(sql.execAndGet("SELECT options_json FROM runs").getString().find(
                R"("build+train_forward":{"builds":1,"forwards":1,"backwards":0,"samples":64})"),
            std::string::npos);
  // The median aggregate, in seconds.
  EXPECT_DOUBLE_EQ(
      sql.execAndGet("SELECT value FROM proxy_scores WHERE proxy = 'params'").getDouble(), 2.5e-3);
  EXPECT_DOUBLE_EQ(
      sql.execAndGet("SELECT rank_value FROM proxy_scores WHERE proxy = 'params'").getDouble(),
      -2.5e-3);
  EXPECT_EQ(sql.execAndGet("SELECT arch FROM proxy_scores WHERE proxy = 'params'").getString(),
            kArch);
  // A failed value keeps its time; a benchmark error has none.
  SQLite::Statement naswot(sql, "SELECT s.status, s.seconds, s.failure_reason FROM scores s JOIN "
                                "proxies p USING (proxy_id) WHERE p.name = 'naswot'");
  ASSERT_TRUE(naswot.executeStep());
  EXPECT_EQ(naswot.getColumn(0).getString(), "failed");
  EXPECT_DOUBLE_EQ(naswot.getColumn(1).getDouble(), 0.2);
  EXPECT_NE(naswot.getColumn(2).getString().find("non-finite value: -inf"), std::string::npos);
  EXPECT_NE(sql.execAndGet("SELECT failure_reason FROM scores JOIN proxies USING (proxy_id) "
                           "WHERE name = 'flops'").getString().find("out of memory"),
            std::string::npos);
  // Floors and whole sets as passes, with the proxies they belong to.
  SQLite::Statement floor(sql, "SELECT seconds, users FROM passes WHERE pass = 'floor:build'");
  ASSERT_TRUE(floor.executeStep());
  EXPECT_DOUBLE_EQ(floor.getColumn(0).getDouble(), 0.5e-3);
  EXPECT_EQ(floor.getColumn(1).getString(), "params,l2_norm");
  EXPECT_DOUBLE_EQ(sql.execAndGet("SELECT seconds FROM passes WHERE pass = 'engine:zc'").getDouble(),
                   3.0);
  EXPECT_NE(sql.execAndGet("SELECT users FROM passes WHERE pass = 'floor:build+train_forward'")
                .getString()
                .find("naswot"),
            std::string::npos);

  // The same file again: the same run, nothing added.
  const auto again = import_benchmark_json(db, json, "again");
  EXPECT_FALSE(again.run_created);
  EXPECT_EQ(again.run_id, s.run_id);
  EXPECT_EQ(again.rows_inserted, 0);
  EXPECT_EQ(sql.execAndGet("SELECT count(*) FROM scores").getInt(), 3);
}

// A timing run's values are seconds on a few fixed architectures: the timing table uses them, while
// no correlation table treats them as a ranking.
TEST(BenchImport, ReportsKeepTimingRunsOutOfCorrelations) {
  const std::string dir = temp_dir();
  ResultsDb db(dir + "/timing.sqlite");
  (void)import_benchmark_json(db, write(dir + "/bench.json", bench_json()), "import");
  EXPECT_TRUE(report::correlation_report(db).empty());

  const auto data = report::load_report_data(db);
  ASSERT_EQ(data.runs.size(), 1u);
  EXPECT_TRUE(data.runs[0].info.timing_only());
  const auto groups = report::timing_groups(data, "nb201");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].runs.size(), 1u);
  const auto bundle = report::build_report(data, report::ReportOptions{}, {}, false);
  int timing_tables = 0;
  for (const auto& e : bundle.tables) {
    EXPECT_NE(e.kind, "correlations") << e.table.id;
    EXPECT_NE(e.kind, "seeds") << e.table.id;
    timing_tables += e.kind == "timing";
  }
  EXPECT_GE(timing_tables, 1);
  // No engine/all benchmark: no whole-set figure (the sum of proxies timed alone is not one).
  EXPECT_TRUE(data.runs[0].arch_seconds.empty());
}

// The whole-set row of a timing run is the engine timed on --proxies all, not the sum of the
// proxies timed one at a time (each of which paid for the passes a sweep shares).
TEST(BenchImport, WholeSetTimeOfATimingRunIsTheMeasuredEngineOnAll) {
  const std::string dir = temp_dir();
  ResultsDb db(dir + "/timing.sqlite");
  (void)import_benchmark_json(db, write(dir + "/bench.json", bench_json(true)), "import");
  const auto data = report::load_report_data(db);
  ASSERT_EQ(data.runs.size(), 1u);
  ASSERT_EQ(data.runs[0].arch_seconds.size(), 1u);
  EXPECT_DOUBLE_EQ(data.runs[0].arch_seconds.at(3), 9.0);
  const auto groups = report::timing_groups(data, "nb201");
  ASSERT_EQ(groups.size(), 1u);
  const auto whole = report::timing_stats(groups[0], 0);
  EXPECT_EQ(whole.n, 1);
  EXPECT_DOUBLE_EQ(whole.median, 9.0);
}

TEST(BenchImport, MalformedOrForeignJsonIsAnErrorNamingTheFile) {
  const std::string dir = temp_dir();
  ResultsDb db(dir + "/timing.sqlite");
  const auto expect_error = [&](const std::string& text, const std::string& expected) {
    const std::string path = write(dir + "/x.json", text);
    try {
      import_benchmark_json(db, path, "test");
      ADD_FAILURE() << "no error for " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  expect_error("{\"context\": {\"date\": \"x\"}, \"benchmarks\": [", "byte");
  expect_error("{\"context\": {}, \"benchmarks\": [] } trailing", "after the JSON value");
  expect_error("{\"benchmarks\": []}", "not Google Benchmark JSON");
  expect_error("{\"context\": {\"date\": \"x\"}, \"benchmarks\": []}", "nbz_code_version");
  expect_error("{\"context\": " + context() + ", \"benchmarks\": []}", "no engine/ or floor/");
  EXPECT_EQ(db.sql().execAndGet("SELECT count(*) FROM runs").getInt(), 0);
}

}  // namespace
}  // namespace nbz::db
