// The bare-pass floor of a proxy: the forward and backward passes the engine runs for it (the
// catalog's passes), run bare, i.e. without the proxy's taps, reductions, float64 kernels,
// eigen-decompositions, copies of state or bookkeeping. Engine time / floor time then says how much
// a proxy costs beyond the network evaluations it cannot avoid.
//
// What each pass is, bare (B = minibatch size, 64 by default):
//   build              construct the network after torch::manual_seed(seed)            1 build
//   batch1_forward     eval forward of one zero image, no autograd                      1 fwd
//   train_forward      train-mode forward of the minibatch; autograd only when a backward
//                      below needs the graph (input requiring grad for input_jacobian)   1 fwd
//   loss_grad          d(mean cross-entropy)/d(Conv/Linear weights)                     1 bwd
//   grasp_hessian      the same gradient with create_graph, then its Hessian-vector
//                      product (a backward through the gradient)                        2 bwd
//   input_jacobian     d(sum of logits)/d(input)                                        1 bwd
//   ntk_jacobian       one backward of each sample's summed logits over the "weight"
//                      parameters, through the shared forward                           B bwd
//   sample_loss_grads  one backward of each sample's cross-entropy over the Conv/Linear
//                      weights, through the shared forward                              B bwd
//   synflow_pass       float64 forward of one all-ones input without BatchNorm and its
//                      backward, on a float64 network made outside the timed region     1 fwd 1 bwd
//   zen_pass           build + two train-mode forwards of B random inputs, no autograd  1 build 2 fwd
//   half_batch_grads   two forwards of B/2 and their loss backwards                     2 fwd 2 bwd
//   batch1_loss_grads  train-mode forward of the minibatch with per-sample BatchNorm (the
//                      fast path's forward) and the backward of the summed loss over the
//                      Conv/Linear weights: what one ordinary batch gradient costs; the
//                      per-sample weight gradients (im2col, bmm) are the proxy's work    1 fwd 1 bwd
//   linear_regions_pass build of the thin network, forwards of its crops in batches of
//                      1000 (3000 crops of 1x3x3), no autograd                          1 build 3 fwd
//   nngp_pass          per member: build, one train-mode forward of the BatchNorm batch,
//                      eval forwards of the train and validation images in chunks of 250 M builds ...
// A pass set shares what the engine shares: one build, one train_forward for every backward
// through it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <set>
#include <string>

#include "proxies/catalog.h"
#include "proxies/nngp.h"
#include "spaces/network.h"

namespace nbz::bench {

struct BareInput {
  NetworkFactory make_network, make_thin_network;
  torch::Tensor linear_region_inputs;  // [N, 1, h, w]
  std::uint64_t seed = 0;
  torch::Tensor images, labels;  // the minibatch
  const NngpData* nngp_data = nullptr;  // on the CPU; chunks go to `device` as the engine's do
  int nngp_members = 4;
  torch::Device device = torch::kCPU;  // images, labels and crops are already there
};

// What one run of the floor did (the same every run).
struct BareCounts {
  int builds = 0, forwards = 0, backwards = 0;
  std::int64_t forward_samples = 0;
};

// Work prepared once per benchmark, outside the timed region (synflow's float64 network).
struct BarePreparation {
  SearchNetwork float64_network;
};
BarePreparation prepare_bare_passes(const std::set<Pass>& passes, const BareInput& input);

// Runs the bare version of `passes` once.
BareCounts run_bare_passes(const std::set<Pass>& passes, const BareInput& input,
                           const BarePreparation& prepared);

}  // namespace nbz::bench
