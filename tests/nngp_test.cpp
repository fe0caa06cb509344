// NNGP golden tests: kernels and GP predictions against direct float64 computations on a network
// whose features are known, the eps grid, and the failure path of the Cholesky solve.
#include <gtest/gtest.h>

#include <cmath>

#include "proxies/nngp.h"
#include "tests/tiny_network.h"

namespace nbz {
namespace {

// features(x) = x: the pooled features are the per-channel means of the input.
class IdentityFeaturesImpl : public SearchNetworkImpl {
 public:
  torch::Tensor features(const torch::Tensor& x, const ForwardContext&) override { return x; }
  torch::Tensor classify(const torch::Tensor& p, const ForwardContext&) override { return p; }
};

NngpData identity_data() {
  torch::manual_seed(17);
  NngpData d;
  d.train_images = torch::randn({12, 3, 2, 2});
  d.train_labels = torch::tensor({0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}, torch::kInt64);
  d.val_images = torch::randn({5, 3, 2, 2});
  d.val_labels = torch::tensor({0, 1, 2, 1, 0}, torch::kInt64);
  d.bn_images = d.train_images.slice(0, 0, 4);
  d.num_classes = 3;
  return d;
}

TEST(Nngp, EpsGridIsNumpyLogspace) {
  const auto grid = NngpOptions::default_eps_grid();
  ASSERT_EQ(grid.size(), 20u);
  EXPECT_DOUBLE_EQ(grid.front(), 1e-7);
  EXPECT_DOUBLE_EQ(grid.back(), 100.0);
  for (size_t i = 1; i < grid.size(); ++i)
    EXPECT_NEAR(std::log10(grid[i]) - std::log10(grid[i - 1]), 9.0 / 19.0, 1e-12);
}

TEST(Nngp, KernelAndPredictionEqualADirectFloat64Computation) {
  const NngpData d = identity_data();
  NetworkFactory make = [] { return std::static_pointer_cast<SearchNetworkImpl>(std::make_shared<IdentityFeaturesImpl>()); };
  const NngpKernels k = nngp_kernels(make, d, /*members=*/1, /*seed=*/0, torch::kCPU);

  // Direct: phi = per-channel means, by loops, in float64.
  auto phi = [](const torch::Tensor& x) {
    auto out = torch::zeros({x.size(0), x.size(1)}, torch::kFloat64);
    for (int64_t n = 0; n < x.size(0); ++n)
      for (int64_t c = 0; c < x.size(1); ++c) {
        double s = 0;
        for (int64_t h = 0; h < x.size(2); ++h)
          for (int64_t w = 0; w < x.size(3); ++w) s += x[n][c][h][w].item<float>();
        out[n][c] = s / static_cast<double>(x.size(2) * x.size(3));
      }
    return out;
  };
  auto pt = phi(d.train_images), pv = phi(d.val_images);
  auto ktt = torch::matmul(pt, pt.t()), kvt = torch::matmul(pv, pt.t());
  // The network pools in float32; the direct path averages in float64.
  EXPECT_LT((k.train_train - ktt).abs().max().item<double>(), 1e-6)
      << (k.train_train - ktt).abs().max().item<double>();
  EXPECT_LT((k.val_train - kvt).abs().max().item<double>(), 1e-6);

  // GP mean for one eps by an LU solve (not Cholesky), accuracy and loss by loops.
  const double eps = 1e-2;
  const NngpResult r = nngp_solve(k, d.train_labels, d.val_labels, 3, {eps});
  const auto n = ktt.size(0);
  auto y = torch::one_hot(d.train_labels, 3).to(torch::kFloat64) - 0.1;
  ktt = k.train_train;  // from here on, check the solve itself on the same kernel
  kvt = k.val_train;
  auto alpha = torch::linalg_solve(ktt + eps * ktt.trace() / n * torch::eye(n, torch::kFloat64), y);
  auto pred = torch::matmul(kvt, alpha);
  int correct = 0;
  double loss = 0;
  for (int64_t i = 0; i < pred.size(0); ++i) {
    int64_t best = 0;
    for (int64_t c = 1; c < 3; ++c)
      if (pred[i][c].item<double>() > pred[i][best].item<double>()) best = c;
    correct += best == d.val_labels[i].item<int64_t>();
    for (int64_t c = 0; c < 3; ++c) {
      const double target = (c == d.val_labels[i].item<int64_t>() ? 1.0 : 0.0) - 0.1;
      loss += std::pow(pred[i][c].item<double>() - target, 2);
    }
  }
  EXPECT_DOUBLE_EQ(r.accuracy, correct / 5.0);
  EXPECT_NEAR(r.val_loss, loss / 15.0, 1e-9);
  EXPECT_DOUBLE_EQ(r.best_eps, eps);
  EXPECT_EQ(r.failed_factorisations, 0);
}

TEST(Nngp, AveragesOverMembersAndTheBestEpsWins) {
  const NngpData d = identity_data();
  NetworkFactory make = [] { return std::static_pointer_cast<SearchNetworkImpl>(std::make_shared<IdentityFeaturesImpl>()); };
  // Identical members: the average of M equal kernels is that kernel.
  const auto one = nngp_kernels(make, d, 1, 0, torch::kCPU);
  const auto four = nngp_kernels(make, d, 4, 0, torch::kCPU);
  EXPECT_TRUE(torch::allclose(one.train_train, four.train_train, 1e-12, 1e-12));
  const auto grid = NngpOptions::default_eps_grid();
  const auto best = nngp_solve(one, d.train_labels, d.val_labels, 3, grid);
  for (double eps : grid)
    EXPECT_LE(nngp_solve(one, d.train_labels, d.val_labels, 3, {eps}).accuracy, best.accuracy);
}

TEST(Nngp, FailedFactorisationsAreSkippedAndAllFailingIsAnError) {
  // Eigenvalues -1 and 3: not positive definite until eps * tr/n = eps * 1 exceeds 1.
  NngpKernels k{torch::tensor({{1.0, 2.0}, {2.0, 1.0}}, torch::kFloat64),
                torch::tensor({{1.0, 0.0}}, torch::kFloat64)};
  auto train = torch::tensor({0, 1}, torch::kInt64), val = torch::tensor({0}, torch::kInt64);
  const auto r = nngp_solve(k, train, val, 2, {1e-7, 1e-3, 100.0});
  EXPECT_EQ(r.failed_factorisations, 2);
  EXPECT_DOUBLE_EQ(r.best_eps, 100.0);
  EXPECT_THROW(nngp_solve(k, train, val, 2, {1e-7, 1e-3}), std::runtime_error);
}

TEST(Nngp, BatchNormStatisticsBecomeThoseOfTheBatch) {
  torch::manual_seed(3);
  auto net = test::make_tiny();
  auto batch = torch::randn({8, 3, 4, 4});
  set_batchnorm_statistics(*net, batch);
  torch::NoGradGuard ng;
  auto pre = net->conv1->forward(batch);  // the BN input
  EXPECT_TRUE(torch::allclose(net->bn1->running_mean, pre.mean({0, 2, 3}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(net->bn1->running_var, pre.var({0, 2, 3}, /*unbiased=*/true), 1e-5, 1e-6));
  EXPECT_DOUBLE_EQ(net->bn1->options.momentum().value(), 0.1);  // restored
}

}  // namespace
}  // namespace nbz
