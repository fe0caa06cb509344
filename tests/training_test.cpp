// Ordinary training (spaces/training.h): the SGD-Nesterov update against PyTorch's rule computed
// by hand in float64, the cosine schedule, the augmentation of a known image, bit-identical
// reruns, and a loss that falls on an easy problem. Tiny networks and a handful of images.
#include "spaces/training.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "foundation/errors.h"
#include "spaces/nb201_network.h"
#include "tests/test_support.h"
#include "tests/tiny_network.h"

namespace nbz {
namespace {

// n images of side x side, 3 channels; labels cycle through 0..classes-1. Class c is a flat
// grey level (c + 1) * 60 with a faint per-image texture, so the classes are separable.
ImageSet tiny_images(int n, int side, int classes = 3) {
  ImageSet set;
  set.height = set.width = side;
  set.num_classes = classes;
  set.description = "synthetic test images";
  for (int i = 0; i < n; ++i) {
    const int label = i % classes;
    set.labels.push_back(label);
    for (int p = 0; p < 3 * side * side; ++p)
      set.pixels.push_back(static_cast<std::uint8_t>((label + 1) * 60 + (p * 7 + i * 13) % 11));
  }
  return set;
}

std::vector<torch::Tensor> float64_copy(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> out;
  for (const auto& t : tensors) out.push_back(t.detach().to(torch::kFloat64).clone());
  return out;
}

// Parameters and buffers (BN running statistics), in registration order.
std::vector<torch::Tensor> state(const SearchNetworkImpl& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net.parameters()) out.push_back(p.detach().clone());
  for (const auto& b : net.buffers()) out.push_back(b.detach().clone());
  return out;
}

bool bit_identical(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

TEST(Training, SgdNesterovStepWithWeightDecayIsPyTorchsRule) {
  torch::set_num_threads(1);
  torch::manual_seed(3);
  auto net = test::make_tiny();
  const ImageSet set = tiny_images(6, 8);
  TrainingOptions o;  // momentum 0.9, Nesterov, weight decay 5e-4
  Trainer trainer(net, set, o);
  torch::manual_seed(5);
  const auto x = torch::randn({6, 3, 8, 8});
  const auto y = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kInt64);
  const auto params = net->parameters();
  const double m = 0.9, wd = 5e-4;
  std::vector<torch::Tensor> buffer(params.size());
  bool nesterov_matters = false;
  // Two steps: the first creates the momentum buffer (PyTorch: buf = clone(d_p)), the second
  // updates it (buf = m buf + d_p, dampening 0).
  for (double lr : {0.1, 0.07}) {
    const auto before = float64_copy(params);
    trainer.step(x, y, lr);
    for (size_t i = 0; i < params.size(); ++i) {
      ASSERT_TRUE(params[i].grad().defined()) << i;
      const auto g = params[i].grad().to(torch::kFloat64);
      const auto d = g + wd * before[i];  // weight decay on every parameter, BN and bias too
      buffer[i] = buffer[i].defined() ? m * buffer[i] + d : d.clone();
      const auto expected = before[i] - lr * (d + m * buffer[i]);
      const auto after = params[i].detach().to(torch::kFloat64);
      EXPECT_LE((after - expected).abs().max().item<double>(), 1e-6) << "parameter " << i;
      EXPECT_GT((after - before[i]).abs().max().item<double>(), 1e-5) << "parameter " << i;
      // Plain momentum (w -= lr buf) would be told apart by this test.
      if ((after - (before[i] - lr * buffer[i])).abs().max().item<double>() > 1e-5)
        nesterov_matters = true;
    }
  }
  EXPECT_TRUE(nesterov_matters);
}

TEST(Training, LearningRateIsXautodlsCosinePerEpoch) {
  TrainingOptions o;
  const double pi = std::acos(-1.0);
  EXPECT_EQ(cosine_learning_rate(o, 0, 0, 16), 0.1);
  // NB201 (warmup 0) keeps one lr for the whole epoch.
  EXPECT_EQ(cosine_learning_rate(o, 0, 15, 16), 0.1);
  for (int e : {1, 2, 50, 199}) {
    EXPECT_DOUBLE_EQ(cosine_learning_rate(o, e, 0, 16), 0.05 * (1 + std::cos(pi * e / 200))) << e;
    EXPECT_EQ(cosine_learning_rate(o, e, 9, 16), cosine_learning_rate(o, e, 0, 16)) << e;
  }
  EXPECT_NEAR(cosine_learning_rate(o, 100, 3, 16), 0.05, 1e-17);
  EXPECT_EQ(cosine_learning_rate(o, 200, 0, 16), 0.0);
  EXPECT_EQ(cosine_learning_rate(o, 250, 0, 16), 0.0);
  // Fractional epochs on request, and a floor.
  o.lr_per_iteration = true;
  EXPECT_DOUBLE_EQ(cosine_learning_rate(o, 3, 4, 16), 0.05 * (1 + std::cos(pi * 3.25 / 200)));
  o.lr_min = 0.01;
  EXPECT_DOUBLE_EQ(cosine_learning_rate(o, 3, 4, 16),
                   0.01 + 0.09 * (1 + std::cos(pi * 3.25 / 200)) / 2);
  EXPECT_EQ(cosine_learning_rate(o, 200, 0, 16), 0.01);
}

TEST(Training, EpochsKeepThePartialBatchAndFollowTheFixedHorizon) {
  torch::set_num_threads(1);
  torch::manual_seed(0);
  auto net = test::make_tiny();
  const ImageSet set = tiny_images(10, 8);
  TrainingOptions o;
  o.batch_size = 4;
  Trainer trainer(net, set, o);
  EXPECT_EQ(trainer.iterations_per_epoch(), 3);
  const double pi = std::acos(-1.0);
  for (int e = 0; e < 2; ++e) {
    const EpochMetrics m = trainer.train_epoch();
    EXPECT_EQ(m.epoch, e + 1);
    EXPECT_EQ(trainer.epochs_done(), e + 1);
    EXPECT_EQ(m.images, 10);
    EXPECT_EQ(m.iterations, 3);
    // The horizon is 200 epochs whatever a caller trains.
    EXPECT_DOUBLE_EQ(m.lr_first, 0.05 * (1 + std::cos(pi * e / 200)));
    EXPECT_EQ(m.lr_last, m.lr_first);
    EXPECT_TRUE(std::isfinite(m.mean_loss));
    EXPECT_GE(m.accuracy, 0);
    EXPECT_LE(m.accuracy, 100);
    EXPECT_GT(m.seconds, 0);
  }
  o.lr_per_iteration = true;
  Trainer fractional(test::make_tiny(), set, o);
  const EpochMetrics m = fractional.train_epoch();
  EXPECT_EQ(m.lr_first, 0.1);
  EXPECT_DOUBLE_EQ(m.lr_last, 0.05 * (1 + std::cos(pi * (2.0 / 3) / 200)));
}

TEST(Training, FlipThenCropOfAKnownImage) {
  // 2 channels, 3 x 4, channel c pixel (y, x) = 100 c + 10 y + x + 1.
  std::vector<std::uint8_t> image;
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 4; ++x)
        image.push_back(static_cast<std::uint8_t>(100 * c + 10 * y + x + 1));
  auto apply = [&](bool flip, int top, int left) {
    std::vector<std::uint8_t> out(image.size(), 77);
    augment_image(image.data(), 2, 3, 4, /*padding=*/1, {flip, top, left}, out.data());
    return std::vector<int>(out.begin(), out.end());
  };
  // Crop at the padded image's corner: one zero row on top, one zero column on the left.
  EXPECT_EQ(apply(false, 0, 0),
            (std::vector<int>{0, 0, 0, 0, 0, 1,   2,   3,   0, 11,  12,  13,
                              0, 0, 0, 0, 0, 101, 102, 103, 0, 111, 112, 113}));
  // Mirrored first (columns 4 3 2 1), then the crop two rows down: the last row is padding.
  EXPECT_EQ(apply(true, 2, 1),
            (std::vector<int>{14,  13,  12,  11,  24,  23,  22,  21,  0, 0, 0, 0,
                              114, 113, 112, 111, 124, 123, 122, 121, 0, 0, 0, 0}));
  // Shifted one column right: the last column is padding.
  EXPECT_EQ(apply(false, 1, 2),
            (std::vector<int>{2,   3,   4,   0, 12,  13,  14,  0, 22,  23,  24,  0,
                              102, 103, 104, 0, 112, 113, 114, 0, 122, 123, 124, 0}));
  // The centred crop without a flip is the image.
  EXPECT_EQ(apply(false, 1, 1), std::vector<int>(image.begin(), image.end()));
}

