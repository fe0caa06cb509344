// Golden tests for the second proxy set (grasp, plain, fisher, epe_nas, zen, linear_regions,
// meco, zico, gradsign) and the NTK family: each against an independent computation (float64
// autograd on a copy, finite differences, plain loops, or hand-made inputs).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "proxies/engine.h"
#include "proxies/proxy_functions.h"
#include "tests/reference_math.h"
#include "tests/tiny_network.h"

namespace nbz {
namespace {

constexpr std::uint64_t kSeed = 5;
constexpr int kBatch = 6;

const test::GoldenBatch& fixture() {
  static const test::GoldenBatch f =
      test::golden_batch(321, torch::tensor({0, 1, 2, 0, 1, 0}, torch::kInt64), kSeed);
  return f;
}

double score(const std::string& name) { return fixture().score(name); }

std::vector<torch::Tensor> loss_grads(test::TinyNetworkImpl& n, const torch::Tensor& x,
                                      const torch::Tensor& y) {
  auto loss = torch::nn::functional::cross_entropy(n.forward(x.to(torch::kFloat64)), y);
  return torch::autograd::grad({loss}, test::tiny_weights(n));
}

TEST(GoldenProxies2, PlainInFloat64) {
  auto net = test::float64_tiny(kSeed);
  auto g = loss_grads(*net, fixture().images, fixture().labels);
  auto w = test::tiny_weights(*net);
  double plain = 0;
  for (size_t i = 0; i < w.size(); ++i) plain += (w[i] * g[i]).sum().item<double>();
  EXPECT_NEAR(score("plain"), plain, 1e-5 * std::abs(plain) + 1e-9);
}

TEST(GoldenProxies2, GraspByFiniteDifferencesOfTheGradient) {
  // H g as the directional derivative of the gradient along g (no double backward involved).
  auto net = test::float64_tiny(kSeed);
  auto w = test::tiny_weights(*net);
  auto g0 = loss_grads(*net, fixture().images, fixture().labels);
  const double h = 1e-5;
  auto shifted = [&](double step) {
    {
      torch::NoGradGuard ng;
      for (size_t i = 0; i < w.size(); ++i) w[i].add_(g0[i], step);
    }
    auto g = loss_grads(*net, fixture().images, fixture().labels);
    {
      torch::NoGradGuard ng;
      for (size_t i = 0; i < w.size(); ++i) w[i].sub_(g0[i], step);
    }
    return g;
  };
  auto up = shifted(h), down = shifted(-h);
  double grasp = 0;
  for (size_t i = 0; i < w.size(); ++i)
    grasp += (-w[i].detach() * (up[i] - down[i]) / (2 * h)).sum().item<double>();
  EXPECT_NEAR(score("grasp"), grasp, 1e-4 * std::abs(grasp) + 1e-7);
}

// Keeps Conv/Linear outputs in the graph, for fisher's dL/da, and the shape of each weight.
struct OutputRecorder : ForwardTaps {
  std::vector<torch::Tensor> outputs;
  std::vector<std::vector<int64_t>> weight_shapes;
  void weighted_output(const torch::Tensor& w, const torch::Tensor& out) override {
    outputs.push_back(out);
    weight_shapes.push_back(w.sizes().vec());
  }
};

TEST(GoldenProxies2, FisherByLoopsInFloat64) {
  auto net = test::float64_tiny(kSeed);
  OutputRecorder rec;
  ForwardContext ctx;
  ctx.taps = &rec;
  auto loss = torch::nn::functional::cross_entropy(
      net->forward(fixture().images.to(torch::kFloat64), ctx), fixture().labels);
  auto grads = torch::autograd::grad({loss}, rec.outputs);
  // zero-cost-nas: each channel's value is repeated over the channel's weights
  // (weight.shape[1:]) and all of them are summed.
  double fisher = 0;
  for (size_t l = 0; l < rec.outputs.size(); ++l) {
    auto a = rec.outputs[l].detach();
    const auto& g = grads[l];
    double weights_per_channel = 1;
    for (size_t d = 1; d < rec.weight_shapes[l].size(); ++d)
      weights_per_channel *= static_cast<double>(rec.weight_shapes[l][d]);
    for (int64_t k = 0; k < a.size(1); ++k) {
      double mean_sq = 0;
      for (int64_t n = 0; n < a.size(0); ++n) {
        const double s = (a[n][k] * g[n][k]).sum().item<double>();
        mean_sq += s * s;
      }
      for (double copy = 0; copy < weights_per_channel; ++copy)
        fisher += 0.5 * mean_sq / static_cast<double>(a.size(0));
    }
  }
  EXPECT_GT(fisher, 0);
  EXPECT_NEAR(score("fisher"), fisher, 1e-4 * fisher);
}

TEST(GoldenProxies2, EpeNasByHandOnAMadeJacobian) {
  // Rows 0, 1 are class 0; rows 2, 3 class 1; row 4 alone in class 2.
  PassArtifacts a;
  a.input_jacobian = torch::tensor({{1.0, 2.0, 3.0},
                                    {2.0, 4.0, 7.0},
                                    {1.0, 0.0, 1.0},
                                    {0.0, 1.0, 0.0},
                                    {5.0, 1.0, 2.0}}, torch::kFloat32);
  a.labels = torch::tensor({0, 0, 1, 1, 2}, torch::kInt64);
  a.num_classes = 10;
  const double k = 1e-5;
  // class 0: corr(r0, r1) by hand; class 1: rows are exact opposites around their means -> -1.
  const double m0 = 2, m1 = 13.0 / 3;
  const double c01 = ((1 - m0) * (2 - m1) + (2 - m0) * (4 - m1) + (3 - m0) * (7 - m1)) /
                     std::sqrt(((1 - m0) * (1 - m0) + 0 + (3 - m0) * (3 - m0)) *
                               ((2 - m1) * (2 - m1) + (4 - m1) * (4 - m1) + (7 - m1) * (7 - m1)));
  const double s0 = 2 * std::log(1 + k) + 2 * std::log(std::abs(c01) + k);
  const double s1 = 2 * std::log(1 + k) + 2 * std::log(1 + k);
  const double s2 = std::log(1 + k);  // a single sample: np.corrcoef of one row is 1
  EXPECT_NEAR(proxy_epe_nas(a), std::abs(s0) + std::abs(s1) + std::abs(s2), 1e-9);
  // More than 100 classes: per-class sums divided by rows, single-sample classes skipped, mean
  // pairwise absolute difference.
  a.num_classes = 120;
  const double t0 = s0 / 2, t1 = s1 / 2;
  EXPECT_NEAR(proxy_epe_nas(a), 2 * std::abs(t0 - t1) / 2, 1e-9);
  EXPECT_TRUE(fixture().scores.at("epe_nas").ok);
}

TEST(GoldenProxies2, ZenRecomputedInFloat64) {
  torch::manual_seed(kSeed);  // the factory's draws are replaced below, as in zen_pass
  auto net = test::make_tiny();
  torch::manual_seed(kSeed);
  {
    torch::NoGradGuard ng;
    net->conv1->weight.normal_();
    net->bn1->weight.fill_(1);
    net->bn1->bias.zero_();
    net->conv2->weight.normal_();
    net->fc->weight.normal_();
    net->fc->bias.zero_();
  }
  auto x = torch::randn({kBatch, 3, 4, 4});
  auto e = torch::randn({kBatch, 3, 4, 4});
  net->to(torch::kFloat64);
  net->train();
  torch::NoGradGuard ng;
  auto out = net->features(x.to(torch::kFloat64), {});
  auto mixed = net->features((x + 0.01 * e).to(torch::kFloat64), {});
  double d = 0;
  for (int n = 0; n < kBatch; ++n) d += (out[n] - mixed[n]).abs().sum().item<double>();
  d /= kBatch;
  const double zen = std::log(d) + std::log(std::sqrt(net->bn1->running_var.mean().item<double>()));
  EXPECT_NEAR(score("zen"), zen, 1e-4 * std::abs(zen));
}

// A 1-channel network for linear regions: Conv3x3(1->2) -> ReLU -> Conv1x1(2->2) -> ReLU.
class ThinTinyImpl : public SearchNetworkImpl {
 public:
  ThinTinyImpl() {
    a = register_module("a", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 2, 3).padding(1).bias(false)));
    b = register_module("b", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 2, 1).bias(false)));
    fc = register_module("fc", torch::nn::Linear(2, 2));
  }
  torch::Tensor features(const torch::Tensor& x, const ForwardContext& ctx) override {
    return tapped_relu(b->forward(tapped_relu(a->forward(x), ctx)), ctx);
  }
  torch::Tensor classify(const torch::Tensor& p, const ForwardContext&) override {
    return fc->forward(p);
  }
  torch::nn::Conv2d a{nullptr}, b{nullptr};
  torch::nn::Linear fc{nullptr};
};

