#include "reports/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

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

}  // namespace
}  // namespace nbz::stats
