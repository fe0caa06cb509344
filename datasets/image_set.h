// The suite's in-memory image collection: 8-bit RGB images of one size, kept as bytes (CHW per
// image) until a minibatch is normalised into floats. Every loader in datasets/ returns one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nbz {

struct ImageSet {
  int channels = 3, height = 32, width = 32;
  int num_classes = 10;
  std::vector<std::uint8_t> pixels;  // size() * image_bytes(), CHW per image, channels R, G, B
  std::vector<std::int32_t> labels;  // size(), each in 0..num_classes-1
  std::vector<std::string> sources;  // files read, in order
  // What the images are, for run provenance: dataset, split, how many, from which files, in which
  // order, and whether the pixels are exact or lossy.
  std::string description;

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  std::size_t image_bytes() const {
    return static_cast<std::size_t>(channels) * static_cast<std::size_t>(height) *
           static_cast<std::size_t>(width);
  }
  const std::uint8_t* image(std::int64_t index) const {
    return pixels.data() + static_cast<std::size_t>(index) * image_bytes();
  }
};

// Which part of a dataset to load. For ImageNet16 kTest is the official val_data file, the only
// held-out file (NAS-Bench-201 splits it into its own valid and test halves).
enum class Split { kTrain, kTest };

inline const char* split_name(Split split) { return split == Split::kTrain ? "train" : "test"; }

}  // namespace nbz
