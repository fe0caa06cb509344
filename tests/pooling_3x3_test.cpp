// The CPU pooling stencils of spaces/pooling_3x3.h against LibTorch's own avg_pool2d and
// max_pool2d: the stencils replace them for speed only, so every value and every gradient to
// second order must be the same bits.
#include "spaces/pooling_3x3.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

namespace nbz {
namespace {

// avg_pool_3x3 replaces LibTorch's avg_pool2d on the CPU for speed: every value it gives, and
// every gradient through it to second order, must be the same bits.
TEST(Pooling3x3, AverageIsBitIdenticalToAvgPool2dThroughTheDoubleBackward) {
  const std::vector<std::vector<std::int64_t>> shapes = {
      {64, 16, 32, 32}, {2, 3, 5, 7}, {1, 1, 1, 1}, {3, 2, 2, 1}, {2, 4, 1, 6}, {1, 64, 8, 8}};
  auto native = [](const torch::Tensor& t) {
    return torch::avg_pool2d(t, {3, 3}, {1, 1}, {1, 1}, /*ceil_mode=*/false,
                             /*count_include_pad=*/false);
  };
  for (const auto dtype : {torch::kFloat, torch::kDouble})
    for (const auto& shape : shapes) {
      SCOPED_TRACE(::testing::PrintToString(shape) + (dtype == torch::kFloat ? " float" : " double"));
      torch::manual_seed(3);
      const auto x0 = torch::randn(shape, torch::dtype(dtype));
      const auto w = torch::randn(shape, torch::dtype(dtype));
      const auto v = torch::randn(shape, torch::dtype(dtype));
      auto results = [&](const std::function<torch::Tensor(const torch::Tensor&)>& pool) {
        auto x = x0.clone().requires_grad_(true);
        auto y = pool(x);
        // A nonlinear loss, so that the first gradient depends on x and has a second one.
        auto g = torch::autograd::grad({(y.sin() * w).sum()}, {x}, {}, true, true)[0];
        auto h = torch::autograd::grad({(g * v).sum() + g.pow(2).sum()}, {x})[0];
        return std::vector<torch::Tensor>{y.detach(), g.detach(), h};
      };
      const auto expected = results(native), got = results(avg_pool_3x3);
      EXPECT_TRUE(torch::equal(got[0], expected[0])) << "forward";
      EXPECT_TRUE(torch::equal(got[1], expected[1])) << "backward";
      EXPECT_TRUE(torch::equal(got[2], expected[2])) << "double backward";
      torch::NoGradGuard no_grad;
      EXPECT_TRUE(torch::equal(avg_pool_3x3(x0), native(x0))) << "without autograd";
    }
  // A non-contiguous input (a transposed view) is averaged as its values, not its memory.
  const auto t = torch::randn({2, 3, 6, 5}).transpose(2, 3);
  EXPECT_TRUE(torch::equal(avg_pool_3x3(t), torch::avg_pool2d(t, {3, 3}, {1, 1}, {1, 1}, false, false)));
}

// max_pool_3x3 replaces LibTorch's max_pool2d on the CPU for speed: values, the input each
// gradient goes to (ties: ReLU outputs are full of equal zeros) and the second-order gradient
// must all be the same bits.
TEST(Pooling3x3, MaxIsBitIdenticalToMaxPool2dThroughTheDoubleBackward) {
  const std::vector<std::vector<std::int64_t>> shapes = {
      {16, 8, 32, 32}, {2, 3, 5, 7}, {1, 1, 1, 1}, {3, 2, 2, 1}, {2, 4, 1, 6}, {1, 64, 8, 8}};
  auto native = [](const torch::Tensor& t) { return torch::max_pool2d(t, {3, 3}, {1, 1}, {1, 1}); };
  for (const auto dtype : {torch::kFloat, torch::kDouble})
    for (const auto& shape : shapes) {
      SCOPED_TRACE(::testing::PrintToString(shape) + (dtype == torch::kFloat ? " float" : " double"));
      torch::manual_seed(5);
      // Rounded and rectified: many ties, zeros of both signs.
      auto x0 = torch::relu(torch::round(torch::randn(shape, torch::dtype(dtype)) * 2));
      x0 = torch::where(torch::rand(shape, torch::dtype(dtype)) < 0.2, -x0, x0);
      const auto w = torch::randn(shape, torch::dtype(dtype));
      const auto v = torch::randn(shape, torch::dtype(dtype));
      auto results = [&](const std::function<torch::Tensor(const torch::Tensor&)>& pool) {
        auto x = x0.clone().requires_grad_(true);
        auto y = pool(x);
        auto g = torch::autograd::grad({(y * w).sum() + (y * x).sum()}, {x}, {}, true, true)[0];
        auto h = torch::autograd::grad({(g * v).sum() + g.pow(2).sum()}, {x})[0];
        return std::vector<torch::Tensor>{y.detach(), g.detach(), h};
      };
      const auto expected = results(native), got = results(max_pool_3x3);
      EXPECT_TRUE(torch::equal(got[0], expected[0])) << "forward";
      EXPECT_TRUE(torch::equal(got[0].signbit(), expected[0].signbit())) << "signs of zeros";
      EXPECT_TRUE(torch::equal(got[1], expected[1])) << "backward";
      EXPECT_TRUE(torch::equal(got[2], expected[2])) << "double backward";
      torch::NoGradGuard no_grad;
      EXPECT_TRUE(torch::equal(max_pool_3x3(x0), native(x0))) << "without autograd";
    }
  // NaN wins its windows in both.
  auto nan_input = torch::zeros({1, 1, 4, 4});
  nan_input[0][0][1][2] = std::nan("");
  EXPECT_TRUE(torch::equal(torch::isnan(max_pool_3x3(nan_input)),
                           torch::isnan(torch::max_pool2d(nan_input, {3, 3}, {1, 1}, {1, 1}))));
  const auto t = torch::randn({2, 3, 6, 5}).transpose(2, 3);  // non-contiguous: by value
  EXPECT_TRUE(torch::equal(max_pool_3x3(t), torch::max_pool2d(t, {3, 3}, {1, 1}, {1, 1})));
}

// The argmax indices live as long as the graph's other saved tensors: a second backward through a
// graph already used (without retain_graph) is refused, as it is for max_pool2d, instead of
// running on indices kept alive by the node.
TEST(Pooling3x3, MaxReleasesItsIndicesWithTheGraph) {
  auto x = torch::randn({1, 2, 5, 5}, torch::requires_grad());
  auto native = torch::max_pool2d(x, {3, 3}, {1, 1}, {1, 1}).sum();
  auto ours = max_pool_3x3(x).sum();
  native.backward();
  ours.backward();
  EXPECT_THROW(native.backward(), c10::Error);
  EXPECT_THROW(ours.backward(), c10::Error);
  // With retain_graph the second backward runs and adds the same gradient again.
  auto y = torch::randn({1, 2, 5, 5}, torch::requires_grad());
  auto retained = max_pool_3x3(y).sum();
  retained.backward({}, /*retain_graph=*/true);
  const auto once = y.grad().clone();
  retained.backward();
  EXPECT_TRUE(torch::equal(y.grad(), once * 2));
}

}  // namespace
}  // namespace nbz
