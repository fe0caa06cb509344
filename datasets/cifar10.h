// CIFAR-10 in the official binary layout (cifar-10-batches-bin): records of 3,073 bytes, a label
// byte then 1024 R, 1024 G, 1024 B bytes, row-major. Torch-free: images stay bytes until a
// minibatch is normalised into floats.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace nbz {

struct ImageSet {
  static constexpr int kChannels = 3, kHeight = 32, kWidth = 32;
  static constexpr int kImageBytes = kChannels * kHeight * kWidth;
  int num_classes = 10;
  std::vector<std::uint8_t> pixels;  // n * kImageBytes, CHW per image
  std::vector<std::uint8_t> labels;  // n
  std::vector<std::string> sources;  // files read, in order

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

// Reads and concatenates any number of batch files. Throws nbz::Error naming the file when it is
// missing, its size is not a multiple of 3,073 bytes, or a label is >= num_classes.
ImageSet read_cifar_binary(const std::vector<std::string>& paths, int num_classes = 10);

// The exact CIFAR-10 training images of the shared data folder (checksum-verified first).
ImageSet load_cifar10_train(const std::string& data_dir);

struct Normalisation {
  std::array<float, 3> mean;
  std::array<float, 3> std;
};
// The suite's standard CIFAR normalisation (proxies.md section 0).
constexpr Normalisation kCifar10Normalisation{{0.4914f, 0.4822f, 0.4465f},
                                              {0.2023f, 0.1994f, 0.2010f}};

struct Minibatch {
  std::vector<std::int64_t> indices;  // into the ImageSet, in batch order (recorded in the run)
  std::vector<float> images;          // B x 3 x H x W, normalised
  std::vector<std::int64_t> labels;   // B
  int height = 32, width = 32;
};

// B distinct images drawn uniformly with `seed` (suite/rng.h, so the same on every platform).
std::vector<std::int64_t> minibatch_indices(std::int64_t num_images, std::int64_t batch_size,
                                            std::uint64_t seed);

// Gathers and normalises images (x / 255 - mean) / std. With out_size 16 the 32 px images are
// downsampled by 2 x 2 box averaging (ImageNet16-120's input size, used as a surrogate).
Minibatch make_minibatch(const ImageSet& set, const std::vector<std::int64_t>& indices,
                         const Normalisation& norm = kCifar10Normalisation, int out_size = 32);

}  // namespace nbz
