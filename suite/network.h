// The interface every search-space network implements, so that every proxy runs unchanged on
// NAS-Bench-201 and NAS-Bench-101. LibTorch's C++ modules have no forward hooks, so the places
// proxies observe (ReLU inputs, Conv/Linear outputs) are reported through ForwardTaps, and
// "BatchNorm removed" (synflow) is a forward option rather than a rebuilt network.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

namespace nbz {

class ForwardTaps {
 public:
  virtual ~ForwardTaps() = default;
  // Input of every ReLU, before the nonlinearity (what naswot codes).
  virtual void relu_input(const torch::Tensor& /*x*/) {}
  // Output of every Conv2d and Linear, with that layer's weight.
  virtual void weighted_output(const torch::Tensor& /*weight*/, const torch::Tensor& /*out*/) {}
  // Output of every op-level module with a feature map (MeCo): each Conv2d, BatchNorm, ReLU and
  // pooling op, and each cell / reduction block. Identity and zero edges compute nothing and are
  // not reported.
  virtual void module_output(const torch::Tensor& /*out*/) {}
};

struct ForwardContext {
  ForwardTaps* taps = nullptr;
  // false = every BatchNorm is the identity (synflow's "BatchNorm removed" network).
  bool batchnorm = true;
};

class SearchNetworkImpl : public torch::nn::Module {
 public:
  // Feature map that feeds global average pooling, [B, C, H, W].
  virtual torch::Tensor features(const torch::Tensor& x, const ForwardContext& ctx) = 0;
  // Logits from the globally pooled features [B, C].
  virtual torch::Tensor classify(const torch::Tensor& pooled, const ForwardContext& ctx) = 0;

  torch::Tensor pooled_features(const torch::Tensor& x, const ForwardContext& ctx = {}) {
    return torch::adaptive_avg_pool2d(features(x, ctx), {1, 1}).flatten(1);
  }
  torch::Tensor forward(const torch::Tensor& x, const ForwardContext& ctx = {}) {
    return classify(pooled_features(x, ctx), ctx);
  }

  // Weights of every Conv2d and Linear, in construction order (the proxies' "Conv/Linear weights").
  std::vector<torch::Tensor> weighted_layer_weights() const;
  // Parameters whose name contains "weight" (Conv, Linear, BN gamma): TE-NAS's NTK parameter set.
  std::vector<torch::Tensor> named_weight_parameters() const;
  std::int64_t num_trainable_parameters() const;
};
using SearchNetwork = std::shared_ptr<SearchNetworkImpl>;

// Builds one fresh network (weights drawn from torch's global generator at call time).
using NetworkFactory = std::function<SearchNetwork()>;

// Copies every parameter and buffer of `src` into `dst` (same architecture), converting dtype.
void copy_network_state(const SearchNetworkImpl& src, SearchNetworkImpl& dst);

// Reports a module output to the taps and passes it on.
inline torch::Tensor tapped_output(const torch::Tensor& out, const ForwardContext& ctx) {
  if (ctx.taps) ctx.taps->module_output(out);
  return out;
}

// BatchNorm, or the identity when the context removes BatchNorm (synflow).
inline torch::Tensor tapped_batchnorm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x,
                                      const ForwardContext& ctx) {
  return ctx.batchnorm ? tapped_output(bn->forward(x), ctx) : x;
}

// Applies ReLU after reporting its input to the taps.
inline torch::Tensor tapped_relu(const torch::Tensor& x, const ForwardContext& ctx) {
  if (ctx.taps) ctx.taps->relu_input(x);
  return tapped_output(torch::relu(x), ctx);
}

}  // namespace nbz