TEST(GoldenProxies2, LinearRegionsCountsDistinctPatterns) {
  NetworkFactory thin = [] { return std::static_pointer_cast<SearchNetworkImpl>(std::make_shared<ThinTinyImpl>()); };
  torch::manual_seed(77);
  const auto inputs = torch::randn({3000, 1, 3, 3});
  const double counted = linear_region_pass(thin, inputs, 9);
  // Independent: the same weights, patterns collected element by element into a set.
  torch::manual_seed(9);
  auto net = std::make_shared<ThinTinyImpl>();
  torch::NoGradGuard ng;
  std::set<std::vector<bool>> patterns;
  for (int batch = 0; batch < 3; ++batch) {
    auto x = inputs.slice(0, batch * 1000, (batch + 1) * 1000);
    auto h1 = net->a->forward(x);
    auto h2 = net->b->forward(torch::relu(h1));
    auto f1 = h1.flatten(1), f2 = h2.flatten(1);
    auto p1 = f1.accessor<float, 2>(), p2 = f2.accessor<float, 2>();
    for (int i = 0; i < 1000; ++i) {
      std::vector<bool> code;
      for (int j = 0; j < f1.size(1); ++j) code.push_back(p1[i][j] > 0);
      for (int j = 0; j < f2.size(1); ++j) code.push_back(p2[i][j] > 0);
      patterns.insert(code);
    }
  }
  EXPECT_EQ(counted, static_cast<double>(patterns.size()));
  EXPECT_GT(counted, 10);
  EXPECT_LE(counted, 3000);
}


