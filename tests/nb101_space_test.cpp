// Tests of the torch-free NAS-Bench-101 cell library against the benchmark's own data: the module
// hashes of the 20,001 ground-truth rows, the size of the space (423,624), and pruning cases taken
// from the benchmark's model_spec_test.py semantics.
#include "spaces/nb101_space.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>

#include "foundation/errors.h"
#include "tests/test_support.h"

namespace nbz::nb101 {
namespace {

std::string ground_truth_path() {
  return test::data_dir() + "/nasbench101/nb101_ground_truth_20k.csv";
}

// Loading the CSV and enumerating the space are the slow parts (seconds), so each runs once per
// test binary.
const std::vector<GroundTruthRow>& ground_truth() {
  static const std::vector<GroundTruthRow> rows = load_ground_truth(ground_truth_path());
  return rows;
}

struct Enumerated {
  std::vector<SpaceCell> space;
  EnumerationStats stats;
  double seconds = 0;
};

const Enumerated& enumerated() {
  static const Enumerated result = [] {
    Enumerated e;
    const auto start = std::chrono::steady_clock::now();
    e.space = enumerate_space(&e.stats);
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "enumerate_space: " << e.space.size() << " cells in " << e.seconds << " s\n";
    return e;
  }();
  return result;
}

// Runs `action`, which must throw nbz::Error whose message contains every one of `needles`.
void expect_error_containing(const std::function<void()>& action,
                             const std::vector<std::string>& needles) {
  try {
    action();
    ADD_FAILURE() << "expected nbz::Error mentioning '" << needles.front() << "'";
  } catch (const Error& e) {
    for (const std::string& needle : needles)
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << "message '" << e.what() << "' lacks '" << needle << "'";
  }
}

Cell make_cell(int n, const std::vector<std::pair<int, int>>& edges, std::vector<Op> ops) {
  Cell cell;
  cell.num_vertices = n;
  cell.adjacency.assign(size_t(n) * n, 0);
  for (const auto& [from, to] : edges) cell.adjacency[from * n + to] = 1;
  cell.interior_ops = std::move(ops);
  return cell;
}

constexpr const char* kFirstHash = "00005c142e6f48ac74fdcf73e3439874";
constexpr const char* kFirstAdjacency = "0100110001000000010010000010000001000000010000000";
constexpr const char* kFirstOperations =
    "input|conv3x3-bn-relu|maxpool3x3|conv3x3-bn-relu|conv3x3-bn-relu|conv1x1-bn-relu|output";

// ---------------------------------------------------------------------------------------------

TEST(Nb101Ops, NamesRoundTripInBenchmarkOrder) {
  EXPECT_EQ(op_name(Op::Conv3x3), "conv3x3-bn-relu");
  EXPECT_EQ(op_name(Op::Conv1x1), "conv1x1-bn-relu");
  EXPECT_EQ(op_name(Op::MaxPool3x3), "maxpool3x3");
  for (const Op op : {Op::Conv3x3, Op::Conv1x1, Op::MaxPool3x3})
    EXPECT_EQ(parse_op(op_name(op)), op);
  expect_error_containing([] { parse_op("avgpool3x3"); }, {"'avgpool3x3'"});
}

TEST(Nb101Parse, FirstRowParsesAndFormatsBack) {
  const Cell cell = parse_cell(kFirstAdjacency, kFirstOperations);
  EXPECT_EQ(cell.num_vertices, 7);
  EXPECT_EQ(cell.num_edges(), 9);
  EXPECT_TRUE(cell.has_edge(0, 1));
  EXPECT_FALSE(cell.has_edge(0, 2));
  EXPECT_EQ(cell.interior_ops,
            (std::vector<Op>{Op::Conv3x3, Op::MaxPool3x3, Op::Conv3x3, Op::Conv3x3, Op::Conv1x1}));
  EXPECT_EQ(format_adjacency(cell), kFirstAdjacency);
  EXPECT_EQ(format_operations(cell), kFirstOperations);
}

TEST(Nb101Parse, BadInputNamesTheOffendingValue) {
  const std::string ops3 = "input|conv3x3-bn-relu|output";
  // Wrong length: 8 characters for 3 vertices.
  expect_error_containing([&] { parse_cell("01100100", ops3); }, {"'01100100'", "length 8"});
  // A bit below the diagonal (row 2, column 0).
  expect_error_containing([&] { parse_cell("011001100", ops3); }, {"'011001100'", "2 -> 0"});
  // A bit on the diagonal.
  expect_error_containing([&] { parse_cell("111001000", ops3); }, {"'111001000'", "0 -> 0"});
  // Not a 0/1 character.
  expect_error_containing([&] { parse_cell("012001000", ops3); }, {"'012001000'", "'2'"});
  // Unknown op.
  expect_error_containing([] { parse_cell("011001000", "input|conv5x5-bn-relu|output"); },
                          {"'conv5x5-bn-relu'"});
  // First/last op not input/output.
  expect_error_containing([] { parse_cell("011001000", "conv3x3-bn-relu|maxpool3x3|output"); },
                          {"'conv3x3-bn-relu'"});
  expect_error_containing([] { parse_cell("011001000", "input|maxpool3x3|maxpool3x3"); },
                          {"'maxpool3x3'", "output"});
  // Too many vertices (8).
  const std::string ops8 = "input|maxpool3x3|maxpool3x3|maxpool3x3|maxpool3x3|maxpool3x3|"
                           "maxpool3x3|output";
  expect_error_containing([&] { parse_cell(std::string(64, '0'), ops8); }, {ops8, "8 vertices"});
  // Too many edges: 10 edges on 7 vertices.
  const std::string ops7 =
      "input|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|conv3x3-bn-relu|"
      "output";
  const std::string ten_edges = "0111111"  // 0 -> 1..6: 6 edges
                                "0011110"  // 1 -> 2..5: 4 edges
                                "0000000"
                                "0000000"
                                "0000000"
                                "0000000"
                                "0000000";
  expect_error_containing([&] { parse_cell(ten_edges, ops7); }, {ten_edges, "10 edges"});
}

TEST(Nb101Structure, MalformedCellStructIsRejected) {
  Cell cell = make_cell(3, {{0, 1}, {1, 2}}, {Op::Conv3x3});
  EXPECT_NO_THROW(check_structure(cell));
  cell.adjacency[1 * 3 + 0] = 1;  // lower-triangular edge 1 -> 0
  expect_error_containing([&] { check_structure(cell); }, {"1 -> 0"});
  EXPECT_FALSE(is_valid(cell));
  Cell missing_op = make_cell(3, {{0, 1}, {1, 2}}, {});
  expect_error_containing([&] { module_hash(missing_op); }, {"0 interior ops"});
}

// ---------------------------------------------------------------------------------------------
// Pruning, cases worked out by hand (the same shapes as the benchmark's model_spec_test.py).

TEST(Nb101Prune, FullDagIsUnchanged) {
  const Cell cell = make_cell(4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}, {Op::Conv3x3, Op::Conv1x1});
  EXPECT_EQ(prune(cell), cell);
  EXPECT_TRUE(is_valid(cell));
}

TEST(Nb101Prune, DanglingVertexIsRemoved) {
  // 0 -> 1 and 0 -> 2 -> 3: vertex 1 never reaches the output.
  const Cell cell = make_cell(4, {{0, 1}, {0, 2}, {2, 3}}, {Op::Conv3x3, Op::Conv1x1});
  const Cell expected = make_cell(3, {{0, 1}, {1, 2}}, {Op::Conv1x1});
  EXPECT_EQ(prune(cell), expected);
  EXPECT_TRUE(is_valid(cell));
  // The benchmark hashes the pruned spec, so the dangling vertex leaves the hash unchanged.
  EXPECT_EQ(module_hash(cell), module_hash(expected));
  EXPECT_EQ(module_hash(cell), unpruned_module_hash(expected));
  EXPECT_NE(unpruned_module_hash(cell), unpruned_module_hash(expected));
}

TEST(Nb101Prune, VertexUnreachableFromInputIsRemoved) {
  // 0 -> 2 -> 3 and 1 -> 3: vertex 1 has no path from the input.
  const Cell cell = make_cell(4, {{0, 2}, {1, 3}, {2, 3}}, {Op::MaxPool3x3, Op::Conv3x3});
  EXPECT_EQ(prune(cell), make_cell(3, {{0, 1}, {1, 2}}, {Op::Conv3x3}));
}

TEST(Nb101Prune, IslandsAreRemoved) {
  // 0 -> 1 -> 4 plus an island 2 -> 3.
  const Cell cell = make_cell(5, {{0, 1}, {1, 4}, {2, 3}},
                              {Op::Conv1x1, Op::MaxPool3x3, Op::Conv3x3});
  EXPECT_EQ(prune(cell), make_cell(3, {{0, 1}, {1, 2}}, {Op::Conv1x1}));
}

TEST(Nb101Prune, DisconnectedSpecIsInvalid) {
  // 0 -> 1 and 2 -> 3: no input -> output path.
  const Cell cell = make_cell(4, {{0, 1}, {2, 3}}, {Op::Conv3x3, Op::Conv3x3});
  EXPECT_FALSE(try_prune(cell).has_value());
  EXPECT_FALSE(is_valid(cell));
  expect_error_containing([&] { prune(cell); }, {"not connected", "'0100000000010000'"});
  expect_error_containing([&] { module_hash(cell); }, {"not connected"});
  EXPECT_FALSE(is_valid(make_cell(2, {}, {})));
}

TEST(Nb101Prune, EdgeLimitAppliesAfterPruning) {
  // 13 edges, but 10 of them only feed vertices 2..5, which never reach the output: the
  // benchmark checks the pruned spec (0 -> 1 -> 6, 0 -> 6), which is in the space.
  std::vector<std::pair<int, int>> edges = {{0, 1}, {1, 6}, {0, 6}};
  for (int v = 2; v <= 5; ++v) edges.push_back({0, v});
  for (int v = 2; v <= 5; ++v)
    for (int w = v + 1; w <= 5; ++w) edges.push_back({v, w});
  const Cell cell = make_cell(7, edges, std::vector<Op>(5, Op::Conv3x3));
  ASSERT_EQ(cell.num_edges(), 13);
  EXPECT_TRUE(is_valid(cell));
  EXPECT_EQ(prune(cell).num_edges(), 3);
  // 10 edges that all stay after pruning: outside the space.
  std::vector<std::pair<int, int>> dense = {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5},
                                            {1, 6}, {2, 6}, {3, 6}, {4, 6}, {5, 6}};
  EXPECT_FALSE(is_valid(make_cell(7, dense, std::vector<Op>(5, Op::Conv1x1))));
}

