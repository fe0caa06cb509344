// Gradient-at-initialisation proxies (proxies.md section 2), semantics of zero-cost-nas
// (Abdelfattah et al. 2021): per-tensor reductions in float32, summed over tensors.
#include <cmath>

#include "proxies/proxy_functions.h"

namespace nbz {

double proxy_grad_norm(const PassArtifacts& a) {
  double total = 0;
  for (const auto& g : a.loss_grads) total += g.norm().item<double>();
  return total;
}

double proxy_snip(const PassArtifacts& a) {
  double total = 0;
  for (size_t i = 0; i < a.weights.size(); ++i)
    total += (a.weights[i].detach() * a.loss_grads[i]).abs().sum().item<double>();
  return total;
}

double synflow_pass(const SearchNetworkImpl& net, const NetworkFactory& make_network,
                    const std::vector<std::int64_t>& input_shape) {
  // A separate copy so that no other proxy sees |weights| or float64.
  SearchNetwork copy = make_network();
  copy->to(torch::kFloat64);
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
