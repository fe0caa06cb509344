// `nasbench report` end to end through the real CLI: one command regenerates every table, figure
// and the HTML page from a database alone; --table / --plots / --html write only what they name;
// bad input is an error naming the value; `nasbench aggregate --select` the same way.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "benchmarks_db/results_db.h"

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/nbz_report_cli_XXXXXX";
  return mkdtemp(tmpl);
}

struct Result {
  int status = -1;
  std::string out, err;
};

// Runs the CLI with arguments (no shell), capturing stdout and stderr through files.
Result run_cli(const std::vector<std::string>& args, const std::string& dir,
               const std::string& command = "report") {
  const std::string out_path = dir + "/stdout.txt", err_path = dir + "/stderr.txt";
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::fopen(out_path.c_str(), "w");
    FILE* err = std::fopen(err_path.c_str(), "w");
    dup2(fileno(out), STDOUT_FILENO);
    dup2(fileno(err), STDERR_FILENO);
    std::vector<std::string> full = {NBZ_CLI_PATH, command};
    full.insert(full.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Result r;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream o(out_path), e(err_path);
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  r.out = so.str();
  r.err = se.str();
  return r;
}

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    names.insert(entry.path().filename().string());
  return names;
}

// Twelve NB201 architectures, two proxies, one cifar10 run, CIFAR-10 and CIFAR-100 truth; with
// `second_seed`, a second run of seed 1 that ranks snip the other way round.
std::string make_db(const std::string& dir, bool second_seed = false) {
  const std::string path = dir + "/results.sqlite";
  nbz::db::ResultsDb db(path);
  std::vector<nbz::db::ArchRow> archs;
  std::vector<nbz::db::TruthRow> truth;
  for (std::int64_t i = 0; i < 12; ++i) {
    archs.push_back({i, "arch" + std::to_string(i), "key" + std::to_string(i % 10)});
    truth.push_back({i, "cifar10", "test", 200, 80.0 + static_cast<double>(i)});
    truth.push_back({i, "cifar100", "test", 200, 60.0 + static_cast<double>((i * 5) % 12)});
  }
  const auto ids = db.ensure_architectures("nb201", archs);
  db.import_truth("nb201", "test.csv", truth);
  const auto proxies = db.ensure_proxies({{"params", 1, "architecture", "score", "build", "", "p"},
                                          {"snip", 1, "gradient", "score", "build", "", "s"}});
  nbz::db::RunRecord run;
  run.config_key = "cli-test";
  run.space = "nb201";
  run.dataset = "cifar10";
  run.images = "cifar10 training images";
  run.batch_indices = "[]";
  run.device = "cpu";
  run.device_name = "Test CPU";
  run.blas = "test blas";
  run.torch_version = run.code_version = run.build = run.host = run.cpu = "test";
  run.options_json = "{}";
  const auto run_id = db.find_or_create_run(run);
  const auto session = db.begin_session(run_id, "nasbench sweep --cli-test", "host", "test");
  for (std::int64_t i = 0; i < 12; ++i) {
    nbz::db::ScoreRow p{proxies.at("params"), true, double(i), double(i), "", 0.001, 0.002};
    nbz::db::ScoreRow s{proxies.at("snip"), true, double(i % 4), double(i % 4), "", 0.01, 0.02};
    db.store_arch_result(run_id, session, ids.at(i), {p, s}, {});
  }
  db.end_session(session, "completed");
  if (second_seed) {
    run.config_key = "cli-test-seed1";
    run.seed = 1;
    const auto run2 = db.find_or_create_run(run);
    const auto session2 = db.begin_session(run2, "nasbench sweep --cli-test --seed 1", "host", "test");
    for (std::int64_t i = 0; i < 12; ++i) {
      nbz::db::ScoreRow p{proxies.at("params"), true, double(i), double(i), "", 0.001, 0.002};
      nbz::db::ScoreRow s{proxies.at("snip"), true, double(-i), double(-i), "", 0.01, 0.02};
      db.store_arch_result(run2, session2, ids.at(i), {p, s}, {});
    }
    db.end_session(session2, "completed");
  }
  return path;
}

