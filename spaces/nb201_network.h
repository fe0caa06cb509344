// The exact NAS-Bench-201 network (../shared/docs/search_spaces.md). Modules are constructed in
// the order of the benchmark's PyTorch code (stem, cells edge by edge, reduction blocks conv_a,
// conv_b, shortcut, head), so torch::manual_seed(s) followed by construction draws the same
// weights as the Python model built after torch.manual_seed(s).
#pragma once

#include "spaces/nb201_space.h"
#include "spaces/network.h"

namespace nbz::nb201 {

struct NetworkOptions {
  int num_classes = 10;   // 10 CIFAR-10, 100 CIFAR-100, 120 ImageNet16-120
  int stem_channels = 16; // C
  int cells_per_stage = 5;  // N
  // false = no stem: the first cell takes the input directly, which must then have C channels
  // (TE-NAS's thin network for counting linear regions: C = 1, N = 1, 1-channel input).
  bool use_stem = true;
  // 3 stages with 2 reduction blocks between them; TE-NAS's thin network has 1 (no reduction).
  int num_stages = 3;
};

// ReLU -> Conv k x k (no bias) -> BN: nor_conv_kxk and the halves of the reduction block.
class ReLUConvBNImpl : public torch::nn::Module {
 public:
  ReLUConvBNImpl(int in_channels, int out_channels, int kernel, int stride);
  torch::Tensor forward(const torch::Tensor& x, const ForwardContext& ctx);

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ReLUConvBN);

// ResNet basic block with stride 2 between stages.
class ReductionBlockImpl : public torch::nn::Module {
 public:
  ReductionBlockImpl(int in_channels, int out_channels);
  torch::Tensor forward(const torch::Tensor& x, const ForwardContext& ctx);

  ReLUConvBN conv_a{nullptr}, conv_b{nullptr};
  torch::nn::Conv2d shortcut_conv{nullptr};
};
TORCH_MODULE(ReductionBlock);

class CellModuleImpl : public torch::nn::Module {
 public:
  CellModuleImpl(const Cell& cell, int channels);
  torch::Tensor forward(const torch::Tensor& x, const ForwardContext& ctx);

 private:
  Cell cell_;
  std::vector<ReLUConvBN> convs_;  // per edge; empty holders except on nor_conv edges
};
TORCH_MODULE(CellModule);

class NetworkImpl : public SearchNetworkImpl {
 public:
  NetworkImpl(const Cell& cell, const NetworkOptions& options = {});
  torch::Tensor features(const torch::Tensor& x, const ForwardContext& ctx) override;
  torch::Tensor classify(const torch::Tensor& pooled, const ForwardContext& ctx) override;

 private:
  torch::nn::Conv2d stem_conv_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr};
  std::vector<std::shared_ptr<torch::nn::Module>> stages_;  // CellModuleImpl or ReductionBlockImpl
  torch::nn::BatchNorm2d last_bn_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(Network);

}  // namespace nbz::nb201
