#include "datasets/cifar10.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "datasets/checksums.h"
#include "foundation/errors.h"
#include "tests/test_support.h"

namespace nbz {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/nbz_cifar_XXXXXX";
  return mkdtemp(tmpl);
}

// Writes n records whose label is i % 10 and whose pixel p of channel c is (i + c + p) % 256.
std::string write_batch(const std::string& dir, const std::string& name, int n,
                        int label_offset = 0) {
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < n; ++i) {
    out.put(static_cast<char>((i + label_offset) % 10));
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) out.put(static_cast<char>((i + c + p) % 256));
  }
  return path;
}

TEST(CifarBinary, ReadsAnyNumberOfBatchFiles) {
  const auto dir = temp_dir();
  const auto a = write_batch(dir, "a.bin", 3);
  const auto b = write_batch(dir, "b.bin", 2);
  const ImageSet set = read_cifar_binary({a, b});
  ASSERT_EQ(set.size(), 5);
  EXPECT_EQ(set.labels[3], 0);  // first record of b
  EXPECT_EQ(set.labels[4], 1);
  EXPECT_EQ(set.pixels[4 * 3072 + 1024 + 5], (1 + 1 + 5) % 256);  // image 4 = b's record 1, G
}

TEST(CifarBinary, TruncatedFileAndBadLabelNameTheFile) {
  const auto dir = temp_dir();
  const auto path = write_batch(dir, "short.bin", 2);
  truncate(path.c_str(), 3073 + 100);
  try {
    read_cifar_binary({path});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("3173 bytes"), std::string::npos);
  }
  const auto labels = write_batch(dir, "labels.bin", 12);
  try {
    read_cifar_binary({labels}, 5);  // label 5 is out of range for 5 classes
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("record 5: label 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_cifar_binary({dir + "/missing.bin"}), Error);
}

TEST(CifarBinary, MinibatchIsNormalisedAsTorchvisionDoes) {
  const auto dir = temp_dir();
  const ImageSet set = read_cifar_binary({write_batch(dir, "a.bin", 4)});
  const Minibatch mb = make_minibatch(set, {2, 0});
  ASSERT_EQ(mb.images.size(), 2u * 3072u);
  EXPECT_EQ(mb.labels, (std::vector<std::int64_t>{2, 0}));
  // Image 2, channel 1 (G), pixel 7: byte (2 + 1 + 7) = 10.
  const float expected = (10.0f / 255.0f - 0.4822f) / 0.1994f;
  EXPECT_FLOAT_EQ(mb.images[1024 + 7], expected);
  // Downsampled to 16 px: mean of the 2x2 block; image 0, channel 0, output (0, 1) covers
  // pixels 2, 3, 34, 35 with bytes 2, 3, 34, 35 -> 18.5.
  const Minibatch small = make_minibatch(set, {0}, kCifar10Normalisation, 16);
  ASSERT_EQ(small.images.size(), 3u * 256u);
  EXPECT_FLOAT_EQ(small.images[1], (18.5f / 255.0f - 0.4914f) / 0.2023f);
}

TEST(CifarBinary, MinibatchNeedsAWholeDownsamplingFactor) {
  const auto dir = temp_dir();
  const ImageSet set = read_cifar_binary({write_batch(dir, "a.bin", 2)});
  // 8 px: 4 x 4 boxes; image 1, channel 0, output (0, 0) averages bytes 1 + 32 y + x over
  // y, x in 0..3 -> 50.5.
  const Minibatch tiny = make_minibatch(set, {1}, kCifar10Normalisation, 8);
  ASSERT_EQ(tiny.images.size(), 3u * 64u);
  EXPECT_FLOAT_EQ(tiny.images[0], (50.5f / 255.0f - 0.4914f) / 0.2023f);
  EXPECT_THROW(make_minibatch(set, {0}, kCifar10Normalisation, 64), Error);  // no upsampling
  EXPECT_THROW(make_minibatch(set, {0}, kCifar10Normalisation, 12), Error);  // 32 / 12
}

TEST(CifarBinary, MinibatchIndicesAreSeededAndDistinct) {
  const auto a = minibatch_indices(4000, 64, 0);
  EXPECT_EQ(a, minibatch_indices(4000, 64, 0));
  EXPECT_NE(a, minibatch_indices(4000, 64, 1));
  EXPECT_EQ(std::set<std::int64_t>(a.begin(), a.end()).size(), 64u);
  EXPECT_THROW(minibatch_indices(4000, 4001, 0), Error);
  EXPECT_THROW(minibatch_indices(4000, 0, 0), Error);
}

TEST(Checksums, SharedDataVerifiesAndCorruptionIsNamed) {
  EXPECT_NO_THROW(verify_data_file(test::data_dir(), "cifar10/data_batch_1_first4000.bin"));
  const ImageSet train = load_cifar10_train(test::data_dir());
  EXPECT_EQ(train.size(), 4000);
  EXPECT_EQ(train.description,
            "CIFAR-10 train, exact pixels, the first 4000 images in official order "
            "(cifar10/data_batch_1_first4000.bin, SHA-256 verified)");

  const auto dir = temp_dir();
  const auto good = write_batch(dir, "x.bin", 1);
  std::ofstream(dir + "/SHA256SUMS") << sha256_file(good) << "  x.bin\n"
                                     << std::string(64, '0') << "  y.bin\n";
  EXPECT_NO_THROW(verify_data_file(dir, "x.bin"));
  write_batch(dir, "y.bin", 1);
  try {
    verify_data_file(dir, "y.bin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/y.bin' is corrupt"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(verify_data_file(dir, "z.bin"), Error);        // no entry
  EXPECT_THROW(verify_data_file("/nonexistent", "x.bin"), Error);  // no SHA256SUMS
}

TEST(Checksums, Sha256AndMd5OfAKnownString) {
  const auto dir = temp_dir();
  std::ofstream(dir + "/abc") << "abc";
  EXPECT_EQ(sha256_file(dir + "/abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(md5_file(dir + "/abc"), "900150983cd24fb0d6963f7d28e17f72");  // RFC 1321
  EXPECT_THROW(md5_file(dir + "/missing"), Error);
}

}  // namespace
}  // namespace nbz

namespace nbz {
namespace {

TEST(CifarCrops, EachCropIsANormalisedWindowOfOneChannel) {
  const auto dir = temp_dir();
  const ImageSet set = read_cifar_binary({write_batch(dir, "crops.bin", 3)});
  const auto crops = random_single_channel_crops(set, 40, 3, 5);
  ASSERT_EQ(crops.size(), 40u * 9u);
  EXPECT_EQ(crops, random_single_channel_crops(set, 40, 3, 5));
  EXPECT_NE(crops, random_single_channel_crops(set, 40, 3, 6));
  // Brute force: some (image, channel, y, x) window reproduces every crop exactly.
  for (int k = 0; k < 40; ++k) {
    bool found = false;
    for (int i = 0; i < 3 && !found; ++i)
      for (int c = 0; c < 3 && !found; ++c)
        for (int y = 0; y <= 29 && !found; ++y)
          for (int x = 0; x <= 29 && !found; ++x) {
            bool same = true;
            for (int dy = 0; dy < 3 && same; ++dy)
              for (int dx = 0; dx < 3 && same; ++dx) {
                const float byte = set.image(i)[c * 1024 + (y + dy) * 32 + x + dx];
                const float v = (byte / 255.0f - kCifar10Normalisation.mean[c]) /
                                kCifar10Normalisation.std[c];
                same = v == crops[static_cast<size_t>(k * 9 + dy * 3 + dx)];
              }
            found = same;
          }
    EXPECT_TRUE(found) << "crop " << k;
  }
  EXPECT_THROW(random_single_channel_crops(set, 4, 33, 0), Error);
}

}  // namespace
}  // namespace nbz
