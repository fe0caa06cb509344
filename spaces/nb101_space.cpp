#include "spaces/nb101_space.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_set>

#include "foundation/csv.h"
#include "foundation/errors.h"

namespace nbz::nb101 {
namespace {

const std::array<std::string, kNumOps> kOpNames = {"conv3x3-bn-relu", "conv1x1-bn-relu",
                                                    "maxpool3x3"};
constexpr int kInputLabel = -1;
constexpr int kOutputLabel = -2;
constexpr size_t kHexLen = 32;

// ---------------------------------------------------------------------------------------------
// MD5 through OpenSSL's EVP interface. One context per thread, reused for every digest: creating
// a context (and, on OpenSSL 3, fetching the algorithm) per call would cost more than the digest
// itself for the short texts hashed here.

class Md5 {
 public:
  Md5() : ctx_(EVP_MD_CTX_new()) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    owned_md_ = EVP_MD_fetch(nullptr, "MD5", nullptr);
    md_ = owned_md_;
#else
    md_ = EVP_md5();
#endif
    NBZ_ASSERT(ctx_ != nullptr && md_ != nullptr, "OpenSSL provides no MD5");
  }
  ~Md5() {
    EVP_MD_CTX_free(ctx_);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD_free(owned_md_);
#endif
  }
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  // Lowercase hex digest of data[0..len) into hex[0..32), as Python's hexdigest() spells it.
  void hex_digest(const char* data, size_t len, char* hex) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    const bool ok = EVP_DigestInit_ex(ctx_, md_, nullptr) == 1 &&
                    EVP_DigestUpdate(ctx_, data, len) == 1 &&
                    EVP_DigestFinal_ex(ctx_, digest, &digest_len) == 1;
    NBZ_ASSERT(ok && digest_len == 16, "MD5 digest failed");
    static const char kHexDigits[] = "0123456789abcdef";
    for (unsigned i = 0; i < 16; ++i) {
      hex[2 * i] = kHexDigits[digest[i] >> 4];
      hex[2 * i + 1] = kHexDigits[digest[i] & 15];
    }
  }

 private:
  EVP_MD_CTX* ctx_;
  const EVP_MD* md_ = nullptr;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  EVP_MD* owned_md_ = nullptr;
#endif
};

Md5& thread_md5() {
  thread_local Md5 md5;
  return md5;
}

// ---------------------------------------------------------------------------------------------
// Compact graph form used for hashing and enumeration: bit masks instead of a V x V byte matrix
// because the enumerator permutes and compares millions of these.

struct Dag {
  int num_vertices = 0;
  std::array<uint8_t, kMaxVertices> out{};  // bit w of out[v]: edge v -> w
  std::array<int8_t, kMaxVertices> label{};  // benchmark labels: input -1, output -2, op index
};

Dag dag_from_cell(const Cell& cell) {
  Dag dag;
  const int n = cell.num_vertices;
  dag.num_vertices = n;
  for (int v = 0; v < n; ++v)
    for (int w = 0; w < n; ++w)
      if (cell.has_edge(v, w)) dag.out[v] |= uint8_t(1u << w);
  dag.label[0] = kInputLabel;
  for (int v = 1; v + 1 < n; ++v) dag.label[v] = int8_t(cell.interior_ops[v - 1]);
  dag.label[n - 1] = kOutputLabel;
  return dag;
}

Cell cell_from_dag(const Dag& dag) {
  Cell cell;
  const int n = dag.num_vertices;
  cell.num_vertices = n;
  cell.adjacency.assign(size_t(n) * n, 0);
  for (int v = 0; v < n; ++v)
    for (int w = 0; w < n; ++w) cell.adjacency[v * n + w] = (dag.out[v] >> w) & 1;
  for (int v = 1; v + 1 < n; ++v) cell.interior_ops.push_back(Op(dag.label[v]));
  return cell;
}

