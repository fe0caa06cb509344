#include "bench/bare_passes.h"

#include <algorithm>

#include "foundation/errors.h"
#include "proxies/engine.h"

namespace nbz::bench {
namespace {

// Gradients are computed and dropped: the floor pays for the backward, not for using it.
void backward(const torch::Tensor& output, const std::vector<torch::Tensor>& inputs,
              bool create_graph = false) {
  (void)torch::autograd::grad({output}, inputs, {}, /*retain_graph=*/true, create_graph,
                              /*allow_unused=*/true);
}

std::vector<std::int64_t> shape_of_one(const torch::Tensor& images) {
  auto shape = images.sizes().vec();
  shape[0] = 1;
  return shape;
}

}  // namespace

BarePreparation prepare_bare_passes(const std::set<Pass>& passes, const BareInput& input) {
  BarePreparation prepared;
  if (passes.count(Pass::Synflow)) {
    torch::manual_seed(input.seed);
    prepared.float64_network = input.make_network();
    prepared.float64_network->to(input.device, torch::kFloat64);
    prepared.float64_network->train();
  }
  return prepared;
}

BareCounts run_bare_passes(const std::set<Pass>& passes, const BareInput& input,
                           const BarePreparation& prepared) {
  BareCounts count;
  auto has = [&](Pass p) { return passes.count(p) != 0; };
  const std::int64_t batch = input.images.size(0);

  SearchNetwork net;
  if (has(Pass::Build)) {
    torch::manual_seed(input.seed);
    net = input.make_network();
    net->to(input.device);
    ++count.builds;
  }
  auto network = [&]() -> SearchNetworkImpl& {
    NBZ_ASSERT(net, "a pass on the built network without the build pass");
    return *net;
  };

  if (has(Pass::Batch1Forward)) {
    torch::NoGradGuard no_grad;
    network().eval();
    network().forward(torch::zeros(shape_of_one(input.images), input.images.options()));
    ++count.forwards;
    count.forward_samples += 1;
  }

  const bool through_forward = has(Pass::LossGrad) || has(Pass::GraspHessian) ||
                               has(Pass::InputJacobian) || has(Pass::NtkJacobian) ||
                               has(Pass::SampleLossGrads);
  if (has(Pass::TrainForward) || through_forward) {
    network().train();
    torch::Tensor images = input.images;
    if (has(Pass::InputJacobian)) images = images.detach().clone().requires_grad_(true);
    torch::Tensor logits;
    if (through_forward) {
      logits = network().forward(images);
    } else {
      torch::NoGradGuard no_grad;
      logits = network().forward(images);
    }
    ++count.forwards;
    count.forward_samples += batch;
    const auto weights = network().weighted_layer_weights();
    if (has(Pass::LossGrad)) {
      backward(torch::nn::functional::cross_entropy(logits, input.labels), weights);
      ++count.backwards;
    }
    if (has(Pass::GraspHessian)) {
      auto grads = torch::autograd::grad({torch::nn::functional::cross_entropy(logits, input.labels)},
                                         weights, {}, /*retain_graph=*/true, /*create_graph=*/true,
                                         /*allow_unused=*/true);
      auto dot = torch::zeros({}, logits.options());
      for (const auto& g : grads)
        if (g.defined()) dot = dot + (g * g.detach()).sum();
      backward(dot, weights);
      count.backwards += 2;
    }
    if (has(Pass::InputJacobian)) {
      backward(logits.sum(), {images});
      ++count.backwards;
    }
    if (has(Pass::NtkJacobian)) {
      const auto named = network().named_weight_parameters();
      for (std::int64_t i = 0; i < batch; ++i) {
        backward(logits[i].sum(), named);
        ++count.backwards;
      }
    }
    if (has(Pass::SampleLossGrads)) {
      for (std::int64_t i = 0; i < batch; ++i) {
        backward(torch::nn::functional::cross_entropy(logits.slice(0, i, i + 1),
                                                      input.labels.slice(0, i, i + 1)),
                 weights);
        ++count.backwards;
      }
    }
  }

  if (has(Pass::Batch1LossGrads)) {
    network().train();
    ForwardContext ctx;
    ctx.per_sample_batchnorm = true;
    auto logits = network().forward(input.images, ctx);
    backward(torch::nn::functional::cross_entropy(
                 logits, input.labels,
                 torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum)),
             network().weighted_layer_weights());
    ++count.forwards;
    ++count.backwards;
    count.forward_samples += batch;
  }

  if (has(Pass::Synflow)) {
    auto& copy = *prepared.float64_network;
    ForwardContext ctx;
    ctx.batchnorm = false;
    auto out = copy.forward(
        torch::ones(shape_of_one(input.images), input.images.options().dtype(torch::kFloat64)), ctx);
    backward(out.sum(), copy.weighted_layer_weights());
    ++count.forwards;
    ++count.backwards;
    count.forward_samples += 1;
  }

  if (has(Pass::HalfBatchGrads)) {
    network().train();
    const auto weights = network().weighted_layer_weights();
    auto forward_backward = [&](std::int64_t begin, std::int64_t end) {
      auto logits = network().forward(input.images.slice(0, begin, end));
      backward(torch::nn::functional::cross_entropy(logits, input.labels.slice(0, begin, end)),
               weights);
      ++count.forwards;
      ++count.backwards;
      count.forward_samples += end - begin;
    };
    for (std::int64_t part = 0; part < 2; ++part)
        forward_backward(part * batch / 2, (part + 1) * batch / 2);
  }

  if (has(Pass::Zen)) {
    torch::NoGradGuard no_grad;
    torch::manual_seed(input.seed);
    SearchNetwork zen = input.make_network();
    zen->to(input.device);
    ++count.builds;
    zen->train();
    auto x = torch::randn(input.images.sizes()).to(input.device);
    zen->features(x, {});
    zen->features(x, {});
    count.forwards += 2;
    count.forward_samples += 2 * batch;
  }

  if (has(Pass::LinearRegions) && input.make_thin_network && input.linear_region_inputs.defined()) {
    torch::NoGradGuard no_grad;
    torch::manual_seed(input.seed);
    SearchNetwork thin = input.make_thin_network();
    thin->to(input.device);
    ++count.builds;
    thin->train();
    const auto& crops = input.linear_region_inputs;
    for (std::int64_t start = 0; start < crops.size(0); start += 1000) {
      const auto end = std::min(start + 1000, crops.size(0));
      thin->forward(crops.slice(0, start, end));
      ++count.forwards;
      count.forward_samples += end - start;
    }
  }

  if (has(Pass::Nngp) && input.nngp_data) {
    torch::NoGradGuard no_grad;
    const NngpData& data = *input.nngp_data;
    constexpr std::int64_t kChunk = 250;  // proxies/nngp.cpp's chunk
    torch::manual_seed(input.seed);
    for (int m = 0; m < input.nngp_members; ++m) {
      SearchNetwork member = input.make_network();
      member->to(input.device);
      ++count.builds;
      member->train();
      member->forward(data.bn_images.to(input.device));
      ++count.forwards;
      count.forward_samples += data.bn_images.size(0);
      member->eval();
      for (const auto* images : {&data.train_images, &data.val_images})
        for (std::int64_t start = 0; start < images->size(0); start += kChunk) {
          const auto end = std::min(start + kChunk, images->size(0));
          member->pooled_features(images->slice(0, start, end).to(input.device));
          ++count.forwards;
          count.forward_samples += end - start;
        }
    }
  }
  wait_for_device(input.device);
  return count;
}

}  // namespace nbz::bench