TEST(ReportCli, OneCommandWritesEveryTableFigureAndThePage) {
  const auto dir = temp_dir();
  const auto db = make_db(dir);
  const auto r = run_cli({"--db", db, "--out", dir + "/all"}, dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto files = files_in(dir + "/all");
  for (const char* stem : {"paper_nb201", "proxy_corr_nb201", "correlations_run1", "timing_nb201",
                           "runs", "sessions"})
    for (const char* ext : {".tex", ".md", ".csv"})
      EXPECT_TRUE(files.count(std::string(stem) + ext)) << stem << ext;
  for (const char* stem : {"tau_nb201", "scatter_run1", "timing_nb201"}) {
    EXPECT_TRUE(files.count(std::string(stem) + ".svg")) << stem;
    if (r.err.find("rsvg-convert") == std::string::npos) {
      EXPECT_TRUE(files.count(std::string(stem) + ".png")) << stem;
    }
  }
  EXPECT_TRUE(files.count("report.html"));
  EXPECT_NE(r.out.find(dir + "/all/paper_nb201.md"), std::string::npos) << r.out;
  std::ifstream md(dir + "/all/paper_nb201.md");
  std::stringstream text;
  text << md.rdbuf();
  EXPECT_NE(text.str().find("| params | **1.000** | **1.000** | **1.000** |"), std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("CIFAR-100‡ KT"), std::string::npos);
}

TEST(ReportCli, TableAndHtmlWriteOnlyWhatTheyName) {
  const auto dir = temp_dir();
  const auto db = make_db(dir);
  auto r = run_cli({"--db", db, "--table", "paper", "--out", dir + "/paper"}, dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(files_in(dir + "/paper"),
            (std::set<std::string>{"paper_nb201.tex", "paper_nb201.md", "paper_nb201.csv"}));
  r = run_cli({"--db", db, "--table", "timing,proxy-corr", "--out", dir + "/two"}, dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(files_in(dir + "/two").size(), 6u);
  r = run_cli({"--db", db, "--html", dir + "/page"}, dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(files_in(dir + "/page"), std::set<std::string>{"report.html"});
  // Without --out or --html: the text report, as before.
  r = run_cli({"--db", db}, dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Kendall tau-b / Spearman rho"), std::string::npos) << r.out;
}

TEST(ReportCli, TheTextReportShowsSeedStabilityWhenRunsDifferOnlyInTheirSeed) {
  const auto dir = temp_dir();
  std::filesystem::create_directories(dir + "/one");
  std::filesystem::create_directories(dir + "/two");
  auto r = run_cli({"--db", make_db(dir + "/one")}, dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("seed stability"), std::string::npos) << "one seed: no seed table";
  r = run_cli({"--db", make_db(dir + "/two", /*second_seed=*/true)}, dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("| seed stability | stability |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| params | 1.000 | 1.000 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("barely survives a new seed"), std::string::npos) << r.out;  // snip
}

TEST(ReportCli, BadInputIsAnErrorNamingIt) {
  const auto dir = temp_dir();
  const auto db = make_db(dir);
  auto r = run_cli({"--db", db, "--table", "papers", "--out", dir + "/x"}, dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("'papers'"), std::string::npos) << r.err;
  r = run_cli({"--db", db, "--set", "everything", "--out", dir + "/x"}, dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("'everything'"), std::string::npos) << r.err;
  r = run_cli({"--db", db, "--epochs", "36", "--html", dir + "/x"}, dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--epochs 36"), std::string::npos) << r.err;
  r = run_cli({"--db", db, "--table", "paper"}, dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
  r = run_cli({"--db", dir + "/missing.sqlite", "--out", dir + "/x"}, dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(dir + "/missing.sqlite"), std::string::npos) << r.err;
  std::ofstream(dir + "/file") << "not a directory";
  r = run_cli({"--db", db, "--out", dir + "/file/sub"}, dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(dir + "/file/sub"), std::string::npos) << r.err;
}

TEST(AggregateCli, SelectChoosesOnTheSelectionStoresAndEvaluatesOnTheRest) {
  const auto dir = temp_dir();
  const auto db = make_db(dir);
  // params ranks the twelve cells exactly as CIFAR-10 does; snip only by i % 4.
  auto r = run_cli({"--db", db, "--select", "picked=mean_rank", "--selection-archs", "0-9"}, dir,
                   "aggregate");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("selection: 10 cells of 0-9 (run 1) with every candidate ok, against "
                       "cifar10:test:200; rule mean_rank"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("greedy steps: +params -> 1.0000 +snip"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored picked (rule=mean_rank;members=params,snip) on 12 architectures"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("evaluation on the run's architectures outside 0-9"), std::string::npos);
  EXPECT_NE(r.out.find("(n: cells where the proxy is ok; common: 2 cells where every proxy "
                       "listed is ok)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("params                      2   1.0000    1.0000          1.0000    "
                       "1.0000"), std::string::npos) << r.out;
  {
    SQLite::Database check(db);
    SQLite::Statement q(check, "SELECT description FROM proxies WHERE name = 'picked'");
    ASSERT_TRUE(q.executeStep());
    EXPECT_NE(q.getColumn(0).getString().find("greedy forward selection on 10 selection cells "
                                              "against cifar10:test:200"),
              std::string::npos);
  }
  r = run_cli({"--db", db, "--select", "x=median"}, dir, "aggregate");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("'median'"), std::string::npos) << r.err;
  r = run_cli({"--db", db, "--select", "x=vote", "--selection-archs", "0-3"}, dir, "aggregate");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("only 4 of the 4 selection architectures (0-3)"), std::string::npos)
      << r.err;
  r = run_cli({"--db", db, "--select", "x=vote", "--min-gain", "-1"}, dir, "aggregate");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--min-gain -1"), std::string::npos) << r.err;
  r = run_cli({"--db", db, "--select", "x=vote", "--truth", "cifar10:test:7"}, dir, "aggregate");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("cifar10:test:7"), std::string::npos) << r.err;
}

}  // namespace