// ---------------------------------------------------------------------------------------------
// The module hash against the benchmark's data.

TEST(Nb101Hash, FirstRow) {
  EXPECT_EQ(module_hash(parse_cell(kFirstAdjacency, kFirstOperations)), kFirstHash);
}

TEST(Nb101Hash, IsomorphicCellsShareTheHash) {
  // Swapping the two parallel branches (and their ops) is an isomorphism.
  const Cell a = make_cell(4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}, {Op::Conv3x3, Op::MaxPool3x3});
  const Cell b = make_cell(4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}, {Op::MaxPool3x3, Op::Conv3x3});
  const Cell chain = make_cell(4, {{0, 1}, {1, 2}, {2, 3}}, {Op::Conv3x3, Op::MaxPool3x3});
  EXPECT_EQ(module_hash(a), module_hash(b));
  EXPECT_NE(module_hash(a), module_hash(chain));
}

TEST(Nb101GroundTruth, LoadsAllRows) {
  const auto& rows = ground_truth();
  ASSERT_EQ(rows.size(), 20001u);
  const GroundTruthRow& first = rows.front();
  EXPECT_EQ(first.module_hash, kFirstHash);
  EXPECT_EQ(first.cell, parse_cell(kFirstAdjacency, kFirstOperations));
  EXPECT_EQ(first.trainable_parameters, 8555530);
  EXPECT_DOUBLE_EQ(first.val_acc_108ep, 0.9304887652397156);
  EXPECT_DOUBLE_EQ(first.val_acc_4ep, 0.3604767620563507);
  EXPECT_DOUBLE_EQ(first.final_training_time_s, 1768.9759521484375);
}

