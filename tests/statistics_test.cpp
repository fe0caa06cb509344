#include "foundation/statistics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "foundation/rng.h"

namespace nbz::stats {
namespace {

// The O(n^2) definition of tau-b, as an independent check of the O(n log n) one.
double brute_force_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  double concordant = 0, discordant = 0, only_x_tied = 0, only_y_tied = 0;
  for (size_t i = 0; i < x.size(); ++i)
    for (size_t j = i + 1; j < x.size(); ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0 && dy == 0) continue;
      if (dx == 0) {
        only_x_tied += 1;
      } else if (dy == 0) {
        only_y_tied += 1;
      } else if ((dx > 0) == (dy > 0)) {
        concordant += 1;
      } else {
        discordant += 1;
      }
    }
  return (concordant - discordant) /
         std::sqrt((concordant + discordant + only_x_tied) * (concordant + discordant + only_y_tied));
}

TEST(AverageRanks, TiesShareTheMeanRank) {
  const auto r = average_ranks({10, 20, 10, 30, 20, 20});
  const std::vector<double> expected = {1.5, 4, 1.5, 6, 4, 4};
  EXPECT_EQ(r, expected);
}

TEST(KendallTauB, HandComputedWithTies) {
  const std::vector<double> x = {1, 2, 2, 3}, y = {1, 3, 2, 2};
  // Pairs: (0,1) C, (0,2) C, (0,3) C, (1,2) x-tie, (1,3) D, (2,3) y-tie -> C=3, D=1.
  // tau-b = (3-1)/sqrt((6-1)*(6-1)) = 0.4
  EXPECT_NEAR(kendall_tau_b(x, y), 0.4, 1e-15);
}

TEST(KendallTauB, PerfectAndReversedOrder) {
  std::vector<double> x(50), y(50), z(50);
  for (int i = 0; i < 50; ++i) {
    x[i] = i;
    y[i] = 2.0 * i + 1;
    z[i] = -i;
  }
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, y), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, z), -1.0);
}

TEST(KendallTauB, MatchesBruteForceOnRandomDataWithHeavyTies) {
  std::mt19937 gen(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 2 + trial % 60;
    std::uniform_int_distribution<int> small(0, 1 + trial % 7);  // many ties
    std::vector<double> x(n), y(n);
    for (int i = 0; i < n; ++i) {
      x[i] = small(gen);
      y[i] = small(gen);
    }
    const double fast = kendall_tau_b(x, y);
    const double slow = brute_force_tau_b(x, y);
    if (std::isnan(slow)) {
      EXPECT_TRUE(std::isnan(fast)) << "trial " << trial;
    } else {
      EXPECT_NEAR(fast, slow, 1e-12) << "trial " << trial;
    }
  }
}

TEST(KendallTauB, ConstantOrTooShortIsNaN) {
  EXPECT_TRUE(std::isnan(kendall_tau_b({1, 1, 1}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(kendall_tau_b({1}, {2})));
}

TEST(SpearmanRho, HandComputed) {
  // ranks x = 1,2,3,4,5; ranks y = 2,1,4,3,5: d^2 sum = 4, rho = 1 - 6*4/(5*24) = 0.8
  EXPECT_NEAR(spearman_rho({1, 2, 3, 4, 5}, {20, 10, 40, 30, 50}), 0.8, 1e-15);
}

TEST(SpearmanRho, TiesUseAverageRanks) {
  // x ranks 1.5,1.5,3,4 ; y ranks 1,2,3,4 -> Pearson of those = 0.9486832980505138
  EXPECT_NEAR(spearman_rho({5, 5, 6, 7}, {1, 2, 3, 4}), 0.9486832980505138, 1e-12);
  EXPECT_TRUE(std::isnan(spearman_rho({3, 3, 3}, {1, 2, 3})));
}

// Brute force for the tie-aware top-k measures: every tie-break is a permutation used as the
// secondary key; average the measure over all permutations (independently for x and y).
std::vector<std::vector<size_t>> all_permutations(size_t n) {
  std::vector<size_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::vector<std::vector<size_t>> out;
  do out.push_back(p); while (std::next_permutation(p.begin(), p.end()));
  return out;
}

// Indices by v descending, ties broken by the permutation's priorities.
std::vector<size_t> order_with_tiebreak(const std::vector<double>& v,
                                        const std::vector<size_t>& priority) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return v[a] > v[b] || (v[a] == v[b] && priority[a] < priority[b]);
  });
  return order;
}