TEST(Training, EpochPlansArePermutationsWithSeededAugmentation) {
  TrainingOptions o;
  o.seed = 4;
  const EpochPlan a = plan_epoch(64, o, 0);
  EXPECT_EQ(std::set<std::int64_t>(a.order.begin(), a.order.end()).size(), 64u);
  EXPECT_EQ(*std::max_element(a.order.begin(), a.order.end()), 63);
  int flips = 0;
  std::set<int> tops, lefts;
  for (const auto& g : a.augmentations) {
    flips += g.flip;
    tops.insert(g.top);
    lefts.insert(g.left);
  }
  EXPECT_GT(flips, 16);
  EXPECT_LT(flips, 48);
  EXPECT_EQ(*tops.begin(), 0);
  EXPECT_EQ(*tops.rbegin(), 8);
  EXPECT_EQ(*lefts.rbegin(), 8);
  // Reproducible from (seed, epoch) alone; other epochs and seeds differ.
  EXPECT_EQ(plan_epoch(64, o, 0).order, a.order);
  EXPECT_NE(plan_epoch(64, o, 1).order, a.order);
  TrainingOptions other = o;
  other.seed = 5;
  EXPECT_NE(plan_epoch(64, other, 0).order, a.order);
  other.horizontal_flip = false;
  for (const auto& g : plan_epoch(64, other, 0).augmentations) EXPECT_FALSE(g.flip);
}