TEST(Nb101GroundTruth, EveryRowHashesToItsModuleHash) {
  int mismatches = 0, not_pruned = 0;
  for (const GroundTruthRow& row : ground_truth()) {
    const std::string hash = module_hash(row.cell);
    if (hash != row.module_hash) {
      if (++mismatches <= 5)
        ADD_FAILURE() << "hash " << hash << " for " << format_adjacency(row.cell) << " "
                      << format_operations(row.cell) << ", CSV says " << row.module_hash;
    }
    not_pruned += prune(row.cell) != row.cell;
  }
  std::cout << "ground-truth rows whose hash differs: " << mismatches << " of "
            << ground_truth().size() << "\n";
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(not_pruned, 0);
}

TEST(Nb101GroundTruth, BadRowsNameFileAndLine) {
  const std::string path = testing::TempDir() + "nb101_bad_rows.csv";
  const std::string header =
      "module_hash,num_vertices,adjacency_rowmajor,operations,val_acc_4ep,val_acc_12ep,"
      "val_acc_36ep,val_acc_108ep,trainable_parameters,final_training_time_s\n";
  const std::string good_row = std::string(kFirstHash) + ",7," + kFirstAdjacency + "," +
                               kFirstOperations + ",0.3,0.4,0.9,0.93,8555530,1768.9\n";
  auto write = [&](const std::string& bad_row) {
    std::ofstream(path) << header << good_row << bad_row;
  };
  write("00005c142e6f48ac74fdcf73e3439874,3,0110,input|conv3x3-bn-relu|output,"
        "0.1,0.1,0.1,0.1,1,1\n");
  expect_error_containing([&] { load_ground_truth(path); }, {path + ":3", "'0110'"});
  write("00005c142e6f48ac74fdcf73e3439874,3,011001000,input|conv3x3-bn-relu|sepconv|output,"
        "0.1,0.1,0.1,0.1,1,1\n");
  expect_error_containing([&] { load_ground_truth(path); }, {path + ":3", "'sepconv'"});
  write("00005c142e6f48ac74fdcf73e3439874,4,011001000,input|conv3x3-bn-relu|output,"
        "0.1,0.1,0.1,0.1,1,1\n");
  expect_error_containing([&] { load_ground_truth(path); }, {path + ":3", "num_vertices 4"});
  write("xyz,3,011001000,input|conv3x3-bn-relu|output,0.1,0.1,0.1,0.1,1,1\n");
  expect_error_containing([&] { load_ground_truth(path); }, {path + ":3", "'xyz'"});
  write("00005c142e6f48ac74fdcf73e3439874,3,011001000,input|conv3x3-bn-relu|output,"
        "0.1,0.1,0.1,abc,1,1\n");
  expect_error_containing([&] { load_ground_truth(path); }, {path + ":3", "'abc'"});
  std::remove(path.c_str());
}

