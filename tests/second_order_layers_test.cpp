// spaces/second_order_layers.h against torch::nn::Conv2d and torch::nn::BatchNorm2d: forward and
// first-order gradients are LibTorch's own calls and must be the same bits; the double backward is
// ours and must agree with LibTorch's to rounding (float64 to 1e-10).
#include "spaces/second_order_layers.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace nbz {
namespace {

struct ConvCase {
  std::string name;
  torch::nn::Conv2dOptions options;
  std::vector<std::int64_t> input_shape;
};

std::vector<ConvCase> cases() {
  using O = torch::nn::Conv2dOptions;
  return {{"3x3", O(16, 16, 3).padding(1).bias(false), {8, 16, 12, 12}},
          {"1x1", O(16, 16, 1).bias(false), {8, 16, 12, 12}},
          {"3x3 stride 2 widening", O(8, 16, 3).stride(2).padding(1).bias(false), {4, 8, 11, 11}},
          {"stem", O(3, 16, 3).padding(1).bias(false), {4, 3, 8, 8}}};
}

using ConvFn = std::function<torch::Tensor(torch::nn::Conv2dImpl&, const torch::Tensor&)>;
const ConvFn kNative = [](torch::nn::Conv2dImpl& conv, const torch::Tensor& x) { return conv.forward(x); };
const ConvFn kOurs = [](torch::nn::Conv2dImpl& conv, const torch::Tensor& x) { return conv2d(conv, x); };

// y, dL/dx and dL/dw of L = sum(sin(y) * r), and with second_order, the gradients of GraSP's
// kind of product, z = dL/dw . stop_gradient(dL/dw) + dL/dx . v, with respect to x and w.
std::vector<torch::Tensor> run(const ConvCase& c, torch::Dtype dtype, const ConvFn& fn,
                               bool input_requires_grad, bool second_order) {
  torch::manual_seed(5);
  torch::nn::Conv2d conv(c.options);
  conv->to(dtype);
  const auto x0 = torch::randn(c.input_shape, torch::dtype(dtype));
  auto x = x0.clone().requires_grad_(input_requires_grad);
  auto y = fn(*conv, x);
  const auto r = torch::randn(y.sizes(), torch::dtype(dtype));
  std::vector<torch::Tensor> wrt = {conv->weight};
  if (input_requires_grad) wrt.push_back(x);
  auto grads = torch::autograd::grad({(y.sin() * r).sum()}, wrt, {}, /*retain_graph=*/true,
                                     /*create_graph=*/second_order);
  std::vector<torch::Tensor> out = {y.detach()};
  for (const auto& g : grads) out.push_back(g.detach());
  if (!second_order) return out;
  auto z = (grads[0] * grads[0].detach()).sum();
  if (input_requires_grad) z = z + (grads[1] * torch::randn(x.sizes(), torch::dtype(dtype))).sum();
  for (const auto& h : torch::autograd::grad({z}, wrt)) out.push_back(h);
  return out;
}

TEST(Conv2d, ForwardAndGradientsAreLibTorchsBits) {
  for (const auto& c : cases())
    for (const auto dtype : {torch::kFloat, torch::kDouble})
      for (const bool input_grad : {true, false})
        for (const bool with_graph : {false, true}) {
          SCOPED_TRACE(c.name + (dtype == torch::kFloat ? " float" : " double") +
                       (input_grad ? " input grad" : "") + (with_graph ? " create_graph" : ""));
          // With create_graph the backward itself is recorded (our function's node, LibTorch's):
          // the first-order values must not change with it.
          const auto expected = run(c, dtype, kNative, input_grad, false);
          const auto got = run(c, dtype, kOurs, input_grad, with_graph);
          for (size_t i = 0; i < expected.size(); ++i)
            EXPECT_TRUE(torch::equal(got[i], expected[i])) << "output " << i;
        }
}

TEST(Conv2d, DoubleBackwardAgreesWithLibTorchs) {
  for (const auto& c : cases())
    for (const bool input_grad : {true, false}) {
      SCOPED_TRACE(c.name + (input_grad ? " input grad" : ""));
      for (const auto dtype : {torch::kDouble, torch::kFloat}) {
        const auto expected = run(c, dtype, kNative, input_grad, true);
        const auto got = run(c, dtype, kOurs, input_grad, true);
        ASSERT_EQ(got.size(), expected.size());
        const double rtol = dtype == torch::kDouble ? 1e-10 : 1e-4;
        // The second-order terms, after y and the first-order gradients.
        const size_t first = input_grad ? 3 : 2;
        for (size_t i = first; i < expected.size(); ++i) {
          const double scale = expected[i].abs().max().item<double>();
          ASSERT_GT(scale, 0) << "term " << i << " is zero: the test would check nothing";
          EXPECT_LE((got[i] - expected[i]).abs().max().item<double>(), rtol * scale)
              << "second-order term " << i << (dtype == torch::kDouble ? " float64" : " float32");
        }
      }
    }
}

TEST(Conv2d, ABiasOrNamedPaddingIsTheModulesOwn) {
  // A bias, or padding by name: the module's own forward, nothing of ours.
  torch::manual_seed(1);
  torch::nn::Conv2d with_bias(torch::nn::Conv2dOptions(3, 4, 3).padding(1));
  const auto x = torch::randn({2, 3, 5, 5});
  const auto y = conv2d(*with_bias, x);
  EXPECT_TRUE(torch::equal(y, with_bias->forward(x)));
  EXPECT_NE(y.grad_fn()->name().find("ConvolutionBackward0"), std::string::npos);
  torch::nn::Conv2d same(torch::nn::Conv2dOptions(3, 4, 3).padding(torch::kSame).bias(false));
  const auto y_same = conv2d(*same, x);
  EXPECT_TRUE(torch::equal(y_same, same->forward(x)));
  EXPECT_NE(y_same.grad_fn()->name().find("ConvolutionBackward0"), std::string::npos);
  torch::nn::Conv2d ours(torch::nn::Conv2dOptions(3, 4, 3).padding(1).bias(false));
  EXPECT_EQ(conv2d(*ours, x).grad_fn()->name().find("ConvolutionBackward0"), std::string::npos);
}

// ---- BatchNorm2d ------------------------------------------------------------------------------

using BnFn = std::function<torch::Tensor(torch::nn::BatchNorm2dImpl&, const torch::Tensor&)>;
const BnFn kNativeBn = [](torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) { return bn.forward(x); };
const BnFn kOurBn = [](torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) { return batch_norm2d(bn, x); };

// As run() above for a train-mode BatchNorm2d with gamma != 1 and beta != 0: y, dL/dx, dL/dgamma,
// dL/dbeta, then the running statistics and the counter, and with second_order the gradients of
// z = dL/dx . v + dL/dgamma . stop_gradient(dL/dgamma) + dL/dbeta . u with respect to x and
// gamma (the last two terms give the double backward a gamma and a beta cotangent).
std::vector<torch::Tensor> run_bn(const std::vector<std::int64_t>& shape, torch::Dtype dtype,
                                  const BnFn& fn, bool second_order) {
  torch::manual_seed(9);
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(shape[1]).eps(1e-5).momentum(0.1));
  bn->to(dtype);
  {
    torch::NoGradGuard no_grad;
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.uniform_(-0.5, 0.5);
  }
  bn->train();
  auto x = (torch::randn(shape, torch::dtype(dtype)) * 2 + 0.5).requires_grad_(true);
  auto y = fn(*bn, x);
  const auto r = torch::randn(y.sizes(), torch::dtype(dtype));
  std::vector<torch::Tensor> wrt = {x, bn->weight, bn->bias};
  auto grads = torch::autograd::grad({(y.sin() * r).sum()}, wrt, {}, true, second_order);
  std::vector<torch::Tensor> out = {y.detach()};
  for (const auto& g : grads) out.push_back(g.detach());
  out.push_back(bn->running_mean.clone());
  out.push_back(bn->running_var.clone());
  out.push_back(bn->num_batches_tracked.clone());
  if (!second_order) return out;
  auto z = (grads[0] * torch::randn(shape, torch::dtype(dtype))).sum() +
           (grads[1] * grads[1].detach()).sum() +
           (grads[2] * torch::randn(grads[2].sizes(), torch::dtype(dtype))).sum();
  for (const auto& h : torch::autograd::grad({z}, {x, bn->weight})) out.push_back(h);
  return out;
}

