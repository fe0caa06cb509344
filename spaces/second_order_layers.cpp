#include "spaces/second_order_layers.h"

#include <array>
#include <tuple>
#include <vector>

namespace nbz {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Geometry {
  std::vector<std::int64_t> stride, padding, dilation;
  std::int64_t groups;
};

void save_geometry(AutogradContext* ctx, const Geometry& g) {
  ctx->saved_data["stride"] = g.stride;
  ctx->saved_data["padding"] = g.padding;
  ctx->saved_data["dilation"] = g.dilation;
  ctx->saved_data["groups"] = g.groups;
}

Geometry saved_geometry(AutogradContext* ctx) {
  return {ctx->saved_data["stride"].toIntVector(), ctx->saved_data["padding"].toIntVector(),
          ctx->saved_data["dilation"].toIntVector(), ctx->saved_data["groups"].toInt()};
}

torch::Tensor convolve(const torch::Tensor& x, const torch::Tensor& w, const Geometry& g) {
  return at::convolution(x, w, /*bias=*/{}, g.stride, g.padding, g.dilation, /*transposed=*/false,
                         /*output_padding=*/{0, 0}, g.groups);
}

// (input gradient, weight gradient) of y = conv(x, w) for dL/dy = grad_out, each computed only
// when asked for: the call ConvolutionBackward0 makes.
std::tuple<torch::Tensor, torch::Tensor> convolve_backward(const torch::Tensor& grad_out,
                                                           const torch::Tensor& x,
                                                           const torch::Tensor& w, const Geometry& g,
                                                           bool input_grad, bool weight_grad) {
  auto grads = at::convolution_backward(grad_out, x, w, /*bias_sizes=*/c10::nullopt, g.stride,
                                        g.padding, g.dilation, /*transposed=*/false,
                                        /*output_padding=*/{0, 0}, g.groups,
                                        {input_grad, weight_grad, false});
  return {std::get<0>(grads), std::get<1>(grads)};
}

// The backward of the convolution as a function of (grad_out, x, w), so that its own backward,
// the double backward, is ours. Its outputs are (dL/dx, dL/dw).
struct ConvolutionBackward : public torch::autograd::Function<ConvolutionBackward> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& grad_out,
                               const torch::Tensor& x, const torch::Tensor& w, Geometry g,
                               bool input_grad, bool weight_grad) {
    ctx->set_materialize_grads(false);
    ctx->save_for_backward({grad_out, x, w});
    save_geometry(ctx, g);
    auto [gx, gw] = convolve_backward(grad_out, x, w, g, input_grad, weight_grad);
    // A function's outputs must be tensors: a gradient not asked for is an empty placeholder.
    for (auto* out : {&gx, &gw}) {
      if (out->defined()) continue;
      *out = torch::empty({0}, grad_out.options());
      ctx->mark_non_differentiable({*out});
    }
    return {gx, gw};
  }

  // s = <ggx, dL/dx> + <ggw, dL/dw> = <grad_out, conv(ggx, w)> + <grad_out, conv(x, ggw)>, so
  //   ds/dgrad_out = conv(ggx, w) + conv(x, ggw)          (LibTorch's sum, in its order)
  //   ds/dx        = input gradient of conv(., ggw) for grad_out
  //   ds/dw        = weight gradient of conv(ggx, .) for grad_out
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& grad_out = saved[0];
    const auto& x = saved[1];
    const auto& w = saved[2];
    const Geometry g = saved_geometry(ctx);
    const auto& ggx = grads[0];
    const auto& ggw = grads[1];
    torch::Tensor d_grad_out, dx, dw;
    if (ctx->needs_input_grad(0)) {
      if (ggx.defined()) d_grad_out = convolve(ggx, w, g);
      if (ggw.defined()) {
        auto term = convolve(x, ggw, g);
        d_grad_out = d_grad_out.defined() ? d_grad_out + term : term;
      }
    }
    if (ctx->needs_input_grad(1) && ggw.defined())
      dx = std::get<0>(convolve_backward(grad_out, x, ggw, g, true, false));
    if (ctx->needs_input_grad(2) && ggx.defined())
      dw = std::get<1>(convolve_backward(grad_out, ggx, w, g, false, true));
    return {d_grad_out, dx, dw, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

struct Convolution : public torch::autograd::Function<Convolution> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w, Geometry g) {
    ctx->save_for_backward({x, w});
    save_geometry(ctx, g);
    return convolve(x, w, g);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const bool input_grad = ctx->needs_input_grad(0), weight_grad = ctx->needs_input_grad(1);
    auto grad_x_w = ConvolutionBackward::apply(grads[0], saved[0], saved[1], saved_geometry(ctx),
                                               input_grad, weight_grad);
    return {input_grad ? grad_x_w[0] : torch::Tensor(), weight_grad ? grad_x_w[1] : torch::Tensor(),
            torch::Tensor()};
  }
};

