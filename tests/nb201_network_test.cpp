#include "spaces/nb201_network.h"

#include <gtest/gtest.h>

#include "spaces/nb201_space.h"
#include "tests/test_support.h"

namespace nbz::nb201 {
namespace {

const Space& space() {
  static const Space s = Space::load(test::data_dir());
  return s;
}

TEST(Nb201Network, ParameterCountMatchesTheBenchmarkForAll15625) {
  torch::NoGradGuard no_grad;
  std::int64_t mismatches = 0;
  for (std::int64_t i = 0; i < space().size(); ++i) {
    Network net(space().cell(i));
    if (net->num_trainable_parameters() != space().params_cifar10(i)) {
      ++mismatches;
      ADD_FAILURE() << "index " << i << " " << space().arch(i) << ": "
                    << net->num_trainable_parameters() << " vs " << space().params_cifar10(i);
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Nb201Network, HeadsFor100And120Classes) {
  torch::NoGradGuard no_grad;
  NetworkOptions opts;
  opts.num_classes = 100;
  EXPECT_EQ(Network(space().cell(0), opts)->num_trainable_parameters(), 135156);
  opts.num_classes = 120;
  EXPECT_EQ(Network(space().cell(0), opts)->num_trainable_parameters(), 136456);
}

TEST(Nb201Network, ShapesFor32And16PixelInputs) {
  torch::NoGradGuard no_grad;
  Network net(space().cell(1));
  EXPECT_EQ(net->features(torch::zeros({2, 3, 32, 32}), {}).sizes(), (torch::IntArrayRef{2, 64, 8, 8}));
  EXPECT_EQ(net->forward(torch::zeros({2, 3, 32, 32})).sizes(), (torch::IntArrayRef{2, 10}));
  EXPECT_EQ(net->features(torch::zeros({2, 3, 16, 16}), {}).sizes(), (torch::IntArrayRef{2, 64, 4, 4}));
  EXPECT_EQ(net->pooled_features(torch::zeros({3, 3, 16, 16})).sizes(), (torch::IntArrayRef{3, 64}));
}

// Counts the places proxies observe, to check the taps see every ReLU and Conv/Linear.
struct CountingTaps : ForwardTaps {
  int relus = 0, weighted = 0;
  void relu_input(const torch::Tensor&) override { ++relus; }
  void weighted_output(const torch::Tensor&, const torch::Tensor&) override { ++weighted; }
};

TEST(Nb201Network, TapsSeeEveryReluAndWeightedLayer) {
  torch::NoGradGuard no_grad;
  // arch 0: per cell 2 nor_conv_1x1 edges; 15 cells -> 30 ReLUConvBN; 2 reduction blocks with 2
  // ReLUConvBN each; the head ReLU. Convs: stem + 30 + 2 * 3; Linear: 1.
  Network net(space().cell(0));
  CountingTaps taps;
  ForwardContext ctx;
  ctx.taps = &taps;
  net->forward(torch::randn({2, 3, 32, 32}), ctx);
  EXPECT_EQ(taps.relus, 30 + 4 + 1);
  EXPECT_EQ(taps.weighted, 1 + 30 + 6 + 1);
  EXPECT_EQ(static_cast<int>(net->weighted_layer_weights().size()), taps.weighted);
}

TEST(Nb201Network, BatchNormBypassChangesOnlyWhatItShould) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  Network net(space().cell(1));
  net->train();
  auto x = torch::randn({4, 3, 32, 32});
  ForwardContext no_bn;
  no_bn.batchnorm = false;
  auto with_bn = net->forward(x);
  auto without_bn = net->forward(x, no_bn);
  EXPECT_FALSE(torch::allclose(with_bn, without_bn));
  // With BatchNorm in train mode the pre-head features are normalised per channel.
  auto feats = net->features(x, {});
  EXPECT_GE(feats.min().item<float>(), 0.0f);  // after the head ReLU
}

TEST(Nb201Network, SameSeedSameWeights) {
  torch::manual_seed(42);
  Network a(space().cell(7));
  torch::manual_seed(42);
  Network b(space().cell(7));
  auto pa = a->parameters(), pb = b->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
}

TEST(Nb201Network, CopyStateReproducesTheForward) {
  torch::manual_seed(3);
  Network a(space().cell(2));
  Network b(space().cell(2));
  copy_network_state(*a, *b);
  a->eval();
  b->eval();
  auto x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
}

}  // namespace
}  // namespace nbz::nb201
