#include "spaces/nb201_network.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "foundation/errors.h"

namespace nbz::nb201 {
namespace {

// out[i][j] = (sum over the valid 3x3 neighbours of in[i][j]) / divisor(i, j), the neighbours
// added to a zero in row-major order: LibTorch's CPU avg_pool2d forward when divide_first is
// false. With divide_first, in[i][j] / divisor(i, j) is added instead: its avg_pool2d_backward,
// which adds each output's grad / divisor to the inputs of its window, outputs in row-major
// order, i.e. for one input its neighbours in row-major order too. A zero border stands for the
// missing neighbours (adding +0 changes no partial sum), so the inner loop has no branches.
template <typename T>
void box_stencil_3x3(const T* in, T* out, std::int64_t planes, std::int64_t h, std::int64_t w,
                     bool divide_first) {
  const std::int64_t pw = w + 2;
  auto divisor = [&](std::int64_t i, std::int64_t j) {
    const auto rows = std::min(i + 1, h - 1) - std::max<std::int64_t>(i - 1, 0) + 1;
    const auto cols = std::min(j + 1, w - 1) - std::max<std::int64_t>(j - 1, 0) + 1;
    return static_cast<T>(rows * cols);
  };
  at::parallel_for(0, planes, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> padded(static_cast<std::size_t>((h + 2) * pw), T(0));
    for (std::int64_t p = begin; p < end; ++p) {
      const T* src = in + p * h * w;
      for (std::int64_t i = 0; i < h; ++i)
        for (std::int64_t j = 0; j < w; ++j)
          padded[static_cast<std::size_t>((i + 1) * pw + j + 1)] =
              divide_first ? src[i * w + j] / divisor(i, j) : src[i * w + j];
      T* dst = out + p * h * w;
      for (std::int64_t i = 0; i < h; ++i) {
        const T* r0 = padded.data() + i * pw;
        const T* r1 = r0 + pw;
        const T* r2 = r1 + pw;
        for (std::int64_t j = 0; j < w; ++j) {
          T sum = 0;
          sum += r0[j];
          sum += r0[j + 1];
          sum += r0[j + 2];
          sum += r1[j];
          sum += r1[j + 1];
          sum += r1[j + 2];
          sum += r2[j];
          sum += r2[j + 1];
          sum += r2[j + 2];
          dst[i * w + j] = divide_first ? sum : sum / divisor(i, j);
        }
      }
    }
  });
}

torch::Tensor box_stencil_3x3(const torch::Tensor& x, bool divide_first) {
  const auto in = x.contiguous();
  auto out = torch::empty_like(in, torch::MemoryFormat::Contiguous);
  if (in.numel() == 0) return out;
  const auto h = in.size(-2), w = in.size(-1), planes = in.numel() / (h * w);
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "box_stencil_3x3", [&] {
    box_stencil_3x3(in.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), planes, h, w,
                    divide_first);
  });
  return out;
}

// The pair of autograd functions mirrors avg_pool2d's: the backward of the average is the
// transposed stencil (AvgPool2DBackward), whose own backward is the average again
// (avg_pool2d_backward's derivative), so GraSP's double backward takes the same path as well.
struct BoxAverageBackward;

struct BoxAverage : public torch::autograd::Function<BoxAverage> {
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& x) {
    return box_stencil_3x3(x, /*divide_first=*/false);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::variable_list grads);
};

struct BoxAverageBackward : public torch::autograd::Function<BoxAverageBackward> {
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& grad) {
    return box_stencil_3x3(grad, /*divide_first=*/true);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::variable_list grads) {
    return {BoxAverage::apply(grads[0])};
  }
};

torch::autograd::variable_list BoxAverage::backward(torch::autograd::AutogradContext*,
                                                    torch::autograd::variable_list grads) {
  return {BoxAverageBackward::apply(grads[0])};
}

torch::nn::BatchNorm2d make_bn(int channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels)
                                    .eps(1e-5)
                                    .momentum(0.1)
                                    .affine(true)
                                    .track_running_stats(true));
}


torch::Tensor tapped_conv(torch::nn::Conv2d& conv, const torch::Tensor& x,
                          const ForwardContext& ctx) {
  auto y = conv->forward(x);
  if (ctx.taps) {
    ctx.taps->weighted_output(conv->weight, y);
    ctx.taps->conv2d_io(*conv, x, y);
  }
  return tapped_output(y, ctx);
}

}  // namespace

torch::Tensor avg_pool_3x3(const torch::Tensor& x) {
  const auto type = x.scalar_type();
  if (x.device().is_cpu() && x.dim() == 4 && (type == torch::kFloat || type == torch::kDouble))
    return BoxAverage::apply(x);
  return torch::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}, /*ceil_mode=*/false,
                           /*count_include_pad=*/false);
}

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