TEST(Training, BatchesAreNormalisedAfterAugmentation) {
  const ImageSet set = tiny_images(2, 4);
  TrainingOptions o;
  o.crop_padding = 1;
  Trainer trainer(test::make_tiny(), set, o);
  EpochPlan plan;
  plan.order = {1, 0};
  plan.augmentations = {{false, 1, 1}, {false, 0, 0}};
  const auto [x, y] = trainer.make_batch(plan, 0, 2);
  ASSERT_EQ(x.sizes(), (std::vector<std::int64_t>{2, 3, 4, 4}));
  EXPECT_EQ(y[0].item<std::int64_t>(), 1);
  EXPECT_EQ(y[1].item<std::int64_t>(), 0);
  const auto& n = kCifar10Normalisation;
  for (int c = 0; c < 3; ++c) {
    // Image 1 unchanged at (c, 2, 3); image 0 shifted: padding at (c, 0, 0), its (0, 0) at (1, 1).
    const std::uint8_t p1 = set.image(1)[c * 16 + 2 * 4 + 3];
    EXPECT_EQ(x[0][c][2][3].item<float>(), (p1 / 255.0f - n.mean[c]) / n.std[c]);
    EXPECT_EQ(x[1][c][0][0].item<float>(), (0 / 255.0f - n.mean[c]) / n.std[c]);
    const std::uint8_t p0 = set.image(0)[c * 16];
    EXPECT_EQ(x[1][c][1][1].item<float>(), (p0 / 255.0f - n.mean[c]) / n.std[c]);
  }
}

