#include "spaces/nb201_space.h"

#include <algorithm>
#include <sstream>

#include "foundation/csv.h"
#include "foundation/errors.h"

namespace nbz::nb201 {
namespace {

constexpr std::array<const char*, kNumOps> kOpNames = {"none", "skip_connect", "nor_conv_1x1",
                                                       "nor_conv_3x3", "avg_pool_3x3"};

// Splits "a+b+c" keeping empty pieces so that a stray '+' is reported, not skipped.
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  parts.push_back(cur);
  return parts;
}

}  // namespace

const char* op_name(Op op) { return kOpNames[static_cast<size_t>(op)]; }

Op parse_op(const std::string& name) {
  for (size_t i = 0; i < kOpNames.size(); ++i)
    if (name == kOpNames[i]) return static_cast<Op>(i);
  throw Error("unknown NAS-Bench-201 op '" + name +
              "' (expected none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)");
}

Cell Cell::parse(const std::string& arch) {
  const std::string where = "arch string '" + arch + "': ";
  const auto nodes = split(arch, '+');
  if (nodes.size() != 3)
    throw Error(where + "expected 3 nodes separated by '+', found " +
                std::to_string(nodes.size()));
  Cell cell;
  int e = 0;
  for (int node = 1; node <= 3; ++node) {
    const std::string& text = nodes[static_cast<size_t>(node - 1)];
    if (text.size() < 2 || text.front() != '|' || text.back() != '|')
      throw Error(where + "node " + std::to_string(node) + " '" + text +
                  "' must start and end with '|'");
    const auto edges = split(text.substr(1, text.size() - 2), '|');
    if (static_cast<int>(edges.size()) != node)
      throw Error(where + "node " + std::to_string(node) + " needs " + std::to_string(node) +
                  " inputs, found " + std::to_string(edges.size()));
    for (int src = 0; src < node; ++src, ++e) {
      const std::string& tok = edges[static_cast<size_t>(src)];
      const auto tilde = tok.find('~');
      if (tilde == std::string::npos)
        throw Error(where + "edge '" + tok + "' is not of the form op~source");
      const std::string expected_src = std::to_string(src);
      if (tok.substr(tilde + 1) != expected_src)
        throw Error(where + "edge '" + tok + "' into node " + std::to_string(node) +
                    " must come from node " + expected_src);
      try {
        cell.edges[static_cast<size_t>(e)] = parse_op(tok.substr(0, tilde));
      } catch (const Error& err) {
        throw Error(where + err.what());
      }
    }
  }
  return cell;
}

std::string Cell::str() const {
  std::string s;
  int e = 0;
  for (int node = 1; node <= 3; ++node) {
    if (node > 1) s += "+";
    s += "|";
    for (int src = 0; src < node; ++src, ++e)
      s += std::string(op_name(edges[static_cast<size_t>(e)])) + "~" + std::to_string(src) + "|";
  }
  return s;
}

std::string Cell::canonical_key() const {
  // Each node is a sum, kept as a sorted multiset of term texts (empty = identically zero), so
  // that skip_connect splices its source's terms in (addition is associative and commutative)
  // and an op applied to a sum sees one bracketed text. Node 0 is the cell input.
  std::array<std::vector<std::string>, kNumNodes> terms;
  terms[0] = {"x"};
  auto as_operand = [](const std::vector<std::string>& t) {
    std::string s;
    for (const auto& term : t) s += (s.empty() ? "" : "+") + term;
    return t.size() > 1 ? "[" + s + "]" : s;
  };
  for (int node = 1; node < kNumNodes; ++node) {
    auto& sum = terms[static_cast<size_t>(node)];
    for (int e = 0; e < kNumEdges; ++e) {
      if (edge_target(e) != node) continue;
      const Op op = edges[static_cast<size_t>(e)];
      const auto& in = terms[static_cast<size_t>(edge_source(e))];
      if (op == Op::None || in.empty()) continue;  // contributes zero
      if (op == Op::SkipConnect) {
        sum.insert(sum.end(), in.begin(), in.end());
      } else {
        sum.push_back(std::string(op_name(op)) + "(" + as_operand(in) + ")");
      }
    }
    std::sort(sum.begin(), sum.end());
  }
  return terms[3].empty() ? "zero" : as_operand(terms[3]);
}

