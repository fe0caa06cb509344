#include "datasets/cifar100.h"

#include <fstream>
#include <iterator>

#include "foundation/errors.h"

namespace nbz {

ImageSet read_cifar100_binary(const std::vector<std::string>& paths, Cifar100Labels labels) {
  constexpr size_t kImageBytes = 3 * 32 * 32;
  constexpr size_t kRecord = 2 + kImageBytes;
  constexpr int kCoarseClasses = 20, kFineClasses = 100;
  const bool fine = labels == Cifar100Labels::kFine;
  ImageSet set;
  set.num_classes = fine ? kFineClasses : kCoarseClasses;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open CIFAR-100 file '" + path + "'");
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (bytes.empty() || bytes.size() % kRecord != 0)
      throw Error("CIFAR-100 file '" + path + "' has " + std::to_string(bytes.size()) +
                  " bytes, not a positive multiple of the 3074-byte record");
    const size_t n = bytes.size() / kRecord;
    set.labels.reserve(set.labels.size() + n);
    set.pixels.reserve(set.pixels.size() + n * kImageBytes);
    for (size_t r = 0; r < n; ++r) {
      const std::uint8_t* rec = bytes.data() + r * kRecord;
      if (rec[0] >= kCoarseClasses || rec[1] >= kFineClasses)
        throw Error("CIFAR-100 file '" + path + "', record " + std::to_string(r) +
                    ": coarse label " + std::to_string(rec[0]) + " (must be < 20), fine label " +
                    std::to_string(rec[1]) + " (must be < 100)");
      set.labels.push_back(fine ? rec[1] : rec[0]);
      set.pixels.insert(set.pixels.end(), rec + 2, rec + kRecord);
    }
    set.sources.push_back(path);
  }
  set.description = "CIFAR-100 binary records, " + std::to_string(set.size()) + " images, " +
                    (fine ? "fine labels (100 classes)" : "coarse labels (20 superclasses)") +
                    ", file order";
  return set;
}

ImageSet load_cifar100(const std::string& folder, Split split, Cifar100Labels labels) {
  const bool train = split == Split::kTrain;
  const std::string path = folder + (train ? "/train.bin" : "/test.bin");
  ImageSet set = read_cifar100_binary({path}, labels);
  const std::int64_t expected = train ? 50000 : 10000;
  if (set.size() != expected)
    throw Error("CIFAR-100 file '" + path + "' holds " + std::to_string(set.size()) +
                " images; the official " + split_name(split) + " file holds " +
                std::to_string(expected));
  set.description = std::string("CIFAR-100 ") + split_name(split) + ", exact pixels, all " +
                    std::to_string(set.size()) + " images in official order, " +
                    (labels == Cifar100Labels::kFine ? "fine labels (100 classes)"
                                                      : "coarse labels (20 superclasses)") +
                    " (" + path + ", user-supplied, not checksum-verified)";
  return set;
}

}  // namespace nbz
