// Tests of the NAS-Bench-101 network against the benchmark's own numbers (the trainable parameter
// count of all 20,001 ground-truth rows) and against hand-worked cells, plus the ForwardTaps /
// BatchNorm-bypass contract every proxy relies on.
#include "spaces/nb101_network.h"
#include "suite/run_inputs.h"

#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <iostream>
#include <utility>

#include "foundation/errors.h"
#include "tests/test_support.h"

namespace nbz::nb101 {
namespace {

const std::vector<GroundTruthRow>& ground_truth() {
  static const std::vector<GroundTruthRow> rows =
      load_ground_truth(test::data_dir() + "/nasbench101/nb101_ground_truth_20k.csv");
  return rows;
}

// A cell from its vertex count, edge list and interior ops (vertices 1..V-2).
Cell make_cell(int num_vertices, std::initializer_list<std::pair<int, int>> edges,
               std::vector<Op> interior_ops) {
  Cell cell;
  cell.num_vertices = num_vertices;
  cell.adjacency.assign(static_cast<size_t>(num_vertices * num_vertices), 0);
  for (const auto& [from, to] : edges)
    cell.adjacency[static_cast<size_t>(from * num_vertices + to)] = 1;
  cell.interior_ops = std::move(interior_ops);
  return cell;
}

// SkipInitScope (suite/run_inputs.h) builds the real module tree without drawing weights: a
// network built in it is only fit for counting and shapes, never for a forward pass.

// Name and shape of every parameter, in registration order.
std::vector<std::pair<std::string, std::vector<int64_t>>> parameter_shapes(const Network& net) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (const auto& item : net->named_parameters(true))
    shapes.emplace_back(item.key(), item.value().sizes().vec());
  return shapes;
}

TEST(Nb101Network, FirstRowHasTheBenchmarksParameterCount) {
  torch::NoGradGuard no_grad;
  const auto& row = ground_truth().at(0);
  ASSERT_EQ(row.module_hash, "00005c142e6f48ac74fdcf73e3439874");
  EXPECT_EQ(Network(row.cell)->num_trainable_parameters(), 8555530);
}

// Every 1,000th row built normally (weights drawn) must have exactly the parameters, names and
// shapes of the same network built under SkipInitScope: the fast path counts the real tree.
TEST(Nb101Network, SkipInitBuildsTheSameModuleTree) {
  const auto& rows = ground_truth();
  for (size_t i = 0; i < rows.size(); i += 1000) {
    torch::NoGradGuard no_grad;
    Network normal(rows[i].cell);
    const auto before = torch::randn({4});
    std::vector<std::pair<std::string, std::vector<int64_t>>> skipped_shapes;
    {
      SkipInitScope skip;
      Network skipped(rows[i].cell);
      skipped_shapes = parameter_shapes(skipped);
      EXPECT_EQ(skipped->num_trainable_parameters(), rows[i].trainable_parameters) << "row " << i;
    }
    EXPECT_EQ(parameter_shapes(normal), skipped_shapes) << "row " << i;
    EXPECT_EQ(normal->num_trainable_parameters(), rows[i].trainable_parameters) << "row " << i;
    // The scope is gone: ops on CPU tensors compute again.
    EXPECT_EQ((before * 0 + 1).sum().item<float>(), 4.0f);
  }
  EXPECT_EQ(torch::ones({3}).sum().item<float>(), 3.0f);
}

TEST(Nb101Network, ParameterCountMatchesTheBenchmarkForAll20001Rows) {
  const auto& rows = ground_truth();
  ASSERT_EQ(rows.size(), 20001u);
  const auto start = std::chrono::steady_clock::now();
  std::int64_t mismatches = 0;
  {
    SkipInitScope skip;
    for (size_t i = 0; i < rows.size(); ++i) {
      Network net(rows[i].cell);
      const auto count = net->num_trainable_parameters();
      if (count != rows[i].trainable_parameters) {
        ++mismatches;
        if (mismatches <= 20)
          ADD_FAILURE() << "row " << i << " " << rows[i].module_hash << ": " << count << " vs "
                        << rows[i].trainable_parameters;
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "built " << rows.size() << " NAS-Bench-101 networks (init skipped) in " << seconds
            << " s, " << mismatches << " parameter-count mismatches\n";
  EXPECT_EQ(mismatches, 0);
}

TEST(Nb101Network, ShapesOfTheFullNetwork) {
  torch::NoGradGuard no_grad;
  Network net(ground_truth().at(0).cell);
  const auto x = torch::randn({2, 3, 32, 32});
  EXPECT_EQ(net->features(x, {}).sizes(), (torch::IntArrayRef{2, 512, 8, 8}));
  EXPECT_EQ(net->forward(x).sizes(), (torch::IntArrayRef{2, 10}));
  EXPECT_EQ(net->pooled_features(x).sizes(), (torch::IntArrayRef{2, 512}));
}

TEST(Nb101Network, OddSizesDownsampleLikeTfSamePadding) {
  // TF's 2x2/2 'same' max-pool gives ceil(H / 2): 30 -> 15 -> 8 (floor would give 7).
  torch::NoGradGuard no_grad;
  NetworkOptions opts;
  opts.stem_channels = 8;
  Network net(ground_truth().at(1).cell, opts);
  EXPECT_EQ(net->features(torch::randn({1, 3, 30, 30}), {}).sizes(),
            (torch::IntArrayRef{1, 32, 8, 8}));
}

// Records what the proxies observe.
struct RecordingTaps : ForwardTaps {
  std::vector<int64_t> relu_channels;
  std::vector<torch::Tensor> weights;
  std::vector<int64_t> output_channels;
  void relu_input(const torch::Tensor& x) override { relu_channels.push_back(x.size(1)); }
  void weighted_output(const torch::Tensor& weight, const torch::Tensor& out) override {
    weights.push_back(weight);
    output_channels.push_back(out.size(1));
  }
};

TEST(Nb101Network, TapsSeeEveryReluAndWeightedLayer) {
  torch::NoGradGuard no_grad;
  // Row 0 has every op (conv3x3, conv1x1, maxpool3x3), input projections and 7 vertices.
  NetworkOptions opts;
  opts.stem_channels = 16;
  Network net(ground_truth().at(0).cell, opts);

  int convs = 0, linears = 0, conv_bn_relus = 0;
  std::vector<int64_t> bn_channels;
  for (const auto& module : net->modules(/*include_self=*/false)) {
    if (dynamic_cast<torch::nn::Conv2dImpl*>(module.get())) ++convs;
    if (dynamic_cast<torch::nn::LinearImpl*>(module.get())) ++linears;
    if (dynamic_cast<ConvBnReluImpl*>(module.get())) ++conv_bn_relus;
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get()))
      bn_channels.push_back(bn->options.num_features());
  }
  // Every ReLU of the network is the one of a conv-BN-ReLU, which has one conv and one BN.
  ASSERT_EQ(conv_bn_relus, convs);
  ASSERT_EQ(static_cast<int>(bn_channels.size()), convs);
  EXPECT_EQ(linears, 1);

  RecordingTaps taps;
  ForwardContext ctx;
  ctx.taps = &taps;
  net->forward(torch::randn({2, 3, 32, 32}), ctx);
  EXPECT_EQ(static_cast<int>(taps.relu_channels.size()), conv_bn_relus);
  EXPECT_EQ(static_cast<int>(taps.weights.size()), convs + linears);
  // Forward meets the layers in construction order (the documented order).
  EXPECT_EQ(taps.relu_channels, bn_channels);
  const auto weights = net->weighted_layer_weights();
  ASSERT_EQ(weights.size(), taps.weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    EXPECT_TRUE(weights[i].is_same(taps.weights[i])) << "layer " << i;
    EXPECT_EQ(taps.output_channels[i], weights[i].size(0)) << "layer " << i;
  }
}

TEST(Nb101Network, BatchNormBypassSkipsEveryBatchNorm) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  NetworkOptions opts;
  opts.stem_channels = 16;
  Network net(ground_truth().at(0).cell, opts);
  net->to(torch::kFloat64);
  for (auto& p : net->parameters()) p.abs_();
  net->train();
  const auto x = torch::ones({2, 3, 32, 32}, torch::kFloat64);
  ForwardContext no_bn;
  no_bn.batchnorm = false;

  const auto without_bn = net->forward(x, no_bn);
  EXPECT_TRUE(torch::isfinite(without_bn).all().item<bool>());
  EXPECT_GT(without_bn.min().item<double>(), 0.0);
  // Skipped means not run at all: the running statistics are untouched.
  for (const auto& module : net->modules(false)) {
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) {
      EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 0);
      EXPECT_EQ(bn->running_mean.abs().max().item<double>(), 0.0);
    }
  }

  const auto with_bn = net->forward(x);
  EXPECT_FALSE(torch::allclose(with_bn, without_bn));

  // With every gamma and beta zero, BN (train mode) zeroes every conv-BN-ReLU, so only the
  // classifier bias is left; the bypassed network does not notice.
  for (const auto& module : net->modules(false)) {
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) {
      bn->weight.zero_();
      bn->bias.zero_();
    }
  }
  const auto bias = net->named_parameters().find("classifier.bias");
  ASSERT_NE(bias, nullptr);
  EXPECT_TRUE(torch::allclose(net->forward(x), bias->unsqueeze(0).expand({2, 10})));
  EXPECT_TRUE(torch::equal(net->forward(x, no_bn), without_bn));
}

