#include "spaces/arch_selection.h"

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <utility>

#include "foundation/errors.h"
#include "foundation/rng.h"

namespace nbz {
namespace {

std::int64_t parse_count(const std::string& text, const std::string& spec, const char* what,
                         const char* flag = "--archs") {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || v < 0 ||
      !std::isdigit(static_cast<unsigned char>(text[0])))
    throw Error(std::string(flag) + " '" + spec + "': " + what + " '" + text +
                "' is not a non-negative integer");
  return v;
}

// "N" or "N:S" after a sample prefix: the size and the seed (the run's seed unless S is given).
std::pair<std::int64_t, std::uint64_t> parse_sample(std::string rest, const std::string& spec,
                                                    std::uint64_t seed) {
  std::uint64_t sample_seed = seed;
  const auto colon = rest.find(':');
  if (colon != std::string::npos) {
    sample_seed = static_cast<std::uint64_t>(parse_count(rest.substr(colon + 1), spec, "seed"));
    rest = rest.substr(0, colon);
  }
  return {parse_count(rest, spec, "sample size"), sample_seed};
}

void check_sample_size(std::int64_t n, std::int64_t limit, const std::string& spec,
                       const std::string& of_what) {
  if (n < 1 || n > limit)
    throw Error("--archs '" + spec + "': sample size " + std::to_string(n) + " must be in 1.." +
                std::to_string(limit) + of_what);
}

// N of [0, size) with splitmix64(seed), sorted: the one definition of every sample.
std::vector<std::int64_t> sorted_sample(std::int64_t size, std::int64_t n, std::uint64_t seed) {
  auto out = sample_without_replacement(size, n, seed);
  std::sort(out.begin(), out.end());
  return out;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

constexpr const char* kTruthCells = " (the NAS-Bench-101 ground-truth cells)";

}  // namespace

std::vector<std::int64_t> select_architectures(const std::string& spec, std::int64_t space_size,
                                               std::uint64_t seed) {
  std::vector<std::int64_t> out;
  if (spec == "all") {
    for (std::int64_t i = 0; i < space_size; ++i) out.push_back(i);
    return out;
  }
  if (starts_with(spec, "sample:")) {
    const auto [n, sample_seed] = parse_sample(spec.substr(7), spec, seed);
    check_sample_size(n, space_size, spec, "");
    return sorted_sample(space_size, n, sample_seed);
  }
  std::string item;
  auto flush = [&] {
    if (item.empty()) throw Error("--archs '" + spec + "': empty entry");
    const auto dash = item.find('-');
    std::int64_t lo, hi;
    if (dash == std::string::npos) {
      lo = hi = parse_count(item, spec, "index");
    } else {
      lo = parse_count(item.substr(0, dash), spec, "range start");
      hi = parse_count(item.substr(dash + 1), spec, "range end");
      if (hi < lo) throw Error("--archs '" + spec + "': range '" + item + "' is reversed");
    }
    if (hi >= space_size)
      throw Error("--archs '" + spec + "': index " + std::to_string(hi) +
                  " is outside the space (0.." + std::to_string(space_size - 1) + ")");
    for (std::int64_t i = lo; i <= hi; ++i) out.push_back(i);
    item.clear();
  };
  for (char c : spec) {
    if (c == ',') {
      flush();
    } else {
      item.push_back(c);
    }
  }
  flush();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::int64_t> read_nb101_hash_file(const std::string& path,
                                               const Nb101Catalog& catalog) {
  NBZ_ASSERT(catalog.index_of, "Nb101Catalog without a hash lookup");
  std::ifstream in(path);
  if (!in) throw Error("--archs 'hashes:" + path + "': cannot read the file '" + path + "'");
  std::vector<std::int64_t> out;
  std::map<std::string, int> first_line;  // hash -> line it was first listed on
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = path + ":" + std::to_string(number) + ": ";
    const auto hash_mark = line.find('#');
    if (hash_mark != std::string::npos) line.erase(hash_mark);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;  // blank or comment only
    std::string hash = line.substr(first, line.find_last_not_of(" \t\r") + 1 - first);
    // Hex digits carry no case; the benchmark prints (and the space is sorted by) lowercase.
    for (char& c : hash) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool well_formed =
        hash.size() == 32 && std::all_of(hash.begin(), hash.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        });
    if (!well_formed)
      throw Error(where + "'" + line.substr(first, line.find_last_not_of(" \t\r") + 1 - first) +
                  "' is not a module hash (32 hex characters, one per line)");
    const auto known = first_line.find(hash);
    if (known != first_line.end())
      throw Error(where + "module hash '" + hash + "' repeats line " +
                  std::to_string(known->second));
    const std::int64_t index = catalog.index_of(hash);
    if (index < 0)
      throw Error(where + "module hash '" + hash + "' is not in the NAS-Bench-101 space");
    first_line.emplace(hash, number);
    out.push_back(index);
  }
  if (in.bad()) throw Error("--archs 'hashes:" + path + "': error reading '" + path + "'");
  if (out.empty()) throw Error("--archs 'hashes:" + path + "': '" + path + "' lists no module hash");
  return out;
}

