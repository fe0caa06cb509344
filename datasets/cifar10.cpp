#include "datasets/cifar10.h"

#include <fstream>
#include <iterator>

#include "datasets/checksums.h"
#include "foundation/errors.h"
#include "foundation/rng.h"

namespace nbz {

ImageSet read_cifar_binary(const std::vector<std::string>& paths, int num_classes) {
  ImageSet set;
  set.num_classes = num_classes;
  constexpr size_t kRecord = 1 + 3 * 32 * 32;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open CIFAR batch file '" + path + "'");
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (bytes.empty() || bytes.size() % kRecord != 0)
      throw Error("CIFAR batch file '" + path + "' has " + std::to_string(bytes.size()) +
                  " bytes, not a positive multiple of the 3073-byte record");
    const size_t n = bytes.size() / kRecord;
    for (size_t r = 0; r < n; ++r) {
      const std::uint8_t* rec = bytes.data() + r * kRecord;
      if (rec[0] >= num_classes)
        throw Error("CIFAR batch file '" + path + "', record " + std::to_string(r) + ": label " +
                    std::to_string(rec[0]) + " >= " + std::to_string(num_classes) + " classes");
      set.labels.push_back(rec[0]);
      set.pixels.insert(set.pixels.end(), rec + 1, rec + kRecord);
    }
    set.sources.push_back(path);
  }
  set.description = "CIFAR binary records, " + std::to_string(set.size()) + " images, " +
                    std::to_string(num_classes) + " classes, file order";
  return set;
}

ImageSet load_cifar10_train(const std::string& data_dir) {
  const std::string rel = "cifar10/data_batch_1_first4000.bin";
  verify_data_file(data_dir, rel);
  ImageSet set = read_cifar_binary({data_dir + "/" + rel}, 10);
  set.description = "CIFAR-10 train, exact pixels, the first " + std::to_string(set.size()) +
                    " images in official order (" + rel + ", SHA-256 verified)";
  return set;
}

std::vector<std::int64_t> minibatch_indices(std::int64_t num_images, std::int64_t batch_size,
                                            std::uint64_t seed) {
  if (batch_size < 1 || batch_size > num_images)
    throw Error("batch size " + std::to_string(batch_size) + " must be in 1.." +
                std::to_string(num_images) + " (the images available)");
  // A fixed salt keeps the minibatch stream independent of architecture sampling with the
  // same seed.
  return sample_without_replacement(num_images, batch_size, seed ^ 0x6D696E6962617463ULL);
}

Minibatch make_minibatch(const ImageSet& set, const std::vector<std::int64_t>& indices,
                         const Normalisation& norm, int out_size) {
  if (set.channels != 3 || set.height != set.width || out_size < 1 || out_size > set.height ||
      set.height % out_size != 0)
    throw Error("cannot make a " + std::to_string(out_size) + " px minibatch from " +
                std::to_string(set.channels) + " x " + std::to_string(set.height) + " x " +
                std::to_string(set.width) +
                " images (needs 3 channels, square images, and a whole box-downsampling factor)");
  Minibatch mb;
  mb.indices = indices;
  mb.height = mb.width = out_size;
  const int side = set.width;
  const int factor = side / out_size;
  const size_t in_plane = static_cast<size_t>(side) * side;
  const size_t plane = static_cast<size_t>(out_size) * out_size;
  mb.images.resize(indices.size() * 3 * plane);
  for (size_t b = 0; b < indices.size(); ++b) {
    const auto idx = indices[b];
    NBZ_ASSERT(idx >= 0 && idx < set.size(), "image index out of range");
    mb.labels.push_back(set.labels[static_cast<size_t>(idx)]);
    const std::uint8_t* img = set.image(idx);
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < out_size; ++y) {
        for (int x = 0; x < out_size; ++x) {
          float acc = 0;
          for (int dy = 0; dy < factor; ++dy)
            for (int dx = 0; dx < factor; ++dx)
              acc += img[c * in_plane + static_cast<size_t>((y * factor + dy) * side) +
                         static_cast<size_t>(x * factor + dx)];
          const float v = acc / static_cast<float>(factor * factor) / 255.0f;
          mb.images[(b * 3 + static_cast<size_t>(c)) * plane + static_cast<size_t>(y) * out_size +
                    static_cast<size_t>(x)] = (v - norm.mean[c]) / norm.std[c];
        }
      }
    }
  }
  return mb;
}

std::vector<float> random_single_channel_crops(const ImageSet& set, std::int64_t count, int size,
                                               std::uint64_t seed, const Normalisation& norm) {
  if (set.size() == 0 || size < 1 || size > set.height || size > set.width || set.channels != 3)
    throw Error("cannot cut " + std::to_string(size) + " px single-channel crops from " +
                set.description);
  SplitMix64 rng(seed ^ 0x6C696E2D72656731ULL);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(count) * static_cast<size_t>(size * size));
  for (std::int64_t i = 0; i < count; ++i) {
    const auto image = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(set.size())));
    const int y0 = static_cast<int>(rng.below(static_cast<std::uint64_t>(set.height - size + 1)));
    const int x0 = static_cast<int>(rng.below(static_cast<std::uint64_t>(set.width - size + 1)));
    const int c = static_cast<int>(rng.below(3));
    const std::uint8_t* plane = set.image(image) + static_cast<size_t>(c * set.height * set.width);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        out.push_back((plane[(y0 + y) * set.width + x0 + x] / 255.0f - norm.mean[c]) / norm.std[c]);
  }
  return out;
}

}  // namespace nbz
