#include "spaces/network.h"

#include "foundation/errors.h"

namespace nbz {

std::vector<torch::Tensor> SearchNetworkImpl::weighted_layer_weights() const {
  std::vector<torch::Tensor> weights;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(module.get())) {
      weights.push_back(conv->weight);
    } else if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(module.get())) {
      weights.push_back(linear->weight);
    }
  }
  return weights;
}

std::vector<torch::Tensor> SearchNetworkImpl::named_weight_parameters() const {
  std::vector<torch::Tensor> weights;
  for (const auto& item : named_parameters(/*recurse=*/true))
    if (item.key().find("weight") != std::string::npos) weights.push_back(item.value());
  return weights;
}

std::int64_t SearchNetworkImpl::num_trainable_parameters() const {
  std::int64_t n = 0;
  for (const auto& p : parameters(/*recurse=*/true))
    if (p.requires_grad()) n += p.numel();
  return n;
}

torch::Tensor per_sample_batchnorm(const torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
  NBZ_ASSERT(x.dim() == 4, "per-sample BatchNorm of a tensor that is not [B, C, H, W]");
  const std::int64_t b = x.size(0), c = x.size(1);
  // LibTorch's BatchNorm refuses a train-mode batch with one value per channel; a batch of one
  // 1x1 map is such a batch, so the per-sample form refuses it too.
  if (x.size(2) * x.size(3) == 1)
    throw std::runtime_error(
        "per-sample BatchNorm of a 1x1 feature map: a batch of one has a single value per channel "
        "in train mode");
  torch::Tensor weight, bias;
  if (bn.options.affine()) {
    weight = bn.weight.repeat({b});
    bias = bn.bias.repeat({b});
  }
  auto y = torch::batch_norm(x.reshape({1, b * c, x.size(2), x.size(3)}), weight, bias,
                             /*running_mean=*/{}, /*running_var=*/{}, /*training=*/true,
                             /*momentum=*/0.0, bn.options.eps(),
                             at::globalContext().userEnabledCuDNN());
  return y.reshape(x.sizes());
}

void copy_network_state(const SearchNetworkImpl& src, SearchNetworkImpl& dst) {
  torch::NoGradGuard no_grad;
  auto src_params = src.named_parameters(true);
  auto dst_params = dst.named_parameters(true);
  NBZ_ASSERT(src_params.size() == dst_params.size(), "copy between different architectures");
  for (const auto& item : src_params) {
    auto* target = dst_params.find(item.key());
    NBZ_ASSERT(target != nullptr, "missing parameter " + item.key());
    target->set_data(item.value().detach().to(target->device(), target->scalar_type()).clone());
  }
  auto src_buffers = src.named_buffers(true);
  auto dst_buffers = dst.named_buffers(true);
  for (const auto& item : src_buffers) {
    auto* target = dst_buffers.find(item.key());
    NBZ_ASSERT(target != nullptr, "missing buffer " + item.key());
    target->copy_(item.value());
  }
}

}  // namespace nbz
