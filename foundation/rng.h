// The suite's own seeded PRNG for everything that is not a torch tensor (architecture samples,
// minibatch indices, data splits). std::uniform_int_distribution is implementation-defined, so
// samples drawn with it would differ between standard libraries; this one is specified here and
// is the same everywhere: splitmix64 (Steele, Lea, Flood 2014) with unbiased rejection sampling.
#pragma once

#include <cstdint>
#include <vector>

namespace nbz {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform integer in [0, n), n > 0, without modulo bias.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    std::uint64_t r;
    do r = next(); while (r >= limit);
    return r % n;
  }

 private:
  std::uint64_t state_;
};

// k distinct values of [0, n) drawn uniformly (partial Fisher-Yates), in draw order.
inline std::vector<std::int64_t> sample_without_replacement(std::int64_t n, std::int64_t k,
                                                            std::uint64_t seed) {
  std::vector<std::int64_t> pool(static_cast<size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) pool[static_cast<size_t>(i)] = i;
  SplitMix64 rng(seed);
  for (std::int64_t i = 0; i < k; ++i) {
    const auto j = i + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n - i)));
    std::swap(pool[static_cast<size_t>(i)], pool[static_cast<size_t>(j)]);
  }
  pool.resize(static_cast<size_t>(k));
  return pool;
}

}  // namespace nbz
