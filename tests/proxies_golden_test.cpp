// Golden tests: each proxy from the engine (float32, shared passes) against a second, independent
// computation on a tiny network: by hand, in float64, by finite differences, or by plain loops.
#include <gtest/gtest.h>

#include <cmath>

#include "proxies/engine.h"
#include "tests/reference_math.h"
#include "tests/tiny_network.h"

namespace nbz {
namespace {

constexpr std::uint64_t kSeed = 11;
constexpr int kBatch = 6;

const test::GoldenBatch& fixture() {
  static const test::GoldenBatch f =
      test::golden_batch(123, torch::tensor({0, 1, 2, 0, 1, 2}, torch::kInt64), kSeed);
  return f;
}

double score(const std::string& name) { return fixture().score(name); }

double loss64(test::TinyNetworkImpl& n) {
  return torch::nn::functional::cross_entropy(n.forward(fixture().images.to(torch::kFloat64)),
                                              fixture().labels)
      .item<double>();
}

TEST(GoldenProxies, ParamsByHand) {
  // conv1 3*4*9 + bn1 2*4 + conv2 4*5 + fc 5*3+3
  EXPECT_EQ(score("params"), 108 + 8 + 20 + 18);
}

TEST(GoldenProxies, FlopsByHand) {
  // 4x4 outputs: conv1 16 positions * 4 channels * 27 MACs; conv2 16 * 5 * 4; fc 5 * 3.
  EXPECT_DOUBLE_EQ(score("flops"), (16.0 * 4 * 27 + 16.0 * 5 * 4 + 15.0) / 1e6);
}

TEST(GoldenProxies, L2NormByLoops) {
  double total = 0;
  for (const auto& w : test::tiny_weights(*test::float64_tiny(kSeed))) {
    auto flat = w.detach().flatten();
    double sq = 0;
    for (int64_t i = 0; i < flat.numel(); ++i) sq += flat[i].item<double>() * flat[i].item<double>();
    total += std::sqrt(sq);
  }
  EXPECT_NEAR(score("l2_norm"), total, 1e-6 * total);
}

TEST(GoldenProxies, GradNormAndSnipAgainstFiniteDifferencesInFloat64) {
  auto net = test::float64_tiny(kSeed);
  double grad_norm = 0, snip = 0;
  const double h = 1e-6;
  for (auto& w : test::tiny_weights(*net)) {
    double sq = 0;
    auto flat = w.detach().view({-1});  // shares storage with the parameter
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double orig = flat[i].item<double>();
      {
        torch::NoGradGuard ng;
        flat[i] = orig + h;
      }
      const double up = loss64(*net);
      {
        torch::NoGradGuard ng;
        flat[i] = orig - h;
      }
      const double down = loss64(*net);
      {
        torch::NoGradGuard ng;
        flat[i] = orig;
      }
      const double g = (up - down) / (2 * h);
      sq += g * g;
      snip += std::abs(orig * g);
    }
    grad_norm += std::sqrt(sq);
  }
  EXPECT_NEAR(score("grad_norm"), grad_norm, 1e-4 * grad_norm);
  EXPECT_NEAR(score("snip"), snip, 1e-4 * snip);
}

TEST(GoldenProxies, SynflowByExactDifferences) {
  // With |weights|, no BatchNorm and an all-ones input every activation is positive, so the ReLUs
  // are the identity and R is multilinear: dR/dw = R(w + 1) - R(w) exactly.
  auto net = test::float64_tiny(kSeed);
  {
    torch::NoGradGuard ng;
    for (auto& p : net->parameters()) p.abs_();
  }
  ForwardContext no_bn;
  no_bn.batchnorm = false;
  auto ones = torch::ones({1, 3, 4, 4}, torch::kFloat64);
  auto R = [&] {
    torch::NoGradGuard ng;
    return net->forward(ones, no_bn).sum().item<double>();
  };
  const double base = R();
  double synflow = 0;
  for (auto& w : test::tiny_weights(*net)) {
    auto flat = w.detach().view({-1});
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double orig = flat[i].item<double>();
      {
        torch::NoGradGuard ng;
        flat[i] = orig + 1.0;
      }
      const double slope = R() - base;
      {
        torch::NoGradGuard ng;
        flat[i] = orig;
      }
      synflow += std::abs(orig * slope);
    }
  }
  EXPECT_NEAR(score("synflow"), synflow, 1e-9 * synflow);
  EXPECT_NEAR(score("synflow_log"), std::log(synflow), 1e-9);
}

