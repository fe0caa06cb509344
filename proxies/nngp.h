// NNGP Monte-Carlo performance (Park, Lee, Peng, Cao, Sohl-Dickstein 2020; proxies.md section 5):
// the validation accuracy of the Gaussian process whose kernel is estimated from M randomly
// initialised copies of the network.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "spaces/network.h"

namespace nbz {

struct NngpOptions {
  int n_train = 1000;
  int n_val = 500;
  int members = 4;  // M fresh initialisations
  int bn_batch = 100;
  std::vector<double> eps_grid = default_eps_grid();
  // logspace(-7, 2, 20), as numpy.logspace computes it.
  static std::vector<double> default_eps_grid();
};

// Images of the split (normalised, [N, C, H, W] float32) and labels ([N] int64).
struct NngpData {
  torch::Tensor train_images, train_labels;
  torch::Tensor val_images, val_labels;
  torch::Tensor bn_images;  // the batch that sets BatchNorm statistics
  int num_classes = 10;
};

struct NngpKernels {
  torch::Tensor train_train;  // K_tt [n_train, n_train] float64
  torch::Tensor val_train;    // K_vt [n_val, n_train] float64
};

// One train-mode forward of `batch` whose batch statistics become every BatchNorm's running
// statistics (momentum None for that forward; the configured momentum is restored after).
void set_batchnorm_statistics(SearchNetworkImpl& net, const torch::Tensor& batch);

// Accumulates K_tt and K_vt over `members` networks built in sequence after
// torch::manual_seed(seed). For each: BN statistics set to those of one train-mode forward of
// data.bn_images (momentum None: the running statistics become that batch's), then eval-mode
// globally pooled features of all train and validation images, in chunks. Networks are built on the
// CPU and moved to `options` (the run's device and dtype); the kernels are float64 on the CPU.
NngpKernels nngp_kernels(const NetworkFactory& make_network, const NngpData& data, int members,
                         std::uint64_t seed, const torch::TensorOptions& options);

struct NngpResult {
  double accuracy = 0;      // best validation accuracy over the eps grid, in [0, 1]
  double best_eps = 0;      // the smallest eps reaching it
  double val_loss = 0;      // mean squared error of the GP mean against the targets at best_eps
  int failed_factorisations = 0;
};

// Solves (K_tt + eps * tr(K_tt) / n * I) alpha = Y (Y = one-hot - 0.1) by Cholesky for each eps;
// a failed factorisation skips that eps. Throws std::runtime_error when every eps fails.
NngpResult nngp_solve(const NngpKernels& kernels, const torch::Tensor& train_labels,
                      const torch::Tensor& val_labels, int num_classes,
                      const std::vector<double>& eps_grid);

}  // namespace nbz