double brute_force_precision(const std::vector<double>& x, const std::vector<double>& y,
                             size_t k) {
  const auto perms = all_permutations(x.size());
  size_t hits = 0;  // an integer count: summing 518,400 fractions would drift by ~1e-12
  for (const auto& px : perms) {
    const auto ox = order_with_tiebreak(x, px);
    for (const auto& py : perms) {
      const auto oy = order_with_tiebreak(y, py);
      for (size_t i = 0; i < k; ++i)
        if (std::find(oy.begin(), oy.begin() + static_cast<long>(k), ox[i]) !=
            oy.begin() + static_cast<long>(k))
          ++hits;
    }
  }
  return static_cast<double>(hits) / static_cast<double>(k * perms.size() * perms.size());
}

double brute_force_ndcg(const std::vector<double>& x, const std::vector<double>& y, size_t k) {
  const double lo = *std::min_element(y.begin(), y.end());
  const double hi = *std::max_element(y.begin(), y.end());
  k = std::min(k, x.size());
  std::vector<double> ideal_gains;
  for (double v : y) ideal_gains.push_back((v - lo) / (hi - lo));
  std::sort(ideal_gains.rbegin(), ideal_gains.rend());
  double ideal = 0;
  for (size_t p = 0; p < k; ++p) ideal += ideal_gains[p] / std::log2(p + 2.0);
  const auto perms = all_permutations(x.size());
  double total = 0;
  for (const auto& px : perms) {
    const auto ox = order_with_tiebreak(x, px);
    double dcg = 0;
    for (size_t p = 0; p < k; ++p) dcg += (y[ox[p]] - lo) / (hi - lo) / std::log2(p + 2.0);
    total += dcg / ideal;
  }
  return total / static_cast<double>(perms.size());
}

TEST(TopCount, RoundsAndKeepsAtLeastOne) {
  EXPECT_EQ(top_count(200, 0.01), 2u);
  EXPECT_EQ(top_count(200, 0.05), 10u);
  EXPECT_EQ(top_count(200, 0.10), 20u);
  EXPECT_EQ(top_count(15625, 0.01), 156u);
  EXPECT_EQ(top_count(30, 0.01), 1u);
  EXPECT_EQ(top_count(1000, 0.05), 50u);
}

TEST(PrecisionAtTop, HandComputed) {
  // n = 10, top 20 % = 2: by x the top two are items 0 and 1; by y items 0 and 2 -> 1 of 2.
  const std::vector<double> x = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  const std::vector<double> y = {99, 50, 98, 40, 30, 20, 10, 5, 4, 3};
  EXPECT_DOUBLE_EQ(precision_at_top(x, y, 0.2), 0.5);
  EXPECT_DOUBLE_EQ(precision_at_top(x, x, 0.2), 1.0);
  // A tie straddling the boundary: x = {3, 2, 2, 1}, k = 2 (50 %): item 0 is in, items 1 and 2
  // are in with probability 1/2 each. y puts items 0 and 1 on top: expected hits 1 + 1/2 -> 0.75.
  EXPECT_DOUBLE_EQ(precision_at_top({3, 2, 2, 1}, {4, 3, 2, 1}, 0.5), 0.75);
  // A constant score: every item is in the top k with probability k / n.
  EXPECT_DOUBLE_EQ(precision_at_top({1, 1, 1, 1}, {4, 3, 2, 1}, 0.5), 0.5);
  EXPECT_TRUE(std::isnan(precision_at_top({}, {}, 0.1)));
}