std::string Cell::benchmark_unique_str() const {
  std::array<std::string, kNumNodes> text;
  text[0] = "0";
  for (int node = 1; node < kNumNodes; ++node) {
    std::vector<std::string> terms;
    for (int e = 0; e < kNumEdges; ++e) {
      if (edge_target(e) != node) continue;
      const Op op = edges[static_cast<size_t>(e)];
      const auto& in = text[static_cast<size_t>(edge_source(e))];
      if (op == Op::None || in == "#") {
        terms.push_back("#");
      } else if (op == Op::SkipConnect) {
        terms.push_back(in);
      } else {
        terms.push_back("(" + in + ")@" + op_name(op));
      }
    }
    std::sort(terms.begin(), terms.end());
    std::string joined;
    for (const auto& t : terms) joined += (joined.empty() ? "" : "+") + t;
    text[static_cast<size_t>(node)] = joined;
  }
  return text[3];
}

Space Space::load(const std::string& data_dir) {
  const std::string path = data_dir + "/nasbench201/nb201_ground_truth.csv";
  const CsvTable csv = CsvTable::read(path);
  Space s;
  s.path_ = path;
  const size_t col_index = csv.column("index"), col_arch = csv.column("arch"),
               col_params = csv.column("params_cifar10");
  struct Spec {
    const char* dataset;
    const char* split;
  };
  const Spec specs[] = {{"cifar10", "valid"},  {"cifar10", "test"},
                        {"cifar100", "valid"}, {"cifar100", "test"},
                        {"imagenet16-120", "valid"}, {"imagenet16-120", "test"}};
  for (int epochs : {200, 12}) {
    for (const auto& spec : specs) {
      std::string column = std::string(spec.dataset == std::string("imagenet16-120")
                                           ? "imagenet16_120"
                                           : spec.dataset) +
                           "_" + spec.split + (epochs == 12 ? "_12ep" : "");
      s.truth_.push_back({column, spec.dataset, spec.split, epochs, {}});
    }
  }
  std::vector<size_t> truth_cols;
  for (auto& t : s.truth_) truth_cols.push_back(csv.column(t.column));

  for (size_t r = 0; r < csv.rows(); ++r) {
    const std::string line = path + ":" + std::to_string(r + 2);
    if (csv.integer(r, col_index) != static_cast<long long>(r))
      throw Error(line + ": index " + csv.cell(r, col_index) + " is not the row number " +
                  std::to_string(r));
    Cell cell;
    try {
      cell = Cell::parse(csv.cell(r, col_arch));
    } catch (const Error& e) {
      throw Error(line + ": " + e.what());
    }
    const std::string canonical_arch = cell.str();
    if (!s.index_of_.emplace(canonical_arch, static_cast<std::int64_t>(r)).second)
      throw Error(line + ": duplicate arch " + canonical_arch);
    s.cells_.push_back(cell);
    s.archs_.push_back(canonical_arch);
    s.params_.push_back(csv.integer(r, col_params));
    for (size_t k = 0; k < truth_cols.size(); ++k)
      s.truth_[k].values.push_back(csv.number(r, truth_cols[k]));
  }
  if (s.size() != kSpaceSize)
    throw Error(path + ": expected " + std::to_string(kSpaceSize) + " architectures, found " +
                std::to_string(s.size()));
  return s;
}

const Cell& Space::cell(std::int64_t index) const {
  NBZ_ASSERT(index >= 0 && index < size(), "NB201 index out of range");
  return cells_[static_cast<size_t>(index)];
}

const std::string& Space::arch(std::int64_t index) const {
  NBZ_ASSERT(index >= 0 && index < size(), "NB201 index out of range");
  return archs_[static_cast<size_t>(index)];
}

std::int64_t Space::params_cifar10(std::int64_t index) const {
  NBZ_ASSERT(index >= 0 && index < size(), "NB201 index out of range");
  return params_[static_cast<size_t>(index)];
}

std::int64_t Space::index_of(const std::string& arch) const {
  const std::string normalised = Cell::parse(arch).str();
  auto it = index_of_.find(normalised);
  if (it == index_of_.end()) throw Error("arch '" + arch + "' is not in " + path_);
  return it->second;
}

}  // namespace nbz::nb201
