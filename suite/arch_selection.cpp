#include "suite/arch_selection.h"

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdlib>

#include "suite/errors.h"
#include "suite/rng.h"

namespace nbz {
namespace {

std::int64_t parse_count(const std::string& text, const std::string& spec, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || v < 0 ||
      !std::isdigit(static_cast<unsigned char>(text[0])))
    throw Error("--archs '" + spec + "': " + what + " '" + text + "' is not a non-negative integer");
  return v;
}

}  // namespace

std::vector<std::int64_t> select_architectures(const std::string& spec, std::int64_t space_size,
                                               std::uint64_t seed) {
  std::vector<std::int64_t> out;
  if (spec == "all") {
    for (std::int64_t i = 0; i < space_size; ++i) out.push_back(i);
    return out;
  }
  if (spec.rfind("sample:", 0) == 0) {
    std::string rest = spec.substr(7);
    std::uint64_t sample_seed = seed;
    const auto colon = rest.find(':');
    if (colon != std::string::npos) {
      sample_seed = static_cast<std::uint64_t>(parse_count(rest.substr(colon + 1), spec, "seed"));
      rest = rest.substr(0, colon);
    }
    const std::int64_t n = parse_count(rest, spec, "sample size");
    if (n < 1 || n > space_size)
      throw Error("--archs '" + spec + "': sample size " + std::to_string(n) + " must be in 1.." +
                  std::to_string(space_size));
    out = sample_without_replacement(space_size, n, sample_seed);
    std::sort(out.begin(), out.end());
    return out;
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

std::vector<std::int64_t> shard_selection(const std::vector<std::int64_t>& indices,
                                          const std::string& shard) {
  const auto slash = shard.find('/');
  if (slash == std::string::npos) throw Error("--shard '" + shard + "' is not of the form K/N");
  const auto k = parse_count(shard.substr(0, slash), shard, "shard number");
  const auto n = parse_count(shard.substr(slash + 1), shard, "shard count");
  if (n < 1 || k < 1 || k > n)
    throw Error("--shard '" + shard + "': need 1 <= K <= N");
  std::vector<std::int64_t> out;
  for (size_t i = static_cast<size_t>(k - 1); i < indices.size(); i += static_cast<size_t>(n))
    out.push_back(indices[i]);
  return out;
}

}  // namespace nbz
