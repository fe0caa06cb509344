#include "spaces/pooling_3x3.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace nbz {
namespace {

bool own_kernel_applies(const torch::Tensor& x) {
  const auto type = x.scalar_type();
  return x.device().is_cpu() && x.dim() == 4 && (type == torch::kFloat || type == torch::kDouble);
}

// Calls body(p, bordered) for every plane p of a contiguous [planes, h, w] array, after copying
// plane p, each value through load(value, i, j), into the interior of `bordered`, an
// (h + 2) x (w + 2) buffer whose border keeps the value `border`: the stencils then read all nine
// neighbours of every position without a bounds check. Planes are split across LibTorch's
// intra-op threads, one buffer per chunk.
template <typename T, typename Load, typename Body>
void for_each_bordered_plane(const T* in, std::int64_t planes, std::int64_t h, std::int64_t w,
                             T border, const Load& load, const Body& body) {
  const std::int64_t pw = w + 2;
  at::parallel_for(0, planes, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> bordered(static_cast<std::size_t>((h + 2) * pw), border);
    for (std::int64_t p = begin; p < end; ++p) {
      const T* src = in + p * h * w;
      for (std::int64_t i = 0; i < h; ++i)
        for (std::int64_t j = 0; j < w; ++j)
          bordered[static_cast<std::size_t>((i + 1) * pw + j + 1)] = load(src[i * w + j], i, j);
      body(p, bordered.data());
    }
  });
}

// ---- average ----------------------------------------------------------------------------------

// out[i][j] = (sum over the valid 3x3 neighbours of in[i][j]) / divisor(i, j), the neighbours
// added to a zero in row-major order: LibTorch's CPU avg_pool2d forward when divide_first is
// false. With divide_first, in[i][j] / divisor(i, j) is added instead: its avg_pool2d_backward,
// which adds each output's grad / divisor to the inputs of its window, outputs in row-major
// order, i.e. for one input its neighbours in row-major order too. A zero border stands for the
// missing neighbours (adding +0 changes no partial sum).
template <typename T>
void box_stencil_3x3(const T* in, T* out, std::int64_t planes, std::int64_t h, std::int64_t w,
                     bool divide_first) {
  const std::int64_t pw = w + 2;
  auto divisor = [&](std::int64_t i, std::int64_t j) {
    const auto rows = std::min(i + 1, h - 1) - std::max<std::int64_t>(i - 1, 0) + 1;
    const auto cols = std::min(j + 1, w - 1) - std::max<std::int64_t>(j - 1, 0) + 1;
    return static_cast<T>(rows * cols);
  };
  auto load = [&](T v, std::int64_t i, std::int64_t j) {
    return divide_first ? v / divisor(i, j) : v;
  };
  for_each_bordered_plane(in, planes, h, w, T(0), load, [&](std::int64_t p, const T* bordered) {
    T* dst = out + p * h * w;
    for (std::int64_t i = 0; i < h; ++i) {
      const T* r0 = bordered + i * pw;
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

// ---- max --------------------------------------------------------------------------------------

// LibTorch's CPU max_pool2d_with_indices: per output the first valid input of the window to
// start, then a later one wins when greater or NaN (row-major order). A -inf border stands for
// the padding: it is never greater and never NaN, so it never wins.
template <typename T>
void max_stencil_3x3(const T* in, T* out, std::int64_t* indices, std::int64_t planes,
                     std::int64_t h, std::int64_t w) {
  const std::int64_t pw = w + 2;
  auto load = [](T v, std::int64_t, std::int64_t) { return v; };
  for_each_bordered_plane(
      in, planes, h, w, -std::numeric_limits<T>::infinity(), load,
      [&](std::int64_t p, const T* bordered) {
        for (std::int64_t i = 0; i < h; ++i)
          for (std::int64_t j = 0; j < w; ++j) {
            T best = -std::numeric_limits<T>::infinity();
            std::int64_t best_index =
                std::max<std::int64_t>(i - 1, 0) * w + std::max<std::int64_t>(j - 1, 0);
            for (std::int64_t a = 0; a < 3; ++a)
              for (std::int64_t b = 0; b < 3; ++b) {
                const T v = bordered[(i + a) * pw + j + b];
                if (v > best || std::isnan(v)) {
                  best = v;
                  best_index = (i + a - 1) * w + (j + b - 1);
                }
              }
            out[p * h * w + i * w + j] = best;
            indices[p * h * w + i * w + j] = best_index;
          }
      });
}

// max_pool2d_with_indices_backward: each output's gradient added to its argmax, outputs in
// row-major order (the order fixes the float sums where one input wins several windows).
template <typename T>
void scatter_to_argmax(const T* grad, const std::int64_t* indices, T* grad_input,
                       std::int64_t planes, std::int64_t size) {
  at::parallel_for(0, planes, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p)
      for (std::int64_t k = 0; k < size; ++k)
        grad_input[p * size + indices[p * size + k]] += grad[p * size + k];
  });
}

// The argmax indices are saved with save_for_backward rather than in saved_data, so that autograd
// frees them with the rest of the graph's buffers once a backward has run without retain_graph.
struct MaxPool3x3Backward : public torch::autograd::Function<MaxPool3x3Backward> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& grad,
                               const torch::Tensor& indices) {
    ctx->save_for_backward({indices});
    const auto g = grad.contiguous();
    auto grad_input = torch::zeros_like(g, torch::MemoryFormat::Contiguous);
    if (g.numel() == 0) return grad_input;
    const auto size = g.size(-2) * g.size(-1);
    AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "scatter_to_argmax", [&] {
      scatter_to_argmax(g.data_ptr<scalar_t>(), indices.data_ptr<std::int64_t>(),
                        grad_input.data_ptr<scalar_t>(), g.numel() / size, size);
    });
    return grad_input;
  }
  // max_pool_double_backward: the gradient of the scatter is the gather at the same indices.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto indices = ctx->get_saved_variables()[0];
    const auto flat = grads[0].contiguous().flatten(2);
    return {flat.gather(2, indices.flatten(2)).view(indices.sizes()), torch::Tensor()};
  }
};

struct MaxPool3x3 : public torch::autograd::Function<MaxPool3x3> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    const auto in = x.contiguous();
    auto out = torch::empty_like(in, torch::MemoryFormat::Contiguous);
    auto indices = torch::empty(in.sizes(), in.options().dtype(torch::kLong));
    if (in.numel() > 0) {
      const auto h = in.size(-2), w = in.size(-1);
      AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "max_stencil_3x3", [&] {
        max_stencil_3x3(in.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                        indices.data_ptr<std::int64_t>(), in.numel() / (h * w), h, w);
      });
    }
    ctx->save_for_backward({indices});
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return {MaxPool3x3Backward::apply(grads[0], ctx->get_saved_variables()[0])};
  }
};

}  // namespace

torch::Tensor avg_pool_3x3(const torch::Tensor& x) {
  if (own_kernel_applies(x)) return BoxAverage::apply(x);
  return torch::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}, /*ceil_mode=*/false,
                           /*count_include_pad=*/false);
}

torch::Tensor max_pool_3x3(const torch::Tensor& x) {
  if (own_kernel_applies(x)) return MaxPool3x3::apply(x);
  return torch::max_pool2d(x, {3, 3}, {1, 1}, {1, 1});
}

}  // namespace nbz
