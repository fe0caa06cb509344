#include "benchmarks_db/aggregates.h"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>

#include "foundation/errors.h"

namespace nbz::db {
namespace {

TEST(Aggregates, ValuesByHand) {
  // Three members ranking three architectures (1 = worst, 3 = best).
  const std::vector<std::vector<double>> ranks = {{1, 2, 3}, {3, 1, 2}, {2, 3, 1}};
  EXPECT_EQ(aggregate_values("mean_rank", ranks), (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(aggregate_values("rank_sum", {{1, 2, 3}, {3, 1, 2}}), (std::vector<double>{4, 3, 5}));
  const auto lr = aggregate_values("log_rank", {{1, 2, 3}, {3, 1, 2}});
  EXPECT_NEAR(lr[0], std::log(1.0 / 3) + std::log(1.0), 1e-15);
  EXPECT_NEAR(lr[1], std::log(2.0 / 3) + std::log(1.0 / 3), 1e-15);
  EXPECT_NEAR(lr[2], std::log(1.0) + std::log(2.0 / 3), 1e-15);
  // The Condorcet cycle: every architecture wins exactly one pairwise majority vote.
  EXPECT_EQ(aggregate_values("vote", ranks), (std::vector<double>{1, 1, 1}));
  // Unanimous members: the best wins against both others.
  EXPECT_EQ(aggregate_values("vote", {{1, 2, 3}, {1, 2, 3}, {1, 3, 2}}), (std::vector<double>{0, 1, 2}));
  // Ties within a member give no majority to either side with two members.
  EXPECT_EQ(aggregate_values("vote", {{1.5, 1.5}, {1, 2}}), (std::vector<double>{0, 0}));
}

TEST(Aggregates, DefinitionsParseOrNameTheProblem) {
  const auto d = parse_aggregate("v=vote:synflow,jacob_cov,snip");
  EXPECT_EQ(d.name, "v");
  EXPECT_EQ(d.parameters(), "rule=vote;members=synflow,jacob_cov,snip");
  for (const char* bad : {"v=vote", "=vote:a,b", "v=median:a,b", "v=vote:a", "v=vote:a,,b", "v=vote:a,a"})
    EXPECT_THROW(parse_aggregate(bad), Error) << bad;
  EXPECT_EQ(standard_aggregates()[1].members, (std::vector<std::string>{"ntk_cond", "linear_regions"}));
}

TEST(Aggregates, ComputedFromStoredScoresAndRecomputedInPlace) {
  char tmpl[] = "/tmp/nbz_agg_XXXXXX";
  ResultsDb db(std::string(mkdtemp(tmpl)) + "/a.sqlite");
  const auto archs = db.ensure_architectures(
      "nb201", {{0, "a0", "k"}, {1, "a1", "k"}, {2, "a2", "k"}, {3, "a3", "k"}, {4, "a4", "k"}});
  const auto proxies = db.ensure_proxies({{"p", 1, "t", "score", "build", "", ""}, {"q", -1, "t", "score", "build", "", ""}});
  RunRecord run;
  run.config_key = "k";
  const auto run_id = db.find_or_create_run(run);
  const auto session = db.begin_session(run_id, "test", "host", "test");
  // p: 10, 20, 30, 40, 50; q (lower is better): 3, 1, 2, failed on arch 3, never scored on arch 4.
  const std::vector<double> p = {10, 20, 30, 40, 50}, q = {3, 1, 2};
  for (int i = 0; i < 5; ++i) {
    std::vector<ScoreRow> rows(1);
    rows[0] = {proxies.at("p"), true, p[i], p[i], "", 0, 0};
    if (i < 3) rows.push_back({proxies.at("q"), true, q[i], -q[i], "", 0, 0});
    else if (i == 3) rows.push_back({proxies.at("q"), false, 0, 0, "non-finite value: nan", 0, 0});
    db.store_arch_result(run_id, session, archs.at(i), rows, {});
  }
  const AggregateDefinition def{"pq", "rank_sum", {"p", "q"}};
  for (int repeat = 0; repeat < 2; ++repeat) {  // the second time recomputes, not duplicates
    const auto counts = compute_aggregate(db, run_id, def, "test");
    EXPECT_EQ(counts.scored, 3);
    EXPECT_EQ(counts.failed, 2);
  }
  SQLite::Statement s(db.sql(), "SELECT arch_index, value, status FROM proxy_scores "
                                "WHERE proxy = 'pq' ORDER BY arch_index");
  // Ranks are taken over the three scorable archs only. p: 1, 2, 3; -q: 1 (-3), 3 (-1), 2 (-2).
  const std::vector<double> expected = {2, 5, 5};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.executeStep());
    EXPECT_EQ(s.getColumn(0).getInt(), i);
    EXPECT_DOUBLE_EQ(s.getColumn(1).getDouble(), expected[static_cast<size_t>(i)]);
    EXPECT_EQ(s.getColumn(2).getString(), "ok");
  }
  for (int i = 3; i < 5; ++i) {
    ASSERT_TRUE(s.executeStep());
    EXPECT_EQ(s.getColumn(0).getInt(), i);
    EXPECT_TRUE(s.getColumn(1).isNull());
    EXPECT_EQ(s.getColumn(2).getString(), "failed");
  }
  EXPECT_FALSE(s.executeStep());
  const auto reason = [&](int arch_index) {
    SQLite::Statement r(db.sql(), "SELECT s.failure_reason FROM scores s JOIN proxies p "
                                  "ON p.proxy_id = s.proxy_id WHERE p.name = 'pq' AND s.arch_id = ?");
    r.bind(1, archs.at(arch_index));
    EXPECT_TRUE(r.executeStep());
    return r.getColumn(0).getString();
  };
  EXPECT_EQ(reason(3), "member 'q' failed: non-finite value: nan");
  EXPECT_EQ(reason(4), "member 'q' has no score for this architecture");
  EXPECT_EQ(db.sql().execAndGet("SELECT parameters FROM proxies WHERE name = 'pq'").getString(),
            "rule=rank_sum;members=p,q");
  EXPECT_THROW(compute_aggregate(db, run_id, {"x", "vote", {"p", "missing"}}, "test"), Error);
  // The same name with another definition is refused rather than silently redefined.
  EXPECT_THROW(compute_aggregate(db, run_id, {"pq", "vote", {"p", "q"}}, "test"), Error);
}

}  // namespace
}  // namespace nbz::db