const std::vector<std::vector<std::int64_t>> kBnShapes = {{8, 16, 6, 6}, {3, 4, 5, 7}, {2, 5, 1, 1}};

TEST(BatchNorm2d, ForwardGradientsAndRunningStatisticsAreLibTorchsBits) {
  for (const auto& shape : kBnShapes)
    for (const auto dtype : {torch::kFloat, torch::kDouble})
      for (const bool with_graph : {false, true}) {
        SCOPED_TRACE(::testing::PrintToString(shape) + (dtype == torch::kFloat ? " float" : " double") +
                     (with_graph ? " create_graph" : ""));
        const auto expected = run_bn(shape, dtype, kNativeBn, false);
        const auto got = run_bn(shape, dtype, kOurBn, with_graph);
        for (size_t i = 0; i < expected.size(); ++i)
          EXPECT_TRUE(torch::equal(got[i], expected[i])) << "output " << i;
      }
}

TEST(BatchNorm2d, DoubleBackwardAgreesWithLibTorchs) {
  for (const auto& shape : kBnShapes)
    for (const auto dtype : {torch::kDouble, torch::kFloat}) {
      SCOPED_TRACE(::testing::PrintToString(shape) + (dtype == torch::kFloat ? " float" : " double"));
      const auto expected = run_bn(shape, dtype, kNativeBn, true);
      const auto got = run_bn(shape, dtype, kOurBn, true);
      ASSERT_EQ(got.size(), expected.size());
      const double rtol = dtype == torch::kDouble ? 1e-10 : 1e-4;
      for (size_t i = expected.size() - 2; i < expected.size(); ++i) {
        const double scale = expected[i].abs().max().item<double>();
        ASSERT_GT(scale, 0) << "term " << i << " is zero: the test would check nothing";
        EXPECT_LE((got[i] - expected[i]).abs().max().item<double>(), rtol * scale)
            << (i == expected.size() - 2 ? "d/dx" : "d/dgamma");
      }
    }
}

TEST(BatchNorm2d, EvalModeAndOneValuePerChannelAreTheModulesOwn) {
  torch::manual_seed(2);
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(3));
  const auto x = torch::randn({4, 3, 2, 2}, torch::requires_grad());
  bn->eval();
  const auto y = batch_norm2d(*bn, x);
  EXPECT_TRUE(torch::equal(y, bn->forward(x)));
  EXPECT_NE(y.grad_fn()->name().find("NativeBatchNormBackward"), std::string::npos);
  bn->train();
  EXPECT_EQ(batch_norm2d(*bn, x).grad_fn()->name().find("NativeBatchNormBackward"), std::string::npos);
  // LibTorch's message, from the module itself.
  EXPECT_THROW(batch_norm2d(*bn, torch::randn({1, 3, 1, 1})), c10::Error);
}

}  // namespace
}  // namespace nbz
