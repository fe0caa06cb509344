// NAS-Bench-201 cells: arch strings, the benchmark's index (read from the ground-truth CSV, never
// re-derived: the benchmark shuffled the 5^6 strings), a canonical form for equivalent cells, and
// the ground-truth accuracies. Torch-free.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace nbz::nb201 {

enum class Op : std::uint8_t { None = 0, SkipConnect = 1, Conv1x1 = 2, Conv3x3 = 3, AvgPool3x3 = 4 };
constexpr int kNumOps = 5;
constexpr int kNumEdges = 6;
constexpr int kNumNodes = 4;
constexpr std::int64_t kSpaceSize = 15625;

const char* op_name(Op op);
// Throws nbz::Error naming the text when it is not one of the five op names.
Op parse_op(const std::string& name);

// Edge e (in arch-string order) goes from edge_source(e) into edge_target(e):
// (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2).
constexpr int edge_target(int e) { return e < 1 ? 1 : (e < 3 ? 2 : 3); }
constexpr int edge_source(int e) { return e < 1 ? 0 : (e < 3 ? e - 1 : e - 3); }

struct Cell {
  std::array<Op, kNumEdges> edges{};

  // Parses `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`. Throws nbz::Error quoting the string and the
  // offending token on any deviation (wrong node count, wrong source index, unknown op).
  static Cell parse(const std::string& arch);
  std::string str() const;

  // Equal keys mean the cells compute the same function family: `none` edges and edges from
  // nodes that carry zero are dropped, skip_connect is the identity, sums are unordered
  // multisets, and the key is the expression of node 3 (see docs/decisions.md). "zero" when the
  // output is identically zero.
  std::string canonical_key() const;
  // The benchmark's own rule (NAS-Bench-201 genotypes.py, to_unique_str(consider_zero=True)):
  // zero terms stay in sums as '#', so it merges less than canonical_key (6,466 vs 4,930
  // classes over the space). Kept to compare with the published count.
  std::string benchmark_unique_str() const;

  bool operator==(const Cell& o) const { return edges == o.edges; }
};

// One ground-truth column of the benchmark CSV, e.g. cifar10 / test / 200 epochs.
struct TruthColumn {
  std::string column;   // CSV header, e.g. "cifar10_test_12ep"
  std::string dataset;  // cifar10 | cifar100 | imagenet16-120
  std::string split;    // valid | test
  int epochs = 0;       // 200 or 12
  std::vector<double> values;  // by benchmark index, accuracy in percent
};

class Space {
 public:
  // Reads <data_dir>/nasbench201/nb201_ground_truth.csv; validates every row (index = row
  // number, parseable arch, no duplicate arch) with errors naming file and line.
  static Space load(const std::string& data_dir);

  std::int64_t size() const { return static_cast<std::int64_t>(cells_.size()); }
  const Cell& cell(std::int64_t index) const;
  const std::string& arch(std::int64_t index) const;
  // Throws nbz::Error naming the string when it is not a valid arch of the benchmark.
  std::int64_t index_of(const std::string& arch) const;
  std::int64_t params_cifar10(std::int64_t index) const;
  const std::vector<TruthColumn>& truth() const { return truth_; }
  const std::string& source_path() const { return path_; }

 private:
  std::string path_;
  std::vector<Cell> cells_;
  std::vector<std::string> archs_;
  std::vector<std::int64_t> params_;
  std::unordered_map<std::string, std::int64_t> index_of_;
  std::vector<TruthColumn> truth_;
};

}  // namespace nbz::nb201
