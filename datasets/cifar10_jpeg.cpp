#include "datasets/cifar10_jpeg.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "datasets/checksums.h"
#include "datasets/jpeg_codec.h"
#include "foundation/errors.h"

namespace nbz {

const char* const kCifar10ClassNames[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                            "dog",      "frog",       "horse", "ship", "truck"};

namespace {

constexpr char kRootFolder[] = "CIFAR-10-images";
constexpr int kSide = 32;
// No 32 x 32 JPEG comes near this; a larger entry means a wrong archive, not a big allocation.
constexpr la_int64_t kMaxJpegBytes = 1 << 20;

struct JpegEntry {
  int label;
  int number;  // NNNN
  std::string name;
  std::string bytes;
};

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // directories end with '/'
  return parts;
}

// "0042.jpg" -> 42; -1 for anything else.
int file_number(const std::string& file) {
  const size_t dot = file.size() >= 5 ? file.size() - 4 : std::string::npos;
  if (dot == std::string::npos || file.compare(dot, 4, ".jpg") != 0 || dot > 6) return -1;
  int n = 0;
  for (size_t i = 0; i < dot; ++i) {
    if (file[i] < '0' || file[i] > '9') return -1;
    n = n * 10 + (file[i] - '0');
  }
  return n;
}

int class_label(const std::string& folder) {
  for (int c = 0; c < 10; ++c)
    if (folder == kCifar10ClassNames[c]) return c;
  return -1;
}

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

}  // namespace

ImageSet read_cifar10_jpeg_archive(const std::string& archive_path, Split split) {
  ArchivePtr reader(archive_read_new(), archive_read_free);
  NBZ_ASSERT(reader != nullptr, "archive_read_new");
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_tar(reader.get());
  auto failure = [&](const std::string& what) {
    const char* detail = archive_error_string(reader.get());
    return Error("CIFAR-10 JPEG archive '" + archive_path + "': " + what +
                 (detail ? std::string(": ") + detail : std::string()));
  };
  if (archive_read_open_filename(reader.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK)
    throw failure("cannot open");

  const std::string wanted = split_name(split);
  std::vector<JpegEntry> entries;
  archive_entry* entry = nullptr;
  while (true) {
    const int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK) throw failure("cannot read the next entry");
    const std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    const auto parts = split_path(name);
    const auto type = archive_entry_filetype(entry);
    if (parts.empty() || parts[0] != kRootFolder)
      throw failure("entry '" + name + "' is not under " + kRootFolder + "/");
    if (type == AE_IFDIR) continue;
    if (type != AE_IFREG) throw failure("entry '" + name + "' is not a regular file or folder");
    if (parts.size() == 2) continue;  // CIFAR-10-images/README.md and the like
    const bool in_split = parts.size() >= 2 && (parts[1] == "train" || parts[1] == "test");
    const int label = parts.size() == 4 ? class_label(parts[2]) : -1;
    const int number = parts.size() == 4 ? file_number(parts[3]) : -1;
    if (!in_split || label < 0 || number < 0)
      throw failure("unexpected entry '" + name + "' (expected " + kRootFolder +
                    "/{train,test}/<CIFAR-10 class>/NNNN.jpg)");
    if (parts[1] != wanted) {
      if (archive_read_data_skip(reader.get()) != ARCHIVE_OK) throw failure("cannot skip " + name);
      continue;
    }
    const la_int64_t size = archive_entry_size(entry);
    if (size <= 0 || size > kMaxJpegBytes)
      throw failure("entry '" + name + "' has " + std::to_string(size) + " bytes");
    JpegEntry e{label, number, name, std::string(static_cast<size_t>(size), '\0')};
    size_t filled = 0;
    while (filled < e.bytes.size()) {
      const la_ssize_t got =
          archive_read_data(reader.get(), e.bytes.data() + filled, e.bytes.size() - filled);
      if (got <= 0) throw failure("cannot read entry '" + name + "'");
      filled += static_cast<size_t>(got);
    }
    entries.push_back(std::move(e));
  }

  std::sort(entries.begin(), entries.end(), [](const JpegEntry& a, const JpegEntry& b) {
    return a.label != b.label ? a.label < b.label : a.number < b.number;
  });
  // File NNNN must be the class's NNNN-th image: numbers 0..n-1 with no gap or repeat.
  std::vector<int> per_class(10, 0);
  for (const auto& e : entries) {
    if (e.number != per_class[static_cast<size_t>(e.label)])
      throw Error("CIFAR-10 JPEG archive '" + archive_path + "': " + wanted + "/" +
                  kCifar10ClassNames[e.label] + " has file " + e.name + " where number " +
                  std::to_string(per_class[static_cast<size_t>(e.label)]) +
                  " is due (numbers must run 0..n-1 without gaps or repeats)");
    ++per_class[static_cast<size_t>(e.label)];
  }
  for (int c = 0; c < 10; ++c)
    if (per_class[static_cast<size_t>(c)] == 0)
      throw Error("CIFAR-10 JPEG archive '" + archive_path + "' has no " + wanted + "/" +
                  kCifar10ClassNames[c] + " images");

  ImageSet set;
  set.height = set.width = kSide;
  set.num_classes = 10;
  set.pixels.resize(entries.size() * set.image_bytes());
  set.labels.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    decode_jpeg_rgb(reinterpret_cast<const std::uint8_t*>(e.bytes.data()), e.bytes.size(), kSide,
                    kSide, set.pixels.data() + i * set.image_bytes(),
                    "'" + e.name + "' in '" + archive_path + "'");
    set.labels.push_back(e.label);
  }
  set.sources.push_back(archive_path);
  set.description = "CIFAR-10 " + wanted + " JPEG, " + std::to_string(set.size()) +
                    " images sorted by (class, file number), decoded with " +
                    jpeg_library_version();
  return set;
}

ImageSet load_cifar10_jpeg(const std::string& data_dir, Split split) {
  const std::string rel = "cifar10/CIFAR-10-images.tar.gz";
  verify_data_file(data_dir, rel);
  ImageSet set = read_cifar10_jpeg_archive(data_dir + "/" + rel, split);
  const std::int64_t per_class = split == Split::kTrain ? 5000 : 1000;
  std::vector<std::int64_t> counts(10, 0);
  for (auto label : set.labels) ++counts[static_cast<size_t>(label)];
  for (int c = 0; c < 10; ++c)
    if (counts[static_cast<size_t>(c)] != per_class)
      throw Error("'" + data_dir + "/" + rel + "' has " +
                  std::to_string(counts[static_cast<size_t>(c)]) + " " + split_name(split) + "/" +
                  kCifar10ClassNames[c] + " images, expected " + std::to_string(per_class));
  set.description = std::string("CIFAR-10 ") + split_name(split) + ", JPEG (lossy, about 30 dB " +
                    "PSNR against the official pixels), all " + std::to_string(set.size()) +
                    " images sorted by (class, file number) = class by class, official order " +
                    "within each class; decoded with " + jpeg_library_version() + " (" + rel +
                    ", SHA-256 verified)";
  return set;
}

}  // namespace nbz
