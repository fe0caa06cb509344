// CIFAR-10 in the official binary layout (cifar-10-batches-bin): records of 3,073 bytes, a label
// byte then 1024 R, 1024 G, 1024 B bytes, row-major. Also the minibatch step shared by all image
// sets. Torch-free: images stay bytes until a minibatch is normalised into floats.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/image_set.h"

namespace nbz {

// Reads and concatenates any number of batch files. Throws nbz::Error naming the file when it is
// missing, its size is not a multiple of 3,073 bytes, or a label is >= num_classes.
ImageSet read_cifar_binary(const std::vector<std::string>& paths, int num_classes = 10);

// The exact CIFAR-10 training images of the shared data folder (checksum-verified first): the
// first 4,000 of the official training set, in official order.
ImageSet load_cifar10_train(const std::string& data_dir);

struct Normalisation {
  std::array<float, 3> mean;
  std::array<float, 3> std;
};
// The suite's standard CIFAR normalisation (proxies.md section 0).
constexpr Normalisation kCifar10Normalisation{{0.4914f, 0.4822f, 0.4465f},
                                              {0.2023f, 0.1994f, 0.2010f}};
// NAS-Bench-201's own constants (xautodl get_datasets: x / 255 in double, then float32 as torch
// converts them), for callers that normalise CIFAR-100 or ImageNet16 images as the benchmark did.
constexpr Normalisation kCifar100Normalisation{{129.3 / 255, 124.1 / 255, 112.4 / 255},
                                               {68.2 / 255, 65.4 / 255, 70.4 / 255}};
constexpr Normalisation kImageNet16Normalisation{{122.68 / 255, 116.66 / 255, 104.01 / 255},
                                                 {63.22 / 255, 61.26 / 255, 65.09 / 255}};

struct Minibatch {
  std::vector<std::int64_t> indices;  // into the ImageSet, in batch order (recorded in the run)
  std::vector<float> images;          // B x 3 x H x W, normalised
  std::vector<std::int64_t> labels;   // B
  int height = 32, width = 32;
};

// `count` single-channel size x size crops, each of a random image, position and channel drawn
// with `seed` (foundation/rng.h), normalised with that channel's mean and std: [count, 1, size, size]
// row-major. TE-NAS counts linear regions on such crops.
std::vector<float> random_single_channel_crops(const ImageSet& set, std::int64_t count, int size,
                                               std::uint64_t seed,
                                               const Normalisation& norm = kCifar10Normalisation);

// B distinct images drawn uniformly with `seed` (foundation/rng.h, so the same on every platform).
std::vector<std::int64_t> minibatch_indices(std::int64_t num_images, std::int64_t batch_size,
                                            std::uint64_t seed);

// Gathers and normalises images (x / 255 - mean) / std into out_size x out_size. When out_size is
// smaller than the (square, 3-channel) images, each output pixel is the mean of a factor x factor
// box (e.g. 32 px CIFAR images at 16 px, ImageNet16-120's input size, used as a surrogate); the
// factor must be a whole number. Throws nbz::Error for any other combination (e.g. 16 px images
// asked for at 32 px: no upsampling).
Minibatch make_minibatch(const ImageSet& set, const std::vector<std::int64_t>& indices,
                         const Normalisation& norm = kCifar10Normalisation, int out_size = 32);

}  // namespace nbz
