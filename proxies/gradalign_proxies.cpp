// GradAlign (Li & Guo 2024; proxies.md section 4): per-sample loss gradients g_i over the
// Conv/Linear weights, u_i = g_i / |g_i|, gradalign = mean_i cos(u_i, m) with m = mean_i u_i,
// gradalign_gram = log det G, G_ij = <u_i, u_j>. Both are functions of K = [<g_i, g_j>] alone, so
// the passes hand over K (float64) and never the B x P rows.
//
// Three ways to get the g_i (docs/decisions.md, "GradAlign"):
//  * sample_loss_gradients: through the batched train-mode forward the NTK also uses (BatchNorm
//    statistics couple the samples, so sample i's gradient needs its own backward);
//  * batch1_loss_gradients_loop: each sample forwarded alone (GradSign's reference), B forwards
//    and B backwards;
//  * batch1_loss_gradients_fast: the same batch-1 semantics from ONE forward with per-sample
//    BatchNorm and ONE backward; per-sample weight gradients from each layer's input and output
//    gradient (batched matmul, or the weight gradient of a per-sample grouped convolution), the
//    "per-example gradient" trick of Goodfellow (2015).
#include <cmath>
#include <limits>
#include <unordered_map>

#include "foundation/errors.h"
#include "foundation/torch_compat.h"
#include "proxies/proxy_functions.h"

