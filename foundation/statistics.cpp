#include "foundation/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

#include "foundation/errors.h"
#include "foundation/rng.h"

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

// Indices sorted by v descending; blocks of equal values are contiguous.
std::vector<size_t> descending_order(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] > v[b]; });
  return order;
}

// Probability that each item is among the top k of v under uniformly random tie-breaking: 1 above
// the boundary, 0 below, and (places left) / (block size) for the tied block straddling place k.
std::vector<double> top_membership(const std::vector<double>& v, size_t k) {
  const auto order = descending_order(v);
  std::vector<double> weight(v.size(), 0.0);
  size_t a = 0;
  while (a < order.size()) {
    size_t b = a + 1;
    while (b < order.size() && v[order[b]] == v[order[a]]) ++b;
    const double w = b <= k ? 1.0
                     : a >= k ? 0.0
                              : static_cast<double>(k - a) / static_cast<double>(b - a);
    for (size_t i = a; i < b; ++i) weight[order[i]] = w;
    a = b;
  }
  return weight;
}

double discount(size_t position, size_t k) {  // position 0-based
  return position < k ? 1.0 / std::log2(static_cast<double>(position) + 2.0) : 0.0;
}

// A bootstrap resample is a multiset of the original pairs: pair j taken count[j] times. Both
// statistics depend only on the order of the values, so the pairs are reduced once to dense
// integer ranks, sorted once by (x, y), and each resample is evaluated from its counts: Spearman in
// O(n + distinct values), Kendall in O(n log distinct y) with a Fenwick tree, instead of sorting
// n doubles twice per resample.
struct RankedPairs {
  std::vector<std::uint32_t> rx, ry;  // dense 0-based ranks
  std::size_t kx = 0, ky = 0;         // distinct values
  std::vector<std::size_t> order;     // indices sorted by (rx, ry)
};