TEST(PrecisionAtTop, MatchesBruteForceOverAllTieBreaks) {
  std::mt19937 gen(11);
  for (int trial = 0; trial < 40; ++trial) {
    const size_t n = 3 + trial % 4;  // 3..6 items: 6!^2 = 518,400 tie-break pairs at most
    std::uniform_int_distribution<int> small(0, 2);
    std::vector<double> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = small(gen);
      y[i] = small(gen);
    }
    for (double fraction : {0.2, 0.34, 0.5}) {
      const size_t k = top_count(n, fraction);
      EXPECT_NEAR(precision_at_top(x, y, fraction), brute_force_precision(x, y, k), 1e-12)
          << "trial " << trial << " fraction " << fraction;
    }
  }
}

TEST(NdcgAt, HandComputed) {
  // y = {3, 1, 2} -> gains {1, 0, 0.5}. Order by x: items 1, 0, 2.
  // DCG@2 = 0/log2(2) + 1/log2(3); ideal = 1/log2(2) + 0.5/log2(3).
  const double expected = (1 / std::log2(3.0)) / (1 + 0.5 / std::log2(3.0));
  EXPECT_NEAR(ndcg_at({2, 3, 1}, {3, 1, 2}, 2), expected, 1e-15);
  EXPECT_DOUBLE_EQ(ndcg_at({3, 2, 1}, {30, 20, 10}, 10), 1.0);  // k capped at n, perfect order
  // Constant accuracy has no gain scale; a constant score is the average over all orders.
  EXPECT_TRUE(std::isnan(ndcg_at({1, 2, 3}, {5, 5, 5}, 2)));
  EXPECT_NEAR(ndcg_at({7, 7, 7}, {3, 1, 2}, 2), brute_force_ndcg({7, 7, 7}, {3, 1, 2}, 2), 1e-15);
  EXPECT_TRUE(std::isnan(ndcg_at({}, {}, 10)));
}

TEST(NdcgAt, MatchesBruteForceOverAllTieBreaks) {
  std::mt19937 gen(5);
  for (int trial = 0; trial < 60; ++trial) {
    const size_t n = 2 + trial % 6;  // 2..7
    std::uniform_int_distribution<int> small(0, 1 + trial % 3);
    std::uniform_real_distribution<double> acc(60, 95);
    std::vector<double> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = small(gen);
      y[i] = trial % 2 ? acc(gen) : small(gen);  // odd trials: ties in y too
    }
    if (*std::max_element(y.begin(), y.end()) == *std::min_element(y.begin(), y.end())) continue;
    for (size_t k : {1, 2, 3, 10})
      EXPECT_NEAR(ndcg_at(x, y, k), brute_force_ndcg(x, y, k), 1e-12)
          << "trial " << trial << " k " << k;
  }
}

TEST(Quantile, LinearInterpolationAsNumpy) {
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.9), 3.7);  // numpy.quantile([1,2,3,4], 0.9)
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({5}, 0.9), 5);
  EXPECT_TRUE(std::isnan(quantile({}, 0.5)));
  EXPECT_DOUBLE_EQ(mean({1, 2, 6}), 3);
  EXPECT_DOUBLE_EQ(sample_sd({1, 2, 6}), std::sqrt(7.0));  // (4 + 1 + 9) / 2
  EXPECT_TRUE(std::isnan(sample_sd({1})));
}

