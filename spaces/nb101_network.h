// The exact NAS-Bench-101 network (../shared/docs/search_spaces.md), with the semantics of the
// benchmark's TensorFlow code (nasbench/lib/model_builder.py: build_module,
// compute_vertex_channels, truncate, projection; nasbench/lib/base_ops.py):
//
//   stem: Conv3x3(3 -> C) -> BN -> ReLU                                  (C = stem_channels = 128)
//   num_stacks stacks of cells_per_stack cells; before every stack but the first a 2x2 max-pool
//   with stride 2 ("same" padding) and the channel count doubled (128, 256, 512)
//   global average pool -> Linear(channels, num_classes) with bias
//
// A cell is built from the PRUNED spec. With V vertices (0 = input, V-1 = output):
//   * channels: the cell's output channels are split evenly over the interior vertices that feed
//     the output, the remainder going one each to the first of them (lowest index); every other
//     interior vertex gets the maximum channel count of its successors (compute_vertex_channels).
//   * vertex t (interior) sums, in this order, its interior predecessors (ascending index),
//     each truncated to t's channel count (first channels kept), then the 1x1 conv-BN-ReLU
//     projection of the cell input when input -> t exists; then applies its op:
//     conv3x3-bn-relu / conv1x1-bn-relu (to t's channel count) or maxpool3x3 (stride 1, pad 1).
//   * the output concatenates, in index order, the interior vertices that feed it and, when
//     input -> output exists, adds the projection of the input to the cell's output channels
//     (with no interior vertex feeding the output, V = 2, the output is that projection alone).
// Every conv: stride 1, "same" padding, no bias; BN: eps 1e-5, PyTorch momentum 0.003 (TF's
// 0.997), affine, tracking running stats. ReLUs go through tapped_relu and every Conv2d/Linear
// output through ForwardTaps::weighted_output (and with its input through conv2d_io / linear_io);
// ForwardContext::batchnorm = false makes every BN the identity (and leaves its running statistics
// untouched), per_sample_batchnorm = true normalises each sample alone.
//
// Construction order (weights are drawn from torch's global generator as modules are built, so
// this order is part of the reproducibility contract): the stem (conv, then BN); then every cell
// in network order (stack by stack, cell by cell); inside a cell, vertex by vertex in index order
// 1..V-1, for each vertex first its input projection (when input -> vertex exists; conv then BN)
// and then its op (conv then BN; max-pool has no module); the output vertex has only its
// projection; finally the classifier Linear. Forward visits the convs in this same order, so the
// taps' weighted_output calls come in the order of weighted_layer_weights().
//
// Initialisation is LibTorch's default for each module (Conv2d/Linear: kaiming-uniform with
// a = sqrt(5); BN: gamma 1, beta 0), not TF's variance-scaling: the benchmark only ships trained
// accuracies, not initial weights.
#pragma once

#include <vector>

#include "spaces/nb101_space.h"
#include "spaces/network.h"

namespace nbz::nb101 {

struct NetworkOptions {
  int num_classes = 10;
  int stem_channels = 128;
  int num_stacks = 3;
  int cells_per_stack = 3;
};

// Output channel count of every vertex of a pruned cell whose input has `input_channels` and
// whose output must have `output_channels` (model_builder.compute_vertex_channels): entry 0 is
// input_channels, entry V-1 output_channels. Throws nbz::Error when output_channels is too small
// to give every interior vertex at least one channel.
std::vector<int> compute_vertex_channels(const Cell& pruned_cell, int input_channels,
                                         int output_channels);

// Conv k x k (stride 1, same padding, no bias) -> BN -> ReLU: the ops conv3x3-bn-relu and
// conv1x1-bn-relu, the input projections (k = 1) and the stem (k = 3).
class ConvBnReluImpl : public torch::nn::Module {
 public:
  ConvBnReluImpl(int in_channels, int out_channels, int kernel);
  torch::Tensor forward(const torch::Tensor& x, const ForwardContext& ctx);

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvBnRelu);

// One cell (model_builder.build_module) of a pruned spec.
class CellModuleImpl : public torch::nn::Module {
 public:
  // `pruned_cell` must already be pruned (NetworkImpl does it).
  CellModuleImpl(const Cell& pruned_cell, int input_channels, int output_channels);
  torch::Tensor forward(const torch::Tensor& x, const ForwardContext& ctx);

  const std::vector<int>& vertex_channels() const { return vertex_channels_; }

 private:
  Cell cell_;
  std::vector<int> vertex_channels_;
  std::vector<ConvBnRelu> projections_;  // per vertex; set where input -> vertex exists
  std::vector<ConvBnRelu> ops_;          // per vertex; set on conv vertices
};
TORCH_MODULE(CellModule);

class NetworkImpl : public SearchNetworkImpl {
 public:
  // Prunes `cell` first. Throws nbz::Error when the cell is malformed, its input does not reach
  // its output, or it is outside the space after pruning (more than 9 edges), and on options
  // that cannot build a network (non-positive counts, too few channels).
  explicit NetworkImpl(const Cell& cell, const NetworkOptions& options = {});
  torch::Tensor features(const torch::Tensor& x, const ForwardContext& ctx) override;
  torch::Tensor classify(const torch::Tensor& pooled, const ForwardContext& ctx) override;

  // The pruned cell every module of the network is built from.
  const Cell& cell() const { return cell_; }
  const NetworkOptions& options() const { return options_; }

 private:
  Cell cell_;
  NetworkOptions options_;
  ConvBnRelu stem_{nullptr};
  std::vector<CellModule> cells_;  // stack-major
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(Network);

}  // namespace nbz::nb101