bool own_convolution_applies(const torch::nn::Conv2dImpl& conv, const torch::Tensor& x) {
  const auto type = x.scalar_type();
  return x.device().is_cpu() && x.dim() == 4 && (type == torch::kFloat || type == torch::kDouble) &&
         !conv.options.bias() &&
         c10::holds_alternative<torch::ExpandingArray<2>>(conv.options.padding()) &&
         c10::holds_alternative<torch::enumtype::kZeros>(conv.options.padding_mode());
}

// ---- BatchNorm2d ------------------------------------------------------------------------------

// Per-channel sums of g, g xhat, ggx, ggx xhat and ggx g over one [n, c, hw] channel, in float64
// with four partial sums per quantity (a fixed order, so the result is deterministic).
template <typename T>
std::array<double, 5> channel_sums(const T* x, const T* g, const T* ggx, std::int64_t n,
                                   std::int64_t c, std::int64_t hw, std::int64_t k, double mu,
                                   double is) {
  constexpr int kLanes = 4;
  double acc[5][kLanes] = {};
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t o = (i * c + k) * hw;
    const T *xr = x + o, *gr = g + o, *ggr = ggx + o;
    std::int64_t j = 0;
    for (; j + kLanes <= hw; j += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const double xhat = (static_cast<double>(xr[j + l]) - mu) * is;
        const double gj = gr[j + l], ggj = ggr[j + l];
        acc[0][l] += gj;
        acc[1][l] += gj * xhat;
        acc[2][l] += ggj;
        acc[3][l] += ggj * xhat;
        acc[4][l] += ggj * gj;
      }
    for (; j < hw; ++j) {
      const double xhat = (static_cast<double>(xr[j]) - mu) * is;
      const double gj = gr[j], ggj = ggr[j];
      acc[0][0] += gj;
      acc[1][0] += gj * xhat;
      acc[2][0] += ggj;
      acc[3][0] += ggj * xhat;
      acc[4][0] += ggj * gj;
    }
  }
  std::array<double, 5> sums{};
  for (size_t q = 0; q < 5; ++q)
    sums[q] = (acc[q][0] + acc[q][1]) + (acc[q][2] + acc[q][3]);
  return sums;
}