struct ModuleRecorder : ForwardTaps {
  std::vector<torch::Tensor> outputs;
  void module_output(const torch::Tensor& out) override { outputs.push_back(out.detach().clone()); }
};

TEST(GoldenProxies2, MecoByLoopsAndJacobi) {
  // The tiny network reports its ReLU outputs only; the engine's meco runs on the same forward.
  torch::manual_seed(kSeed);
  auto net = test::make_tiny();
  net->train();
  ModuleRecorder rec;
  ForwardContext ctx;
  ctx.taps = &rec;
  torch::NoGradGuard ng;
  net->forward(fixture().images, ctx);
  ASSERT_EQ(rec.outputs.size(), 2u);
  double meco = 0;
  for (const auto& out : rec.outputs) {
    auto fea = out[0].reshape({out.size(1), -1}).to(torch::kFloat64);
    const int64_t c = fea.size(0), d = fea.size(1);
    std::vector<double> mean(static_cast<size_t>(c), 0);
    for (int64_t i = 0; i < c; ++i) mean[i] = fea[i].mean().item<double>();
    auto cov = [&](int64_t i, int64_t j) {
      double s = 0;
      for (int64_t k = 0; k < d; ++k) s += (fea[i][k].item<double>() - mean[i]) * (fea[j][k].item<double>() - mean[j]);
      return s;
    };
    std::vector<std::vector<double>> corr(static_cast<size_t>(c), std::vector<double>(static_cast<size_t>(c)));
    for (int64_t i = 0; i < c; ++i)
      for (int64_t j = 0; j < c; ++j) {
        const double v = cov(i, j) / std::sqrt(cov(i, i) * cov(j, j));
        corr[i][j] = std::isfinite(v) ? v : 0.0;  // MeCo: NaN and inf entries -> 0
      }
    meco += test::smallest_eigenvalue(corr);
  }
  EXPECT_NEAR(score("meco"), meco, 1e-6 * std::abs(meco) + 1e-9);
}

TEST(GoldenProxies2, ZicoByLoopsInFloat64) {
  auto net = test::float64_tiny(kSeed);
  auto x = fixture().images;
  auto g0 = loss_grads(*net, x.slice(0, 0, 3), fixture().labels.slice(0, 0, 3));
  auto g1 = loss_grads(*net, x.slice(0, 3, 6), fixture().labels.slice(0, 3, 6));
  double zico = 0;
  for (size_t l = 0; l < g0.size(); ++l) {
    auto a = g0[l].flatten(), b = g1[l].flatten();
    double s = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      const double u = a[i].item<double>(), v = b[i].item<double>();
      const double sd = std::abs(u - v) / 2;  // population std of two values
      if (sd > 0) s += (std::abs(u) + std::abs(v)) / 2 / sd;
    }
    if (s != 0) zico += std::log(s);
  }
  // Ratios of tiny gradient differences amplify float32 noise: compare loosely.
  EXPECT_NEAR(score("zico"), zico, 1e-3 * std::abs(zico));
}

