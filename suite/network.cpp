#include "suite/network.h"

#include "suite/errors.h"

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

void copy_network_state(const SearchNetworkImpl& src, SearchNetworkImpl& dst) {
  torch::NoGradGuard no_grad;
  auto src_params = src.named_parameters(true);
  auto dst_params = dst.named_parameters(true);
  NBZ_ASSERT(src_params.size() == dst_params.size(), "copy between different architectures");
  for (const auto& item : src_params) {
    auto* target = dst_params.find(item.key());
    NBZ_ASSERT(target != nullptr, "missing parameter " + item.key());
    target->set_data(item.value().detach().to(target->dtype()).clone());
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