std::vector<std::uint32_t> dense_ranks(const std::vector<double>& v, std::size_t* distinct) {
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<std::uint32_t> ranks(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    ranks[i] = static_cast<std::uint32_t>(std::lower_bound(sorted.begin(), sorted.end(), v[i]) -
                                          sorted.begin());
  *distinct = sorted.size();
  return ranks;
}

RankedPairs rank_pairs(const std::vector<double>& x, const std::vector<double>& y) {
  RankedPairs p;
  p.rx = dense_ranks(x, &p.kx);
  p.ry = dense_ranks(y, &p.ky);
  p.order.resize(x.size());
  std::iota(p.order.begin(), p.order.end(), 0);
  std::sort(p.order.begin(), p.order.end(), [&](std::size_t a, std::size_t b) {
    return p.rx[a] < p.rx[b] || (p.rx[a] == p.rx[b] && p.ry[a] < p.ry[b]);
  });
  return p;
}

// Kendall tau-b of the multiset (same formula as kendall_tau_b, pairs counted with weights).
double counted_tau_b(const RankedPairs& p, const std::vector<std::uint32_t>& count,
                     std::vector<double>& fenwick, std::vector<double>& per_y) {
  double total = 0, ties_x = 0, ties_xy = 0, swaps = 0, inserted = 0;
  std::fill(fenwick.begin(), fenwick.end(), 0.0);
  std::fill(per_y.begin(), per_y.end(), 0.0);
  double run_x = 0, run_xy = 0;
  for (std::size_t k = 0; k < p.order.size(); ++k) {
    const std::size_t j = p.order[k];
    const double c = count[j];
    if (k > 0 && p.rx[p.order[k - 1]] != p.rx[j]) {
      ties_x += 0.5 * run_x * (run_x - 1);
      run_x = 0;
    }
    if (k > 0 && (p.rx[p.order[k - 1]] != p.rx[j] || p.ry[p.order[k - 1]] != p.ry[j])) {
      ties_xy += 0.5 * run_xy * (run_xy - 1);
      run_xy = 0;
    }
    run_x += c;
    run_xy += c;
    if (c == 0) continue;
    total += c;
    per_y[p.ry[j]] += c;
    // Weight inserted so far with a greater y: earlier in (x, y) order, so a discordant pair.
    double not_greater = 0;
    for (std::size_t i = p.ry[j] + 1; i > 0; i -= i & (~i + 1)) not_greater += fenwick[i - 1];
    swaps += c * (inserted - not_greater);
    for (std::size_t i = p.ry[j] + 1; i <= fenwick.size(); i += i & (~i + 1)) fenwick[i - 1] += c;
    inserted += c;
  }
  ties_x += 0.5 * run_x * (run_x - 1);
  ties_xy += 0.5 * run_xy * (run_xy - 1);
  double ties_y = 0;
  for (double m : per_y) ties_y += 0.5 * m * (m - 1);
  const double n0 = 0.5 * total * (total - 1);
  const double denom = std::sqrt((n0 - ties_x) * (n0 - ties_y));
  if (denom == 0) return kNaN;
  return (n0 - ties_x - ties_y + ties_xy - 2.0 * swaps) / denom;
}

// Spearman rho of the multiset: Pearson correlation of average ranks, from per-value counts.
double counted_rho(const RankedPairs& p, const std::vector<std::uint32_t>& count,
                   std::vector<double>& per_x, std::vector<double>& per_y) {
  std::fill(per_x.begin(), per_x.end(), 0.0);
  std::fill(per_y.begin(), per_y.end(), 0.0);
  double total = 0;
  for (std::size_t j = 0; j < count.size(); ++j) {
    per_x[p.rx[j]] += count[j];
    per_y[p.ry[j]] += count[j];
    total += count[j];
  }
  const double mid = 0.5 * (total + 1);  // the mean of average ranks 1..total
  // Turn counts into centred average ranks; accumulate the variances on the way.
  auto centre = [&](std::vector<double>& per_value) {
    double below = 0, ss = 0;
    for (double& v : per_value) {
      const double m = v;
      const double rank = below + 0.5 * (m + 1) - mid;
      ss += m * rank * rank;
      below += m;
      v = rank;
    }
    return ss;
  };
  const double sxx = centre(per_x), syy = centre(per_y);
  if (sxx == 0 || syy == 0) return kNaN;
  double sxy = 0;
  for (std::size_t j = 0; j < count.size(); ++j)
    if (count[j]) sxy += count[j] * per_x[p.rx[j]] * per_y[p.ry[j]];
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
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

std::size_t top_count(std::size_t n, double fraction) {
  NBZ_ASSERT(fraction > 0 && fraction <= 1, "top fraction outside (0, 1]");
  const auto k = static_cast<std::size_t>(std::floor(fraction * static_cast<double>(n) + 0.5));
  return std::max<std::size_t>(1, std::min(k, n));
}

double precision_at_top(const std::vector<double>& x, const std::vector<double>& y,
                        double fraction) {
  check_pair(x, y);
  const size_t n = x.size();
  if (n == 0) return kNaN;
  const size_t k = top_count(n, fraction);
  const auto wx = top_membership(x, k), wy = top_membership(y, k);
  // The tie-breaks of x and y are independent, so E[in both] = E[in x] * E[in y].
  double overlap = 0;
  for (size_t i = 0; i < n; ++i) overlap += wx[i] * wy[i];
  return overlap / static_cast<double>(k);
}

double ndcg_at(const std::vector<double>& x, const std::vector<double>& y, std::size_t k) {
  check_pair(x, y);
  const size_t n = x.size();
  if (n == 0) return kNaN;
  const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
  if (*hi == *lo) return kNaN;
  const double y_min = *lo, y_range = *hi - *lo;
  auto gain = [&](size_t i) { return (y[i] - y_min) / y_range; };
  k = std::min(k, n);
  double dcg = 0;
  const auto order = descending_order(x);
  size_t a = 0;
  while (a < n) {
    size_t b = a + 1;
    while (b < n && x[order[b]] == x[order[a]]) ++b;
    double block_discount = 0;
    for (size_t p = a; p < b; ++p) block_discount += discount(p, k);
    block_discount /= static_cast<double>(b - a);
    for (size_t p = a; p < b; ++p) dcg += gain(order[p]) * block_discount;
    a = b;
  }
  const auto ideal = descending_order(y);
  double ideal_dcg = 0;
  for (size_t p = 0; p < k; ++p) ideal_dcg += gain(ideal[p]) * discount(p, k);
  return dcg / ideal_dcg;  // ideal_dcg >= 1: the best architecture has gain 1 at position 0
}

double quantile(std::vector<double> v, double q) {
  NBZ_ASSERT(q >= 0 && q <= 1, "quantile outside [0, 1]");
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double h = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double sample_sd(const std::vector<double>& v) {
  if (v.size() < 2) return kNaN;
  const double m = mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

BootstrapResult bootstrap_tau_rho(const std::vector<double>& x, const std::vector<double>& y,
                                  int resamples, std::uint64_t seed, double level,
                                  unsigned threads) {
  check_pair(x, y);
  NBZ_ASSERT(resamples > 0 && level > 0 && level < 1, "bad bootstrap parameters");
  BootstrapResult result;
  result.resamples = resamples;
  result.tau = result.rho = {kNaN, kNaN};
  const size_t n = x.size();
  if (n < 2) return result;
  std::vector<std::uint64_t> stream_seeds(static_cast<size_t>(resamples));
  SplitMix64 master(seed);
  for (auto& s : stream_seeds) s = master.next();
  std::vector<double> taus(stream_seeds.size()), rhos(stream_seeds.size());
  const RankedPairs ranked = rank_pairs(x, y);
  auto work = [&](size_t first, size_t step) {
    std::vector<std::uint32_t> count(n);
    std::vector<double> fenwick(ranked.ky), per_x(ranked.kx), per_y(ranked.ky);
    for (size_t r = first; r < stream_seeds.size(); r += step) {
      SplitMix64 rng(stream_seeds[r]);
      std::fill(count.begin(), count.end(), 0);
      for (size_t i = 0; i < n; ++i) ++count[static_cast<size_t>(rng.below(n))];
      taus[r] = counted_tau_b(ranked, count, fenwick, per_y);
      rhos[r] = counted_rho(ranked, count, per_x, per_y);
    }
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, stream_seeds.size()));
  if (n < 256) threads = 1;  // not worth a thread
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t, threads);
  work(0, threads);
  for (auto& t : pool) t.join();
  auto defined = [](std::vector<double> v) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double d) { return std::isnan(d); }), v.end());
    return v;
  };
  taus = defined(std::move(taus));
  rhos = defined(std::move(rhos));
  result.tau_defined = static_cast<int>(taus.size());
  result.rho_defined = static_cast<int>(rhos.size());
  const double lo_q = 0.5 * (1 - level), hi_q = 0.5 * (1 + level);
  if (!taus.empty()) result.tau = {quantile(taus, lo_q), quantile(taus, hi_q)};
  if (!rhos.empty()) result.rho = {quantile(rhos, lo_q), quantile(rhos, hi_q)};
  return result;
}

}  // namespace nbz::stats
