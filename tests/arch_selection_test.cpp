#include "suite/arch_selection.h"

#include <gtest/gtest.h>

#include <set>

#include "suite/errors.h"

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

}  // namespace
}  // namespace nbz
