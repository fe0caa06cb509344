// GradAlign (gradalign, gradalign_gram and their batch-1 variants): the per-sample loss gradients
// against explicit float64 autograd, the scores against a direct float64 computation and hand
// cases, singular Gram matrices as failed rows, the batch-1 fast path against the reference loop
// on NB201 and NB101 networks, and the forward shared with the NTK changing no bit.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "proxies/engine.h"
#include "proxies/proxy_functions.h"
#include "spaces/nb101_network.h"
#include "spaces/nb201_network.h"
#include "suite/run_inputs.h"
#include "tests/reference_math.h"
#include "tests/tiny_network.h"

namespace nbz {
namespace {

constexpr std::uint64_t kSeed = 11;
constexpr int kBatch = 6;

struct Batch {
  torch::Tensor images, labels;
};

Batch tiny_batch() {
  torch::manual_seed(4321);
  return {torch::randn({kBatch, 3, 4, 4}), torch::tensor({0, 1, 2, 0, 1, 1}, torch::kInt64)};
}

std::map<std::string, ProxyOutcome> engine_scores(const NetworkFactory& factory, const Batch& b,
                                                  const std::string& proxies) {
  return test::engine_scores(factory, b.images, b.labels, kSeed, proxies);
}

torch::Tensor flat_row(const std::vector<torch::Tensor>& grads) {
  std::vector<torch::Tensor> flat;
  for (const auto& g : grads) flat.push_back(g.flatten());
  return torch::cat(flat);
}

// Explicit per-sample autograd in float64. batched: a fresh forward of the whole batch for every
// sample (BatchNorm couples the samples) and the gradient of that sample's loss; else the sample
// forwarded alone.
torch::Tensor float64_rows(test::TinyNetworkImpl& net, const Batch& b, bool batched) {
  const auto x = b.images.to(torch::kFloat64);
  const std::vector<torch::Tensor> weights = test::tiny_weights(net);
  std::vector<torch::Tensor> rows;
  for (int i = 0; i < kBatch; ++i) {
    torch::Tensor loss;
    if (batched) {
      loss = torch::nn::functional::cross_entropy(net.forward(x).slice(0, i, i + 1),
                                                  b.labels.slice(0, i, i + 1));
    } else {
      loss = torch::nn::functional::cross_entropy(net.forward(x.slice(0, i, i + 1)),
                                                  b.labels.slice(0, i, i + 1));
    }
    rows.push_back(flat_row(torch::autograd::grad({loss}, weights)));
  }
  return torch::stack(rows);
}

// |a - b| / |b| for each row, the largest.
double worst_row_error(const torch::Tensor& a, const torch::Tensor& b) {
  auto d = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm(2, {1});
  return (d / b.to(torch::kFloat64).norm(2, {1})).max().item<double>();
}

// The definition, literally, in float64: u_i = g_i / |g_i|, m = mean u, mean cos(u_i, m), and
// log det of U U^T from independent Jacobi eigenvalues.
double direct_gradalign(const torch::Tensor& g) {
  auto u = g / g.norm(2, {1}, true);
  auto m = u.mean(0);
  return (torch::matmul(u, m) / (u.norm(2, {1}) * m.norm())).mean().item<double>();
}
double direct_gradalign_gram(const torch::Tensor& g) {
  auto u = g / g.norm(2, {1}, true);
  auto gram = torch::matmul(u, u.t());
  std::vector<std::vector<double>> a(static_cast<size_t>(gram.size(0)));
  for (std::int64_t i = 0; i < gram.size(0); ++i)
    for (std::int64_t j = 0; j < gram.size(1); ++j) a[i].push_back(gram[i][j].item<double>());
  double logdet = 0;
  for (double v : test::jacobi_eigenvalues(a)) logdet += std::log(v);
  return logdet;
}

TEST(GradAlign, SampleGradientsEqualExplicitPerSampleAutogradInFloat64) {
  const Batch b = tiny_batch();
  torch::manual_seed(kSeed);
  auto net = test::make_tiny();
  net->train();
  auto logits = net->forward(b.images);
  const auto g = sample_loss_gradients(logits, b.labels, net->weighted_layer_weights());
  const auto expected = float64_rows(*test::float64_tiny(kSeed), b, /*batched=*/true);
  ASSERT_EQ(g.sizes(), expected.sizes());
  EXPECT_LT(worst_row_error(g, expected), 1e-5);
}

TEST(GradAlign, Batch1GradientsEqualExplicitPerSampleAutogradInFloat64) {
  const Batch b = tiny_batch();
  const auto expected = float64_rows(*test::float64_tiny(kSeed), b, /*batched=*/false);
  for (bool fast : {false, true}) {
    torch::manual_seed(kSeed);
    auto net = test::make_tiny();
    const auto g = fast ? batch1_loss_gradients_fast(*net, b.images, b.labels)
                        : batch1_loss_gradients_loop(*net, b.images, b.labels);
    ASSERT_EQ(g.sizes(), expected.sizes());
    EXPECT_LT(worst_row_error(g, expected), 1e-5) << (fast ? "fast path" : "reference loop");
  }
  // BatchNorm couples the samples of a batch: the two semantics really differ here.
  EXPECT_GT(worst_row_error(float64_rows(*test::float64_tiny(kSeed), b, true), expected), 1e-3);
}

TEST(GradAlign, EngineScoresEqualDirectFloat64Computation) {
  const Batch b = tiny_batch();
  const auto s = engine_scores(test::tiny_factory(), b,
                               "gradalign,gradalign_gram,gradalign_b1,gradalign_gram_b1");
  for (const auto& [name, outcome] : s) ASSERT_TRUE(outcome.ok) << name << ": " << outcome.failure;
  const auto batched = float64_rows(*test::float64_tiny(kSeed), b, true);
  const auto alone = float64_rows(*test::float64_tiny(kSeed), b, false);
  auto near = [](double got, double want, double rel) {
    EXPECT_NEAR(got, want, rel * std::abs(want) + 1e-9) << "got " << got << " want " << want;
  };
  near(s.at("gradalign").value, direct_gradalign(batched), 1e-5);
  near(s.at("gradalign_gram").value, direct_gradalign_gram(batched), 1e-4);
  near(s.at("gradalign_b1").value, direct_gradalign(alone), 1e-5);
  near(s.at("gradalign_gram_b1").value, direct_gradalign_gram(alone), 1e-4);
  EXPECT_LT(s.at("gradalign").value, 1.0);
  EXPECT_LT(s.at("gradalign_gram").value, 0.0);  // unit diagonal: det <= 1
}

TEST(GradAlign, HandCases) {
  // Identical directions (any lengths): every cos is 1.
  auto v = torch::tensor({1.0, -2.0, 0.5}, torch::kFloat64);
  auto same = torch::stack({v, 3 * v, 0.25 * v, v});
  EXPECT_NEAR(gradalign_from_gram(torch::matmul(same, same.t())), 1.0, 1e-12);
  // Orthogonal gradients (unit or not): G = I, log det 0; m = (1/B) 1 so each cos is 1/sqrt(B).
  auto orth = torch::diag(torch::tensor({1.0, 2.0, 0.5, 7.0}, torch::kFloat64));
  const auto k = torch::matmul(orth, orth.t());
  EXPECT_EQ(gradalign_gram_from_gram(k), 0.0);
  EXPECT_NEAR(gradalign_from_gram(k), 0.5, 1e-15);
  // Two unit vectors at angle t: G = [[1, c], [c, 1]], log det = log(1 - c^2), m bisects them.
  const double t = 0.7;
  auto two = torch::tensor({{1.0, 0.0}, {std::cos(t), std::sin(t)}}, torch::kFloat64);
  const auto k2 = torch::matmul(two, two.t());
  EXPECT_NEAR(gradalign_gram_from_gram(k2), std::log(1 - std::cos(t) * std::cos(t)), 1e-14);
  EXPECT_NEAR(gradalign_from_gram(k2), std::cos(t / 2), 1e-14);
}

TEST(GradAlign, DegenerateGramMatricesThrowWithTheReason) {
  auto v = torch::tensor({1.0, -2.0, 0.5}, torch::kFloat64);
  auto same = torch::stack({v, 3 * v, v});
  try {
    gradalign_gram_from_gram(torch::matmul(same, same.t()));
    FAIL() << "a rank-1 Gram matrix has no log det";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("singular"), std::string::npos) << e.what();
  }
  // More samples than weights: rank <= P < B.
  auto wide = torch::randn({5, 3}, torch::kFloat64);
  EXPECT_THROW(gradalign_gram_from_gram(torch::matmul(wide, wide.t())), std::runtime_error);
  // A zero gradient has no direction.
  auto with_zero = torch::stack({v, torch::zeros_like(v)});
  try {
    gradalign_from_gram(torch::matmul(with_zero, with_zero.t()));
    FAIL() << "a zero gradient has no direction";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 1 of 2"), std::string::npos) << e.what();
  }
  // Opposite directions: m = 0.
  auto opposite = torch::stack({v, -v});
  EXPECT_THROW(gradalign_from_gram(torch::matmul(opposite, opposite.t())), std::runtime_error);
}

TEST(GradAlign, SingularGramIsAFailedRowWithTheReason) {
  // Two identical samples (same image, same label) forwarded alone have identical gradients.
  Batch b = tiny_batch();
  b.images[1].copy_(b.images[0]);
  b.labels[1].copy_(b.labels[0]);
  const auto s = engine_scores(test::tiny_factory(), b, "gradalign_b1,gradalign_gram_b1");
  EXPECT_TRUE(s.at("gradalign_b1").ok) << s.at("gradalign_b1").failure;
  EXPECT_FALSE(s.at("gradalign_gram_b1").ok);
  EXPECT_NE(s.at("gradalign_gram_b1").failure.find("proxy failed: the Gram matrix of the "
                                                   "normalised per-sample gradients is singular"),
            std::string::npos)
      << s.at("gradalign_gram_b1").failure;
}

// The tiny network without the input reports: the fast path must refuse, not guess.
class NoIoTinyImpl : public test::TinyNetworkImpl {
 public:
  torch::Tensor classify(const torch::Tensor& pooled, const ForwardContext&) override {
    return fc->forward(pooled);
  }
};

TEST(GradAlign, FastPathRefusesANetworkThatDoesNotReportLayerInputs) {
  NetworkFactory factory = [] {
    return std::static_pointer_cast<SearchNetworkImpl>(std::make_shared<NoIoTinyImpl>());
  };
  const auto s = engine_scores(factory, tiny_batch(), "gradalign,gradalign_b1");
  EXPECT_TRUE(s.at("gradalign").ok) << s.at("gradalign").failure;
  EXPECT_FALSE(s.at("gradalign_b1").ok);
  EXPECT_NE(s.at("gradalign_b1").failure.find("does not report the input of Conv/Linear weight 2"),
            std::string::npos)
      << s.at("gradalign_b1").failure;
}

// Fast path vs the reference loop on a real search-space network: per-sample gradients, their
// Gram matrix and both scores to 1e-5 relative; running statistics untouched by the fast path.
void expect_fast_path_matches_loop(const NetworkFactory& factory, const Batch& b) {
  torch::manual_seed(kSeed);
  SearchNetwork fast_net = factory();
  torch::manual_seed(kSeed);
  SearchNetwork loop_net = factory();
  std::vector<torch::Tensor> buffers_before;
  for (const auto& buf : fast_net->buffers()) buffers_before.push_back(buf.clone());

  const auto fast = batch1_loss_gradients_fast(*fast_net, b.images, b.labels);
  const auto loop = batch1_loss_gradients_loop(*loop_net, b.images, b.labels);
  ASSERT_EQ(fast.sizes(), loop.sizes());
  EXPECT_LT(worst_row_error(fast, loop), 1e-5);
  EXPECT_LT((fast - loop).abs().max().item<double>(), 1e-5 * loop.abs().max().item<double>());
  const auto k_fast = gram_float64(fast), k_loop = gram_float64(loop);
  EXPECT_LT(((k_fast - k_loop).abs() / k_loop.abs().max()).max().item<double>(), 1e-5);
  const double a_fast = gradalign_from_gram(k_fast), a_loop = gradalign_from_gram(k_loop);
  EXPECT_NEAR(a_fast, a_loop, 1e-5 * std::abs(a_loop));
  const double g_fast = gradalign_gram_from_gram(k_fast), g_loop = gradalign_gram_from_gram(k_loop);
  EXPECT_NEAR(g_fast, g_loop, 1e-5 * std::abs(g_loop));

  const auto buffers_after = fast_net->buffers();
  for (size_t i = 0; i < buffers_before.size(); ++i)
    EXPECT_TRUE(torch::equal(buffers_before[i], buffers_after[i])) << "buffer " << i;

  // In float64 the two agree to rounding: the fast path is the loop's arithmetic reordered, not
  // an approximation (float32 batch-1 gradients of full-size networks differ far more between
  // any two summation orders, docs/decisions.md).
  fast_net->to(torch::kFloat64);
  loop_net->to(torch::kFloat64);
  const auto x64 = b.images.to(torch::kFloat64);
  EXPECT_LT(worst_row_error(batch1_loss_gradients_fast(*fast_net, x64, b.labels),
                            batch1_loss_gradients_loop(*loop_net, x64, b.labels)),
            1e-12);
}

TEST(GradAlign, FastPathMatchesTheReferenceLoopOnAnNb201Network) {
  torch::set_num_threads(1);
  // Every op kind, both reduction blocks (stride-2 3x3 convs and the 1x1 shortcut), head BN.
  const auto cell = nb201::Cell::parse(
      "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|");
  nb201::NetworkOptions small;
  small.stem_channels = 4;
  small.cells_per_stage = 1;
  const NetworkFactory factory = nb201_factory(cell, small);
  torch::manual_seed(7);
  Batch b{torch::randn({5, 3, 16, 16}), torch::tensor({3, 1, 4, 1, 5}, torch::kInt64)};
  expect_fast_path_matches_loop(factory, b);
}

TEST(GradAlign, FastPathMatchesTheReferenceLoopOnAnNb101Network) {
  torch::set_num_threads(1);
  // conv3x3, conv1x1 and max-pool vertices, truncation into vertex 3, input projections into
  // vertices 1, 2 and the output.
  nb101::Cell cell;
  cell.num_vertices = 5;
  cell.adjacency.assign(25, 0);
  for (auto [from, to] : {std::pair{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}, {0, 4}, {1, 4}})
    cell.adjacency[static_cast<size_t>(from * 5 + to)] = 1;
  cell.interior_ops = {nb101::Op::Conv3x3, nb101::Op::Conv1x1, nb101::Op::MaxPool3x3};
  nb101::NetworkOptions small;
  small.stem_channels = 8;
  small.num_stacks = 2;
  small.cells_per_stack = 1;
  const NetworkFactory factory = nb101_factory(cell, small);
  torch::manual_seed(8);
  Batch b{torch::randn({4, 3, 8, 8}), torch::tensor({0, 9, 2, 2}, torch::kInt64)};
  expect_fast_path_matches_loop(factory, b);
}

// GradSign takes its per-sample gradients from the fast path (docs/decisions.md, "gradsign"). In
// float64 the fast path and GradSign's reference loop of batch-1 forwards give the same sign for
// every weight whose gradient is above rounding, hence the same score.
TEST(GradSign, FastPathGivesTheSignsOfTheReferenceLoopInFloat64) {
  torch::set_num_threads(1);
  const auto cell = nb201::Cell::parse(
      "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|");
  nb201::NetworkOptions small;
  small.stem_channels = 4;
  small.cells_per_stage = 1;
  const NetworkFactory factory = nb201_factory(cell, small);
  torch::manual_seed(kSeed);
  SearchNetwork fast_net = factory();
  torch::manual_seed(kSeed);
  SearchNetwork loop_net = factory();
  fast_net->to(torch::kFloat64);
  loop_net->to(torch::kFloat64);
  torch::manual_seed(9);
  const auto x = torch::randn({6, 3, 16, 16}, torch::kFloat64);
  const auto y = torch::tensor({3, 1, 4, 1, 5, 9}, torch::kInt64);
  const auto fast = batch1_loss_gradients_fast(*fast_net, x, y);
  const auto loop = batch1_loss_gradients_loop(*loop_net, x, y);
  const auto above_rounding = loop.abs() > 1e-9 * loop.abs().max();
  EXPECT_GT(above_rounding.sum().item<std::int64_t>(), loop.numel() / 2);
  EXPECT_TRUE(torch::equal(fast.sign().masked_select(above_rounding),
                           loop.sign().masked_select(above_rounding)));
  EXPECT_EQ(gradsign_from_rows(fast), gradsign_from_rows(loop));
  // The score by hand: sum over weights of |sum_i sign(g_iw)|.
  double by_hand = 0;
  for (std::int64_t w = 0; w < loop.size(1); ++w) {
    double column = 0;
    for (std::int64_t i = 0; i < loop.size(0); ++i) {
      const double g = loop[i][w].item<double>();
      column += (g > 0) - (g < 0);
    }
    by_hand += std::abs(column);
  }
  EXPECT_EQ(gradsign_from_rows(loop), by_hand);
}

// In float32 on a full-size NB201 network neither the fast path nor the loop has every sign of a
// float64 computation: gradients below float32 rounding flip in either. Both scores stay within
// 1e-4 of the float64 score (measured on NB201 cells 0, 1, 5, 14452 and 1462 with the real
// minibatch, the fast path was the closer one on four of the five).
TEST(GradSign, FastPathAndLoopAreBothWithinFloat32NoiseOfFloat64OnAFullNb201Network) {
  torch::set_num_threads(1);
  const auto cell = nb201::Cell::parse(
      "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|");
  const NetworkFactory factory = nb201_factory(cell, nb201::NetworkOptions{});  // NB201 index 0
  torch::manual_seed(21);
  const auto x = torch::randn({16, 3, 32, 32});
  const auto y = torch::randint(0, 10, {16}, torch::kInt64);
  auto rows_of = [&](bool fast, torch::Dtype dtype) {
    torch::manual_seed(kSeed);
    SearchNetwork net = factory();
    net->to(dtype);
    return fast ? batch1_loss_gradients_fast(*net, x.to(dtype), y)
                : batch1_loss_gradients_loop(*net, x.to(dtype), y);
  };
  const double exact = gradsign_from_rows(rows_of(false, torch::kFloat64));
  const double fast = gradsign_from_rows(rows_of(true, torch::kFloat32));
  const double loop = gradsign_from_rows(rows_of(false, torch::kFloat32));
  EXPECT_GT(exact, 0);
  EXPECT_NEAR(fast, exact, 1e-4 * exact);
  EXPECT_NEAR(loop, exact, 1e-4 * exact);
}

TEST(GradAlign, SharingTheNtkForwardChangesNoBit) {
  const Batch b = tiny_batch();
  // Per-sample loss backwards after the NTK's backwards through the same graph, against a forward
  // of their own.
  torch::manual_seed(kSeed);
  auto net = test::make_tiny();
  net->train();
  auto logits = net->forward(b.images);
  (void)ntk_from_logits(logits, net->named_weight_parameters());
  const auto shared = sample_loss_gradients(logits, b.labels, net->weighted_layer_weights());
  torch::manual_seed(kSeed);
  auto net2 = test::make_tiny();
  net2->train();
  const auto own = sample_loss_gradients(net2->forward(b.images), b.labels,
                                         net2->weighted_layer_weights());
  EXPECT_TRUE(torch::equal(shared, own));

  // And through the engine: each proxy alone equals the same proxy in the ntk group.
  const auto together = engine_scores(test::tiny_factory(), b, "ntk");
  for (const auto& [name, outcome] : together) {
    const auto alone = engine_scores(test::tiny_factory(), b, name).at(name);
    ASSERT_EQ(alone.ok, outcome.ok) << name;
    if (outcome.ok) {
      EXPECT_EQ(alone.value, outcome.value) << name;
    }
  }
  EXPECT_TRUE(together.count("gradalign") && together.count("gradalign_gram_b1"));
}

}  // namespace
}  // namespace nbz