TEST(Bootstrap, MatchesAnIndependentResamplingWithBruteForceTau) {
  std::mt19937 gen(3);
  std::normal_distribution<double> normal;
  const size_t n = 30;
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::round(normal(gen) * 2);  // ties on both sides
    y[i] = std::round(x[i] + normal(gen));
  }
  const int resamples = 200;
  const auto result = bootstrap_tau_rho(x, y, resamples, 42);
  // The documented procedure, with the O(n^2) tau and order statistics picked by hand.
  SplitMix64 master(42);
  std::vector<double> taus, rhos;
  for (int r = 0; r < resamples; ++r) {
    SplitMix64 rng(master.next());
    std::vector<double> xs(n), ys(n);
    for (size_t i = 0; i < n; ++i) {
      const auto j = rng.below(n);
      xs[i] = x[j];
      ys[i] = y[j];
    }
    taus.push_back(brute_force_tau_b(xs, ys));
    rhos.push_back(spearman_rho(xs, ys));  // materialised resample, average ranks by sorting
  }
  std::sort(taus.begin(), taus.end());
  std::sort(rhos.begin(), rhos.end());
  // type 7: h = q (m - 1); m = 200 -> 2.5 % at h = 4.975, 97.5 % at h = 194.025
  const double lo = taus[4] + 0.975 * (taus[5] - taus[4]);
  const double hi = taus[194] + 0.025 * (taus[195] - taus[194]);
  EXPECT_EQ(result.resamples, resamples);
  EXPECT_EQ(result.tau_defined, resamples);
  EXPECT_NEAR(result.tau.lo, lo, 1e-12);
  EXPECT_NEAR(result.tau.hi, hi, 1e-12);
  EXPECT_NEAR(result.rho.lo, rhos[4] + 0.975 * (rhos[5] - rhos[4]), 1e-12);
  EXPECT_NEAR(result.rho.hi, rhos[194] + 0.025 * (rhos[195] - rhos[194]), 1e-12);
  const double tau = kendall_tau_b(x, y), rho = spearman_rho(x, y);
  EXPECT_LT(result.tau.lo, tau);
  EXPECT_GT(result.tau.hi, tau);
  EXPECT_LT(result.rho.lo, rho);
  EXPECT_GT(result.rho.hi, rho);
}

TEST(Bootstrap, SeededPerfectAndConstantInputs) {
  std::mt19937 gen(9);
  std::normal_distribution<double> normal;
  std::vector<double> x(300), y(300), monotone(300);  // >= 256 pairs: threads are used
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = normal(gen);
    y[i] = x[i] + normal(gen);
    monotone[i] = 3 * x[i] + 1;
  }
  // The same seed gives the same interval on any number of threads.
  const auto a = bootstrap_tau_rho(x, y, 1000, 0, 0.95, 1);
  const auto b = bootstrap_tau_rho(x, y, 1000, 0, 0.95, 3);
  const auto c = bootstrap_tau_rho(x, y, 1000, 1);
  EXPECT_EQ(a.tau.lo, b.tau.lo);
  EXPECT_EQ(a.rho.hi, b.rho.hi);
  EXPECT_NE(a.tau.lo, c.tau.lo);
  const auto perfect = bootstrap_tau_rho(x, monotone, 1000, 0);
  EXPECT_DOUBLE_EQ(perfect.tau.lo, 1.0);
  EXPECT_DOUBLE_EQ(perfect.tau.hi, 1.0);
  EXPECT_DOUBLE_EQ(perfect.rho.lo, 1.0);
  const auto constant = bootstrap_tau_rho(std::vector<double>(300, 2.0), y, 1000, 0);
  EXPECT_TRUE(std::isnan(constant.tau.lo) && std::isnan(constant.tau.hi));
  EXPECT_TRUE(std::isnan(constant.rho.lo));
  EXPECT_EQ(constant.tau_defined, 0);
}

TEST(Bootstrap, WidthMatchesTheAsymptoticStandardErrorUnderIndependence) {
  // Independent x, y: var(tau) = 2(2n+5) / (9n(n-1)) and var(rho) ~ 1/(n-1), so the 95 % interval
  // is about 2 * 1.96 standard errors wide: 0.131 for tau, 0.196 for rho at n = 400.
  std::mt19937 gen(21);
  std::normal_distribution<double> normal;
  const size_t n = 400;
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = normal(gen);
    y[i] = normal(gen);
  }
  const auto r = bootstrap_tau_rho(x, y, 1000, 0);
  const double tau_se = std::sqrt(2.0 * (2 * n + 5) / (9.0 * n * (n - 1)));
  EXPECT_NEAR(r.tau.hi - r.tau.lo, 2 * 1.96 * tau_se, 0.2 * 2 * 1.96 * tau_se);
  const double rho_se = 1 / std::sqrt(n - 1.0);
  EXPECT_NEAR(r.rho.hi - r.rho.lo, 2 * 1.96 * rho_se, 0.2 * 2 * 1.96 * rho_se);
}

}  // namespace
}  // namespace nbz::stats
