// Rank statistics used by every report. Pure functions on plain vectors: no torch, no SQLite.
// Conventions: inputs are paired (x[i], y[i]); a result that is undefined (n < 2, or one side
// constant) is NaN, never an exception. Inputs must be finite (NBZ_ASSERT otherwise: callers
// filter failed scores before calling).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nbz::stats {

// 1-based ranks, ties get the average of the ranks they span (scipy.stats.rankdata 'average').
std::vector<double> average_ranks(const std::vector<double>& x);

// Kendall tau-b with ties, O(n log n) (Knight 1966: sort by x then y, count exchanges of a merge
// sort on y). Equals scipy.stats.kendalltau(x, y) (variant 'b').
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

// Spearman rho = Pearson correlation of average ranks (scipy.stats.spearmanr).
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

// Pearson correlation in float64 (two-pass, numerically stable).
double pearson_r(const std::vector<double>& x, const std::vector<double>& y);

// Size of the top `fraction` of n items: round(fraction * n), at least 1 (n = 200: 1 % -> 2,
// 5 % -> 10, 10 % -> 20).
std::size_t top_count(std::size_t n, double fraction);

// Precision at the top `fraction`: the share of the top-k architectures by score x that are also
// in the top-k by accuracy y, k = top_count(n, fraction). A tie that straddles the k-th place is
// resolved by its expectation over uniformly random tie-breaking (independently in x and in y),
// so the result does not depend on input order. NaN when n == 0.
double precision_at_top(const std::vector<double>& x, const std::vector<double>& y,
                        double fraction);

// nDCG@k of the order given by score x (descending), gain = y min-max scaled to [0, 1] over the
// set, discount 1/log2(position + 1), k capped at n. Ties in x: the expectation over uniformly
// random tie-breaking (each member of a tied block gets the mean discount of the block's
// positions). NaN when n == 0 or y is constant (no gain scale).
double ndcg_at(const std::vector<double>& x, const std::vector<double>& y, std::size_t k);

// q-quantile with linear interpolation between order statistics (numpy's default, type 7).
// NaN for an empty input.
double quantile(std::vector<double> v, double q);
double mean(const std::vector<double>& v);
// Sample standard deviation (n - 1); NaN for fewer than 2 values.
double sample_sd(const std::vector<double>& v);

struct Interval {
  double lo = 0, hi = 0;  // NaN when undefined
};

struct BootstrapResult {
  Interval tau, rho;
  int resamples = 0;  // resamples drawn
  int tau_defined = 0, rho_defined = 0;  // resamples where the statistic was defined
};

// Percentile bootstrap intervals for Kendall tau-b and Spearman rho: `resamples` resamples of the
// n pairs drawn with replacement, both statistics on the same resample; the interval is the
// (1-level)/2 and (1+level)/2 quantiles (type 7) of the resamples where the statistic is defined
// (a resample can be constant on one side). NaN bounds when no resample is defined.
// Resample r draws its n indices with below(n) from its own SplitMix64(s_r), where s_r is the
// r-th output of SplitMix64(seed): resamples are independent of each other, so they are computed
// on `threads` threads (0 = all cores) with a result that does not depend on the thread count.
BootstrapResult bootstrap_tau_rho(const std::vector<double>& x, const std::vector<double>& y,
                                  int resamples = 1000, std::uint64_t seed = 0,
                                  double level = 0.95, unsigned threads = 0);
}  // namespace nbz::stats
