// Internal to proxies/: what the passes produce and the functions that turn it into scores.
// Each *_proxies.cpp file holds one family; proxies/engine.cpp binds them to catalog names.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "suite/network.h"
#include "suite/stopwatch.h"

namespace nbz {

// The products of the shared passes for one architecture. Only the fields of passes that ran are
// set.
struct PassArtifacts {
  SearchNetwork net;
  torch::Tensor images, labels;
  std::vector<torch::Tensor> weights;     // Conv/Linear weights of net
  double macs = 0;                        // Batch1Forward
  std::vector<torch::Tensor> loss_grads;  // LossGrad, aligned with weights
  torch::Tensor input_jacobian;           // InputJacobian, [B, C*H*W] float32
  torch::Tensor naswot_kernel;            // TrainForward with the ReLU-code tap, [B, B] float64
  double synflow_sum = 0;                 // Synflow
};

// --- architecture_proxies.cpp
// Counts multiply-accumulates of every Conv2d/Linear output it sees, per sample.
class MacCountingTaps : public ForwardTaps {
 public:
  void weighted_output(const torch::Tensor& weight, const torch::Tensor& out) override;
  double macs = 0;
};
double proxy_params(const PassArtifacts& a);
double proxy_flops(const PassArtifacts& a);
double proxy_l2_norm(const PassArtifacts& a);

// --- gradient_proxies.cpp
double proxy_grad_norm(const PassArtifacts& a);
double proxy_snip(const PassArtifacts& a);
// The synflow pass: a float64 copy of `net` with |parameters|, BatchNorm removed, one all-ones
// input of shape [1, C, H, W]; returns sum over Conv/Linear weights of |W * dR/dW|.
double synflow_pass(const SearchNetworkImpl& net, const NetworkFactory& make_network,
                    const std::vector<std::int64_t>& input_shape);
double proxy_synflow(const PassArtifacts& a);
double proxy_synflow_log(const PassArtifacts& a);

// --- activation_proxies.cpp
// Accumulates naswot's K from every ReLU input of the batched forward; times itself so the
// engine can charge that time to naswot rather than to the shared forward.
class ReluCodeTaps : public ForwardTaps {
 public:
  explicit ReluCodeTaps(std::int64_t batch) : kernel(torch::zeros({batch, batch}, torch::kFloat64)) {}
  void relu_input(const torch::Tensor& x) override;
  torch::Tensor kernel;
  double seconds = 0;
};
double proxy_naswot(const PassArtifacts& a);
double proxy_jacob_cov(const PassArtifacts& a);

}  // namespace nbz
