// Architecture-only proxies: params, flops, l2_norm (proxies.md section 1).
#include "proxies/proxy_functions.h"

namespace nbz {

void MacCountingTaps::weighted_output(const torch::Tensor& weight, const torch::Tensor& out) {
  // Each output element of a Conv2d/Linear costs one MAC per weight of its output channel:
  // (C_in/groups * kh * kw) for Conv2d, in_features for Linear.
  const double per_output = static_cast<double>(weight.numel() / weight.size(0));
  macs += per_output * static_cast<double>(out.numel() / out.size(0));
}

double proxy_params(const PassArtifacts& a) {
  return static_cast<double>(a.net->num_trainable_parameters());
}

double proxy_flops(const PassArtifacts& a) { return a.macs / 1e6; }

double proxy_l2_norm(const PassArtifacts& a) {
  double total = 0;
  for (const auto& w : a.weights) total += w.detach().norm().item<double>();
  return total;
}

}  // namespace nbz