TEST(Training, SameSeedGivesBitIdenticalWeightsAndLeavesTorchsGeneratorAlone) {
  torch::set_num_threads(1);
  const ImageSet set = tiny_images(12, 8);
  auto train = [&](std::uint64_t seed) {
    torch::manual_seed(11);
    auto net = test::make_tiny();
    TrainingOptions o;
    o.batch_size = 5;
    o.seed = seed;
    Trainer trainer(net, set, o);
    trainer.train_epoch();
    trainer.train_epoch();
    return state(*net);
  };
  const auto a = train(1);
  EXPECT_TRUE(bit_identical(a, train(1)));
  EXPECT_FALSE(bit_identical(a, train(2)));

  // Training draws nothing from torch's global generator.
  torch::manual_seed(11);
  auto net = test::make_tiny();
  Trainer trainer(net, set);
  torch::manual_seed(123);
  const auto expected = torch::rand({4});
  torch::manual_seed(123);
  trainer.train_epoch();
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected));
}

TEST(Training, LossFallsOnASeparableProblem) {
  torch::set_num_threads(1);
  torch::manual_seed(2);
  auto net = test::make_tiny();
  const ImageSet set = tiny_images(24, 8);
  TrainingOptions o;
  o.batch_size = 8;
  o.crop_padding = 1;
  Trainer trainer(net, set, o);
  std::vector<EpochMetrics> epochs;
  for (int e = 0; e < 8; ++e) epochs.push_back(trainer.train_epoch());
  for (const auto& m : epochs)
    std::printf("epoch %d: loss %.4f, accuracy %.1f %%\n", m.epoch, m.mean_loss, m.accuracy);
  EXPECT_LT(epochs.back().mean_loss, 0.7 * epochs.front().mean_loss);
  EXPECT_GT(epochs.back().accuracy, epochs.front().accuracy);
}

TEST(Training, NetworkModeAndGradientsAreLeftCleanAndDivergenceIsAnError) {
  torch::set_num_threads(1);
  torch::manual_seed(0);
  auto net = test::make_tiny();
  const ImageSet set = tiny_images(6, 8);
  Trainer trainer(net, set);
  net->eval();
  trainer.train_epoch();
  EXPECT_FALSE(net->is_training());
  for (const auto& p : net->parameters()) EXPECT_FALSE(p.grad().defined());

  {
    torch::NoGradGuard no_grad;
    net->fc->bias[0].fill_(std::nan(""));
  }
  const auto before = state(*net);
  try {
    trainer.train_epoch();
    FAIL() << "a NaN loss was trained on";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("diverged"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("epoch 2, iteration 1 of 1"), std::string::npos)
        << e.what();
  }
  // No update was made with the NaN loss (BN statistics of that forward aside).
  const auto params = net->parameters();
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(torch::equal(params[i].isnan(), before[i].isnan()) &&
                torch::equal(params[i].nan_to_num(), before[i].nan_to_num()))
        << i;
}

TEST(Training, BadInputsAreErrors) {
  const ImageSet set = tiny_images(4, 8);
  auto net = test::make_tiny();
  EXPECT_THROW(Trainer(net, ImageSet{}), Error);
  TrainingOptions o;
  o.batch_size = 0;
  EXPECT_THROW(Trainer(net, set, o), Error);
  o = {};
  o.momentum = 0;
  EXPECT_THROW(Trainer(net, set, o), Error);  // Nesterov without momentum
  o.nesterov = false;
  EXPECT_NO_THROW(Trainer(net, set, o));
  o = {};
  o.schedule_epochs = 0;
  EXPECT_THROW(Trainer(net, set, o), Error);
  o = {};
  o.crop_padding = -1;
  EXPECT_THROW(Trainer(net, set, o), Error);
}

}  // namespace
}  // namespace nbz
