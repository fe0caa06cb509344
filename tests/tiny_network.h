// A network small enough for independent golden computations: Conv3x3(3->4) -> BN -> ReLU ->
// Conv1x1(4->5) -> ReLU -> global pool -> Linear(5->3). It implements the same interface as the
// benchmark networks, so the engine runs on it unchanged.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proxies/engine.h"
#include "spaces/network.h"

namespace nbz::test {

class TinyNetworkImpl : public SearchNetworkImpl {
 public:
  TinyNetworkImpl() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1).bias(false)));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(4));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 5, 1).bias(false)));
    fc = register_module("fc", torch::nn::Linear(5, 3));
  }
  torch::Tensor features(const torch::Tensor& x, const ForwardContext& ctx) override {
    auto h = conv1->forward(x);
    if (ctx.taps) {
      ctx.taps->weighted_output(conv1->weight, h);
      ctx.taps->conv2d_io(*conv1, x, h);
    }
    if (ctx.batchnorm) h = ctx.per_sample_batchnorm ? per_sample_batchnorm(*bn1, h) : bn1->forward(h);
    auto a = tapped_relu(h, ctx);
    h = conv2->forward(a);
    if (ctx.taps) {
      ctx.taps->weighted_output(conv2->weight, h);
      ctx.taps->conv2d_io(*conv2, a, h);
    }
    return tapped_relu(h, ctx);
  }
  torch::Tensor classify(const torch::Tensor& pooled, const ForwardContext& ctx) override {
    auto y = fc->forward(pooled);
    if (ctx.taps) {
      ctx.taps->weighted_output(fc->weight, y);
      ctx.taps->linear_io(*fc, pooled, y);
    }
    return y;
  }

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Linear fc{nullptr};
};

inline std::shared_ptr<TinyNetworkImpl> make_tiny() { return std::make_shared<TinyNetworkImpl>(); }
inline NetworkFactory tiny_factory() {
  return [] { return std::static_pointer_cast<SearchNetworkImpl>(make_tiny()); };
}

// The tiny network with the initial weights the engine gives it under `seed`, in float64 and
// train mode: the independent side of a golden test.
inline std::shared_ptr<TinyNetworkImpl> float64_tiny(std::uint64_t seed) {
  torch::manual_seed(seed);
  auto net = make_tiny();
  net->to(torch::kFloat64);
  net->train();
  return net;
}

// The Conv/Linear weights, listed by hand so that golden tests do not rely on
// SearchNetworkImpl::weighted_layer_weights(), which the engine uses; the engine's order.
inline std::vector<torch::Tensor> tiny_weights(TinyNetworkImpl& n) {
  return {n.conv1->weight, n.conv2->weight, n.fc->weight};
}

// The engine's outcomes on one batch, by proxy name.
inline std::map<std::string, ProxyOutcome> engine_scores(const NetworkFactory& factory,
                                                         const torch::Tensor& images,
                                                         const torch::Tensor& labels,
                                                         std::uint64_t seed,
                                                         const std::string& proxies) {
  EngineInput in;
  in.make_network = factory;
  in.seed = seed;
  in.images = images;
  in.labels = labels;
  std::map<std::string, ProxyOutcome> out;
  for (const auto& p : score_architecture(in, resolve_proxy_list(proxies)).proxies)
    out[p.proxy->name] = p;
  return out;
}

// One random batch for the tiny network (images drawn under `image_seed`) and the engine's
// outcomes on it for every proxy under `net_seed`: the shared fixture of the golden tests.
struct GoldenBatch {
  torch::Tensor images, labels;
  std::map<std::string, ProxyOutcome> scores;

  // Adds a test failure, with the stored reason, when the engine did not score `name`.
  double score(const std::string& name) const {
    const auto& s = scores.at(name);
    EXPECT_TRUE(s.ok) << name << ": " << s.failure;
    return s.value;
  }
};

inline GoldenBatch golden_batch(std::uint64_t image_seed, const torch::Tensor& labels,
                                std::uint64_t net_seed) {
  GoldenBatch g;
  torch::manual_seed(image_seed);
  g.images = torch::randn({labels.size(0), 3, 4, 4});
  g.labels = labels;
  g.scores = engine_scores(tiny_factory(), g.images, g.labels, net_seed, "all");
  return g;
}

}  // namespace nbz::test
