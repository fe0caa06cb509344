#include "spaces/nb201_space.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "foundation/errors.h"
#include "tests/test_support.h"

namespace nbz::nb201 {
namespace {

const Space& space() {
  static const Space s = Space::load(test::data_dir());
  return s;
}

TEST(Nb201Cell, ParsePrintRoundTripsForTheWholeSpace) {
  ASSERT_EQ(space().size(), 15625);
  for (std::int64_t i = 0; i < space().size(); ++i) {
    ASSERT_EQ(Cell::parse(space().arch(i)).str(), space().arch(i));
    ASSERT_EQ(space().index_of(space().arch(i)), i);
  }
  // The 5^6 strings are all present exactly once.
  std::set<std::string> distinct;
  for (std::int64_t i = 0; i < space().size(); ++i) distinct.insert(space().arch(i));
  EXPECT_EQ(distinct.size(), 15625u);
}

TEST(Nb201Cell, IndexComesFromTheBenchmarkFile) {
  EXPECT_EQ(space().arch(0),
            "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
            "skip_connect~2|");
  EXPECT_EQ(space().params_cifar10(0), 129306);
  const auto all_3x3 =
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
      "nor_conv_3x3~2|";
  EXPECT_EQ(space().params_cifar10(space().index_of(all_3x3)), 1531546);
}

TEST(Nb201Cell, EdgeOrderIsTheArchStringOrder) {
  const Cell c = Cell::parse(
      "|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|");
  const std::array<Op, 6> expected = {Op::None,    Op::SkipConnect, Op::Conv1x1,
                                      Op::Conv3x3, Op::AvgPool3x3,  Op::None};
  EXPECT_EQ(c.edges, expected);
  EXPECT_EQ(edge_source(2), 1);
  EXPECT_EQ(edge_target(2), 2);
  EXPECT_EQ(edge_source(5), 2);
  EXPECT_EQ(edge_target(5), 3);
}

void expect_error_mentions(const std::string& arch, const std::string& fragment) {
  try {
    Cell::parse(arch);
    FAIL() << "no error for " << arch;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Nb201Cell, BadStringsNameTheProblem) {
  expect_error_mentions("|none~0|+|none~0|none~1|", "expected 3 nodes");
  expect_error_mentions("|none~0|+|none~0|none~1|+|none~0|none~1|conv~2|", "'conv'");
  expect_error_mentions("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "none~2");
  expect_error_mentions("|none~0|+|none~0|+|none~0|none~1|none~2|", "needs 2 inputs");
  expect_error_mentions("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end");
  expect_error_mentions("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "op~source");
  EXPECT_THROW(space().index_of("garbage"), Error);
}

TEST(Nb201Canonical, HandWorkedEquivalences) {
  auto key = [](const std::string& a) { return Cell::parse(a).canonical_key(); };
  // Output reached only through `none`: the cell is identically zero.
  EXPECT_EQ(key("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"), "zero");
  // A conv into node 1 that never reaches node 3 is irrelevant; skip is the identity.
  EXPECT_EQ(key("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"),
            key("|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"));
  EXPECT_EQ(key("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"), "x");
  // Routing through skips: conv(x) reaching node 3 via node 1 or directly.
  EXPECT_EQ(key("|nor_conv_1x1~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|"),
            key("|none~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|"));
  // Sums are unordered and associative: (conv(x) + x) built in node 2 and passed on by a skip,
  // or both terms straight into node 3.
  EXPECT_EQ(key("|none~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|skip_connect~2|"),
            "nor_conv_3x3(x)");
  EXPECT_EQ(key("|skip_connect~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"),
            key("|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|none~2|"));
  EXPECT_EQ(key("|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|none~2|"),
            "[nor_conv_3x3(x)+x]");
  // Different ops are different functions; multiplicity matters (x + x != x).
  EXPECT_NE(key("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"),
            key("|none~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|"));
  EXPECT_EQ(key("|skip_connect~0|+|none~0|none~1|+|skip_connect~0|skip_connect~1|none~2|"),
            "[x+x]");
  // An op applied to a sum sees the whole sum.
  EXPECT_EQ(key("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"),
            "avg_pool_3x3([x+x])");
}

TEST(Nb201Canonical, UniqueCountsOverTheSpace) {
  std::set<std::string> ours, benchmark;
  for (std::int64_t i = 0; i < space().size(); ++i) {
    ours.insert(space().cell(i).canonical_key());
    benchmark.insert(space().cell(i).benchmark_unique_str());
  }
  // 6,466 is the count the NAS-Bench-201 authors publish for their rule; ours also drops zero
  // terms from sums, which their string keeps as '#', so it merges strictly more.
  EXPECT_EQ(benchmark.size(), 6466u);
  EXPECT_EQ(ours.size(), 4930u);
  // Every class of the benchmark's rule maps into exactly one of ours.
  std::map<std::string, std::string> refine;
  for (std::int64_t i = 0; i < space().size(); ++i) {
    auto [it, inserted] =
        refine.emplace(space().cell(i).benchmark_unique_str(), space().cell(i).canonical_key());
    if (!inserted) ASSERT_EQ(it->second, space().cell(i).canonical_key()) << space().arch(i);
  }
}

TEST(Nb201Truth, AllTwelveColumnsLoaded) {
  ASSERT_EQ(space().truth().size(), 12u);
  const auto& c10_test = space().truth()[1];
  EXPECT_EQ(c10_test.column, "cifar10_test");
  EXPECT_EQ(c10_test.dataset, "cifar10");
  EXPECT_EQ(c10_test.split, "test");
  EXPECT_EQ(c10_test.epochs, 200);
  EXPECT_DOUBLE_EQ(c10_test.values[0], 85.8633);
  double best = 0;
  for (double v : c10_test.values) best = std::max(best, v);
  EXPECT_NEAR(best, 94.37, 0.005);  // the published best CIFAR-10 test accuracy, 94.37
  EXPECT_EQ(space().truth()[6].column, "cifar10_valid_12ep");
  EXPECT_EQ(space().truth()[6].epochs, 12);
}

TEST(Nb201Truth, MissingFileIsAClearError) {
  try {
    Space::load("/nonexistent-folder");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-folder/nasbench201/nb201_ground_truth.csv"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace nbz::nb201
