// Gradient-at-initialisation proxies (proxies.md section 2) and the two gradient-statistics
// proxies of section 3 (zico, gradsign). Semantics of zero-cost-nas (Abdelfattah et al. 2021),
// ZiCo (Li et al. 2023, NASLib's two half-batches) and GradSign (Zhang & Jia 2022): per-tensor
// reductions in float32, summed over tensors in float64.
#include <cmath>

#include "proxies/proxy_functions.h"

namespace nbz {
namespace {

// sum over tensors of f(W_t, G_t) reduced to a scalar per tensor.
template <typename PerTensor>
double sum_over_tensors(const std::vector<torch::Tensor>& w, const std::vector<torch::Tensor>& g,
                        PerTensor per_tensor) {
  double total = 0;
  for (size_t i = 0; i < w.size(); ++i) total += per_tensor(w[i].detach(), g[i]).template item<double>();
  return total;
}

torch::Tensor grad_or_zeros(const torch::Tensor& grad, const torch::Tensor& like) {
  return grad.defined() ? grad : torch::zeros_like(like);
}

}  // namespace

double proxy_grad_norm(const PassArtifacts& a) {
  double total = 0;
  for (const auto& g : a.loss_grads) total += g.norm().item<double>();
  return total;
}

double proxy_snip(const PassArtifacts& a) {
  return sum_over_tensors(a.weights, a.loss_grads,
                          [](const torch::Tensor& w, const torch::Tensor& g) { return (w * g).abs().sum(); });
}

double proxy_plain(const PassArtifacts& a) {
  return sum_over_tensors(a.weights, a.loss_grads,
                          [](const torch::Tensor& w, const torch::Tensor& g) { return (w * g).sum(); });
}

std::vector<torch::Tensor> grasp_hessian_gradient(const std::vector<torch::Tensor>& grads_with_graph,
                                                  const std::vector<torch::Tensor>& weights) {
  torch::Tensor z;
  for (const auto& g : grads_with_graph) {
    auto term = (g.detach() * g).sum();
    z = z.defined() ? z + term : term;
  }
  auto hg = torch::autograd::grad({z}, weights, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                  /*allow_unused=*/true);
  for (size_t i = 0; i < hg.size(); ++i) hg[i] = grad_or_zeros(hg[i], weights[i]);
  return hg;
}

double proxy_grasp(const PassArtifacts& a) {
  // -theta * (H g), with zero-cost-nas's sign (accuracy correlates negatively with raw GraSP).
  return sum_over_tensors(a.weights, a.grasp_hg,
                          [](const torch::Tensor& w, const torch::Tensor& hg) { return (-w * hg).sum(); });
}

double proxy_fisher(const PassArtifacts& a) {
  double total = 0;
  for (size_t i = 0; i < a.fisher_activations.size(); ++i) {
    const auto act = a.fisher_activations[i].detach();
    const auto& grad = a.fisher_grads[i];
    // per sample and output channel: sum over spatial positions of act * dL/dact
    auto g_nk = act.dim() > 2 ? (act * grad).sum({2, 3}) : act * grad;
    // zero-cost-nas broadcasts each channel's value to every weight of that channel before
    // find_measures sums (reshape_elements), so a channel counts fan-in times
    // (docs/decisions.md, "fisher").
    const double channel_sum = g_nk.pow(2).mean(0).mul(0.5).abs().sum().item<double>();
    total += channel_sum * static_cast<double>(a.fisher_fan_ins[i]);
  }
  return total;
}

std::vector<std::vector<torch::Tensor>> half_batch_gradients(SearchNetworkImpl& net,
                                                             const torch::Tensor& images,
                                                             const torch::Tensor& labels) {
  net.train();
  const auto weights = net.weighted_layer_weights();
  const std::int64_t n = images.size(0);
  std::vector<std::vector<torch::Tensor>> grads;
  for (std::int64_t part = 0; part < 2; ++part) {
    const std::int64_t begin = part * n / 2, end = (part + 1) * n / 2;
    auto logits = net.forward(images.slice(0, begin, end));
    auto loss = torch::nn::functional::cross_entropy(logits, labels.slice(0, begin, end));
    auto g = torch::autograd::grad({loss}, weights, {}, false, false, /*allow_unused=*/true);
    for (size_t i = 0; i < g.size(); ++i) g[i] = grad_or_zeros(g[i], weights[i]);
    grads.push_back(std::move(g));
  }
  return grads;
}

double proxy_zico(const PassArtifacts& a) {
  double total = 0;
  const auto& g = a.half_batch_grads;
  for (size_t layer = 0; layer < g[0].size(); ++layer) {
    auto stacked = torch::stack({g[0][layer].flatten(), g[1][layer].flatten()}).to(torch::kFloat64);
    auto sd = stacked.std(0, /*unbiased=*/false);
    auto mean_abs = stacked.abs().mean(0);
    auto nonzero = sd != 0;
    const double s = (mean_abs.masked_select(nonzero) / sd.masked_select(nonzero)).sum().item<double>();
    if (s != 0) total += std::log(s);  // ZiCo skips layers whose sum is 0
  }
  return total;
}

double gradsign_from_rows(const torch::Tensor& rows) {
  // Column blocks bound the temporary sign matrix; |column sum| <= B is exact in any float type,
  // and the total (above 2^24 on large cells) is summed in float64.
  constexpr std::int64_t kBlock = 1 << 18;
  double total = 0;
  for (std::int64_t start = 0; start < rows.size(1); start += kBlock) {
    auto block = rows.narrow(1, start, std::min(kBlock, rows.size(1) - start));
    total += block.sign().sum(0).abs().to(torch::kFloat64).sum().item<double>();
  }
  return total;
}

double proxy_gradsign(const PassArtifacts& a) { return a.gradsign; }

double synflow_pass(const SearchNetworkImpl& net, const NetworkFactory& make_network,
                    const std::vector<std::int64_t>& input_shape) {
  // A separate copy so that no other proxy sees |weights| or float64.
  SearchNetwork copy = make_network();
  copy->to(net.parameters().front().device(), torch::kFloat64);
  copy_network_state(net, *copy);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : copy->parameters()) p.abs_();
    for (auto& b : copy->buffers())
      if (b.is_floating_point()) b.abs_();
  }
  copy->train();
  ForwardContext ctx;
  ctx.batchnorm = false;
  auto ones = torch::ones(input_shape, torch::TensorOptions().dtype(torch::kFloat64)
                                           .device(copy->parameters().front().device()));
  auto out = copy->forward(ones, ctx);
  auto weights = copy->weighted_layer_weights();
  auto grads = torch::autograd::grad({out.sum()}, weights, {}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  double total = 0;
  for (size_t i = 0; i < weights.size(); ++i)
    if (grads[i].defined()) total += (weights[i].detach() * grads[i]).abs().sum().item<double>();
  return total;
}

double proxy_synflow(const PassArtifacts& a) { return a.synflow_sum; }

double proxy_synflow_log(const PassArtifacts& a) { return std::log(a.synflow_sum); }

}  // namespace nbz