namespace nbz {
namespace {

// Keeps every Conv2d/Linear call of one forward: the layer, its input and its output (in the
// graph, so that the backward can give dL/d output).
class LayerIoTaps : public ForwardTaps {
 public:
  struct Call {
    const torch::nn::Conv2dImpl* conv = nullptr;
    const torch::nn::LinearImpl* linear = nullptr;
    torch::Tensor input, output;
  };
  void conv2d_io(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input,
                 const torch::Tensor& output) override {
    calls.push_back({&conv, nullptr, input.detach(), output});
  }
  void linear_io(const torch::nn::LinearImpl& linear, const torch::Tensor& input,
                 const torch::Tensor& output) override {
    calls.push_back({nullptr, &linear, input.detach(), output});
  }
  std::vector<Call> calls;
};

// Per-sample dL_i/dW of a Conv2d, [B, C_out * C_in * kh * kw]: for sample i the sum over output
// positions of dL_i/dy_i(position) times the input patch there. A 1x1 stride-1 conv's patches are
// the input itself (one batched matmul). Otherwise the same contraction is the weight gradient of
// a grouped convolution in which every sample is its own group: the backend's weight-gradient
// kernel, without materialising the im2col patches (2-3x faster than im2col + bmm on NB201's
// 3x3 convs, docs/decisions.md).
torch::Tensor conv2d_sample_grads(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input,
                                  const torch::Tensor& grad_output) {
  const auto& o = conv.options;
  const auto* padding = torch_compat::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (o.groups() != 1 || !padding || !torch_compat::get_if<torch::enumtype::kZeros>(&o.padding_mode()))
    throw std::runtime_error(
        "per-sample weight gradients support Conv2d with groups = 1 and explicit zero padding only");
  const std::int64_t b = input.size(0), c_in = input.size(1), c_out = grad_output.size(1);
  const auto k = o.kernel_size(), s = o.stride(), d = o.dilation();
  const bool pointwise = k->at(0) == 1 && k->at(1) == 1 && s->at(0) == 1 && s->at(1) == 1 &&
                         (*padding)->at(0) == 0 && (*padding)->at(1) == 0;
  if (pointwise) {
    auto dy = grad_output.reshape({b, c_out, -1});  // [B, C_out, L]
    auto x = input.reshape({b, c_in, -1});          // [B, C_in, L]
    return torch::bmm(dy, x.transpose(1, 2)).reshape({b, -1});
  }
  auto grouped_weight = torch::empty({b * c_out, c_in, k->at(0), k->at(1)}, input.options());
  auto grads = at::convolution_backward(
      grad_output.reshape({1, b * c_out, grad_output.size(2), grad_output.size(3)}),
      input.reshape({1, b * c_in, input.size(2), input.size(3)}), grouped_weight,
      /*bias_sizes=*/c10::nullopt, *s, **padding, *d, /*transposed=*/false,
      /*output_padding=*/{0, 0}, /*groups=*/b, /*output_mask=*/{false, true, false});
  return std::get<1>(grads).reshape({b, -1});
}

// Per-sample dL_i/dW of a Linear, [B, out * in] (inputs [B, ..., in]: summed over the middle).
torch::Tensor linear_sample_grads(const torch::Tensor& input, const torch::Tensor& grad_output) {
  const std::int64_t b = input.size(0);
  auto x = input.reshape({b, -1, input.size(-1)});              // [B, N, in]
  auto dy = grad_output.reshape({b, -1, grad_output.size(-1)});  // [B, N, out]
  return torch::bmm(dy.transpose(1, 2), x).reshape({b, -1});
}

// u_i . u_j from K = [g_i . g_j]; a zero g_i has no direction.
torch::Tensor normalised_gram(const torch::Tensor& k) {
  NBZ_ASSERT(k.dim() == 2 && k.size(0) == k.size(1) && k.scalar_type() == torch::kFloat64,
             "GradAlign needs a square float64 Gram matrix");
  auto norms = k.diagonal().sqrt();
  const auto zero = (norms == 0).nonzero();
  if (zero.size(0) > 0)
    throw std::runtime_error(
        "sample " + std::to_string(zero[0][0].item<std::int64_t>()) + " of " +
        std::to_string(k.size(0)) + " (and " + std::to_string(zero.size(0) - 1) +
        " more) has a zero loss gradient over the Conv/Linear weights: its direction is undefined");
  return k / (norms.unsqueeze(1) * norms.unsqueeze(0));
}

}  // namespace

torch::Tensor sample_loss_gradients(const torch::Tensor& logits, const torch::Tensor& labels,
                                    const std::vector<torch::Tensor>& weights) {
  const std::int64_t b = logits.size(0);
  auto rows = torch::empty({b, total_numel(weights)}, logits.options());
  for (std::int64_t i = 0; i < b; ++i) {
    // The reference's F.cross_entropy(logits[i:i+1], y[i:i+1]): a batch of one, mean = itself.
    auto loss = torch::nn::functional::cross_entropy(logits.slice(0, i, i + 1),
                                                     labels.slice(0, i, i + 1));
    auto grads = torch::autograd::grad({loss}, weights, {}, /*retain_graph=*/true,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    fill_gradient_row(rows, i, grads, weights);
  }
  return rows;
}

torch::Tensor batch1_loss_gradients_loop(SearchNetworkImpl& net, const torch::Tensor& images,
                                         const torch::Tensor& labels) {
  net.train();
  const auto weights = net.weighted_layer_weights();
  const std::int64_t b = images.size(0);
  auto rows = torch::empty({b, total_numel(weights)}, images.options());
  for (std::int64_t i = 0; i < b; ++i) {
    auto logits = net.forward(images.slice(0, i, i + 1));
    auto loss = torch::nn::functional::cross_entropy(logits, labels.slice(0, i, i + 1));
    auto grads = torch::autograd::grad({loss}, weights, {}, /*retain_graph=*/false,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    fill_gradient_row(rows, i, grads, weights);
  }
  return rows;
}

torch::Tensor batch1_loss_gradients_fast(SearchNetworkImpl& net, const torch::Tensor& images,
                                         const torch::Tensor& labels) {
  net.train();
  const auto weights = net.weighted_layer_weights();
  const std::int64_t b = images.size(0);
  // Where each weight's block starts in a row, by tensor identity.
  std::unordered_map<const c10::TensorImpl*, size_t> index_of;
  std::vector<std::int64_t> offsets;
  std::int64_t p = 0;
  for (size_t k = 0; k < weights.size(); ++k) {
    index_of[weights[k].unsafeGetTensorImpl()] = k;
    offsets.push_back(p);
    p += weights[k].numel();
  }

  LayerIoTaps io;
  ForwardContext ctx;
  ctx.taps = &io;
  ctx.per_sample_batchnorm = true;
  auto logits = net.forward(images, ctx);
  // With per-sample statistics sample i's activations depend on x_i alone, so the gradient of
  // the summed losses at sample i's slice of any layer output is dL_i/d output_i.
  auto loss = torch::nn::functional::cross_entropy(
      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  std::vector<torch::Tensor> outputs;
  for (const auto& call : io.calls) outputs.push_back(call.output);
  auto grad_outputs = torch::autograd::grad({loss}, outputs, {}, /*retain_graph=*/false,
                                            /*create_graph=*/false, /*allow_unused=*/true);

  auto rows = torch::empty({b, p}, images.options());
  std::vector<bool> reported(weights.size(), false), written(weights.size(), false);
  for (size_t c = 0; c < io.calls.size(); ++c) {
    const auto& call = io.calls[c];
    const torch::Tensor& w = call.conv ? call.conv->weight : call.linear->weight;
    auto it = index_of.find(w.unsafeGetTensorImpl());
    NBZ_ASSERT(it != index_of.end(), "a tapped layer whose weight is not a Conv/Linear weight");
    const size_t k = it->second;
    reported[k] = true;
    if (!grad_outputs[c].defined()) continue;  // the output does not reach the loss: zero gradient
    auto g = call.conv ? conv2d_sample_grads(*call.conv, call.input, grad_outputs[c])
                       : linear_sample_grads(call.input, grad_outputs[c]);
    auto block = rows.narrow(1, offsets[k], weights[k].numel());
    // A layer called twice in one forward sums its contributions.
    if (written[k]) {
      block.add_(g);
    } else {
      block.copy_(g);
    }
    written[k] = true;
  }
  for (size_t k = 0; k < weights.size(); ++k) {
    if (!reported[k])
      throw std::runtime_error("the network does not report the input of Conv/Linear weight " +
                               std::to_string(k) + " of " + std::to_string(weights.size()) +
                               " (ForwardTaps::conv2d_io / linear_io): no per-sample fast path");
    if (!written[k]) rows.narrow(1, offsets[k], weights[k].numel()).zero_();
  }
  return rows;
}

double gradalign_from_gram(const torch::Tensor& k) {
  const auto g = normalised_gram(k);
  // <u_i, m> = mean_j G_ij and |m|^2 = mean_ij G_ij.
  const double m_norm_sq = g.mean().item<double>();
  if (!(m_norm_sq > 0))
    throw std::runtime_error(
        "the mean of the normalised per-sample gradients is zero: cos(u_i, m) is undefined");
  auto cos = g.mean(1) / (g.diagonal().sqrt() * std::sqrt(m_norm_sq));
  return cos.mean().item<double>();
}

double gradalign_gram_from_gram(const torch::Tensor& k) {
  const auto g = normalised_gram(k);
  const auto eig = torch::linalg_eigvalsh(g);  // ascending
  const double lo = eig[0].item<double>(), hi = eig[-1].item<double>();
  const double tol = static_cast<double>(g.size(0)) * std::numeric_limits<double>::epsilon() * hi;
  if (!(lo > tol)) {
    char detail[160];
    std::snprintf(detail, sizeof detail, "lambda_min %.3g <= %lld * eps * lambda_max (%.3g)", lo,
                  static_cast<long long>(g.size(0)), hi);
    throw std::runtime_error(
        "the Gram matrix of the normalised per-sample gradients is singular (" +
        std::string(detail) + "): log det is -inf");
  }
  return eig.log().sum().item<double>();
}

double proxy_gradalign(const PassArtifacts& a) { return gradalign_from_gram(a.sample_loss_gram); }
double proxy_gradalign_gram(const PassArtifacts& a) {
  return gradalign_gram_from_gram(a.sample_loss_gram);
}
double proxy_gradalign_b1(const PassArtifacts& a) { return gradalign_from_gram(a.batch1_loss_gram); }
double proxy_gradalign_gram_b1(const PassArtifacts& a) {
  return gradalign_gram_from_gram(a.batch1_loss_gram);
}

}  // namespace nbz
