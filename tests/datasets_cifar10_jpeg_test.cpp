// The CIFAR-10 JPEG archive reader, on small archives written here (JPEGs encoded with libjpeg,
// tar.gz written with libarchive) and on the shared folder's 60,000-image archive, plus the
// dataset-level entry point load_training_images.
#include "datasets/cifar10_jpeg.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "datasets/cifar10.h"
#include "datasets/jpeg_codec.h"
#include "datasets/training_images.h"
#include "foundation/errors.h"
#include "tests/test_support.h"

namespace nbz {
namespace {

constexpr char kPython[] = "/usr/bin/python3";

std::string temp_dir() { return test::scratch_dir(); }

struct TarMember {
  std::string path;
  std::string bytes;
  bool folder = false;
};

void write_tar_gz(const std::string& path, const std::vector<TarMember>& members) {
  archive* a = archive_write_new();
  ASSERT_EQ(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  ASSERT_EQ(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.path.c_str());
    archive_entry_set_filetype(e, m.folder ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, m.folder ? 0755 : 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(m.bytes.size()));
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
    if (!m.bytes.empty())
      ASSERT_EQ(archive_write_data(a, m.bytes.data(), m.bytes.size()),
                static_cast<la_ssize_t>(m.bytes.size()));
    archive_entry_free(e);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

// A flat-colour image per (split, class, number), so that JPEG keeps it within a few levels.
std::array<int, 3> flat_colour(bool train, int label, int number) {
  return {20 * label + number, 100 + 7 * number + (train ? 0 : 50), 200 - 10 * label};
}

std::string flat_jpeg(const std::array<int, 3>& rgb, int side = 32) {
  std::vector<std::uint8_t> chw(3 * static_cast<size_t>(side * side));
  for (size_t c = 0; c < 3; ++c)
    std::fill(chw.begin() + static_cast<long>(c) * side * side,
              chw.begin() + static_cast<long>(c + 1) * side * side,
              static_cast<std::uint8_t>(rgb[c]));
  return encode_jpeg_rgb(chw.data(), side, side, 95);
}

std::string member_path(const std::string& split, int label, int number) {
  char file[16];
  std::snprintf(file, sizeof file, "%04d.jpg", number);
  return std::string("CIFAR-10-images/") + split + "/" + kCifar10ClassNames[label] + "/" + file;
}

// train: 3 images a class, test: 2, written in a scrambled order (test first, numbers
// descending, classes interleaved) so that the reader's ordering is what is tested.
std::vector<TarMember> small_archive_members() {
  std::vector<TarMember> members = {{"CIFAR-10-images/", "", true},
                                    {"CIFAR-10-images/README.md", "# CIFAR-10-images\n"}};
  for (const std::string split : {"test", "train"}) {
    const int n = split == "train" ? 3 : 2;
    for (int number = n - 1; number >= 0; --number)
      for (int label = 9; label >= 0; --label)
        members.push_back({member_path(split, label, number),
                           flat_jpeg(flat_colour(split == "train", label, number))});
  }
  return members;
}

std::string small_archive(const std::vector<TarMember>& members) {
  const std::string path = temp_dir() + "/CIFAR-10-images.tar.gz";
  write_tar_gz(path, members);
  return path;
}

TEST(Cifar10JpegArchive, ReadsASplitSortedByClassThenNumber) {
  const std::string path = small_archive(small_archive_members());
  for (const Split split : {Split::kTrain, Split::kTest}) {
    SCOPED_TRACE(split_name(split));
    const ImageSet set = read_cifar10_jpeg_archive(path, split);
    const int per_class = split == Split::kTrain ? 3 : 2;
    ASSERT_EQ(set.size(), 10 * per_class);
    EXPECT_EQ(set.num_classes, 10);
    EXPECT_EQ(set.height, 32);
    EXPECT_EQ(set.sources, std::vector<std::string>{path});
    EXPECT_NE(set.description.find("sorted by (class, file number)"), std::string::npos);
    for (int label = 0; label < 10; ++label) {
      for (int number = 0; number < per_class; ++number) {
        const std::int64_t i = label * per_class + number;
        EXPECT_EQ(set.labels[static_cast<size_t>(i)], label);
        const auto rgb = flat_colour(split == Split::kTrain, label, number);
        for (int c = 0; c < 3; ++c)
          for (int p : {0, 33, 1023})
            EXPECT_NEAR(set.image(i)[c * 1024 + p], rgb[static_cast<size_t>(c)], 3)
                << "class " << label << " number " << number << " channel " << c;
      }
    }
  }
}

std::string read_error(const std::vector<TarMember>& members) {
  const std::string path = small_archive(members);
  try {
    read_cifar10_jpeg_archive(path, Split::kTrain);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    return e.what();
  }
  return "(accepted)";
}

TEST(Cifar10JpegArchive, BadArchivesNameTheArchiveAndEntry) {
  const auto good = small_archive_members();
  auto members = good;
  members.push_back({member_path("train", 4, 4), flat_jpeg({1, 2, 3})});  // 3 is missing
  EXPECT_NE(read_error(members).find("train/deer has file CIFAR-10-images/train/deer/0004.jpg "
                                     "where number 3 is due"),
            std::string::npos)
      << read_error(members);

  members = good;
  members.push_back({"CIFAR-10-images/train/unicorn/0000.jpg", flat_jpeg({1, 2, 3})});
  EXPECT_NE(read_error(members).find("unexpected entry 'CIFAR-10-images/train/unicorn/0000.jpg'"),
            std::string::npos);

  members = good;
  members.push_back({"elsewhere/0000.jpg", flat_jpeg({1, 2, 3})});
  EXPECT_NE(read_error(members).find("is not under CIFAR-10-images/"), std::string::npos);

  members = good;
  for (auto& m : members)  // cut a few bytes into the entropy-coded data after the SOS marker
    if (m.path == member_path("train", 2, 1)) m.bytes.resize(m.bytes.find("\xff\xda") + 20);
  EXPECT_NE(read_error(members).find("damaged JPEG 'CIFAR-10-images/train/bird/0001.jpg'"),
            std::string::npos)
      << read_error(members);

  members = good;
  for (auto& m : members)
    if (m.path == member_path("train", 7, 0)) m.bytes = "not a jpeg";
  EXPECT_NE(read_error(members).find("cannot decode JPEG 'CIFAR-10-images/train/horse/0000.jpg'"),
            std::string::npos)
      << read_error(members);

  members = good;
  for (auto& m : members)
    if (m.path == member_path("train", 3, 2)) m.bytes = flat_jpeg({9, 9, 9}, 16);
  EXPECT_NE(read_error(members).find("is 16 x 16 px, expected 32 x 32"), std::string::npos);

  members.clear();
  for (const auto& m : good)
    if (m.path.find("/train/ship/") == std::string::npos) members.push_back(m);
  EXPECT_NE(read_error(members).find("has no train/ship images"), std::string::npos);

  EXPECT_THROW(read_cifar10_jpeg_archive(temp_dir() + "/missing.tar.gz", Split::kTrain), Error);
}

bool python_has_pillow() {
  const std::string probe = std::string(kPython) + " -c 'import PIL' >/dev/null 2>&1";
  return std::system(probe.c_str()) == 0;
}

// Decodes the named archive members with Pillow (what a Python reference would use) and returns
// their pixels as CHW, one image after another.
std::vector<std::uint8_t> pillow_pixels(const std::string& archive_path,
                                        const std::vector<std::string>& members) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/decode.py") << R"PY(
import sys, tarfile
from PIL import Image
wanted = sys.argv[3:]
found = {}
with tarfile.open(sys.argv[1], 'r|gz') as tar:  # one pass over the stream
    for member in tar:
        if member.name in wanted:
            image = Image.open(tar.extractfile(member)).convert('RGB')
            found[member.name] = b''.join(image.getchannel(c).tobytes() for c in 'RGB')
with open(sys.argv[2], 'wb') as out:
    out.write(b''.join(found[name] for name in wanted))
)PY";
  std::string command = std::string(kPython) + " " + dir + "/decode.py " + archive_path + " " +
                        dir + "/pixels.bin";
  for (const auto& m : members) command += " " + m;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(dir + "/pixels.bin", std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
}

TEST(Cifar10JpegArchive, DecodesExactlyLikePillow) {
  if (!python_has_pillow()) GTEST_SKIP() << kPython << " with Pillow is not available";
  // A textured image (flat colours would hide IDCT and upsampling differences).
  std::vector<std::uint8_t> chw(3 * 32 * 32);
  for (size_t i = 0; i < chw.size(); ++i) chw[i] = static_cast<std::uint8_t>((i * 7919) % 251);
  auto members = small_archive_members();
  for (auto& m : members)
    if (m.path == member_path("train", 5, 1)) m.bytes = encode_jpeg_rgb(chw.data(), 32, 32, 75);
  const std::string path = small_archive(members);
  const ImageSet set = read_cifar10_jpeg_archive(path, Split::kTrain);
  const auto reference =
      pillow_pixels(path, {member_path("train", 5, 1), member_path("train", 0, 0)});
  ASSERT_EQ(reference.size(), 2u * 3072u);
  EXPECT_TRUE(std::equal(reference.begin(), reference.begin() + 3072, set.image(5 * 3 + 1)));
  EXPECT_TRUE(std::equal(reference.begin() + 3072, reference.end(), set.image(0)));
}

// --- the shared folder's archive ---

class SharedCifar10Jpeg : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = test::data_dir() + "/cifar10/CIFAR-10-images.tar.gz";
    if (!std::ifstream(path)) return;
    const auto start = std::chrono::steady_clock::now();
    train_ = new ImageSet(load_cifar10_jpeg(test::data_dir(), Split::kTrain));
    test_ = new ImageSet(load_cifar10_jpeg(test::data_dir(), Split::kTest));
    seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  static void TearDownTestSuite() {
    delete train_;
    delete test_;
    train_ = test_ = nullptr;
  }
  void SetUp() override {
    if (!train_) GTEST_SKIP() << "no CIFAR-10-images.tar.gz in " << test::data_dir();
  }
  static ImageSet* train_;
  static ImageSet* test_;
  static double seconds_;
};
ImageSet* SharedCifar10Jpeg::train_ = nullptr;
ImageSet* SharedCifar10Jpeg::test_ = nullptr;
double SharedCifar10Jpeg::seconds_ = 0;

TEST_F(SharedCifar10Jpeg, AllSixtyThousandImagesFiveThousandAClass) {
  std::printf("[          ] verified + decoded all 60,000 JPEGs in %.2f s\n", seconds_);
  RecordProperty("load_seconds", std::to_string(seconds_));
  ASSERT_EQ(train_->size(), 50000);
  ASSERT_EQ(test_->size(), 10000);
  for (const ImageSet* set : {train_, test_}) {
    const std::int64_t per_class = set->size() / 10;
    for (std::int64_t i = 0; i < set->size(); ++i)
      ASSERT_EQ(set->labels[static_cast<size_t>(i)], i / per_class) << "image " << i;
  }
  EXPECT_NE(train_->description.find("CIFAR-10 train, JPEG"), std::string::npos);
  EXPECT_NE(train_->description.find("SHA-256 verified"), std::string::npos);
  EXPECT_NE(train_->description.find("libjpeg"), std::string::npos);
}

// The exact first 4,000 training (1,000 test) images, matched through "file NNNN of a class is
// that class's NNNN-th image in the official order", are the JPEGs' originals: small error
// against the matching JPEG, large against its neighbour.
TEST_F(SharedCifar10Jpeg, ClassAndNumberMatchTheExactImages) {
  for (const bool train : {true, false}) {
    SCOPED_TRACE(train ? "train" : "test");
    const std::string exact_file = train ? "/cifar10/data_batch_1_first4000.bin"
                                         : "/cifar10/test_batch_first1000.bin";
    const ImageSet exact = read_cifar_binary({test::data_dir() + exact_file});
    const ImageSet& jpeg = train ? *train_ : *test_;
    const std::int64_t per_class = jpeg.size() / 10;
    std::vector<std::int64_t> seen(10, 0);
    double matched = 0, neighbour = 0;
    for (std::int64_t i = 0; i < exact.size(); ++i) {
      const int label = exact.labels[static_cast<size_t>(i)];
      const std::int64_t j = label * per_class + seen[static_cast<size_t>(label)]++;
      const std::int64_t k = label * per_class + (j + 1) % per_class;
      for (size_t p = 0; p < 3072; ++p) {
        matched += std::abs(exact.image(i)[p] - jpeg.image(j)[p]);
        neighbour += std::abs(exact.image(i)[p] - jpeg.image(k)[p]);
      }
    }
    const double pixels = static_cast<double>(exact.size()) * 3072;
    std::printf("[          ] mean |exact - JPEG| %.2f (neighbouring image: %.2f)\n",
                matched / pixels, neighbour / pixels);
    EXPECT_LT(matched / pixels, 8.0);     // SOURCES.md: 5.8 on average
    EXPECT_GT(neighbour / pixels, 30.0);  // unrelated images differ far more
  }
}

TEST_F(SharedCifar10Jpeg, DecodesExactlyLikePillow) {
  if (!python_has_pillow()) GTEST_SKIP() << kPython << " with Pillow is not available";
  const std::string path = test::data_dir() + "/cifar10/CIFAR-10-images.tar.gz";
  const std::vector<std::pair<int, int>> picks = {{6, 0}, {0, 4999}, {3, 1234}, {9, 77}};
  std::vector<std::string> members;
  for (const auto& [label, number] : picks) members.push_back(member_path("train", label, number));
  members.push_back(member_path("test", 8, 999));
  const auto reference = pillow_pixels(path, members);
  ASSERT_EQ(reference.size(), members.size() * 3072);
  for (size_t m = 0; m < picks.size(); ++m)
    EXPECT_TRUE(std::equal(reference.begin() + static_cast<long>(m * 3072),
                           reference.begin() + static_cast<long>((m + 1) * 3072),
                           train_->image(picks[m].first * 5000 + picks[m].second)))
        << members[m];
  EXPECT_TRUE(std::equal(reference.end() - 3072, reference.end(), test_->image(8 * 1000 + 999)));
}

TEST_F(SharedCifar10Jpeg, EntryPointLoadsTheJpegSet) {
  const ImageSet set = load_training_images(test::data_dir(), "cifar10-jpeg-50k");
  EXPECT_EQ(set.pixels, train_->pixels);
  EXPECT_EQ(set.labels, train_->labels);
  EXPECT_EQ(set.description, train_->description);
}

TEST(TrainingImages, ExactSetAndUnknownNames) {
  EXPECT_EQ(training_image_set_names(),
            (std::vector<std::string>{"cifar10-exact-4k", "cifar10-jpeg-50k"}));
  const ImageSet exact = load_training_images(test::data_dir(), "cifar10-exact-4k");
  EXPECT_EQ(exact.size(), 4000);
  EXPECT_NE(exact.description.find("exact pixels"), std::string::npos) << exact.description;
  EXPECT_NE(exact.description.find("official order"), std::string::npos) << exact.description;
  try {
    load_training_images(test::data_dir(), "cifar10-all");
    FAIL() << "an unknown name was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'cifar10-all' (expected one of: cifar10-exact-4k, "
                                         "cifar10-jpeg-50k)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace nbz