// ---------------------------------------------------------------------------------------------
// The whole space.

TEST(Nb101Space, HasExactly423624SortedUniqueHashes) {
  const Enumerated& e = enumerated();
  ASSERT_EQ(e.space.size(), kSpaceSize);
  EXPECT_EQ(e.stats.unique_cells, 423624);
  // Labelled full DAGs before dedup (generate_graphs' total_graphs); hashing every one of them
  // directly gives the same 423,624 hashes (checked once while developing, ~25 s).
  EXPECT_EQ(e.stats.labeled_graphs, 1293208);
  EXPECT_EQ(e.stats.full_dag_matrices, 6472);
  bool sorted_unique = true;
  for (size_t i = 1; i < e.space.size(); ++i)
    sorted_unique = sorted_unique && e.space[i - 1].hash < e.space[i].hash;
  EXPECT_TRUE(sorted_unique);
  EXPECT_EQ(e.space.front().hash, kFirstHash);  // the CSV holds the first hashes in sorted order
  // Its duration (e.seconds, printed) is measured, not asserted: speed belongs to benchmarks.
}

TEST(Nb101Space, CellsAreValidPrunedAndHashToTheirKey) {
  const Enumerated& e = enumerated();
  int bad_structure = 0, bad_hash = 0;
  for (size_t i = 0; i < e.space.size(); ++i) {
    const SpaceCell& s = e.space[i];
    if (!is_valid(s.cell) || prune(s.cell) != s.cell) ++bad_structure;
    // Re-hashing all 423,624 would double the test time; every 37th is a broad enough sample.
    if (i % 37 == 0 && module_hash(s.cell) != s.hash) ++bad_hash;
  }
  EXPECT_EQ(bad_structure, 0);
  EXPECT_EQ(bad_hash, 0);
}

TEST(Nb101Space, ContainsEveryGroundTruthHashWithTheBenchmarksCell) {
  const Enumerated& e = enumerated();
  int missing = 0, other_cell = 0;
  for (const GroundTruthRow& row : ground_truth()) {
    const auto it = std::lower_bound(
        e.space.begin(), e.space.end(), row.module_hash,
        [](const SpaceCell& s, const std::string& hash) { return s.hash < hash; });
    if (it == e.space.end() || it->hash != row.module_hash) {
      ++missing;
      continue;
    }
    // The enumeration keeps the first cell in generate_graphs.py's order, which is the spec the
    // benchmark stores for the hash.
    other_cell += it->cell != row.cell;
  }
  std::cout << "ground-truth hashes missing from the enumeration: " << missing
            << ", with a different representative cell: " << other_cell << "\n";
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(other_cell, 0);
  // The CSV is the first 20,001 hashes in sorted order, so it is a prefix of the enumeration.
  ASSERT_GE(e.space.size(), ground_truth().size());
  EXPECT_EQ(e.space[ground_truth().size() - 1].hash, ground_truth().back().module_hash);
}

}  // namespace
}  // namespace nbz::nb101
