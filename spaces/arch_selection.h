// Which architectures a sweep covers, from the --archs SPEC (torch-free).
//
// NAS-Bench-201 (indices = rows of the benchmark, 0..15624):
//   all            every index of the space
//   A-B            an inclusive range of indices
//   i,j,A-B,...    a list of indices and ranges
//   sample:N       N indices drawn uniformly without replacement with the run's seed
//   sample:N:S     the same with seed S (sample:1000 with seed 0 is the standard sample)
//
// NAS-Bench-101 (indices = positions in the space of 423,624 module hashes sorted ascending,
// the order nb101::enumerate_space returns):
//   truth              the cells of the ground-truth CSV (20,001)
//   sample:N[:S]       N of the ground-truth cells, drawn as NB201's sample:N over the truth cells
//                      sorted by index (sample:1000 with seed 0 is NB101's standard sample)
//   space-sample:N[:S] N cells of the whole space (most have no ground truth: scores only)
//   all, A-B, i,j,...  the whole space, ranges and lists of indices, as for NB201
//   hashes:FILE        the module hashes listed in FILE, one per line ('#' starts a comment,
//                      blank lines are skipped)
//
// and --shard K/N, which keeps every N-th of the sorted selection starting at K (1-based).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nbz {

// Sorted, duplicate-free indices in [0, space_size). Throws nbz::Error quoting the spec and the
// offending part (bad number, reversed or out-of-range range, N larger than the space).
std::vector<std::int64_t> select_architectures(const std::string& spec, std::int64_t space_size,
                                               std::uint64_t seed);

// What NAS-Bench-101 selections are resolved against.
struct Nb101Catalog {
  std::int64_t space_size = 0;               // 423,624 for the real space
  std::vector<std::int64_t> truth_indices;   // space index of every ground-truth cell, sorted
  // Space index of a module hash (32 lowercase hex characters), -1 when it is not in the space.
  std::function<std::int64_t(const std::string&)> index_of;
};

// NAS-Bench-101 --archs (see the top of this file): sorted, duplicate-free space indices.
// Throws nbz::Error quoting the spec and the offending part; for hashes:FILE, naming file:line
// and the value of the first bad line (malformed hash, hash not in the space, repeated hash).
std::vector<std::int64_t> select_nb101_architectures(const std::string& spec,
                                                     const Nb101Catalog& catalog,
                                                     std::uint64_t seed);

// Checks what can be checked of an NB101 spec without the space (its syntax, numbers, ranges
// within the space size, a readable hashes file), so that `sweep --jobs` fails once, early.
void check_nb101_archs_syntax(const std::string& spec, std::int64_t space_size);

// The module hashes of a hashes:FILE list as space indices, in file order.
std::vector<std::int64_t> read_nb101_hash_file(const std::string& path,
                                               const Nb101Catalog& catalog);

// Parses "K/N" (1 <= K <= N) and keeps the K-th of every N items. Throws nbz::Error on bad specs.
std::vector<std::int64_t> shard_selection(const std::vector<std::int64_t>& indices,
                                          const std::string& shard);

}  // namespace nbz
