// Internal to proxies/: what the passes produce and the functions that turn it into scores.
// Each *_proxies.cpp file holds one family (its passes, taps and reductions); proxies/engine.cpp
// schedules the passes and binds the reductions to catalog names.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "foundation/stopwatch.h"
#include "proxies/nngp.h"
#include "spaces/network.h"

namespace nbz {

// The products of the shared passes for one architecture. Only the fields of passes that ran are
// set.
struct PassArtifacts {
  SearchNetwork net;
  torch::Tensor images, labels;
  int num_classes = 0;
  std::vector<torch::Tensor> weights;     // Conv/Linear weights of net
  double macs = 0;                        // Batch1Forward
  std::vector<torch::Tensor> loss_grads;  // LossGrad, aligned with weights
  std::vector<torch::Tensor> grasp_hg;    // GraspHessian: H g, aligned with weights
  std::vector<torch::Tensor> fisher_activations, fisher_grads;  // TrainForward taps + LossGrad
  std::vector<std::int64_t> fisher_fan_ins;  // weights per output channel of each tapped layer
  torch::Tensor input_jacobian;           // InputJacobian, [B, C*H*W] float32
  torch::Tensor naswot_kernel;            // TrainForward with the ReLU-code tap, [B, B] float64
  double meco = 0;                        // TrainForward with the module-output tap
  double synflow_sum = 0;                 // Synflow
  double zen = 0;                         // Zen
  std::vector<std::vector<torch::Tensor>> half_batch_grads;  // HalfBatchGrads: 2 x weights
  double gradsign = 0;                    // Batch1LossGrads: sum_w |sum_i sign(g_i)_w|
  double linear_regions = 0;              // LinearRegions
  torch::Tensor ntk;                      // NtkJacobian: Theta, [B, B] float64
  // Gram matrices K = G G^T ([B, B] float64) of the per-sample loss gradients over the Conv/Linear
  // weights: SampleLossGrads (batched forward), Batch1LossGrads (each sample alone).
  torch::Tensor sample_loss_gram, batch1_loss_gram;
  NngpResult nngp;                        // Nngp
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
double proxy_plain(const PassArtifacts& a);
double proxy_grasp(const PassArtifacts& a);
double proxy_fisher(const PassArtifacts& a);
double proxy_zico(const PassArtifacts& a);
double proxy_gradsign(const PassArtifacts& a);
// GraSP's Hessian-gradient product: H g = d(g_detached . g)/dW, g built with create_graph.
std::vector<torch::Tensor> grasp_hessian_gradient(const std::vector<torch::Tensor>& grads_with_graph,
                                                  const std::vector<torch::Tensor>& weights);
// ZiCo's two minibatches: the two halves of the batch (NASLib), each forward + backward.
std::vector<std::vector<torch::Tensor>> half_batch_gradients(SearchNetworkImpl& net,
                                                             const torch::Tensor& images,
                                                             const torch::Tensor& labels);
// GradSign from per-sample gradient rows G [B, P]: sum over the P weights of |sum_i sign(G_iw)|
// (integer column sums, exact; the total in float64).
double gradsign_from_rows(const torch::Tensor& rows);
// The synflow pass: a float64 copy of `net` with |parameters|, BatchNorm removed, one all-ones
// input of shape [1, C, H, W]; returns sum over Conv/Linear weights of |W * dR/dW|.
double synflow_pass(const SearchNetworkImpl& net, const NetworkFactory& make_network,
                    const std::vector<std::int64_t>& input_shape);
double proxy_synflow(const PassArtifacts& a);
double proxy_synflow_log(const PassArtifacts& a);

// --- activation_proxies.cpp
// Accumulates naswot's K ([B, B] float64, on the device of the activations) from every ReLU input
// of the batched forward; undefined until the first ReLU.
class ReluCodeTaps : public ForwardTaps {
 public:
  void relu_input(const torch::Tensor& x) override;
  torch::Tensor kernel;
};
// MeCo: for every module output of the first image, the smallest eigenvalue of its channel
// correlation matrix (NaN/inf entries -> 0), summed.
class MecoTaps : public ForwardTaps {
 public:
  void module_output(const torch::Tensor& out) override;
  double sum = 0;
};
// Collects Conv/Linear outputs (fisher's activations), kept in the autograd graph, and each
// layer's fan-in (weights per output channel: C_in/groups * kh * kw, or in_features).
class WeightedOutputTaps : public ForwardTaps {
 public:
  void weighted_output(const torch::Tensor& weight, const torch::Tensor& out) override;
  std::vector<torch::Tensor> outputs;
  std::vector<std::int64_t> fan_ins;
};
double proxy_naswot(const PassArtifacts& a);
double proxy_jacob_cov(const PassArtifacts& a);
double proxy_epe_nas(const PassArtifacts& a);
double proxy_meco(const PassArtifacts& a);
// Zen-NAS on its own copy: Gaussian re-initialisation drawn after torch::manual_seed(seed), on
// the CPU generator, then moved to `options` (device and dtype of the run).
double zen_pass(const NetworkFactory& make_network, const std::vector<std::int64_t>& input_shape,
                std::uint64_t seed, const torch::TensorOptions& options);
double proxy_zen(const PassArtifacts& a);
// TE-NAS linear regions: the thin network built after torch::manual_seed(seed) and moved to the
// device and dtype of `inputs` ([N, 1, h, w]), train mode, batches of 1000; the count of distinct
// ReLU sign patterns.
double linear_region_pass(const NetworkFactory& make_thin_network, const torch::Tensor& inputs,
                          std::uint64_t seed);
double proxy_linear_regions(const PassArtifacts& a);

// --- ntk_proxies.cpp
// TE-NAS's empirical NTK from a batched train-mode forward: one backward of sum_c f_c(x_i) per
// sample over the parameters named "weight"; Theta = J J^T in float64.
torch::Tensor ntk_from_logits(const torch::Tensor& logits,
                              const std::vector<torch::Tensor>& named_weights);
// K = R R^T in float64 for rows R [B, P] (float32 in, accumulated in float64 by column blocks).
torch::Tensor gram_float64(const torch::Tensor& rows);
// Total number of elements of `tensors` (the length of a flattened gradient row).
std::int64_t total_numel(const std::vector<torch::Tensor>& tensors);
// Row i of `rows` = `grads` flattened and concatenated in the order of `params`, zeros where a
// gradient is undefined (the parameter does not reach that output).
void fill_gradient_row(torch::Tensor& rows, std::int64_t i, const std::vector<torch::Tensor>& grads,
                       const std::vector<torch::Tensor>& params);
double proxy_ntk_cond(const PassArtifacts& a);
double proxy_ntk_trace(const PassArtifacts& a);
double proxy_ntk_fro(const PassArtifacts& a);
double proxy_ntk_mean(const PassArtifacts& a);
double proxy_ntk_lambda_min(const PassArtifacts& a);
double proxy_lga(const PassArtifacts& a);

// --- gradalign_proxies.cpp (GradAlign, Li & Guo 2024). Each returns G [B, P] float32: row i is
// dL(x_i, y_i)/dW over `net.weighted_layer_weights()` concatenated (zeros where a weight gets no
// gradient).
// Through the shared batched train-mode forward (BatchNorm statistics of the whole batch): one
// backward per sample of its cross-entropy with the graph retained, as the NTK's Jacobian.
torch::Tensor sample_loss_gradients(const torch::Tensor& logits, const torch::Tensor& labels,
                                    const std::vector<torch::Tensor>& weights);
// Batch-1 semantics (GradSign's reference), literally: one train-mode forward and backward of
// each sample alone (updates BatchNorm running statistics B times, as that loop does).
torch::Tensor batch1_loss_gradients_loop(SearchNetworkImpl& net, const torch::Tensor& images,
                                         const torch::Tensor& labels);
// Batch-1 semantics, fast: one batched forward with per-sample BatchNorm (samples independent),
// one backward of the summed losses to every Conv/Linear output, then per-sample weight gradients
// from each layer's input and output gradient (batched matmul; for k x k or strided convs the
// weight gradient of a grouped convolution with one group per sample). Leaves running statistics
// untouched. Throws when the network does not report a Conv/Linear layer's input.
torch::Tensor batch1_loss_gradients_fast(SearchNetworkImpl& net, const torch::Tensor& images,
                                         const torch::Tensor& labels);
// From K = G G^T: u_i = g_i / |g_i|; gradalign = mean_i cos(u_i, mean_j u_j); gradalign_gram =
// log det (U U^T). Throw with the reason on a zero gradient, a zero mean direction or a singular
// U U^T (lambda_min <= B * eps * lambda_max, torch.linalg.matrix_rank's default tolerance).
double gradalign_from_gram(const torch::Tensor& k);
double gradalign_gram_from_gram(const torch::Tensor& k);
double proxy_gradalign(const PassArtifacts& a);
double proxy_gradalign_gram(const PassArtifacts& a);
double proxy_gradalign_b1(const PassArtifacts& a);
double proxy_gradalign_gram_b1(const PassArtifacts& a);

}  // namespace nbz
