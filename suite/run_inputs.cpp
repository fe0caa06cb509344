#include "suite/run_inputs.h"

#include "foundation/errors.h"
#include "foundation/rng.h"

namespace nbz {

std::pair<torch::Tensor, torch::Tensor> minibatch_tensors(const Minibatch& mb) {
  const auto b = static_cast<std::int64_t>(mb.indices.size());
  // cpu: the batch is made once on the host; the engine moves it (Build pass)
  auto images = torch::from_blob(const_cast<float*>(mb.images.data()), {b, 3, mb.height, mb.width},
                                 torch::kFloat32).clone();
  auto labels =  // cpu: as the images
      torch::from_blob(const_cast<std::int64_t*>(mb.labels.data()), {b}, torch::kInt64).clone();
  return {images, labels};
}

torch::Tensor linear_region_crops(const ImageSet& train, std::uint64_t seed) {
  auto crops = random_single_channel_crops(train, 3000, 3, seed);
  // cpu: made once on the host; the engine moves them (LinearRegions pass)
  return torch::from_blob(crops.data(), {3000, 1, 3, 3}, torch::kFloat32).clone();
}

std::unique_ptr<NngpData> prepare_nngp_split(const ImageSet& set, const std::string& set_name,
                                             int n_train, int n_val, std::uint64_t seed,
                                             int input_size, int num_classes) {
  if (n_train < 2 || n_val < 1)
    throw Error("NNGP split needs --nngp-train >= 2 and --nngp-val >= 1 (got " +
                std::to_string(n_train) + ", " + std::to_string(n_val) + ")");
  const std::int64_t need = n_train + n_val;
  if (need > set.size())
    throw Error("--nngp-train + --nngp-val = " + std::to_string(need) + " exceeds the " +
                std::to_string(set.size()) + " images of " + set_name);
  const auto order = sample_without_replacement(set.size(), need, seed ^ 0x6E6E67702D73706CULL);
  std::vector<std::int64_t> train(order.begin(), order.begin() + n_train);
  std::vector<std::int64_t> val(order.end() - n_val, order.end());
  std::vector<std::int64_t> bn_batch;
  for (auto i : sample_without_replacement(n_train, std::min(100, n_train), seed ^ 0x6E6E67702D626E00ULL))
    bn_batch.push_back(train[static_cast<size_t>(i)]);
  auto data = std::make_unique<NngpData>();
  std::tie(data->train_images, data->train_labels) =
      minibatch_tensors(make_minibatch(set, train, kCifar10Normalisation, input_size));
  std::tie(data->val_images, data->val_labels) =
      minibatch_tensors(make_minibatch(set, val, kCifar10Normalisation, input_size));
  data->bn_images =
      minibatch_tensors(make_minibatch(set, bn_batch, kCifar10Normalisation, input_size)).first;
  data->num_classes = num_classes;
  return data;
}

NetworkFactory nb201_factory(const nb201::Cell& cell, const nb201::NetworkOptions& options) {
  return [cell, options] {
    return std::static_pointer_cast<SearchNetworkImpl>(
        std::make_shared<nb201::NetworkImpl>(cell, options));
  };
}

NetworkFactory nb101_factory(const nb101::Cell& cell, const nb101::NetworkOptions& options) {
  return [cell, options] {
    return std::static_pointer_cast<SearchNetworkImpl>(
        std::make_shared<nb101::NetworkImpl>(cell, options));
  };
}

nb201::NetworkOptions nb201_thin_options(nb201::NetworkOptions full) {
  full.stem_channels = 1;
  full.cells_per_stage = 1;
  full.num_stages = 1;
  full.use_stem = false;
  return full;
}

}  // namespace nbz
