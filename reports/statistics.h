// Rank statistics used by every report. Pure functions on plain vectors: no torch, no SQLite.
// Conventions: inputs are paired (x[i], y[i]); a result that is undefined (n < 2, or one side
// constant) is NaN, never an exception. Inputs must be finite (NBZ_ASSERT otherwise: callers
// filter failed scores before calling).
#pragma once

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
}  // namespace nbz::stats