// Records every ReLU input.
struct ReluRecorder : ForwardTaps {
  std::vector<torch::Tensor> inputs;
  void relu_input(const torch::Tensor& x) override { inputs.push_back(x.detach().clone()); }
};

// log|det| by Gaussian elimination with partial pivoting in long double.
double log_abs_det(std::vector<std::vector<long double>> a) {
  const size_t n = a.size();
  long double log_det = 0;
  for (size_t c = 0; c < n; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[pivot][c])) pivot = r;
    std::swap(a[c], a[pivot]);
    log_det += std::log(std::fabs(a[c][c]));
    for (size_t r = c + 1; r < n; ++r) {
      const long double f = a[r][c] / a[c][c];
      for (size_t k = c; k < n; ++k) a[r][k] -= f * a[c][k];
    }
  }
  return static_cast<double>(log_det);
}

TEST(GoldenProxies, NaswotByCountingCodes) {
  torch::manual_seed(kSeed);
  auto net = test::make_tiny();
  net->train();
  ReluRecorder rec;
  ForwardContext ctx;
  ctx.taps = &rec;
  {
    torch::NoGradGuard ng;
    net->forward(fixture().images, ctx);
  }
  ASSERT_EQ(rec.inputs.size(), 2u);
  std::vector<std::vector<long double>> k(kBatch, std::vector<long double>(kBatch, 0));
  for (const auto& x : rec.inputs) {
    auto flat = x.flatten(1);
    for (int i = 0; i < kBatch; ++i)
      for (int j = 0; j < kBatch; ++j)
        for (int64_t d = 0; d < flat.size(1); ++d) {
          const bool a = flat[i][d].item<float>() > 0, b = flat[j][d].item<float>() > 0;
          k[i][j] += (a == b) ? 1 : 0;  // c_i c_j + (1 - c_i)(1 - c_j)
        }
  }
  EXPECT_NEAR(score("naswot"), log_abs_det(k), 1e-9);
}


TEST(GoldenProxies, JacobCovByFiniteDifferencesAndJacobiEigenvalues) {
  // d(sum of all logits)/dx by central differences in float64 (train-mode BN couples samples,
  // which the reference's y.backward(ones) includes too).
  auto net = test::float64_tiny(kSeed);
  auto x = fixture().images.to(torch::kFloat64).clone();
  auto total = [&] {
    torch::NoGradGuard ng;
    return net->forward(x).sum().item<double>();
  };
  const int64_t d = x[0].numel();
  std::vector<std::vector<double>> jac(kBatch, std::vector<double>(static_cast<size_t>(d)));
  auto flat = x.view({kBatch, -1});
  const double h = 1e-6;
  for (int i = 0; i < kBatch; ++i)
    for (int64_t k = 0; k < d; ++k) {
      const double orig = flat[i][k].item<double>();
      flat[i][k] = orig + h;
      const double up = total();
      flat[i][k] = orig - h;
      const double down = total();
      flat[i][k] = orig;
      jac[i][static_cast<size_t>(k)] = (up - down) / (2 * h);
    }
  std::vector<std::vector<double>> corr(kBatch, std::vector<double>(kBatch));
  std::vector<double> mean(kBatch, 0);
  for (int i = 0; i < kBatch; ++i) {
    for (double v : jac[i]) mean[i] += v;
    mean[i] /= static_cast<double>(d);
  }
  auto cov = [&](int i, int j) {
    double s = 0;
    for (int64_t k = 0; k < d; ++k)
      s += (jac[i][static_cast<size_t>(k)] - mean[i]) * (jac[j][static_cast<size_t>(k)] - mean[j]);
    return s;
  };
  for (int i = 0; i < kBatch; ++i)
    for (int j = 0; j < kBatch; ++j) corr[i][j] = cov(i, j) / std::sqrt(cov(i, i) * cov(j, j));
  double expected = 0;
  for (double v : test::jacobi_eigenvalues(corr)) expected -= std::log(v + 1e-5) + 1 / (v + 1e-5);
  EXPECT_NEAR(score("jacob_cov"), expected, 1e-4 * std::abs(expected));
}

}  // namespace
}  // namespace nbz
