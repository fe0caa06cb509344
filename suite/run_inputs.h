// What every architecture of a run is scored with besides its network, prepared once: the
// minibatch as tensors, TE-NAS's linear-region crops, the NNGP split; and the NB201 network
// factories. One definition, used by the sweep and by the benchmarks so that both measure the
// same thing.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>

#include "datasets/cifar10.h"
#include "proxies/nngp.h"
#include "suite/nb201_network.h"

namespace nbz {

std::pair<torch::Tensor, torch::Tensor> minibatch_tensors(const Minibatch& mb);

// TE-NAS's linear-region inputs: 3 x 1000 single-channel 3x3 crops of `train`, drawn with `seed`.
torch::Tensor linear_region_crops(const ImageSet& train, std::uint64_t seed);

// The NNGP split (proxies.md section 5): n_train + n_val distinct images of the named training
// image set drawn with the seed (train = the first n_train, validation = the last n_val, never
// test images) and a BatchNorm batch of up to 100 drawn from the train part. Throws nbz::Error for
// bad sizes.
std::unique_ptr<NngpData> prepare_nngp_split(const std::string& data_dir,
                                             const std::string& image_set, int n_train, int n_val,
                                             std::uint64_t seed, int input_size, int num_classes,
                                             std::string* description);

NetworkFactory nb201_factory(const nb201::Cell& cell, const nb201::NetworkOptions& options);
// TE-NAS's thin network for linear regions: one cell of 1 channel on the 1-channel input, no
// stem, no reduction, then the head (BN, ReLU, pool, Linear).
nb201::NetworkOptions nb201_thin_options(nb201::NetworkOptions full);

}  // namespace nbz