// input -> conv3x3 -> output plus input -> output: vertex 1 gets all output channels, fed by a
// 1x1 projection of the input; the output adds a second projection of the input.
TEST(Nb101Network, HandWorkedCellParameterCount) {
  torch::NoGradGuard no_grad;
  const Cell cell = make_cell(3, {{0, 1}, {1, 2}, {0, 2}}, {Op::Conv3x3});
  const auto bn = [](int64_t c) { return 2 * c; };  // gamma + beta
  const auto cell_params = [&](int64_t in, int64_t out) {
    return (in * out + bn(out))          // vertex 1 projection: 1x1 conv + BN
           + (9 * out * out + bn(out))   // vertex 1 op: 3x3 conv + BN
           + (in * out + bn(out));       // output projection: 1x1 conv + BN
  };
  const int64_t stem = 9 * 3 * 128 + bn(128);
  const int64_t stack1 = 3 * cell_params(128, 128);
  const int64_t stack2 = cell_params(128, 256) + 2 * cell_params(256, 256);
  const int64_t stack3 = cell_params(256, 512) + 2 * cell_params(512, 512);
  const int64_t head = 512 * 10 + 10;
  const int64_t expected = stem + stack1 + stack2 + stack3 + head;
  ASSERT_EQ(expected, 11051402);  // 3712 + 542976 + 2101760 + 8397824 + 5130
  Network net(cell);
  EXPECT_EQ(net->num_trainable_parameters(), expected);
  EXPECT_EQ(net->weighted_layer_weights().size(), 1u + 9u * 3u + 1u);
  EXPECT_EQ(net->forward(torch::randn({1, 3, 32, 32})).sizes(), (torch::IntArrayRef{1, 10}));

  // Smallest cell: input -> output only; each cell is one 1x1 projection.
  const Cell direct = make_cell(2, {{0, 1}}, {});
  const auto direct_params = [&](int64_t in, int64_t out) { return in * out + bn(out); };
  EXPECT_EQ(Network(direct)->num_trainable_parameters(),
            stem + 3 * direct_params(128, 128) + direct_params(128, 256) +
                2 * direct_params(256, 256) + direct_params(256, 512) +
                2 * direct_params(512, 512) + head);
}

