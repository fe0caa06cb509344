// NAS-Bench-101 ground truth in the results database (torch-free): the import of
// nasbench101/nb101_ground_truth_20k.csv (percent, four training lengths, arch_index = the
// sorted-space index, hashes verified, idempotent), and the text report of a database holding
// runs of both spaces, each against its own space's truth.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "benchmarks_db/results_db.h"
#include "benchmarks_db/truth_import.h"
#include "foundation/errors.h"
#include "reports/correlation_report.h"
#include "spaces/nb101_space.h"
#include "tests/test_support.h"

namespace nbz::db {
namespace {

const char* const kHeader =
    "module_hash,num_vertices,adjacency_rowmajor,operations,val_acc_4ep,val_acc_12ep,"
    "val_acc_36ep,val_acc_108ep,trainable_parameters,final_training_time_s";

std::string real_csv() { return test::data_dir() + "/nasbench101/nb101_ground_truth_20k.csv"; }

// The first n data lines of the real CSV: rows whose hashes are right.
std::vector<std::string> real_lines(int n) {
  std::ifstream in(real_csv());
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::string> lines;
  while (static_cast<int>(lines.size()) < n && std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string write_csv(const std::string& name, const std::vector<std::string>& lines) {
  const std::string path = test::scratch_dir() + "/" + name;
  std::ofstream out(path);
  out << kHeader << "\n";
  for (const auto& l : lines) out << l << "\n";
  return path;
}

std::function<std::int64_t(const std::string&)> lookup(std::map<std::string, std::int64_t> m) {
  return [m](const std::string& hash) -> std::int64_t {
    const auto it = m.find(hash);
    return it == m.end() ? -1 : it->second;
  };
}

std::string hash_of(const std::string& line) { return line.substr(0, line.find(',')); }

void expect_error(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    FAIL() << "no error";
  } catch (const Error& e) {
    for (const auto& frag : fragments)
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << e.what() << " lacks "
                                                                      << frag;
  }
}

std::int64_t count_truth(ResultsDb& db, const std::string& space) {
  SQLite::Statement q(db.sql(), "SELECT count(*) FROM ground_truth WHERE space = ?");
  q.bind(1, space);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

TEST(Nb101TruthImport, FourTrainingLengthsInPercentOnce) {
  const auto lines = real_lines(3);
  const auto path = write_csv("three.csv", lines);
  const auto rows = nb101::load_ground_truth(path);
  // Indices deliberately unlike row numbers: they come from the space, not from the file.
  const auto index_of = lookup({{hash_of(lines[0]), 300}, {hash_of(lines[1]), 100},
                                {hash_of(lines[2]), 200}});
  const auto indices = nb101_truth_indices(path, rows, index_of);
  EXPECT_EQ(indices, (std::vector<std::int64_t>{300, 100, 200}));

  ResultsDb db(test::scratch_dir() + "/results.sqlite");
  EXPECT_EQ(import_nb101_truth(db, path, rows, indices), 12u);
  SQLite::Statement q(db.sql(),
                      "SELECT arch_index, dataset, split, epochs, value, source FROM ground_truth "
                      "WHERE space = 'nb101' ORDER BY arch_index, epochs");
  std::map<std::pair<std::int64_t, int>, double> values;
  while (q.executeStep()) {
    EXPECT_EQ(q.getColumn(1).getString(), "cifar10");
    EXPECT_EQ(q.getColumn(2).getString(), "valid");
    EXPECT_EQ(q.getColumn(5).getString(), path);
    values[{q.getColumn(0).getInt64(), q.getColumn(3).getInt()}] = q.getColumn(4).getDouble();
  }
  ASSERT_EQ(values.size(), 12u);
  // The first row (hash 00005c14...): fractions 0.3604767620563507 ... 0.9304887652397156.
  EXPECT_DOUBLE_EQ(values.at({300, 4}), 36.04767620563507);
  EXPECT_DOUBLE_EQ(values.at({300, 108}), 93.04887652397156);
  EXPECT_DOUBLE_EQ(values.at({300, 12}), 100 * rows[0].val_acc_12ep);
  EXPECT_DOUBLE_EQ(values.at({100, 36}), 100 * rows[1].val_acc_36ep);

  // Idempotent: a second import (a resumed or parallel sweep) adds nothing.
  EXPECT_EQ(import_nb101_truth(db, path, rows, indices), 0u);
  EXPECT_EQ(count_truth(db, "nb101"), 12);
  EXPECT_FALSE(db.has_truth("nb201"));
}

TEST(Nb101TruthImport, HashOutsideTheSpaceOrRepeatedNamesFileAndLine) {
  const auto lines = real_lines(3);
  auto path = write_csv("unknown.csv", lines);
  auto rows = nb101::load_ground_truth(path);
  expect_error([&] { nb101_truth_indices(path, rows, lookup({{hash_of(lines[0]), 0}})); },
               {path + ":3", hash_of(lines[1]), "not in the NAS-Bench-101 space"});
  path = write_csv("repeated.csv", {lines[0], lines[1], lines[0]});
  rows = nb101::load_ground_truth(path);
  expect_error(
      [&] {
        nb101_truth_indices(path, rows, lookup({{hash_of(lines[0]), 0}, {hash_of(lines[1]), 1}}));
      },
      {path + ":4", hash_of(lines[0]), "repeats line 2"});
}

TEST(Nb101TruthImport, StoredHashMustBeTheHashOfItsSpecAndNothingIsWrittenOtherwise) {
  auto lines = real_lines(3);
  // Row 2 carries row 3's hash: well formed, in the space, but not the hash of its spec.
  const std::string wrong = hash_of(lines[2]);
  lines[1] = wrong + lines[1].substr(lines[1].find(','));
  lines.pop_back();
  const auto path = write_csv("wrong_hash.csv", lines);
  const auto rows = nb101::load_ground_truth(path);
  ResultsDb db(test::scratch_dir() + "/results.sqlite");
  expect_error([&] { import_nb101_truth(db, path, rows, {0, 1}); },
               {path + ":3", "'" + wrong + "'", "is not the hash of its spec"});
  EXPECT_FALSE(db.has_truth("nb101"));
}

TEST(Nb101TruthImport, AccuraciesMustBeFractions) {
  auto lines = real_lines(1);
  // The same row with val_acc_108ep already in percent.
  const auto at = lines[0].find("0.9304887652397156");
  ASSERT_NE(at, std::string::npos);
  lines[0].replace(at, 18, "93.04887652397156");
  const auto path = write_csv("percent.csv", lines);
  const auto rows = nb101::load_ground_truth(path);
  ResultsDb db(test::scratch_dir() + "/results.sqlite");
  expect_error([&] { import_nb101_truth(db, path, rows, {0}); },
               {path + ":2", "val_acc_108ep 93.04887652397156", "not a fraction in [0, 1]"});
  EXPECT_EQ(count_truth(db, "nb101"), 0);
}

TEST(Nb101TruthImport, TheRealFileGives20001CellsTimesFourLengths) {
  const auto rows = nb101::load_ground_truth(real_csv());
  ASSERT_EQ(rows.size(), 20001u);
  // The CSV holds the first 20,001 hashes of the sorted space (tests/nb101_space_test.cpp checks
  // it against the enumeration), so here a row's position is its arch_index.
  std::map<std::string, std::int64_t> position;
  for (size_t i = 0; i < rows.size(); ++i) position[rows[i].module_hash] = static_cast<std::int64_t>(i);
  const auto indices = nb101_truth_indices(real_csv(), rows, lookup(position));
  for (size_t i = 0; i < indices.size(); ++i) ASSERT_EQ(indices[i], static_cast<std::int64_t>(i));

  ResultsDb db(test::scratch_dir() + "/results.sqlite");
  EXPECT_EQ(import_nb101_truth(db, real_csv(), rows, indices), 4u * 20001u);
  SQLite::Statement q(db.sql(),
                      "SELECT count(*), count(DISTINCT arch_index), min(arch_index), "
                      "max(arch_index), min(value), max(value), count(DISTINCT epochs) "
                      "FROM ground_truth WHERE space = 'nb101'");
  ASSERT_TRUE(q.executeStep());
  EXPECT_EQ(q.getColumn(0).getInt64(), 80004);
  EXPECT_EQ(q.getColumn(1).getInt64(), 20001);
  EXPECT_EQ(q.getColumn(2).getInt64(), 0);
  EXPECT_EQ(q.getColumn(3).getInt64(), 20000);
  EXPECT_GT(q.getColumn(4).getDouble(), 0.0);
  EXPECT_LE(q.getColumn(5).getDouble(), 100.0);
  EXPECT_GT(q.getColumn(5).getDouble(), 90.0);  // percent, not fractions
  EXPECT_EQ(q.getColumn(6).getInt(), 4);
  EXPECT_EQ(import_nb101_truth(db, real_csv(), rows, indices), 0u);
  EXPECT_EQ(count_truth(db, "nb101"), 80004);
}

// ---------------------------------------------------------------------------------------------
// Both spaces in one database: the same arch_index values, opposite truths.

std::int64_t add_run(ResultsDb& db, const std::string& space, std::int64_t proxy_id,
                     const std::map<std::int64_t, std::int64_t>& arch_ids) {
  RunRecord r;
  r.config_key = "space=" + space;
  r.space = space;
  r.dataset = "cifar10";
  r.images = "cifar10 training images";
  r.batch_size = space == "nb101" ? 128 : 64;
  r.batch_indices = "[]";
  r.device = "cpu";
  r.options_json = "{}";
  const auto run = db.find_or_create_run(r);
  const auto session = db.begin_session(run, "test", "host", "test");
  for (const auto& [index, arch_id] : arch_ids) {
    ScoreRow s;
    s.proxy_id = proxy_id;
    s.ok = true;
    s.value = s.rank_value = static_cast<double>(index);  // increasing with the index
    db.store_arch_result(run, session, arch_id, {s}, {});
  }
  db.end_session(session, "completed");
  return run;
}

TEST(Nb101Report, EachSpaceIsReportedAgainstItsOwnTruth) {
  ResultsDb db(test::scratch_dir() + "/both.sqlite");
  const auto proxy = db.ensure_proxies({{"params", 1, "architecture", "score", "build", "", ""}});
  std::vector<ArchRow> nb201_archs, nb101_archs;
  std::vector<TruthRow> nb201_truth, nb101_truth;
  for (std::int64_t i = 0; i < 6; ++i) {
    const double d = static_cast<double>(i);
    nb201_archs.push_back({i, "arch" + std::to_string(i), "key" + std::to_string(i)});
    nb101_archs.push_back({i, "hash" + std::to_string(i), "hash" + std::to_string(i)});
    nb201_truth.push_back({i, "cifar10", "test", 200, 80 + d});  // agrees with the proxy
    nb201_truth.push_back({i, "cifar10", "valid", 200, 70 + d});
    nb201_truth.push_back({i, "cifar10", "valid", 12, 50 - d});
    nb101_truth.push_back({i, "cifar10", "valid", 108, 95 - d});  // opposes it
    nb101_truth.push_back({i, "cifar10", "valid", 36, 90 - d});
    nb101_truth.push_back({i, "cifar10", "valid", 12, 40 + d});
    nb101_truth.push_back({i, "cifar10", "valid", 4, 30 - d});
  }
  db.import_truth("nb201", "nb201.csv", nb201_truth);
  db.import_truth("nb101", "nb101.csv", nb101_truth);
  add_run(db, "nb201", proxy.at("params"), db.ensure_architectures("nb201", nb201_archs));
  add_run(db, "nb101", proxy.at("params"), db.ensure_architectures("nb101", nb101_archs));

  const auto reports = report::correlation_report(db);
  ASSERT_EQ(reports.size(), 2u);
  const auto& a = reports[0];
  const auto& b = reports[1];
  ASSERT_EQ(a.space, "nb201");
  ASSERT_EQ(a.truth.size(), 3u);  // cifar10 valid 200, test 200, valid 12
  ASSERT_EQ(a.short_training.size(), 1u);
  EXPECT_EQ(a.short_training[0].epochs, 12);
  EXPECT_DOUBLE_EQ(a.short_training[0].by_truth[0].tau, -1.0);  // 12 -> valid 200
  EXPECT_EQ(a.short_training[0].by_truth[1].n, 0);              // no 12-epoch test column
  ASSERT_EQ(b.space, "nb101");
  std::vector<std::string> labels;
  for (const auto& k : b.truth) labels.push_back(k.label());
  EXPECT_EQ(labels, (std::vector<std::string>{"cifar10_valid_108ep", "cifar10_valid_36ep",
                                              "cifar10_valid_12ep", "cifar10_valid_4ep"}));
  EXPECT_DOUBLE_EQ(a.proxies.at(0).by_truth.at(0).tau, 1.0);
  EXPECT_DOUBLE_EQ(a.proxies.at(0).by_truth.at(1).tau, 1.0);
  EXPECT_DOUBLE_EQ(b.proxies.at(0).by_truth.at(0).tau, -1.0);  // against val_acc_108ep
  EXPECT_DOUBLE_EQ(b.proxies.at(0).by_truth.at(2).tau, 1.0);   // against the 12-epoch column
  EXPECT_EQ(b.proxies.at(0).by_truth.at(0).n, 6);
  // Baselines against 108 epochs: 36 and 4 epochs order the cells as 108 does, 12 the reverse.
  ASSERT_EQ(b.short_training.size(), 3u);
  EXPECT_EQ(b.short_training[0].epochs, 36);
  EXPECT_EQ(b.short_training[1].epochs, 12);
  EXPECT_EQ(b.short_training[2].epochs, 4);
  EXPECT_DOUBLE_EQ(b.short_training[0].by_truth[0].tau, 1.0);
  EXPECT_DOUBLE_EQ(b.short_training[1].by_truth[0].tau, -1.0);
  EXPECT_DOUBLE_EQ(b.short_training[2].by_truth[0].tau, 1.0);
  EXPECT_EQ(b.short_training[0].by_truth[1].n, 0);  // 36 does not predict itself
  EXPECT_DOUBLE_EQ(b.short_training[1].by_truth[1].tau, -1.0);  // 12 -> 36
  EXPECT_EQ(b.short_training[1].by_truth[3].n, 0);  // nor a shorter column

  std::ostringstream text;
  report::print_correlation_report(reports, text);
  const std::string out = text.str();
  const auto nb101_at = out.find("run 2: nb101");
  ASSERT_NE(nb101_at, std::string::npos) << out;
  const std::string nb201_part = out.substr(0, nb101_at), nb101_part = out.substr(nb101_at);
  EXPECT_NE(nb201_part.find("against 200-epoch accuracy"), std::string::npos) << out;
  EXPECT_NE(nb201_part.find("against 12-epoch accuracy"), std::string::npos) << out;
  EXPECT_NE(nb201_part.find("12ep-acc*"), std::string::npos) << out;
  EXPECT_EQ(nb201_part.find("108ep"), std::string::npos) << out;
  EXPECT_NE(nb101_part.find("against 108, 36, 12, 4-epoch accuracy"), std::string::npos) << out;
  EXPECT_NE(nb101_part.find("cifar10_valid_108ep"), std::string::npos) << out;
  for (const char* row : {"36ep-acc*", "12ep-acc*", "4ep-acc*"})
    EXPECT_NE(nb101_part.find(row), std::string::npos) << row << "\n" << out;
  EXPECT_NE(nb101_part.find("-1.000 / -1.000"), std::string::npos) << out;
  EXPECT_EQ(nb101_part.find("cifar10_test"), std::string::npos) << out;
}

}  // namespace
}  // namespace nbz::db