std::vector<std::int64_t> select_nb101_architectures(const std::string& spec,
                                                     const Nb101Catalog& catalog,
                                                     std::uint64_t seed) {
  if (spec == "truth") {
    if (catalog.truth_indices.empty())
      throw Error("--archs 'truth': no NAS-Bench-101 ground-truth cells are loaded");
    return catalog.truth_indices;
  }
  if (starts_with(spec, "sample:")) {
    const auto [n, sample_seed] = parse_sample(spec.substr(7), spec, seed);
    const auto truth_size = static_cast<std::int64_t>(catalog.truth_indices.size());
    check_sample_size(n, truth_size, spec, kTruthCells);
    std::vector<std::int64_t> out;
    for (auto i : sorted_sample(truth_size, n, sample_seed))
      out.push_back(catalog.truth_indices[static_cast<size_t>(i)]);
    return out;  // truth_indices is sorted, so is out
  }
  if (starts_with(spec, "space-sample:")) {
    const auto [n, sample_seed] = parse_sample(spec.substr(13), spec, seed);
    check_sample_size(n, catalog.space_size, spec, " (the NAS-Bench-101 space)");
    return sorted_sample(catalog.space_size, n, sample_seed);
  }
  if (starts_with(spec, "hashes:")) {
    const std::string path = spec.substr(7);
    if (path.empty()) throw Error("--archs 'hashes:': give a file, hashes:FILE");
    auto out = read_nb101_hash_file(path, catalog);
    std::sort(out.begin(), out.end());  // distinct: repeated hashes are an error
    return out;
  }
  return select_architectures(spec, catalog.space_size, seed);
}

void check_nb101_archs_syntax(const std::string& spec, std::int64_t space_size) {
  if (spec == "truth") return;
  if (starts_with(spec, "sample:")) {
    // The number of ground-truth cells is only known with the data; the space bounds it.
    const auto n = parse_sample(spec.substr(7), spec, 0).first;
    check_sample_size(n, space_size, spec, kTruthCells);
    return;
  }
  if (starts_with(spec, "space-sample:")) {
    const auto n = parse_sample(spec.substr(13), spec, 0).first;
    check_sample_size(n, space_size, spec, " (the NAS-Bench-101 space)");
    return;
  }
  if (starts_with(spec, "hashes:")) {
    const std::string path = spec.substr(7);
    if (path.empty()) throw Error("--archs 'hashes:': give a file, hashes:FILE");
    if (!std::ifstream(path))
      throw Error("--archs '" + spec + "': cannot read the file '" + path + "'");
    return;
  }
  (void)select_architectures(spec, space_size, 0);
}

std::vector<std::int64_t> shard_selection(const std::vector<std::int64_t>& indices,
                                          const std::string& shard) {
  const auto slash = shard.find('/');
  if (slash == std::string::npos) throw Error("--shard '" + shard + "' is not of the form K/N");
  const auto k = parse_count(shard.substr(0, slash), shard, "shard number", "--shard");
  const auto n = parse_count(shard.substr(slash + 1), shard, "shard count", "--shard");
  if (n < 1 || k < 1 || k > n)
    throw Error("--shard '" + shard + "': need 1 <= K <= N");
  std::vector<std::int64_t> out;
  for (size_t i = static_cast<size_t>(k - 1); i < indices.size(); i += static_cast<size_t>(n))
    out.push_back(indices[i]);
  return out;
}

}  // namespace nbz
