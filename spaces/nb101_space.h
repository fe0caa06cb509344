// NAS-Bench-101 cells without any deep-learning dependency: parsing the benchmark's spec text,
// pruning as its ModelSpec does, the benchmark's module hash (bit-exact), enumeration of the whole
// 423,624-cell space, and the ground-truth CSV loader.
//
// Why bit-exact: the module hash is the only key the benchmark's data is indexed by, so any cell we
// score must map to the same 32 hex characters the benchmark (nasbench/lib/graph_util.py) prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nbz::nb101 {

// Limits of the benchmark's space (config 'module_vertices' and 'max_edges').
constexpr int kMaxVertices = 7;
constexpr int kMaxEdges = 9;
// Number of distinct module hashes in the space (NAS-Bench-101 paper, generate_graphs.py).
constexpr size_t kSpaceSize = 423624;

// The enumerator values are the benchmark's labels (index in config['available_ops']); they enter
// the hash, so they must not be reordered.
enum class Op : uint8_t { Conv3x3 = 0, Conv1x1 = 1, MaxPool3x3 = 2 };
constexpr int kNumOps = 3;

// The benchmark's op names: "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3".
const std::string& op_name(Op op);
// Inverse of op_name; throws nbz::Error naming `name` when it is not one of the three.
Op parse_op(const std::string& name);

// A cell as the benchmark's ModelSpec holds it: vertex 0 is the input, vertex V-1 the output, the
// interior vertices 1..V-2 each carry one op. Not necessarily pruned.
struct Cell {
  int num_vertices = 0;
  // Row-major V x V, entry (v, w) = 1 for an edge v -> w; strictly upper triangular.
  std::vector<uint8_t> adjacency;
  std::vector<Op> interior_ops;    // V-2 ops, for vertices 1..V-2

  bool has_edge(int from, int to) const { return adjacency[from * num_vertices + to] != 0; }
  int num_edges() const;
  bool operator==(const Cell& other) const;
  bool operator!=(const Cell& other) const { return !(*this == other); }
};

// Throws nbz::Error unless `cell` is well formed: V in 2..7, V*V entries of 0/1 that are strictly
// upper triangular, V-2 known ops. Does not check connectivity or the edge limit (see is_valid).
void check_structure(const Cell& cell);

// Parses the benchmark's spec text as the ground-truth CSV stores it: `adjacency_rowmajor` is V*V
// characters '0'/'1', `operations` is '|'-joined "input|op|...|output". Everything is checked
// (structure as in check_structure, first op 'input', last 'output', at most 9 edges) and an
// nbz::Error names the offending value. The cell is not pruned.
Cell parse_cell(const std::string& adjacency_rowmajor, const std::string& operations);
// Inverses of parse_cell, for writing cells back in the same text form.
std::string format_adjacency(const Cell& cell);
std::string format_operations(const Cell& cell);

// ModelSpec._prune: deletes every vertex that is not reachable from the input or cannot reach the
// output, keeping the remaining vertices in their order. nullopt when the input does not reach the
// output (the benchmark's valid_spec == False). Throws nbz::Error on a malformed cell.
std::optional<Cell> try_prune(const Cell& cell);
// As try_prune, but a disconnected cell is an error (nbz::Error naming the cell): for callers that
// hold a cell from the user and cannot do anything sensible with an invalid one.
Cell prune(const Cell& cell);
// True when the cell is in the benchmark's space (NASBench.is_valid): well formed, input connected
// to output, and after pruning at most 7 vertices and at most 9 edges.
bool is_valid(const Cell& cell);

// The benchmark's module hash of the cell (ModelSpec.hash_spec): prune, then
// graph_util.hash_module. Isomorphic cells get the same hash. Throws nbz::Error when the cell is
// malformed or disconnected.
std::string module_hash(const Cell& cell);
// graph_util.hash_module applied to the matrix as given, without pruning. Equals module_hash for an
// already pruned cell; differs (as in the benchmark) when dangling vertices are present.
std::string unpruned_module_hash(const Cell& cell);

// One element of the space: the hash and the cell the benchmark stores for it.
struct SpaceCell {
  std::string hash;
  // Pruned. The first cell of this hash in generate_graphs.py's order (V ascending, upper-triangle
  // bit mask ascending, op labellings in itertools.product order), i.e. the spec the benchmark's
  // dataset holds under this hash.
  Cell cell;
};

// Counters of one enumeration, for logs and sanity checks.
struct EnumerationStats {
  // Matrices with every vertex on an input -> output path and at most 9 edges.
  long long full_dag_matrices = 0;
  // Those matrices times their op labellings (generate_graphs' total_graphs).
  long long labeled_graphs = 0;
  long long unique_cells = 0;  // distinct module hashes
};

// The whole space, sorted by hash: every upper-triangular matrix on 2..7 vertices with at most 9
// edges and every op labelling, pruned and deduplicated by module hash. Returns kSpaceSize cells.
// Takes about 8 s on one core: duplicates are recognised by an exact isomorphism key before
// any MD5 is computed, so each of the 423,624 classes is hashed once.
std::vector<SpaceCell> enumerate_space(EnumerationStats* stats = nullptr);

// One row of nasbench101/nb101_ground_truth_20k.csv.
struct GroundTruthRow {
  std::string module_hash;  // as stored (32 lowercase hex chars); not recomputed here
  Cell cell;                // as stored, already pruned by the benchmark
  double val_acc_4ep = 0, val_acc_12ep = 0, val_acc_36ep = 0, val_acc_108ep = 0;  // fractions
  long long trainable_parameters = 0;
  double final_training_time_s = 0;
};

// Reads the ground-truth CSV at `path`. Throws nbz::Error naming file:line and the value on a
// missing column, a malformed hash, a spec that does not parse, or num_vertices disagreeing with
// the spec.
std::vector<GroundTruthRow> load_ground_truth(const std::string& path);

}  // namespace nbz::nb101