TEST(Nb101Network, VertexChannelsSplitWithRemainderAndTakeTheSuccessorsMax) {
  // Vertices 2, 3, 4 feed the output: 128 = 43 + 43 + 42 (remainder to the first ones); vertex
  // 1 feeds 3 and 4 only and takes max(43, 42); the edge 1 -> 4 is truncated from 43 to 42.
  const Cell cell = make_cell(6, {{0, 1}, {0, 2}, {1, 3}, {1, 4}, {2, 5}, {3, 5}, {4, 5}},
                              {Op::Conv3x3, Op::Conv1x1, Op::MaxPool3x3, Op::Conv3x3});
  EXPECT_EQ(compute_vertex_channels(cell, 64, 128), (std::vector<int>{64, 43, 43, 43, 42, 128}));

  torch::NoGradGuard no_grad;
  CellModule module(cell, 64, 128);
  EXPECT_EQ(module->vertex_channels(), (std::vector<int>{64, 43, 43, 43, 42, 128}));
  // Projections into 1 and 2, convs at 1, 2, 4: 1x1 64->43 twice, 3x3 43->43, 1x1 43->43,
  // 3x3 42->42, each with its BN.
  const int64_t expected = 2 * (64 * 43 + 86) + (9 * 43 * 43 + 86) + (43 * 43 + 86) +
                           (9 * 42 * 42 + 84);
  int64_t count = 0;
  for (const auto& p : module->parameters()) count += p.numel();
  EXPECT_EQ(count, expected);
  EXPECT_EQ(module->forward(torch::randn({2, 64, 8, 8}), {}).sizes(),
            (torch::IntArrayRef{2, 128, 8, 8}));

  // A vertex feeding only interior vertices in a chain takes their channel count.
  const Cell chain = make_cell(4, {{0, 1}, {1, 2}, {2, 3}}, {Op::Conv1x1, Op::Conv3x3});
  EXPECT_EQ(compute_vertex_channels(chain, 16, 32), (std::vector<int>{16, 32, 32, 32}));
}

