#include "spaces/arch_selection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

#include "foundation/errors.h"
#include "foundation/rng.h"
#include "tests/test_support.h"

namespace nbz {
namespace {

TEST(ArchSelection, AllRangesAndLists) {
  EXPECT_EQ(select_architectures("all", 5, 0), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(select_architectures("3-6", 100, 0), (std::vector<std::int64_t>{3, 4, 5, 6}));
  EXPECT_EQ(select_architectures("9,2,4-5,2", 100, 0), (std::vector<std::int64_t>{2, 4, 5, 9}));
}

TEST(ArchSelection, SampleIsUniformDistinctSortedAndSeeded) {
  const auto a = select_architectures("sample:1000", 15625, 0);
  ASSERT_EQ(a.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<std::int64_t>(a.begin(), a.end()).size(), 1000u);
  EXPECT_EQ(a, select_architectures("sample:1000", 15625, 0));
  EXPECT_EQ(a, select_architectures("sample:1000:0", 15625, 7));  // explicit seed wins
  EXPECT_NE(a, select_architectures("sample:1000", 15625, 1));
  // The 200-sample of make run is not simply the first 200 of the 1000-sample, but both are
  // uniform: their means sit near the middle of the index range.
  double mean = 0;
  for (auto i : a) mean += static_cast<double>(i);
  mean /= 1000;
  EXPECT_NEAR(mean, 7812, 600);  // 3 sigma of a uniform mean over 15,625 with n = 1000 is ~410
  EXPECT_EQ(select_architectures("sample:15625", 15625, 3).size(), 15625u);
}

void expect_error(const std::string& spec, const std::string& fragment) {
  try {
    select_architectures(spec, 100, 0);
    FAIL() << spec;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ArchSelection, BadSpecsNameTheProblem) {
  expect_error("5-2", "'5-2' is reversed");
  expect_error("0-100", "index 100 is outside");
  expect_error("1,,2", "empty entry");
  expect_error("abc", "'abc'");
  expect_error("-3", "''");
  expect_error("sample:0", "sample size 0");
  expect_error("sample:101", "sample size 101");
  expect_error("sample:x", "'x'");
  expect_error("sample:5:y", "'y'");
}

TEST(ArchSelection, ShardsPartitionTheSelection) {
  const auto all = select_architectures("0-9", 100, 0);
  std::vector<std::int64_t> merged;
  for (int k = 1; k <= 3; ++k) {
    const auto part = shard_selection(all, std::to_string(k) + "/3");
    merged.insert(merged.end(), part.begin(), part.end());
  }
  std::sort(merged.begin(), merged.end());
  EXPECT_EQ(merged, all);
  EXPECT_EQ(shard_selection(all, "2/3"), (std::vector<std::int64_t>{1, 4, 7}));
  EXPECT_THROW(shard_selection(all, "0/3"), Error);
  EXPECT_THROW(shard_selection(all, "4/3"), Error);
  EXPECT_THROW(shard_selection(all, "1-3"), Error);
}

// ---------------------------------------------------------------------------------------------
// NAS-Bench-101: a small stand-in space of 50 sorted hashes whose ground truth is every odd
// index below 40 (the real truth is the first 20,001 hashes; a non-prefix set tests the mapping).

std::string fake_hash(std::int64_t i) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032llx", static_cast<unsigned long long>(i * 1000003 + 7));
  return buf;
}

const std::vector<std::string>& fake_hashes() {
  static const std::vector<std::string> hashes = [] {
    std::vector<std::string> h;
    for (std::int64_t i = 0; i < 50; ++i) h.push_back(fake_hash(i));
    return h;
  }();
  return hashes;
}

Nb101Catalog fake_catalog() {
  Nb101Catalog c;
  c.space_size = 50;
  for (std::int64_t i = 1; i < 40; i += 2) c.truth_indices.push_back(i);
  c.index_of = [](const std::string& hash) -> std::int64_t {
    const auto& h = fake_hashes();
    const auto it = std::lower_bound(h.begin(), h.end(), hash);
    return it != h.end() && *it == hash ? it - h.begin() : -1;
  };
  return c;
}

std::vector<std::int64_t> nb101(const std::string& spec, std::uint64_t seed = 0) {
  return select_nb101_architectures(spec, fake_catalog(), seed);
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = test::scratch_dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

void expect_nb101_error(const std::string& spec, std::vector<std::string> fragments) {
  try {
    nb101(spec);
    FAIL() << spec;
  } catch (const Error& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what() << " lacks " << f;
  }
}

TEST(Nb101Selection, TruthIsTheGroundTruthCells) {
  EXPECT_EQ(nb101("truth"), fake_catalog().truth_indices);
  Nb101Catalog empty = fake_catalog();
  empty.truth_indices.clear();
  EXPECT_THROW(select_nb101_architectures("truth", empty, 0), Error);
}

TEST(Nb101Selection, SampleDrawsFromTheTruthCellsWithTheRunSeed) {
  const auto truth = fake_catalog().truth_indices;  // 20 cells
  for (std::uint64_t seed : {0, 1, 9}) {
    const auto a = nb101("sample:5", seed);
    ASSERT_EQ(a.size(), 5u);
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    EXPECT_EQ(std::set<std::int64_t>(a.begin(), a.end()).size(), 5u);
    for (auto i : a) EXPECT_TRUE(std::binary_search(truth.begin(), truth.end(), i)) << i;
    // The definition: NB201's sample over the truth cells' positions, mapped to their indices.
    std::vector<std::int64_t> expected;
    for (auto k : select_architectures("sample:5", 20, seed))
      expected.push_back(truth[static_cast<size_t>(k)]);
    EXPECT_EQ(a, expected);
  }
  EXPECT_EQ(nb101("sample:5", 0), nb101("sample:5:0", 7));  // an explicit seed wins
  EXPECT_NE(nb101("sample:5", 0), nb101("sample:5", 1));
  EXPECT_EQ(nb101("sample:20"), truth);
}

TEST(Nb101Selection, SpaceSampleRangesListsAndAllCoverTheWholeSpace) {
  EXPECT_EQ(nb101("space-sample:10:3"), select_architectures("sample:10:3", 50, 0));
  EXPECT_EQ(nb101("space-sample:10", 4), select_architectures("sample:10", 50, 4));
  EXPECT_EQ(nb101("all"), select_architectures("all", 50, 0));
  EXPECT_EQ(nb101("0-3,45,2"), (std::vector<std::int64_t>{0, 1, 2, 3, 45}));
  EXPECT_EQ(nb101("49"), (std::vector<std::int64_t>{49}));
}

TEST(Nb101Selection, HashFileListsHashesWithCommentsAndBlankLines) {
  const auto& h = fake_hashes();
  std::string upper = h[7];
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  const auto path = write_file("hashes.txt", "# cells to sweep\n" + h[30] + "\n\n  " + h[2] +
                                                 "  # an inline comment\r\n" + upper + "\n");
  EXPECT_EQ(nb101("hashes:" + path), (std::vector<std::int64_t>{2, 7, 30}));
  EXPECT_EQ(read_nb101_hash_file(path, fake_catalog()), (std::vector<std::int64_t>{30, 2, 7}));
}

TEST(Nb101Selection, BadHashFileLinesNameFileLineAndValue) {
  const auto& h = fake_hashes();
  auto path = write_file("malformed.txt", h[1] + "\n# ok\n00005c14\n");
  expect_nb101_error("hashes:" + path, {path + ":3", "'00005c14'", "not a module hash"});
  path = write_file("nothex.txt", std::string(32, 'g') + "\n");
  expect_nb101_error("hashes:" + path, {path + ":1", "'" + std::string(32, 'g') + "'"});
  path = write_file("unknown.txt", h[1] + "\n" + std::string(32, 'f') + "\n");
  expect_nb101_error("hashes:" + path,
                     {path + ":2", std::string(32, 'f'), "not in the NAS-Bench-101 space"});
  path = write_file("repeated.txt", h[4] + "\n\n" + h[5] + "\n" + h[4] + "\n");
  expect_nb101_error("hashes:" + path, {path + ":4", h[4], "repeats line 1"});
  path = write_file("empty.txt", "# nothing\n\n");
  expect_nb101_error("hashes:" + path, {path, "lists no module hash"});
  expect_nb101_error("hashes:/nonexistent/list.txt", {"'/nonexistent/list.txt'", "cannot read"});
  expect_nb101_error("hashes:", {"hashes:FILE"});
}

TEST(Nb101Selection, BadSpecsNameTheSpecAndTheBadPart) {
  expect_nb101_error("sample:21", {"'sample:21'", "sample size 21", "1..20",
                                   "ground-truth cells"});
  expect_nb101_error("sample:0", {"sample size 0"});
  expect_nb101_error("sample:x", {"'sample:x'", "'x'"});
  expect_nb101_error("sample:3:y", {"'y'"});
  expect_nb101_error("space-sample:51", {"'space-sample:51'", "1..50"});
  expect_nb101_error("space-sample:", {"''"});
  expect_nb101_error("0-50", {"index 50 is outside"});
  expect_nb101_error("truths", {"'truths'"});
  expect_nb101_error("5-2", {"'5-2' is reversed"});
}

TEST(Nb101Selection, SyntaxCheckWithoutTheSpace) {
  const std::int64_t size = 423624;
  EXPECT_NO_THROW(check_nb101_archs_syntax("truth", size));
  EXPECT_NO_THROW(check_nb101_archs_syntax("sample:1000:3", size));
  EXPECT_NO_THROW(check_nb101_archs_syntax("space-sample:1000", size));
  EXPECT_NO_THROW(check_nb101_archs_syntax("0-99,423623", size));
  EXPECT_NO_THROW(check_nb101_archs_syntax("hashes:" + write_file("ok.txt", fake_hash(1)), size));
  EXPECT_THROW(check_nb101_archs_syntax("hashes:/nonexistent/list.txt", size), Error);
  EXPECT_THROW(check_nb101_archs_syntax("0-423624", size), Error);
  EXPECT_THROW(check_nb101_archs_syntax("space-sample:0", size), Error);
  EXPECT_THROW(check_nb101_archs_syntax("sample:x", size), Error);
  EXPECT_THROW(check_nb101_archs_syntax("everything", size), Error);
}

TEST(Nb101Selection, ShardsApplyAfterSelection) {
  const auto truth = nb101("truth");
  std::vector<std::int64_t> merged;
  for (int k = 1; k <= 4; ++k) {
    const auto part = shard_selection(truth, std::to_string(k) + "/4");
    merged.insert(merged.end(), part.begin(), part.end());
  }
  std::sort(merged.begin(), merged.end());
  EXPECT_EQ(merged, truth);
  EXPECT_EQ(shard_selection(truth, "2/4"), (std::vector<std::int64_t>{3, 11, 19, 27, 35}));
}

}  // namespace
}  // namespace nbz