// The double backward of train-mode BatchNorm. Its backward, dL/dx = gamma invstd (g - mean(g) -
// xhat mean(g xhat)) with g = dL/dy, and dL/dgamma = sum(g xhat), dL/dbeta = sum(g) per channel,
// is a function of (g, x, gamma); batch mean and invstd are the forward's. The cotangents of its
// three outputs are (ggx, ggamma, gbeta). Per channel, with M values, a = gamma invstd,
// P = mean(g xhat), A = sum(ggx g), B = sum(ggx), C = sum(ggx xhat), and
// s = <ggx, dL/dx> + ggamma M P + gbeta sum(g):
//   ds/dg     = a (ggx - B/M - xhat C/M) + ggamma xhat + gbeta
//   ds/dx     = invstd (u - mean(u) - xhat mean(u xhat))
//               - invstd^2 gamma xhat (A - mean(g) B - P C) / M,
//               u = ds/dxhat = alpha g + beta ggx, alpha = ggamma - a C/M, beta = -a P
//   ds/dgamma = invstd (A - mean(g) B - P C)
// (xhat depends on x through the batch mean and invstd: d xhat_i/d x_j =
// invstd (delta_ij - 1/M - xhat_i xhat_j / M), d invstd/d x_j = -invstd^2 xhat_j / M.)
template <typename T>
void batch_norm_double_backward_kernel(const T* x, const T* g, const T* ggx, const T* gamma,
                                       const T* mean, const T* invstd, const T* ggamma,
                                       const T* gbeta, std::int64_t n, std::int64_t c,
                                       std::int64_t hw, T* d_g, T* d_x, T* d_gamma) {
  const double m = static_cast<double>(n * hw);
  at::parallel_for(0, c, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t k = begin; k < end; ++k) {
      const double mu = mean[k], is = invstd[k], gm = gamma[k];
      const auto [sum_g, sum_g_xhat, sum_gg, sum_gg_xhat, sum_gg_g] =
          channel_sums(x, g, ggx, n, c, hw, k, mu, is);
      const double a = gm * is, p = sum_g_xhat / m, mean_g = sum_g / m;
      const double gg_gamma = ggamma ? static_cast<double>(ggamma[k]) : 0.0;
      const double gg_beta = gbeta ? static_cast<double>(gbeta[k]) : 0.0;
      const double bracket = sum_gg_g - mean_g * sum_gg - p * sum_gg_xhat;
      d_gamma[k] = static_cast<T>(is * bracket);
      const double alpha = gg_gamma - a * sum_gg_xhat / m, beta = -a * p;
      const double mean_u = alpha * mean_g + beta * sum_gg / m;
      const double mean_u_xhat = alpha * p + beta * sum_gg_xhat / m;
      // ds/dg = a ggx + alpha xhat + g_0 and ds/dx = is alpha g + is beta ggx + x_xhat xhat + x_0.
      const double g_0 = gg_beta - a * sum_gg / m;
      const double x_xhat = -(is * mean_u_xhat + is * is * gm * bracket / m), x_0 = -is * mean_u;
      const double x_g = is * alpha, x_gg = is * beta;
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t o = (i * c + k) * hw;
        const T *xr = x + o, *gr = g + o, *ggr = ggx + o;
        T *dgr = d_g + o, *dxr = d_x + o;
        for (std::int64_t j = 0; j < hw; ++j) {
          const double xhat = (static_cast<double>(xr[j]) - mu) * is;
          const double ggj = ggr[j];
          dgr[j] = static_cast<T>(a * ggj + alpha * xhat + g_0);
          dxr[j] = static_cast<T>(x_g * static_cast<double>(gr[j]) + x_gg * ggj + x_xhat * xhat +
                                  x_0);
        }
      }
    }
  });
}