TEST(Nb101Network, BuildsFromThePrunedCell) {
  torch::NoGradGuard no_grad;
  // Vertex 2 is a dead end (never reaches the output): pruning removes it and its conv.
  const Cell dangling =
      make_cell(4, {{0, 1}, {0, 2}, {1, 3}}, {Op::Conv3x3, Op::Conv3x3});
  const Cell pruned = make_cell(3, {{0, 1}, {1, 2}}, {Op::Conv3x3});
  Network a(dangling);
  Network b(pruned);
  EXPECT_EQ(a->cell(), pruned);
  EXPECT_EQ(a->num_trainable_parameters(), b->num_trainable_parameters());
}

TEST(Nb101Network, InvalidCellsAreUserErrors) {
  torch::NoGradGuard no_grad;
  // The input does not reach the output.
  EXPECT_THROW(Network(make_cell(3, {{0, 1}}, {Op::Conv3x3})), Error);
  // Ten edges after pruning: outside the space.
  EXPECT_THROW(Network(make_cell(6, {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {1, 2}, {1, 5},
                                     {2, 5}, {3, 5}, {4, 5}},
                                 {Op::Conv3x3, Op::Conv3x3, Op::Conv1x1, Op::MaxPool3x3})),
               Error);
  // Malformed: an op missing.
  EXPECT_THROW(Network(make_cell(3, {{0, 1}, {1, 2}}, {})), Error);
  // Options that cannot build a network.
  NetworkOptions bad;
  bad.num_classes = 0;
  EXPECT_THROW(Network(make_cell(2, {{0, 1}}, {}), bad), Error);
  NetworkOptions tiny;
  tiny.stem_channels = 1;  // 1 channel cannot be split over 2 vertices feeding the output
  EXPECT_THROW(
      Network(make_cell(4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}, {Op::Conv1x1, Op::Conv1x1}), tiny),
      Error);
}

TEST(Nb101Network, BatchNormSettingsAreTheBenchmarks) {
  torch::NoGradGuard no_grad;
  Network net(make_cell(3, {{0, 1}, {1, 2}}, {Op::Conv1x1}));
  int bns = 0;
  for (const auto& module : net->modules(false)) {
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) {
      ++bns;
      EXPECT_DOUBLE_EQ(bn->options.momentum().value(), 1.0 - 0.997);
      EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-5);
      EXPECT_TRUE(bn->options.affine());
      EXPECT_TRUE(bn->options.track_running_stats());
    }
  }
  EXPECT_EQ(bns, 1 + 9 * 2);  // stem; per cell the input projection and the conv1x1 op
}

// Weights are drawn in the documented construction order: replaying the same sequence of
// Conv2d / Linear constructions after the same seed reproduces every weight.
TEST(Nb101Network, ConstructionOrderIsTheDocumentedOne) {
  torch::NoGradGuard no_grad;
  NetworkOptions opts;
  opts.stem_channels = 8;
  const Cell cell = make_cell(4, {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {2, 3}},
                              {Op::Conv1x1, Op::Conv3x3});
  torch::manual_seed(7);
  Network net(cell, opts);

  torch::manual_seed(7);
  std::vector<torch::Tensor> replay;
  const auto conv = [&](int64_t in, int64_t out, int64_t k) {
    replay.push_back(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(k / 2).bias(false))
            ->weight);
  };
  conv(3, 8, 3);  // stem
  int64_t channels = 8;
  for (int stack = 0; stack < 3; ++stack) {
    const int64_t in_stack = channels;
    if (stack > 0) channels *= 2;
    for (int i = 0; i < 3; ++i) {
      const int64_t in = i == 0 ? in_stack : channels;
      conv(in, channels, 1);        // vertex 1: projection
      conv(channels, channels, 1);  // vertex 1: conv1x1
      conv(in, channels, 1);        // vertex 2: projection
      conv(channels, channels, 3);  // vertex 2: conv3x3
      conv(in, channels, 1);        // output: projection
    }
  }
  torch::nn::Linear head(channels, 10);
  replay.push_back(head->weight);

  const auto weights = net->weighted_layer_weights();
  ASSERT_EQ(weights.size(), replay.size());
  for (size_t i = 0; i < weights.size(); ++i)
    EXPECT_TRUE(torch::equal(weights[i], replay[i])) << "layer " << i;
  const auto bias = net->named_parameters().find("classifier.bias");
  ASSERT_NE(bias, nullptr);
  EXPECT_TRUE(torch::equal(*bias, head->bias));
}

}  // namespace
}  // namespace nbz::nb101
