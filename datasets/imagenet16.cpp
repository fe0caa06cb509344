#include "datasets/imagenet16.h"

#include "datasets/checksums.h"
#include "datasets/pickle_reader.h"
#include "foundation/errors.h"

namespace nbz {

namespace {

constexpr int kSide = 16;
constexpr std::int64_t kRowBytes = 3 * kSide * kSide;
constexpr int kImageNetClasses = 1000;

struct OfficialFile {
  const char* name;
  const char* md5;
};

// The digests in NAS-Bench-201's loader (xautodl/datasets/DownsampledImageNet.py).
constexpr OfficialFile kTrainFiles[] = {
    {"train_data_batch_1", "27846dcaa50de8e21a7d1a35f30f0e91"},
    {"train_data_batch_2", "c7254a054e0e795c69120a5727050e3f"},
    {"train_data_batch_3", "4333d3df2e5ffb114b05d2ffc19b1e87"},
    {"train_data_batch_4", "1620cdf193304f4a92677b695d70d10f"},
    {"train_data_batch_5", "348b3c2fdbb3940c4e9e834affd3b18d"},
    {"train_data_batch_6", "6e765307c242a1b3d7d5ef9139b48945"},
    {"train_data_batch_7", "564926d8cbf8fc4818ba23d2faac7564"},
    {"train_data_batch_8", "f4755871f718ccb653440b9dd0ebac66"},
    {"train_data_batch_9", "bb6dd660c38c58552125b1a92f86b5d4"},
    {"train_data_batch_10", "8f03f34ac4b42271a294f91bf480f29b"},
};
constexpr OfficialFile kValidFile = {"val_data", "3410e3017fdaefba8d5073aaa65e4bd6"};

// Image counts of the official files for the subsets NAS-Bench-201 asserts (get_datasets).
struct OfficialCount {
  int num_classes;
  std::int64_t train, valid;
};
constexpr OfficialCount kOfficialCounts[] = {
    {120, 151700, 6000}, {150, 190272, 7500}, {200, 254775, 10000}, {1000, 1281167, 50000}};

void append_batch(const std::string& path, int num_classes, ImageSet& set) {
  const pickle::ValuePtr root = pickle::read_file(path);
  auto bad = [&](const std::string& what) {
    return Error("ImageNet16 file '" + path + "': " + what);
  };
  if (root->kind != pickle::Kind::kDict)
    throw bad(std::string("holds a ") + pickle::kind_name(root->kind) +
              ", expected a dict with 'data' and 'labels'");
  const pickle::Value* data = root->find("data");
  const pickle::Value* labels = root->find("labels");
  if (!data || !labels) throw bad("has no 'data' or no 'labels' key");
  if (data->kind != pickle::Kind::kNdArray || data->dtype != "u1" || data->shape.size() != 2 ||
      data->shape[1] != kRowBytes || data->fortran_order)
    throw bad("'data' is not a uint8 N x 768 numpy array in C order");
  const std::int64_t n = data->shape[0];
  if (labels->kind != pickle::Kind::kList)
    throw bad(std::string("'labels' is a ") + pickle::kind_name(labels->kind) +
              ", expected a list of ints");
  if (static_cast<std::int64_t>(labels->items.size()) != n)
    throw bad("has " + std::to_string(n) + " images but " +
              std::to_string(labels->items.size()) + " labels");
  const auto* rows = reinterpret_cast<const std::uint8_t*>(data->data.data());
  for (std::int64_t i = 0; i < n; ++i) {
    const pickle::Value& label = *labels->items[static_cast<size_t>(i)];
    if (label.kind != pickle::Kind::kInt || label.integer < 1 ||
        label.integer > kImageNetClasses)
      throw bad("labels[" + std::to_string(i) + "] = " +
                (label.kind == pickle::Kind::kInt ? std::to_string(label.integer)
                                                  : std::string(pickle::kind_name(label.kind))) +
                " is not an ImageNet class 1..1000");
    if (label.integer > num_classes) continue;
    set.labels.push_back(static_cast<std::int32_t>(label.integer - 1));
    const std::uint8_t* row = rows + i * kRowBytes;
    set.pixels.insert(set.pixels.end(), row, row + kRowBytes);
  }
  set.sources.push_back(path);
}

}  // namespace

ImageSet read_imagenet16_batches(const std::vector<std::string>& paths, int num_classes) {
  if (num_classes < 1 || num_classes > kImageNetClasses)
    throw Error("ImageNet16 classes to keep: " + std::to_string(num_classes) +
                " is not in 1..1000");
  ImageSet set;
  set.height = set.width = kSide;
  set.num_classes = num_classes;
  for (const auto& path : paths) append_batch(path, num_classes, set);
  set.description = "ImageNet16 pickle batches, " + std::to_string(set.size()) +
                    " images of labels 1.." + std::to_string(num_classes) + " as 0.." +
                    std::to_string(num_classes - 1) + ", file then record order";
  return set;
}

ImageSet load_imagenet16(const std::string& folder, Split split, const ImageNet16Options& options) {
  std::vector<OfficialFile> files;
  if (split == Split::kTrain) files.assign(std::begin(kTrainFiles), std::end(kTrainFiles));
  else files.push_back(kValidFile);
  std::vector<std::string> paths;
  for (const auto& f : files) {
    paths.push_back(folder + "/" + f.name);
    if (!options.verify_official_md5) continue;
    const std::string actual = md5_file(paths.back());
    if (actual != f.md5)
      throw Error("ImageNet16 file '" + paths.back() + "' has MD5 " + actual + ", not " + f.md5 +
                  " (the file NAS-Bench-201 used); pass verify_official_md5 = false to read "
                  "other files of the same layout");
  }
  ImageSet set = read_imagenet16_batches(paths, options.num_classes);
  if (options.verify_official_md5) {
    // The files are byte-identical to the benchmark's, so the counts must be too.
    for (const auto& c : kOfficialCounts)
      if (c.num_classes == options.num_classes)
        NBZ_ASSERT(set.size() == (split == Split::kTrain ? c.train : c.valid),
                   "official ImageNet16 files gave an unexpected image count");
  }
  const std::string subset =
      options.num_classes == kImageNetClasses
          ? std::string("ImageNet16 (all 1000 classes)")
          : "ImageNet16-" + std::to_string(options.num_classes) + " (labels 1.." +
                std::to_string(options.num_classes) + " as 0.." +
                std::to_string(options.num_classes - 1) + ")";
  set.description = subset + " " + (split == Split::kTrain ? "train" : "valid (val_data)") +
                    ", exact pixels, " + std::to_string(set.size()) +
                    " images in file then record order, from " + folder + "/" +
                    (split == Split::kTrain ? "train_data_batch_1..10" : "val_data") +
                    (options.verify_official_md5 ? " (MD5-verified: NAS-Bench-201's files)"
                                                 : " (user-supplied, not checksum-verified)");
  return set;
}

}  // namespace nbz
