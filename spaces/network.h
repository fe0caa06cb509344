// The interface every search-space network implements, so that every proxy runs unchanged on
// NAS-Bench-201 and NAS-Bench-101. LibTorch's C++ modules have no forward hooks, so the places
// proxies observe (ReLU inputs, Conv/Linear inputs and outputs) are reported through ForwardTaps,
// and "BatchNorm removed" (synflow) and "BatchNorm per sample" (GradAlign's batch-1 fast path) are
// forward options rather than rebuilt networks.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

#include "spaces/second_order_layers.h"

namespace nbz {

class ForwardTaps {
 public:
  virtual ~ForwardTaps() = default;
  // Input of every ReLU, before the nonlinearity (what naswot codes).
  virtual void relu_input(const torch::Tensor& /*x*/) {}
  // Output of every Conv2d and Linear, with that layer's weight.
  virtual void weighted_output(const torch::Tensor& /*weight*/, const torch::Tensor& /*out*/) {}
  // The same layers again, with the module and the input it received: per-sample weight gradients
  // are formed from a layer's input and the gradient of its output (batched matmul / grouped-conv
  // weight gradient), so one backward gives all B of them (GradAlign's batch-1 fast path). Called
  // right after weighted_output, in the same order.
  virtual void conv2d_io(const torch::nn::Conv2dImpl& /*conv*/, const torch::Tensor& /*input*/,
                         const torch::Tensor& /*output*/) {}
  virtual void linear_io(const torch::nn::LinearImpl& /*linear*/, const torch::Tensor& /*input*/,
                         const torch::Tensor& /*output*/) {}
  // Output of every op-level module with a feature map (MeCo): each Conv2d, BatchNorm, ReLU and
  // pooling op, and each cell / reduction block. Identity and zero edges compute nothing and are
  // not reported.
  virtual void module_output(const torch::Tensor& /*out*/) {}
};

struct ForwardContext {
  ForwardTaps* taps = nullptr;
  // false = every BatchNorm is the identity (synflow's "BatchNorm removed" network).
  bool batchnorm = true;
  // true = every BatchNorm normalises each sample by its own statistics (mean and biased variance
  // over H, W per channel), which is what a batch of one computes in train mode, so the samples
  // of a batch stay independent. Running statistics are neither used nor updated.
  bool per_sample_batchnorm = false;
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

// Copies every parameter and buffer of `src` into `dst` (same architecture), converting to the
// device and dtype of each tensor of `dst`.
void copy_network_state(const SearchNetworkImpl& src, SearchNetworkImpl& dst);

// Reports a module output to the taps and passes it on.
inline torch::Tensor tapped_output(const torch::Tensor& out, const ForwardContext& ctx) {
  if (ctx.taps) ctx.taps->module_output(out);
  return out;
}

// Train-mode BatchNorm of each sample alone: [B, C, H, W] viewed as one sample of B*C channels,
// so the fused kernel (and its backward) computes the per-(sample, channel) statistics.
torch::Tensor per_sample_batchnorm(const torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x);

// BatchNorm (per sample when the context asks), or the identity when the context removes
// BatchNorm (synflow).
inline torch::Tensor tapped_batchnorm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x,
                                      const ForwardContext& ctx) {
  if (!ctx.batchnorm) return x;
  return tapped_output(ctx.per_sample_batchnorm ? per_sample_batchnorm(*bn, x) : batch_norm2d(*bn, x),
                       ctx);
}

// Applies ReLU after reporting its input to the taps.
inline torch::Tensor tapped_relu(const torch::Tensor& x, const ForwardContext& ctx) {
  if (ctx.taps) ctx.taps->relu_input(x);
  return tapped_output(torch::relu(x), ctx);
}

// A Linear layer (the classifier), reported to the taps like every Conv2d so that the proxies
// reading weighted layers (flops, the per-sample gradient fast path, ...) count it too.
inline torch::Tensor tapped_linear(torch::nn::Linear& layer, const torch::Tensor& x,
                                   const ForwardContext& ctx) {
  auto out = layer->forward(x);
  if (ctx.taps) {
    ctx.taps->weighted_output(layer->weight, out);
    ctx.taps->linear_io(*layer, x, out);
  }
  return out;
}

}  // namespace nbz