struct BatchNormBackward : public torch::autograd::Function<BatchNormBackward> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& grad_out,
                               const torch::Tensor& x, const torch::Tensor& gamma,
                               const torch::Tensor& mean, const torch::Tensor& invstd, double eps,
                               bool input_grad, bool gamma_grad, bool beta_grad) {
    ctx->set_materialize_grads(false);
    ctx->save_for_backward({grad_out, x, gamma, mean, invstd});
    // Train mode reads the batch statistics only: no running statistics are passed.
    auto grads = at::native_batch_norm_backward(grad_out, x, gamma, /*running_mean=*/{},
                                                /*running_var=*/{}, mean, invstd, /*train=*/true,
                                                eps, {input_grad, gamma_grad, beta_grad});
    variable_list out = {std::get<0>(grads), std::get<1>(grads), std::get<2>(grads)};
    for (auto& t : out) {
      if (t.defined()) continue;
      t = torch::empty({0}, grad_out.options());
      ctx->mark_non_differentiable({t});
    }
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto g = saved[0].contiguous(), x = saved[1].contiguous();
    const auto &gamma = saved[2], &mean = saved[3], &invstd = saved[4];
    // The cotangent of dL/dx is always there in GraSP's product; zeros stand in where it is not.
    const auto ggx = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(x);
    const auto& ggamma = grads[1];
    const auto& gbeta = grads[2];
    auto d_g = torch::empty_like(g, torch::MemoryFormat::Contiguous);
    auto d_x = torch::empty_like(x, torch::MemoryFormat::Contiguous);
    auto d_gamma = torch::empty_like(gamma);
    const auto ggamma_c = ggamma.defined() ? ggamma.contiguous() : torch::Tensor();
    const auto gbeta_c = gbeta.defined() ? gbeta.contiguous() : torch::Tensor();
    const auto gamma_c = gamma.contiguous(), mean_c = mean.to(x.scalar_type()).contiguous(),
               invstd_c = invstd.to(x.scalar_type()).contiguous();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "batch_norm_double_backward", [&] {
      auto ptr = [](const torch::Tensor& t) -> scalar_t* {
        return t.defined() ? t.data_ptr<scalar_t>() : nullptr;
      };
      batch_norm_double_backward_kernel<scalar_t>(
          ptr(x), ptr(g), ptr(ggx), ptr(gamma_c), ptr(mean_c), ptr(invstd_c), ptr(ggamma_c),
          ptr(gbeta_c), x.size(0), x.size(1), x.numel() / (x.size(0) * x.size(1)), ptr(d_g),
          ptr(d_x), ptr(d_gamma));
    });
    if (!ctx->needs_input_grad(0)) d_g = torch::Tensor();
    if (!ctx->needs_input_grad(1)) d_x = torch::Tensor();
    if (!ctx->needs_input_grad(2)) d_gamma = torch::Tensor();
    return {d_g,             d_x,             d_gamma,         torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

struct BatchNorm : public torch::autograd::Function<BatchNorm> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& gamma, const torch::Tensor& beta,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               double momentum, double eps) {
    auto [y, mean, invstd] = at::native_batch_norm(x, gamma, beta, running_mean, running_var,
                                                   /*training=*/true, momentum, eps);
    ctx->save_for_backward({x, gamma, mean, invstd});
    ctx->saved_data["eps"] = eps;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const bool input_grad = ctx->needs_input_grad(0), gamma_grad = ctx->needs_input_grad(1),
               beta_grad = ctx->needs_input_grad(2);
    auto g = BatchNormBackward::apply(grads[0], saved[0], saved[1], saved[2], saved[3],
                                      ctx->saved_data["eps"].toDouble(), input_grad, gamma_grad,
                                      beta_grad);
    return {input_grad ? g[0] : torch::Tensor(), gamma_grad ? g[1] : torch::Tensor(),
            beta_grad ? g[2] : torch::Tensor(),  torch::Tensor(),
            torch::Tensor(),                     torch::Tensor(),
            torch::Tensor()};
  }
};

bool own_batch_norm_applies(const torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
  const auto type = x.scalar_type();
  const auto& o = bn.options;
  // LibTorch refuses a train-mode batch with one value per channel: its module says so.
  return x.device().is_cpu() && x.dim() == 4 && (type == torch::kFloat || type == torch::kDouble) &&
         bn.is_training() && o.affine() && o.track_running_stats() && o.momentum().has_value() &&
         bn.num_batches_tracked.defined() && x.size(1) > 0 && x.numel() / x.size(1) > 1;
}

}  // namespace

torch::Tensor conv2d(torch::nn::Conv2dImpl& conv, const torch::Tensor& x) {
  if (!own_convolution_applies(conv, x)) return conv.forward(x);
  const auto& o = conv.options;
  const auto& padding = c10::get<torch::ExpandingArray<2>>(o.padding());
  const auto vec = [](c10::ArrayRef<std::int64_t> a) { return a.vec(); };
  Geometry g{vec(o.stride()), vec(padding), vec(o.dilation()), o.groups()};
  return Convolution::apply(x, conv.weight, g);
}

torch::Tensor batch_norm2d(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
  if (!own_batch_norm_applies(bn, x)) return bn.forward(x);
  {
    // What BatchNorm2dImpl::forward does to its counter in train mode with running statistics.
    torch::NoGradGuard no_grad;
    bn.num_batches_tracked += 1;
  }
  return BatchNorm::apply(x, bn.weight, bn.bias, bn.running_mean, bn.running_var,
                          *bn.options.momentum(), bn.options.eps());
}

}  // namespace nbz
