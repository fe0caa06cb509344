// The NTK family (proxies.md section 4), TE-NAS recipe: per-sample backward of the summed logits
// through one batched train-mode forward, parameters whose name contains "weight", Theta = J J^T
// in float64, eigenvalues ascending from a symmetric solver.
#include <cmath>

#include "proxies/proxy_functions.h"

namespace nbz {

torch::Tensor ntk_from_logits(const torch::Tensor& logits,
                              const std::vector<torch::Tensor>& named_weights) {
  const std::int64_t b = logits.size(0);
  // J in float32 (B x P can be hundreds of MB), Theta accumulated in float64 by column blocks.
  auto j = torch::empty({b, total_numel(named_weights)}, logits.options());
  for (std::int64_t i = 0; i < b; ++i) {
    auto grads = torch::autograd::grad({logits[i].sum()}, named_weights, {}, /*retain_graph=*/true,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    // TE-NAS skips parameters without a gradient: their zeros add nothing to Theta.
    fill_gradient_row(j, i, grads, named_weights);
  }
  return gram_float64(j);
}

std::int64_t total_numel(const std::vector<torch::Tensor>& tensors) {
  std::int64_t n = 0;
  for (const auto& t : tensors) n += t.numel();
  return n;
}

void fill_gradient_row(torch::Tensor& rows, std::int64_t i, const std::vector<torch::Tensor>& grads,
                       const std::vector<torch::Tensor>& params) {
  std::int64_t offset = 0;
  for (size_t k = 0; k < params.size(); ++k) {
    const auto n = params[k].numel();
    auto part = rows[i].narrow(0, offset, n);
    if (grads[k].defined()) {
      part.copy_(grads[k].flatten());
    } else {
      part.zero_();
    }
    offset += n;
  }
}

torch::Tensor gram_float64(const torch::Tensor& rows) {
  const std::int64_t b = rows.size(0), p = rows.size(1);
  auto gram = torch::zeros({b, b}, rows.options().dtype(torch::kFloat64));
  constexpr std::int64_t kBlock = 1 << 18;
  for (std::int64_t start = 0; start < p; start += kBlock) {
    auto block = rows.narrow(1, start, std::min(kBlock, p - start)).to(torch::kFloat64);
    gram += torch::matmul(block, block.t());
  }
  return gram;
}

namespace {

torch::Tensor eigenvalues(const PassArtifacts& a) { return torch::linalg_eigvalsh(a.ntk); }

}  // namespace

double proxy_ntk_cond(const PassArtifacts& a) {
  auto v = eigenvalues(a);
  return (v[-1] / v[0]).item<double>();
}

double proxy_ntk_trace(const PassArtifacts& a) { return a.ntk.trace().item<double>(); }

double proxy_ntk_fro(const PassArtifacts& a) { return a.ntk.norm().item<double>(); }

double proxy_ntk_mean(const PassArtifacts& a) { return a.ntk.mean().item<double>(); }

double proxy_ntk_lambda_min(const PassArtifacts& a) { return eigenvalues(a)[0].item<double>(); }

double proxy_lga(const PassArtifacts& a) {
  auto y = a.labels.to(a.ntk.device());
  auto l = 2.0 * (y.unsqueeze(0) == y.unsqueeze(1)).to(torch::kFloat64) - 1.0;
  auto theta_c = a.ntk - a.ntk.mean();
  auto l_c = l - l.mean();
  return ((theta_c * l_c).sum() / (theta_c.norm() * l_c.norm())).item<double>();
}

}  // namespace nbz
