#include "benchmarks_db/aggregate_selection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "foundation/errors.h"
#include "foundation/statistics.h"
#include "tests/test_support.h"

namespace nbz::db {
namespace {

constexpr int kArchs = 60;

// Proxy values by arch_index; a missing index is stored as a failed row.
using Values = std::map<std::string, std::map<int, double>>;

// A run of kArchs NB201 architectures whose CIFAR-10 test accuracy (200 epochs) is the index
// itself, and the given proxies (sign +1, so rank_value = value).
struct Fixture {
  ResultsDb db{test::scratch_dir() + "/selection.sqlite"};
  std::int64_t run_id = 0;

  explicit Fixture(const Values& values) {
    std::vector<ArchRow> archs;
    std::vector<TruthRow> truth;
    for (int i = 0; i < kArchs; ++i) {
      archs.push_back({i, "a" + std::to_string(i), "k" + std::to_string(i)});
      truth.push_back({i, "cifar10", "test", 200, static_cast<double>(i)});
      truth.push_back({i, "cifar10", "test", 12, static_cast<double>(kArchs - i)});
    }
    const auto ids = db.ensure_architectures("nb201", archs);
    db.import_truth("nb201", "test", truth);
    std::vector<ProxyRow> proxies;
    for (const auto& [name, v] : values) proxies.push_back({name, 1, "t", "score", "build", "", ""});
    const auto proxy_ids = db.ensure_proxies(proxies);
    RunRecord run;
    run.config_key = "k";
    run.space = "nb201";
    run_id = db.find_or_create_run(run);
    const auto session = db.begin_session(run_id, "test", "host", "test");
    for (int i = 0; i < kArchs; ++i) {
      std::vector<ScoreRow> rows;
      for (const auto& [name, v] : values) {
        const auto it = v.find(i);
        if (it != v.end()) rows.push_back({proxy_ids.at(name), true, it->second, it->second, "", 0, 0});
        else rows.push_back({proxy_ids.at(name), false, 0, 0, "non-finite value: nan", 0, 0});
      }
      db.store_arch_result(run_id, session, ids.at(i), rows, {});
    }
  }
};

// Deterministic noise in [-0.5, 0.5).
double noise(std::uint64_t i, std::uint64_t salt) {
  std::uint64_t z = i * 0x9E3779B97F4A7C15ULL + salt;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return static_cast<double>((z ^ (z >> 31)) >> 11) / 9007199254740992.0 - 0.5;
}

Values noisy_proxies() {
  Values v;
  for (int i = 0; i < kArchs; ++i) {
    v["close"][i] = i + 30 * noise(i, 1);    // follows the truth with some noise
    v["loose"][i] = i + 80 * noise(i, 2);    // more noise
    v["other"][i] = i + 60 * noise(i, 3);    // independent noise: helps an aggregate
    v["against"][i] = -i + 20 * noise(i, 4); // ranks backwards
  }
  return v;
}

std::set<std::int64_t> indices(int from, int to) {
  std::set<std::int64_t> s;
  for (int i = from; i < to; ++i) s.insert(i);
  return s;
}

// The slower obvious path: the Kendall tau of an aggregate of `members` on the cells `from..to`.
double brute_kendall(const Values& v, const std::vector<std::string>& members,
                     const std::string& rule, int from, int to) {
  std::vector<std::vector<double>> ranks;
  std::vector<double> y;
  for (int i = from; i < to; ++i) y.push_back(i);
  for (const auto& m : members) {
    std::vector<double> x;
    for (int i = from; i < to; ++i) x.push_back(v.at(m).at(i));
    ranks.push_back(stats::average_ranks(x));
  }
  return stats::kendall_tau_b(members.size() == 1 ? ranks[0] : aggregate_values(rule, ranks), y);
}

TEST(AggregateSelection, GreedyStepsEqualTheExhaustiveSearchOfEachStep) {
  const auto values = noisy_proxies();
  Fixture f(values);
  AggregateSelectionOptions o;
  o.selection = indices(0, 40);
  o.selection_label = "0-39";
  o.min_gain = 0;  // every addition that helps at all
  for (const std::string rule : {"mean_rank", "log_rank", "vote"}) {
    o.rule = rule;
    const auto got = select_aggregate(f.db, f.run_id, o);
    EXPECT_EQ(got.selection_cells, 40);
    EXPECT_EQ(got.truth_label, "cifar10:test:200");  // the longest of 12 and 200 epochs
    ASSERT_EQ(got.singles.size(), 4u);
    for (size_t i = 0; i + 1 < got.singles.size(); ++i)
      EXPECT_GE(got.singles[i].second, got.singles[i + 1].second);
    for (const auto& [name, tau] : got.singles)
      EXPECT_NEAR(tau, brute_kendall(values, {name}, rule, 0, 40), 1e-12) << name;
    // Re-derive every step: the chosen addition is the best of all remaining candidates.
    std::vector<std::string> members;
    double previous = -2;
    for (const auto& step : got.steps) {
      double best = -2;
      for (const auto& [name, v] : values) {
        if (std::count(members.begin(), members.end(), name)) continue;
        auto trial = members;
        trial.push_back(name);
        best = std::max(best, brute_kendall(values, trial, rule, 0, 40));
      }
      members.push_back(step.added);
      EXPECT_NEAR(step.kendall, best, 1e-12) << rule << " +" << step.added;
      EXPECT_NEAR(step.kendall, brute_kendall(values, members, rule, 0, 40), 1e-12);
      if (members.size() > 2) EXPECT_GE(step.kendall, previous) << rule;
      previous = step.kendall;
    }
    EXPECT_EQ(got.definition.members, members);
    EXPECT_EQ(got.steps.front().added, "close") << rule;
    EXPECT_GE(members.size(), 2u);
  }
}

TEST(AggregateSelection, StopsWhenTheGainIsBelowTheMinimumButAlwaysPairs) {
  Values v = noisy_proxies();
  for (int i = 0; i < kArchs; ++i) v["exact"][i] = i;  // tau 1: nothing can improve on it
  Fixture f(v);
  AggregateSelectionOptions o;
  o.selection = indices(0, 40);
  o.min_gain = 0.001;
  const auto got = select_aggregate(f.db, f.run_id, o);
  ASSERT_EQ(got.steps.size(), 2u);
  EXPECT_EQ(got.steps[0].added, "exact");
  EXPECT_DOUBLE_EQ(got.steps[0].kendall, 1.0);
  o.max_members = 2;
  o.min_gain = -1;  // any addition would pass the gain test; the size bound stops it
  EXPECT_EQ(select_aggregate(f.db, f.run_id, o).steps.size(), 2u);
}

TEST(AggregateSelection, CellsWhereACandidateFailedAreLeftOutOfTheSelection) {
  Values v = noisy_proxies();
  v["loose"].erase(3);
  v["loose"].erase(7);
  Fixture f(v);
  AggregateSelectionOptions o;
  o.selection = indices(0, 40);
  EXPECT_EQ(select_aggregate(f.db, f.run_id, o).selection_cells, 38);
  o.candidates = {"close", "other"};  // without the failing candidate every cell counts
  const auto got = select_aggregate(f.db, f.run_id, o);
  EXPECT_EQ(got.selection_cells, 40);
  EXPECT_EQ(got.singles.size(), 2u);
}

TEST(AggregateSelection, EvaluationUsesOnlyTheArchitecturesOutsideTheSelection) {
  const auto values = noisy_proxies();
  Fixture f(values);
  TruthColumn truth;
  const auto table = evaluate_outside(f.db, f.run_id, {"close", "against", "absent"}, truth,
                                      indices(0, 40));
  ASSERT_EQ(table.size(), 2u);  // a proxy without scores is left out
  EXPECT_EQ(table[0].proxy, "close");
  EXPECT_EQ(table[0].archs, kArchs - 40);
  for (const auto& e : table) {
    std::vector<double> x, y;
    for (int i = 40; i < kArchs; ++i) {
      x.push_back(values.at(e.proxy).at(i));
      y.push_back(i);
    }
    EXPECT_NEAR(e.kendall, stats::kendall_tau_b(x, y), 1e-12);
    EXPECT_NEAR(e.spearman, stats::spearman_rho(x, y), 1e-12);
  }
  for (const auto& e : table) EXPECT_EQ(e.common_archs, kArchs - 40);  // no proxy failed there
  {
    // A proxy that failed on two evaluation cells: its own n drops by two, and the common cells
    // of every proxy evaluated with it too.
    Values v = noisy_proxies();
    v["loose"].erase(45);
    v["loose"].erase(50);
    Fixture g(v);
    const auto t = evaluate_outside(g.db, g.run_id, {"close", "loose"}, truth, indices(0, 40));
    ASSERT_EQ(t.size(), 2u);
    std::vector<double> x, y;
    for (int i = 40; i < kArchs; ++i) {
      if (i == 45 || i == 50) continue;
      x.push_back(v.at("close").at(i));
      y.push_back(i);
    }
    for (const auto& e : t) {
      EXPECT_EQ(e.common_archs, kArchs - 42);
      if (e.proxy == "close") {
        EXPECT_EQ(e.archs, kArchs - 40);
        EXPECT_NEAR(e.common_kendall, stats::kendall_tau_b(x, y), 1e-12);
        EXPECT_NEAR(e.common_spearman, stats::spearman_rho(x, y), 1e-12);
      } else {
        EXPECT_EQ(e.archs, kArchs - 42);
        EXPECT_DOUBLE_EQ(e.common_kendall, e.kendall);
      }
    }
  }
  // The selected aggregate, once stored, is a proxy like any other for the evaluation.
  AggregateSelectionOptions o;
  o.selection = indices(0, 40);
  auto chosen = select_aggregate(f.db, f.run_id, o);
  chosen.definition.description = chosen.description();
  EXPECT_NE(chosen.definition.description.find("40 selection cells"), std::string::npos);
  EXPECT_EQ(compute_aggregate(f.db, f.run_id, chosen.definition, "test").scored, kArchs);
  const auto with_selected =
      evaluate_outside(f.db, f.run_id, {"selected"}, truth, indices(0, 40));
  ASSERT_EQ(with_selected.size(), 1u);
  EXPECT_EQ(with_selected[0].archs, kArchs - 40);
}

TEST(AggregateSelection, BadOptionsNameTheValue) {
  Fixture f(noisy_proxies());
  AggregateSelectionOptions o;
  o.selection = indices(0, 40);
  const auto message = [&](AggregateSelectionOptions bad) {
    try {
      select_aggregate(f.db, f.run_id, bad);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto bad = o;
  bad.rule = "median";
  EXPECT_NE(message(bad).find("median"), std::string::npos);
  bad = o;
  bad.truth = parse_truth_column("cifar100:test");
  EXPECT_NE(message(bad).find("cifar100:test:longest"), std::string::npos);
  bad = o;
  bad.selection = indices(0, 5);
  bad.selection_label = "0-4";
  EXPECT_NE(message(bad).find("only 5 of the 5 selection architectures (0-4)"), std::string::npos);
  bad = o;
  bad.candidates = {"close", "nonesuch"};
  EXPECT_NE(message(bad).find("'nonesuch' has no ok scores"), std::string::npos);
  bad = o;
  bad.max_members = 1;
  EXPECT_NE(message(bad).find("below 2"), std::string::npos);

  EXPECT_EQ(parse_truth_column("cifar100:valid:12").label(), "cifar100:valid:12");
  EXPECT_EQ(parse_truth_column("cifar10").label(), "cifar10:test:longest");
  for (const char* text : {"", "cifar10::200", "cifar10:test:x", "a:b:1:2"})
    EXPECT_THROW(parse_truth_column(text), Error) << text;
}

}  // namespace
}  // namespace nbz::db
