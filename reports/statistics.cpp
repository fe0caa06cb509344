#include "reports/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "suite/errors.h"

namespace nbz::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_pair(const std::vector<double>& x, const std::vector<double>& y) {
  NBZ_ASSERT(x.size() == y.size(), "paired inputs differ in length");
  for (size_t i = 0; i < x.size(); ++i)
    NBZ_ASSERT(std::isfinite(x[i]) && std::isfinite(y[i]), "non-finite input to a statistic");
}

// Number of tied pairs within runs of equal values of a sorted sequence: sum t(t-1)/2.
template <typename Equal>
double tied_pairs(size_t n, Equal equal) {
  double ties = 0;
  size_t run = 1;
  for (size_t i = 1; i <= n; ++i) {
    if (i < n && equal(i - 1, i)) {
      ++run;
    } else {
      ties += 0.5 * static_cast<double>(run) * static_cast<double>(run - 1);
      run = 1;
    }
  }
  return ties;
}

// Sorts v in place with a merge sort and returns the number of inversions (swaps).
double merge_sort_inversions(std::vector<double>& v, std::vector<double>& buf, size_t lo,
                             size_t hi) {
  if (hi - lo < 2) return 0;
  const size_t mid = lo + (hi - lo) / 2;
  double swaps = merge_sort_inversions(v, buf, lo, mid) + merge_sort_inversions(v, buf, mid, hi);
  size_t i = lo, j = mid, k = lo;
  while (i < mid && j < hi) {
    if (v[j] < v[i]) {
      swaps += static_cast<double>(mid - i);
      buf[k++] = v[j++];
    } else {
      buf[k++] = v[i++];
    }
  }
  while (i < mid) buf[k++] = v[i++];
  while (j < hi) buf[k++] = v[j++];
  std::copy(buf.begin() + static_cast<long>(lo), buf.begin() + static_cast<long>(hi),
            v.begin() + static_cast<long>(lo));
  return swaps;
}

}  // namespace

std::vector<double> average_ranks(const std::vector<double>& x) {
  const size_t n = x.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(n);
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && x[order[j]] == x[order[i]]) ++j;
    const double avg = 0.5 * static_cast<double>(i + 1 + j);  // mean of ranks i+1 .. j
    for (size_t k = i; k < j; ++k) ranks[order[k]] = avg;
    i = j;
  }
  return ranks;
}

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y);
  const size_t n = x.size();
  if (n < 2) return kNaN;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return x[a] < x[b] || (x[a] == x[b] && y[a] < y[b]);
  });
  const double n0 = 0.5 * static_cast<double>(n) * static_cast<double>(n - 1);
  const double ties_x =
      tied_pairs(n, [&](size_t a, size_t b) { return x[order[a]] == x[order[b]]; });
  const double ties_xy = tied_pairs(n, [&](size_t a, size_t b) {
    return x[order[a]] == x[order[b]] && y[order[a]] == y[order[b]];
  });
  std::vector<double> ys(n), buf(n);
  for (size_t i = 0; i < n; ++i) ys[i] = y[order[i]];
  // Within x-tied runs y is already sorted, so the merge sort counts only discordant pairs.
  const double swaps = merge_sort_inversions(ys, buf, 0, n);
  const double ties_y = tied_pairs(n, [&](size_t a, size_t b) { return ys[a] == ys[b]; });
  const double denom = std::sqrt((n0 - ties_x) * (n0 - ties_y));
  if (denom == 0) return kNaN;
  // concordant - discordant = n0 - tx - ty + txy - 2 * swaps
  return (n0 - ties_x - ties_y + ties_xy - 2.0 * swaps) / denom;
}

double pearson_r(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y);
  const size_t n = x.size();
  if (n < 2) return kNaN;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0 || syy == 0) return kNaN;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y);
  return pearson_r(average_ranks(x), average_ranks(y));
}

}  // namespace nbz::stats
