#include "datasets/cifar100.h"

#include <gtest/gtest.h>

#include "tests/test_support.h"
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "datasets/cifar10.h"
#include "foundation/errors.h"

namespace nbz {
namespace {

std::string temp_dir() { return test::scratch_dir(); }

// Record i: coarse label i % 20, fine label (3 * i) % 100, pixel p of channel c is
// (i + 2c + p) % 256.
std::string write_records(const std::string& path, int n, int bad_record = -1, int bad_byte = 0,
                          int bad_value = 0) {
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < n; ++i) {
    char header[2] = {static_cast<char>(i % 20), static_cast<char>((3 * i) % 100)};
    if (i == bad_record) header[bad_byte] = static_cast<char>(bad_value);
    out.write(header, 2);
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) out.put(static_cast<char>((i + 2 * c + p) % 256));
  }
  return path;
}

TEST(Cifar100Binary, FineLabelsByDefaultCoarseOnRequest) {
  const auto dir = temp_dir();
  const auto a = write_records(dir + "/a.bin", 3);
  const auto b = write_records(dir + "/b.bin", 40);
  const ImageSet fine = read_cifar100_binary({a, b});
  ASSERT_EQ(fine.size(), 43);
  EXPECT_EQ(fine.num_classes, 100);
  EXPECT_EQ(fine.channels, 3);
  EXPECT_EQ(fine.height, 32);
  EXPECT_EQ(fine.labels[2], 6);        // a's record 2: fine (3 * 2) % 100
  EXPECT_EQ(fine.labels[3 + 35], 5);   // b's record 35: fine 105 % 100
  EXPECT_EQ(fine.sources, (std::vector<std::string>{a, b}));
  // b's record 35, channel B (2), pixel 9: (35 + 4 + 9) % 256 = 48.
  EXPECT_EQ(fine.image(3 + 35)[2 * 1024 + 9], 48);
  EXPECT_NE(fine.description.find("fine labels"), std::string::npos);

  const ImageSet coarse = read_cifar100_binary({a, b}, Cifar100Labels::kCoarse);
  EXPECT_EQ(coarse.num_classes, 20);
  EXPECT_EQ(coarse.labels[3 + 35], 15);  // 35 % 20
  EXPECT_EQ(coarse.pixels, fine.pixels);
  // The images feed the shared minibatch step unchanged.
  const Minibatch mb = make_minibatch(coarse, {4}, kCifar100Normalisation, 32);
  EXPECT_EQ(mb.labels, (std::vector<std::int64_t>{1}));
  EXPECT_FLOAT_EQ(mb.images[0], (1.0f / 255.0f - static_cast<float>(129.3 / 255)) /
                                    static_cast<float>(68.2 / 255));
}

TEST(Cifar100Binary, WrongSizeAndBadLabelsNameTheFile) {
  const auto dir = temp_dir();
  const auto cifar10_sized = dir + "/ten.bin";
  std::ofstream(cifar10_sized, std::ios::binary) << std::string(2 * 3073, '\0');
  try {
    read_cifar100_binary({cifar10_sized});
    FAIL() << "a CIFAR-10-sized file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(cifar10_sized), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("6146 bytes"), std::string::npos) << e.what();
  }
  const auto bad_fine = write_records(dir + "/fine.bin", 4, 2, 1, 100);
  try {
    read_cifar100_binary({bad_fine}, Cifar100Labels::kCoarse);  // checked even when coarse kept
    FAIL() << "fine label 100 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(bad_fine + "', record 2"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("fine label 100"), std::string::npos) << e.what();
  }
  const auto bad_coarse = write_records(dir + "/coarse.bin", 4, 3, 0, 20);
  EXPECT_THROW(read_cifar100_binary({bad_coarse}), Error);
  EXPECT_THROW(read_cifar100_binary({dir + "/missing.bin"}), Error);
}

TEST(Cifar100Binary, FolderLoaderWantsTheOfficialCount) {
  const auto dir = temp_dir();
  write_records(dir + "/test.bin", 10000);
  const ImageSet test = load_cifar100(dir, Split::kTest);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_NE(test.description.find("CIFAR-100 test"), std::string::npos) << test.description;
  EXPECT_NE(test.description.find(dir + "/test.bin"), std::string::npos) << test.description;

  write_records(dir + "/train.bin", 7);
  try {
    load_cifar100(dir, Split::kTrain);
    FAIL() << "a 7-image train.bin was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds 7 images"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nbz