TEST(GoldenProxies2, GradSignByPerSampleGradientsInFloat64) {
  auto net = test::float64_tiny(kSeed);
  std::vector<torch::Tensor> sums;
  for (auto& w : test::tiny_weights(*net)) sums.push_back(torch::zeros_like(w));
  for (int i = 0; i < kBatch; ++i) {
    auto g = loss_grads(*net, fixture().images.slice(0, i, i + 1), fixture().labels.slice(0, i, i + 1));
    for (size_t k = 0; k < g.size(); ++k) sums[k] += g[k].sign();
  }
  double gradsign = 0;
  for (const auto& s : sums) gradsign += s.abs().sum().item<double>();
  EXPECT_EQ(score("gradsign"), gradsign);
}

TEST(GoldenProxies2, NtkFromJacobianEqualsExplicitPerSampleAutogradInFloat64) {
  auto net = test::float64_tiny(kSeed);
  auto x = fixture().images.to(torch::kFloat64);
  std::vector<torch::Tensor> named = net->named_weight_parameters();  // conv1, bn1 gamma, conv2, fc
  ASSERT_EQ(named.size(), 4u);
  std::vector<torch::Tensor> rows;
  for (int i = 0; i < kBatch; ++i) {
    auto logits = net->forward(x);  // a fresh batched forward per sample: BN couples samples
    auto g = torch::autograd::grad({logits[i].sum()}, named);
    std::vector<torch::Tensor> flat;
    for (auto& t : g) flat.push_back(t.flatten());
    rows.push_back(torch::cat(flat));
  }
  auto j = torch::stack(rows);
  auto theta = torch::matmul(j, j.t());
  double cond_expected = 0;
  {
    auto v = torch::linalg_eigvalsh(theta);
    cond_expected = (v[-1] / v[0]).item<double>();
  }
  EXPECT_NEAR(score("ntk_trace"), theta.trace().item<double>(), 1e-4 * theta.trace().item<double>());
  EXPECT_NEAR(score("ntk_fro"), theta.norm().item<double>(), 1e-4 * theta.norm().item<double>());
  EXPECT_NEAR(score("ntk_mean"), theta.mean().item<double>(), 1e-4 * std::abs(theta.mean().item<double>()));
  EXPECT_NEAR(score("ntk_cond"), cond_expected, 1e-3 * cond_expected);
}

TEST(GoldenProxies2, NtkMetricsOfAKnownTheta) {
  PassArtifacts a;
  // Eigenvalues of [[2,1],[1,2]] are 1 and 3.
  a.ntk = torch::tensor({{2.0, 1.0}, {1.0, 2.0}}, torch::kFloat64);
  a.labels = torch::tensor({0, 1}, torch::kInt64);
  EXPECT_DOUBLE_EQ(proxy_ntk_cond(a), 3.0);
  EXPECT_DOUBLE_EQ(proxy_ntk_lambda_min(a), 1.0);
  EXPECT_DOUBLE_EQ(proxy_ntk_trace(a), 4.0);
  EXPECT_DOUBLE_EQ(proxy_ntk_fro(a), std::sqrt(10.0));
  EXPECT_DOUBLE_EQ(proxy_ntk_mean(a), 1.5);
  // LGA of a kernel equal to the label kernel (up to scale and shift) is 1, of its negative -1.
  a.labels = torch::tensor({0, 0, 1, 2}, torch::kInt64);
  auto y = a.labels;
  auto l = 2.0 * (y.unsqueeze(0) == y.unsqueeze(1)).to(torch::kFloat64) - 1.0;
  a.ntk = 3.0 * l + 7.0;
  EXPECT_NEAR(proxy_lga(a), 1.0, 1e-12);
  a.ntk = -l;
  EXPECT_NEAR(proxy_lga(a), -1.0, 1e-12);
}

}  // namespace
}  // namespace nbz
