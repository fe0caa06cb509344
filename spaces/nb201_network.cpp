#include "spaces/nb201_network.h"

#include "foundation/errors.h"
#include "spaces/pooling_3x3.h"
#include "spaces/second_order_layers.h"

namespace nbz::nb201 {
namespace {

torch::nn::BatchNorm2d make_bn(int channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels)
                                    .eps(1e-5)
                                    .momentum(0.1)
                                    .affine(true)
                                    .track_running_stats(true));
}

torch::Tensor tapped_conv(torch::nn::Conv2d& conv, const torch::Tensor& x,
                          const ForwardContext& ctx) {
  auto y = conv2d(*conv, x);
  if (ctx.taps) {
    ctx.taps->weighted_output(conv->weight, y);
    ctx.taps->conv2d_io(*conv, x, y);
  }
  return tapped_output(y, ctx);
}

}  // namespace


ReLUConvBNImpl::ReLUConvBNImpl(int in_channels, int out_channels, int kernel, int stride) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                       in_channels, out_channels, kernel)
                                                       .stride(stride)
                                                       .padding(kernel / 2)
                                                       .bias(false)));
  bn = register_module("bn", make_bn(out_channels));
}

torch::Tensor ReLUConvBNImpl::forward(const torch::Tensor& x, const ForwardContext& ctx) {
  return tapped_batchnorm(bn, tapped_conv(conv, tapped_relu(x, ctx), ctx), ctx);
}

ReductionBlockImpl::ReductionBlockImpl(int in_channels, int out_channels) {
  conv_a = register_module("conv_a", ReLUConvBN(in_channels, out_channels, 3, 2));
  conv_b = register_module("conv_b", ReLUConvBN(out_channels, out_channels, 3, 1));
  shortcut_conv = register_module(
      "shortcut_conv",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 1).bias(false)));
}

torch::Tensor ReductionBlockImpl::forward(const torch::Tensor& x, const ForwardContext& ctx) {
  auto branch = conv_b->forward(conv_a->forward(x, ctx), ctx);
  auto residual =
      tapped_conv(shortcut_conv, tapped_output(torch::avg_pool2d(x, {2, 2}, {2, 2}), ctx), ctx);
  return tapped_output(residual + branch, ctx);
}

CellModuleImpl::CellModuleImpl(const Cell& cell, int channels)
    : cell_(cell), convs_(kNumEdges, ReLUConvBN(nullptr)) {
  for (int e = 0; e < kNumEdges; ++e) {
    const Op op = cell.edges[static_cast<size_t>(e)];
    if (op == Op::Conv1x1 || op == Op::Conv3x3) {
      const int k = op == Op::Conv1x1 ? 1 : 3;
      convs_[static_cast<size_t>(e)] =
          register_module("edge" + std::to_string(e), ReLUConvBN(channels, channels, k, 1));
    }
  }
}

torch::Tensor CellModuleImpl::forward(const torch::Tensor& x, const ForwardContext& ctx) {
  std::array<torch::Tensor, kNumNodes> nodes;
  nodes[0] = x;
  for (int e = 0; e < kNumEdges; ++e) {
    const auto& in = nodes[static_cast<size_t>(edge_source(e))];
    torch::Tensor out;
    switch (cell_.edges[static_cast<size_t>(e)]) {
      case Op::None:
        out = in.mul(0.0);  // keeps NaN/inf propagation of the benchmark's Zero op
        break;
      case Op::SkipConnect:
        out = in;
        break;
      case Op::Conv1x1:
      case Op::Conv3x3:
        out = convs_[static_cast<size_t>(e)]->forward(in, ctx);
        break;
      case Op::AvgPool3x3:
        out = tapped_output(avg_pool_3x3(in), ctx);
        break;
    }
    auto& target = nodes[static_cast<size_t>(edge_target(e))];
    // Python's sum() adds left to right starting from 0: keep that order for identical bits.
    target = target.defined() ? target + out : out;
  }
  return tapped_output(nodes[3], ctx);
}

NetworkImpl::NetworkImpl(const Cell& cell, const NetworkOptions& options) {
  NBZ_ASSERT(options.num_classes > 0, "num_classes must be positive");
  const int c = options.stem_channels;
  if (options.use_stem) {
    stem_conv_ = register_module(
        "stem_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, c, 3).padding(1).bias(false)));
    stem_bn_ = register_module("stem_bn", make_bn(c));
  }
  int channels = c;
  int index = 0;
  for (int stage = 0; stage < options.num_stages; ++stage) {
    if (stage > 0) {
      stages_.push_back(register_module("stage" + std::to_string(index++),
                                        ReductionBlock(channels, channels * 2)));
      channels *= 2;
    }
    for (int i = 0; i < options.cells_per_stage; ++i)
      stages_.push_back(
          register_module("stage" + std::to_string(index++), CellModule(cell, channels)));
  }
  last_bn_ = register_module("last_bn", make_bn(channels));
  classifier_ = register_module("classifier", torch::nn::Linear(channels, options.num_classes));
}

torch::Tensor NetworkImpl::features(const torch::Tensor& x, const ForwardContext& ctx) {
  auto h = stem_conv_ ? tapped_batchnorm(stem_bn_, tapped_conv(stem_conv_, x, ctx), ctx) : x;
  for (auto& stage : stages_) {
    if (auto* cell = dynamic_cast<CellModuleImpl*>(stage.get())) {
      h = cell->forward(h, ctx);
    } else {
      h = static_cast<ReductionBlockImpl*>(stage.get())->forward(h, ctx);
    }
  }
  return tapped_relu(tapped_batchnorm(last_bn_, h, ctx), ctx);
}

torch::Tensor NetworkImpl::classify(const torch::Tensor& pooled, const ForwardContext& ctx) {
  return tapped_linear(classifier_, pooled, ctx);
}

}  // namespace nbz::nb201
