#include "proxies/nngp.h"

#include <cmath>
#include <stdexcept>

namespace nbz {
namespace {

constexpr std::int64_t kChunk = 250;

torch::Tensor pooled_features_in_chunks(SearchNetworkImpl& net, const torch::Tensor& images,
                                        const torch::TensorOptions& options) {
  std::vector<torch::Tensor> parts;
  for (std::int64_t start = 0; start < images.size(0); start += kChunk) {
    auto chunk = images.slice(0, start, std::min(start + kChunk, images.size(0))).to(options);
    // cpu: the kernels are accumulated and solved in float64 on the host (nngp_solve)
    parts.push_back(net.pooled_features(chunk).to(torch::kFloat64).cpu());
  }
  return torch::cat(parts);
}

}  // namespace

void set_batchnorm_statistics(SearchNetworkImpl& net, const torch::Tensor& batch) {
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> saved;
  for (const auto& module : net.modules(false))
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) {
      saved.emplace_back(bn, bn->options.momentum());
      bn->reset_running_stats();
      bn->options.momentum(c10::nullopt);  // cumulative average: after one batch, that batch
    }
  net.train();
  net.forward(batch);
  for (auto& [bn, momentum] : saved) bn->options.momentum(momentum);
}

std::vector<double> NngpOptions::default_eps_grid() {
  // numpy.logspace(-7, 2, 20): 10 ** (i * step + start) with the last exponent set to stop.
  const double start = -7, stop = 2, step = (stop - start) / 19;
  std::vector<double> grid;
  for (int i = 0; i < 20; ++i) grid.push_back(std::pow(10.0, i == 19 ? stop : i * step + start));
  return grid;
}

NngpKernels nngp_kernels(const NetworkFactory& make_network, const NngpData& data, int members,
                         std::uint64_t seed, const torch::TensorOptions& options) {
  torch::NoGradGuard no_grad;
  const auto n_train = data.train_images.size(0), n_val = data.val_images.size(0);
  // cpu: the features come back to the host (pooled_features_in_chunks)
  NngpKernels k{torch::zeros({n_train, n_train}, torch::kFloat64),
                torch::zeros({n_val, n_train}, torch::kFloat64)};
  torch::manual_seed(seed);
  for (int m = 0; m < members; ++m) {
    SearchNetwork net = make_network();
    net->to(options.device(), options.dtype().toScalarType());
    set_batchnorm_statistics(*net, data.bn_images.to(options));
    net->eval();
    auto phi_t = pooled_features_in_chunks(*net, data.train_images, options);
    auto phi_v = pooled_features_in_chunks(*net, data.val_images, options);
    k.train_train += torch::matmul(phi_t, phi_t.t()) / members;
    k.val_train += torch::matmul(phi_v, phi_t.t()) / members;
  }
  return k;
}

NngpResult nngp_solve(const NngpKernels& kernels, const torch::Tensor& train_labels,
                      const torch::Tensor& val_labels, int num_classes,
                      const std::vector<double>& eps_grid) {
  const auto n = kernels.train_train.size(0);
  // cpu: the solve runs on the host, where nngp_kernels leaves the kernels
  auto targets = torch::one_hot(train_labels.cpu(), num_classes).to(torch::kFloat64) - 0.1;
  // cpu: as above
  auto val_targets = torch::one_hot(val_labels.cpu(), num_classes).to(torch::kFloat64) - 0.1;
  const double scale = kernels.train_train.trace().item<double>() / static_cast<double>(n);
  auto identity = torch::eye(n, torch::kFloat64);  // cpu: as the kernels
  NngpResult best;
  best.accuracy = -1;
  for (double eps : eps_grid) {
    auto [factor, info] =
        torch::linalg_cholesky_ex(kernels.train_train + eps * scale * identity);
    if (info.item<int>() != 0) {
      ++best.failed_factorisations;
      continue;
    }
    auto alpha = torch::cholesky_solve(targets, factor);
    auto prediction = torch::matmul(kernels.val_train, alpha);
    const double accuracy =  // cpu: prediction is on the host
        (prediction.argmax(1) == val_labels.cpu()).to(torch::kFloat64).mean().item<double>();
    if (accuracy > best.accuracy) {
      best.accuracy = accuracy;
      best.best_eps = eps;
      best.val_loss = (prediction - val_targets).pow(2).mean().item<double>();
    }
  }
  if (best.accuracy < 0)
    throw std::runtime_error("NNGP: the Cholesky factorisation failed for every eps of the grid");
  return best;
}

}  // namespace nbz