// Python's str() of the tuple (out_degree, in_degree, label), e.g. "(2, 0, -1)", hashed: the
// vertex hashes graph_util.hash_module starts from. Only 7 * 7 * 5 distinct inputs exist, so they
// are computed once.
const char* initial_vertex_hash(int out_degree, int in_degree, int label) {
  struct Table {
    char hex[kMaxVertices][kMaxVertices][kNumOps + 2][kHexLen];
    Table() {
      for (int out = 0; out < kMaxVertices; ++out)
        for (int in = 0; in < kMaxVertices; ++in)
          for (int label = kOutputLabel; label < kNumOps; ++label) {
            const std::string text = "(" + std::to_string(out) + ", " + std::to_string(in) +
                                     ", " + std::to_string(label) + ")";
            thread_md5().hex_digest(text.data(), text.size(),
                                    hex[out][in][label - kOutputLabel]);
          }
    }
  };
  static const Table table;
  return table.hex[out_degree][in_degree][label - kOutputLabel];
}

// graph_util.hash_module, bit-exact: V rounds of
//   hash'(v) = md5(sorted in-neighbour hashes joined + "|" + sorted out-neighbour hashes joined
//                  + "|" + hash(v)),
// then md5 of Python's str() of the sorted list of vertex hashes: "['<hex>', '<hex>']".
std::string hash_dag(const Dag& dag) {
  const int n = dag.num_vertices;
  // Dag guarantees this; stating it also lets GCC see that in[w] stays inside the array.
  NBZ_ASSERT(n >= 0 && n <= kMaxVertices, "dag with " + std::to_string(n) + " vertices");
  Md5& md5 = thread_md5();
  char hashes[kMaxVertices][kHexLen];
  char next[kMaxVertices][kHexLen];
  std::array<uint8_t, kMaxVertices> in{};
  for (int v = 0; v < n; ++v)
    for (int w = 0; w < n; ++w)
      if ((dag.out[v] >> w) & 1) in[w] |= uint8_t(1u << v);
  for (int v = 0; v < n; ++v)
    std::memcpy(hashes[v],
                initial_vertex_hash(__builtin_popcount(dag.out[v]), __builtin_popcount(in[v]),
                                    dag.label[v]),
                kHexLen);

  // Insertion sort of vertex ids by their current hex hash: at most 7 elements, and Python's
  // sorted() on hex strings is plain byte order.
  auto sort_by_hash = [&hashes](int* ids, int count) {
    for (int i = 1; i < count; ++i)
      for (int j = i; j > 0 && std::memcmp(hashes[ids[j]], hashes[ids[j - 1]], kHexLen) < 0; --j)
        std::swap(ids[j], ids[j - 1]);
  };
  // Worst case: V-1 in-neighbours and V-1 out-neighbours, two separators and the own hash.
  char text[(2 * kMaxVertices) * kHexLen + 2];
  std::array<int, kMaxVertices> neighbours{};
  for (int round = 0; round < n; ++round) {
    for (int v = 0; v < n; ++v) {
      size_t len = 0;
      for (const uint8_t mask : {in[v], dag.out[v]}) {
        int count = 0;
        for (int w = 0; w < n; ++w)
          if ((mask >> w) & 1) neighbours[count++] = w;
        sort_by_hash(neighbours.data(), count);
        for (int i = 0; i < count; ++i, len += kHexLen)
          std::memcpy(text + len, hashes[neighbours[i]], kHexLen);
        text[len++] = '|';
      }
      std::memcpy(text + len, hashes[v], kHexLen);
      len += kHexLen;
      md5.hex_digest(text, len, next[v]);
    }
    std::memcpy(hashes, next, sizeof(hashes));
  }

  std::array<int, kMaxVertices> order{};
  for (int v = 0; v < n; ++v) order[v] = v;
  sort_by_hash(order.data(), n);
  std::string list = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) list += ", ";
    list += '\'';
    list.append(hashes[order[i]], kHexLen);
    list += '\'';
  }
  list += ']';
  std::string fingerprint(kHexLen, '0');
  md5.hex_digest(list.data(), list.size(), fingerprint.data());
  return fingerprint;
}

// Text of a possibly malformed cell for error messages (so it must not trust the sizes).
std::string describe(const Cell& cell) {
  std::string adjacency;
  for (const uint8_t bit : cell.adjacency) adjacency += bit <= 9 ? char('0' + bit) : '?';
  std::string ops = "input";
  for (const Op op : cell.interior_ops)
    ops += "|" + (int(op) < kNumOps ? op_name(op) : "op#" + std::to_string(int(op)));
  return "cell (num_vertices " + std::to_string(cell.num_vertices) + ", adjacency '" + adjacency +
         "', operations '" + ops + "|output')";
}

