// A network small enough for independent golden computations: Conv3x3(3->4) -> BN -> ReLU ->
// Conv1x1(4->5) -> ReLU -> global pool -> Linear(5->3). It implements the same interface as the
// benchmark networks, so the engine runs on it unchanged.
#pragma once

#include "suite/network.h"

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

}  // namespace nbz::test
