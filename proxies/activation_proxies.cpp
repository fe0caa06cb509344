// Jacobian and activation-pattern proxies (proxies.md section 3): naswot (Mellor et al. 2021,
// NASLib's nwot semantics) and jacob_cov (zero-cost-nas).
#include <cmath>

#include "proxies/proxy_functions.h"

namespace nbz {

void ReluCodeTaps::relu_input(const torch::Tensor& x) {
  Stopwatch watch;
  torch::NoGradGuard no_grad;
  auto c = (x.detach().flatten(1) > 0).to(torch::kFloat32);
  // c c^T + (1-c)(1-c)^T = 2 c c^T + D - |c_i| - |c_j|: one matmul instead of two. Entries are
  // integer counts below 2^24, so float32 is exact here.
  const double d = static_cast<double>(c.size(1));
  auto gram = torch::matmul(c, c.t()).to(torch::kFloat64);
  auto ones_count = c.sum(1).to(torch::kFloat64);
  kernel += 2.0 * gram + d - ones_count.unsqueeze(1) - ones_count.unsqueeze(0);
  seconds += watch.seconds();
}

double proxy_naswot(const PassArtifacts& a) {
  auto result = torch::linalg_slogdet(a.naswot_kernel);
  return std::get<1>(result).item<double>();
}

double proxy_jacob_cov(const PassArtifacts& a) {
  // np.corrcoef of the rows, in float64, clipped to [-1, 1] as numpy does.
  auto j = a.input_jacobian.to(torch::kFloat64);
  auto centred = j - j.mean(1, /*keepdim=*/true);
  auto cov = torch::matmul(centred, centred.t());
  auto sd = cov.diagonal().sqrt();
  // The reference gets NaN here (np.corrcoef of a constant row); name the cause instead of
  // handing a NaN matrix to the eigensolver.
  if ((sd == 0).any().item<bool>())
    throw std::runtime_error(
        "a sample's input Jacobian is constant (zero variance): its correlation is undefined");
  auto corr = (cov / sd.unsqueeze(1) / sd.unsqueeze(0)).clamp(-1.0, 1.0);
  auto v = torch::linalg_eigvalsh(corr);
  constexpr double k = 1e-5;
  return -(torch::log(v + k) + 1.0 / (v + k)).sum().item<double>();
}

}  // namespace nbz