std::vector<std::string> split_operations(const std::string& operations) {
  std::vector<std::string> names;
  size_t start = 0;
  while (true) {
    const size_t bar = operations.find('|', start);
    names.push_back(operations.substr(start, bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return names;
}

}  // namespace

// -----------------------------------------------------------------------------------------------

const std::string& op_name(Op op) {
  NBZ_ASSERT(int(op) < kNumOps, "op value " + std::to_string(int(op)));
  return kOpNames[int(op)];
}

Op parse_op(const std::string& name) {
  for (int i = 0; i < kNumOps; ++i)
    if (kOpNames[i] == name) return Op(i);
  throw Error("unknown NAS-Bench-101 operation '" + name +
              "' (expected conv3x3-bn-relu, conv1x1-bn-relu or maxpool3x3)");
}

int Cell::num_edges() const {
  int edges = 0;
  for (const uint8_t bit : adjacency) edges += bit != 0;
  return edges;
}

bool Cell::operator==(const Cell& other) const {
  return num_vertices == other.num_vertices && adjacency == other.adjacency &&
         interior_ops == other.interior_ops;
}

void check_structure(const Cell& cell) {
  const int n = cell.num_vertices;
  if (n < 2 || n > kMaxVertices)
    throw Error(describe(cell) + ": num_vertices " + std::to_string(n) + " is outside 2.." +
                std::to_string(kMaxVertices));
  if (cell.adjacency.size() != size_t(n) * n)
    throw Error(describe(cell) + ": adjacency has " + std::to_string(cell.adjacency.size()) +
                " entries, expected " + std::to_string(n * n));
  if (cell.interior_ops.size() != size_t(n - 2))
    throw Error(describe(cell) + ": " + std::to_string(cell.interior_ops.size()) +
                " interior ops, expected " + std::to_string(n - 2));
  for (const Op op : cell.interior_ops)
    if (int(op) >= kNumOps) throw Error(describe(cell) + ": op value " + std::to_string(int(op)));
  for (int v = 0; v < n; ++v)
    for (int w = 0; w < n; ++w) {
      const uint8_t bit = cell.adjacency[v * n + w];
      if (bit > 1)
        throw Error(describe(cell) + ": adjacency entry (" + std::to_string(v) + ", " +
                    std::to_string(w) + ") is " + std::to_string(bit) + ", not 0 or 1");
      if (bit && w <= v)
        throw Error(describe(cell) + ": edge " + std::to_string(v) + " -> " + std::to_string(w) +
                    " is on or below the diagonal; the matrix must be strictly upper triangular");
    }
}

Cell parse_cell(const std::string& adjacency_rowmajor, const std::string& operations) {
  const std::vector<std::string> names = split_operations(operations);
  const int n = int(names.size());
  if (n < 2 || n > kMaxVertices)
    throw Error("operations '" + operations + "' has " + std::to_string(n) +
                " vertices; NAS-Bench-101 cells have 2 to " + std::to_string(kMaxVertices));
  if (names.front() != "input")
    throw Error("operations '" + operations + "' must start with 'input', not '" +
                names.front() + "'");
  if (names.back() != "output")
    throw Error("operations '" + operations + "' must end with 'output', not '" + names.back() +
                "'");
  Cell cell;
  cell.num_vertices = n;
  for (int v = 1; v + 1 < n; ++v) {
    try {
      cell.interior_ops.push_back(parse_op(names[v]));
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + " at vertex " + std::to_string(v) + " of operations '" +
                  operations + "'");
    }
  }

  if (adjacency_rowmajor.size() != size_t(n) * n)
    throw Error("adjacency_rowmajor '" + adjacency_rowmajor + "' has length " +
                std::to_string(adjacency_rowmajor.size()) + ", expected " + std::to_string(n * n) +
                " for the " + std::to_string(n) + " vertices of operations '" + operations + "'");
  cell.adjacency.resize(size_t(n) * n);
  for (size_t i = 0; i < adjacency_rowmajor.size(); ++i) {
    const char c = adjacency_rowmajor[i];
    const int row = int(i) / n, col = int(i) % n;
    if (c != '0' && c != '1')
      throw Error("adjacency_rowmajor '" + adjacency_rowmajor + "' has character '" +
                  std::string(1, c) + "' at position " + std::to_string(i) +
                  "; only '0' and '1' are allowed");
    if (c == '1' && col <= row)
      throw Error("adjacency_rowmajor '" + adjacency_rowmajor + "' has an edge " +
                  std::to_string(row) + " -> " + std::to_string(col) + " (position " +
                  std::to_string(i) +
                  ") on or below the diagonal; the matrix must be strictly upper triangular");
    cell.adjacency[i] = uint8_t(c - '0');
  }
  const int edges = cell.num_edges();
  if (edges > kMaxEdges)
    throw Error("adjacency_rowmajor '" + adjacency_rowmajor + "' has " + std::to_string(edges) +
                " edges; NAS-Bench-101 allows at most " + std::to_string(kMaxEdges));
  return cell;
}

std::string format_adjacency(const Cell& cell) {
  std::string text;
  for (const uint8_t bit : cell.adjacency) text += bit ? '1' : '0';
  return text;
}

std::string format_operations(const Cell& cell) {
  std::string text = "input";
  for (const Op op : cell.interior_ops) text += "|" + op_name(op);
  return text + "|output";
}

std::optional<Cell> try_prune(const Cell& cell) {
  check_structure(cell);
  const int n = cell.num_vertices;
  // Upper triangular, so one sweep in vertex order (forward) and one in reverse order (backward)
  // finds the same sets as the benchmark's depth-first searches.
  std::vector<bool> from_input(n, false), to_output(n, false);
  from_input[0] = true;
  for (int v = 0; v < n; ++v)
    if (from_input[v])
      for (int w = v + 1; w < n; ++w)
        if (cell.has_edge(v, w)) from_input[w] = true;
  to_output[n - 1] = true;
  for (int v = n - 1; v >= 0; --v)
    if (to_output[v])
      for (int u = 0; u < v; ++u)
        if (cell.has_edge(u, v)) to_output[u] = true;

  std::vector<int> kept;
  for (int v = 0; v < n; ++v)
    if (from_input[v] && to_output[v]) kept.push_back(v);
  // Any kept vertex lies on an input -> output path, so fewer than two kept means disconnected
  // (the benchmark's `len(extraneous) > num_vertices - 2`).
  if (kept.size() < 2) return std::nullopt;

  Cell pruned;
  const int m = int(kept.size());
  pruned.num_vertices = m;
  pruned.adjacency.assign(size_t(m) * m, 0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) pruned.adjacency[i * m + j] = cell.has_edge(kept[i], kept[j]);
  for (int i = 1; i + 1 < m; ++i) pruned.interior_ops.push_back(cell.interior_ops[kept[i] - 1]);
  return pruned;
}

Cell prune(const Cell& cell) {
  std::optional<Cell> pruned = try_prune(cell);
  if (!pruned) throw Error(describe(cell) + ": the input is not connected to the output");
  return *std::move(pruned);
}

bool is_valid(const Cell& cell) {
  std::optional<Cell> pruned;
  try {
    pruned = try_prune(cell);
  } catch (const Error&) {
    return false;
  }
  return pruned && pruned->num_vertices <= kMaxVertices && pruned->num_edges() <= kMaxEdges;
}

std::string module_hash(const Cell& cell) { return hash_dag(dag_from_cell(prune(cell))); }

std::string unpruned_module_hash(const Cell& cell) {
  check_structure(cell);
  return hash_dag(dag_from_cell(cell));
}

// -----------------------------------------------------------------------------------------------
// Enumeration.
//
// generate_graphs.py hashes every labelled "full DAG" (every vertex on an input -> output path,
// which is exactly a matrix that pruning leaves unchanged; any other matrix prunes to a full DAG
// with fewer vertices that is enumerated anyway) and keeps the first cell per hash. Hashing all
// ~1.3M labelled graphs costs ~70M MD5s; instead each labelled graph gets an exact isomorphism
// key first, and only the first graph of each key is hashed. The benchmark verified that its hash
// separates exactly the isomorphism classes of this space, so both dedupings coincide; the final
// dedup is still by hash, so a key bug could only cost time, never admit a duplicate hash.
//
// Key: the input and output are fixed by any isomorphism, so only the V-2 interior vertices are
// permuted. For a matrix M, c(M) = min over permutations p of the encoding of p(M), and P(M) = the
// permutations reaching it. Then (M, L) ~ (M', L') iff c(M) = c(M') and
// min_{p in P(M)} enc(p(L)) = min_{p in P(M')} enc(p(L')), because P(M') = P(M) o r^-1 for any
// isomorphism r: M -> M'. P(M) is computed once per matrix; usually it has one or two elements.

namespace {

using Permutation = std::array<uint8_t, kMaxVertices>;  // vertex v of M becomes vertex perm[v]

std::vector<Permutation> interior_permutations(int n) {
  std::vector<uint8_t> interior;
  for (int v = 1; v + 1 < n; ++v) interior.push_back(uint8_t(v));
  std::vector<Permutation> perms;
  do {
    Permutation p{};
    p[0] = 0;
    p[n - 1] = uint8_t(n - 1);
    for (int v = 1; v + 1 < n; ++v) p[v] = interior[v - 1];
    perms.push_back(p);
  } while (std::next_permutation(interior.begin(), interior.end()));
  return perms;
}

// V in the top bits keeps matrices of different sizes apart; 7 bits per row.
uint64_t encode_permuted_matrix(const Dag& dag, const Permutation& p) {
  const int n = dag.num_vertices;
  uint64_t code = uint64_t(n) << (kMaxVertices * kMaxVertices);
  for (int v = 0; v < n; ++v) {
    uint64_t row = 0;
    for (int w = 0; w < n; ++w)
      if ((dag.out[v] >> w) & 1) row |= uint64_t(1) << p[w];
    code |= row << (kMaxVertices * p[v]);
  }
  return code;
}

// 2 bits per interior vertex.
uint64_t encode_permuted_labels(const Dag& dag, const Permutation& p) {
  uint64_t code = 0;
  for (int v = 1; v + 1 < dag.num_vertices; ++v)
    code |= uint64_t(dag.label[v]) << (2 * (p[v] - 1));
  return code;
}
constexpr int kLabelCodeBits = 2 * (kMaxVertices - 2);
static_assert(kMaxVertices * kMaxVertices + 3 + kLabelCodeBits <= 64, "key must fit 64 bits");

}  // namespace

std::vector<SpaceCell> enumerate_space(EnumerationStats* stats) {
  EnumerationStats counts;
  std::vector<Dag> representatives;  // first labelled graph of each class, in benchmark order
  representatives.reserve(kSpaceSize);
  std::unordered_set<uint64_t> seen_keys;
  seen_keys.reserve(2 * kSpaceSize);

  for (int n = 2; n <= kMaxVertices; ++n) {
    const std::vector<Permutation> perms = interior_permutations(n);
    // generate_graphs' bit order: bit x + y(y-1)/2 is the edge x -> y (column-major upper part).
    std::vector<std::pair<int, int>> edge_of_bit;
    for (int y = 1; y < n; ++y)
      for (int x = 0; x < y; ++x) edge_of_bit.emplace_back(x, y);
    const int num_bits = int(edge_of_bit.size());
    int num_labellings = 1;
    for (int v = 1; v + 1 < n; ++v) num_labellings *= kNumOps;

    std::vector<Permutation> canonical_perms;
    for (uint32_t bits = 0; bits < (uint32_t(1) << num_bits); ++bits) {
      if (__builtin_popcount(bits) > kMaxEdges) continue;
      Dag dag;
      dag.num_vertices = n;
      uint8_t has_in = 0;
      for (int b = 0; b < num_bits; ++b)
        if ((bits >> b) & 1) {
          dag.out[edge_of_bit[b].first] |= uint8_t(1u << edge_of_bit[b].second);
          has_in |= uint8_t(1u << edge_of_bit[b].second);
        }
      // graph_util.is_full_dag: only the output lacks out-edges, only the input lacks in-edges.
      bool full = true;
      for (int v = 0; v + 1 < n && full; ++v) full = dag.out[v] != 0;
      for (int v = 1; v < n && full; ++v) full = (has_in >> v) & 1;
      if (!full) continue;
      ++counts.full_dag_matrices;

      uint64_t matrix_code = ~uint64_t(0);
      canonical_perms.clear();
      for (const Permutation& p : perms) {
        const uint64_t code = encode_permuted_matrix(dag, p);
        if (code < matrix_code) {
          matrix_code = code;
          canonical_perms.clear();
        }
        if (code == matrix_code) canonical_perms.push_back(p);
      }

      // itertools.product order: the last interior vertex's op varies fastest.
      for (int labelling = 0; labelling < num_labellings; ++labelling) {
        dag.label[0] = kInputLabel;
        dag.label[n - 1] = kOutputLabel;
        for (int v = n - 2, rest = labelling; v >= 1; --v, rest /= kNumOps)
          dag.label[v] = int8_t(rest % kNumOps);
        ++counts.labeled_graphs;
        uint64_t label_code = ~uint64_t(0);
        for (const Permutation& p : canonical_perms)
          label_code = std::min(label_code, encode_permuted_labels(dag, p));
        if (seen_keys.insert((matrix_code << kLabelCodeBits) | label_code).second)
          representatives.push_back(dag);
      }
    }
  }

  std::vector<SpaceCell> space;
  space.reserve(representatives.size());
  for (const Dag& dag : representatives) space.push_back({hash_dag(dag), cell_from_dag(dag)});
  // Stable, so among equal hashes the benchmark's first-seen cell is the one kept.
  std::stable_sort(space.begin(), space.end(),
                   [](const SpaceCell& a, const SpaceCell& b) { return a.hash < b.hash; });
  space.erase(std::unique(space.begin(), space.end(),
                          [](const SpaceCell& a, const SpaceCell& b) { return a.hash == b.hash; }),
              space.end());
  counts.unique_cells = (long long)space.size();
  if (stats) *stats = counts;
  return space;
}

// -----------------------------------------------------------------------------------------------

std::vector<GroundTruthRow> load_ground_truth(const std::string& path) {
  const CsvTable table = CsvTable::read(path);
  const size_t col_hash = table.column("module_hash");
  const size_t col_vertices = table.column("num_vertices");
  const size_t col_adjacency = table.column("adjacency_rowmajor");
  const size_t col_operations = table.column("operations");
  const size_t col_acc4 = table.column("val_acc_4ep");
  const size_t col_acc12 = table.column("val_acc_12ep");
  const size_t col_acc36 = table.column("val_acc_36ep");
  const size_t col_acc108 = table.column("val_acc_108ep");
  const size_t col_params = table.column("trainable_parameters");
  const size_t col_time = table.column("final_training_time_s");

  std::vector<GroundTruthRow> rows;
  rows.reserve(table.rows());
  for (size_t r = 0; r < table.rows(); ++r) {
    // Same numbering as CsvTable's own errors: the header is line 1.
    const std::string where = path + ":" + std::to_string(r + 2) + ": ";
    GroundTruthRow row;
    row.module_hash = table.cell(r, col_hash);
    const bool hash_ok =
        row.module_hash.size() == kHexLen &&
        std::all_of(row.module_hash.begin(), row.module_hash.end(),
                    [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (!hash_ok)
      throw Error(where + "module_hash '" + row.module_hash +
                  "' is not 32 lowercase hex characters");
    try {
      row.cell = parse_cell(table.cell(r, col_adjacency), table.cell(r, col_operations));
    } catch (const Error& e) {
      throw Error(where + e.what());
    }
    const long long vertices = table.integer(r, col_vertices);
    if (vertices != row.cell.num_vertices)
      throw Error(where + "num_vertices " + std::to_string(vertices) + " but the spec has " +
                  std::to_string(row.cell.num_vertices) + " vertices");
    row.val_acc_4ep = table.number(r, col_acc4);
    row.val_acc_12ep = table.number(r, col_acc12);
    row.val_acc_36ep = table.number(r, col_acc36);
    row.val_acc_108ep = table.number(r, col_acc108);
    row.trainable_parameters = table.integer(r, col_params);
    row.final_training_time_s = table.number(r, col_time);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace nbz::nb101
