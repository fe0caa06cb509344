// Which architectures a sweep covers, from the --archs SPEC (torch-free):
//   all            every index of the space
//   A-B            an inclusive range of indices
//   i,j,A-B,...    a list of indices and ranges
//   sample:N       N indices drawn uniformly without replacement with the run's seed
//   sample:N:S     the same with seed S (sample:1000 with seed 0 is the standard sample)
// and --shard K/N, which keeps every N-th of the sorted selection starting at K (1-based).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nbz {

// Sorted, duplicate-free indices in [0, space_size). Throws nbz::Error quoting the spec and the
// offending part (bad number, reversed or out-of-range range, N larger than the space).
std::vector<std::int64_t> select_architectures(const std::string& spec, std::int64_t space_size,
                                               std::uint64_t seed);

// Parses "K/N" (1 <= K <= N) and keeps the K-th of every N items. Throws nbz::Error on bad specs.
std::vector<std::int64_t> shard_selection(const std::vector<std::int64_t>& indices,
                                          const std::string& shard);

}  // namespace nbz
