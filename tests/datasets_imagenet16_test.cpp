// ImageNet16 pickles and the strict pickle reader. The fixture files are written at test time by
// Debian's /usr/bin/python3 with numpy, in every layout the real files can have: as Python 2 wrote
// them (the downsampled-ImageNet scripts ran `pickle.dump(d, f)` under Python 2; NAS-Bench-201's
// loader reads them with encoding='latin1'), emulated with protocols 0, 1 and 2, and as Python 3
// writes them with protocols 0-5 (its default included). Python's own unpickler, used exactly as
// NAS-Bench-201's loader uses it, also writes the expected result for each layout.
#include "datasets/imagenet16.h"

#include <gtest/gtest.h>

#include "tests/test_support.h"
#include <unistd.h>

#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "datasets/cifar10.h"
#include "datasets/pickle_reader.h"
#include "foundation/errors.h"

namespace nbz {
namespace {

constexpr char kPython[] = "/usr/bin/python3";

// Writes <out>/<layout>/{train_data_batch_1..10, val_data} plus, per layout, what the reference
// loader (xautodl ImageNet16, use_num_of_class_only=120) makes of them: expected_<split>.bin (the
// kept rows) and expected_<split>_labels.txt (0-based). Also <out>/bad_*/ files for error tests.
constexpr char kGenerator[] = R"PY(
import os, pickle, struct, sys
import numpy as np

out = sys.argv[1]
LABELS = [1, 120, 121, 1000, 60, 2, 500]

def batch(file_index, n, with_mean):
    rows = np.array([[(file_index * 37 + j * 11 + k) % 256 for k in range(768)]
                     for j in range(n)], dtype=np.uint8)
    d = {'data': rows, 'labels': [LABELS[(file_index + j) % 7] for j in range(n)]}
    if with_mean:
        d['mean'] = np.mean(rows, axis=0)
    return d

class Python2Pickler(pickle._Pickler):
    # Python 2 held dict keys, dtype codes and the array buffer as `str` and wrote them as STRING
    # (protocol 0, a quoted repr) or SHORT_BINSTRING / BINSTRING; everything else matches.
    dispatch = dict(pickle._Pickler.dispatch)
    def save_py2_str(self, obj):
        raw = obj.encode('latin1') if isinstance(obj, str) else obj
        if self.proto == 0:
            self.write(pickle.STRING + repr(raw)[1:].encode('ascii') + b'\n')
        elif len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack('<i', len(raw)) + raw)
        self.memoize(obj)
    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str

def dump(layout, d, path):
    with open(path, 'wb') as f:
        if layout.startswith('py2_proto'):
            Python2Pickler(f, protocol=int(layout[-1])).dump(d)
        elif layout == 'py3_default':
            pickle.dump(d, f)
        else:
            pickle.dump(d, f, protocol=int(layout[-1]))

def reference_load(paths):
    data, targets = [], []
    for path in paths:
        with open(path, 'rb') as f:
            entry = pickle.load(f, encoding='latin1')
        data.append(entry['data'])
        targets.extend(entry['labels'])
    data = np.vstack(data)
    keep = [i for i, l in enumerate(targets) if 1 <= l <= 120]
    return data[keep], [targets[i] - 1 for i in keep]

layouts = ['py2_proto0', 'py2_proto1', 'py2_proto2', 'py3_proto0', 'py3_proto1', 'py3_proto2',
           'py3_proto3', 'py3_default', 'py3_proto5']
for layout in layouts:
    folder = os.path.join(out, layout)
    os.makedirs(folder)
    train = []
    for i in range(1, 11):
        train.append(os.path.join(folder, 'train_data_batch_%d' % i))
        dump(layout, batch(i, 2 + i % 4, True), train[-1])
    val = [os.path.join(folder, 'val_data')]
    dump(layout, batch(0, 9, False), val[0])
    for split, paths in (('train', train), ('test', val)):
        rows, labels = reference_load(paths)
        rows.tofile(os.path.join(folder, 'expected_%s.bin' % split))
        with open(os.path.join(folder, 'expected_%s_labels.txt' % split), 'w') as f:
            f.write(' '.join(map(str, labels)))

def bad(name, d):
    os.makedirs(os.path.join(out, name))
    dump('py2_proto2', d, os.path.join(out, name, 'val_data'))

d = batch(0, 3, False); d['labels'][1] = 0; bad('bad_label_zero', d)
d = batch(0, 3, False); d['labels'][2] = 1001; bad('bad_label_1001', d)
d = batch(0, 3, False); d['labels'].pop(); bad('bad_label_count', d)
d = batch(0, 3, False); d['data'] = d['data'][:, :767]; bad('bad_row_size', d)
d = batch(0, 3, False); d['data'] = d['data'].astype(np.int16); bad('bad_dtype', d)
d = batch(0, 3, False); d['data'] = np.asfortranarray(d['data']); bad('bad_order', d)
d = batch(0, 3, False); del d['labels']; bad('bad_no_labels', d)
d = batch(0, 3, False); d['labels'] = set(d['labels']); bad('bad_labels_set', d)
)PY";

std::string temp_dir() { return test::scratch_dir(); }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::int32_t> read_labels(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::int32_t> labels;
  for (std::int32_t v; in >> v;) labels.push_back(v);
  return labels;
}

// Generates the fixtures once for the whole suite; empty when Python or numpy is missing.
const std::string& fixture_dir() {
  static const std::string dir = [] {
    const std::string probe = std::string(kPython) + " -c 'import numpy' >/dev/null 2>&1";
    if (std::system(probe.c_str()) != 0) return std::string();
    const std::string out = temp_dir();
    std::ofstream(out + "/make_fixtures.py") << kGenerator;
    const std::string run =
        std::string(kPython) + " " + out + "/make_fixtures.py " + out + "/files";
    if (std::system(run.c_str()) != 0) return std::string("FAILED");
    return out + "/files";
  }();
  return dir;
}

#define REQUIRE_FIXTURES()                                                                   \
  do {                                                                                       \
    if (fixture_dir().empty()) GTEST_SKIP() << kPython << " with numpy is not available";   \
    ASSERT_NE(fixture_dir(), "FAILED") << "the Python fixture generator failed";             \
  } while (0)

// Row j of batch file f holds byte (37 f + 11 j + k) % 256 at k; labels cycle through kLabels.
constexpr int kLabels[] = {1, 120, 121, 1000, 60, 2, 500};

struct ExpectedImage {
  int file, row, label;
};

// The ImageNet16-120 images of the fixture's train (files 1..10 of 2 + f % 4 rows) or val (file
// 0 of 9 rows) split, worked out from the generator's formulas.
std::vector<ExpectedImage> expected_images(Split split) {
  std::vector<ExpectedImage> out;
  const int first = split == Split::kTrain ? 1 : 0, last = split == Split::kTrain ? 10 : 0;
  for (int f = first; f <= last; ++f) {
    const int rows = split == Split::kTrain ? 2 + f % 4 : 9;
    for (int j = 0; j < rows; ++j) {
      const int label = kLabels[(f + j) % 7];
      if (label <= 120) out.push_back({f, j, label - 1});
    }
  }
  return out;
}

class ImageNet16Layouts : public ::testing::TestWithParam<const char*> {};

TEST_P(ImageNet16Layouts, ReadsWhatTheReferenceLoaderReads) {
  REQUIRE_FIXTURES();
  const std::string folder = fixture_dir() + "/" + GetParam();
  for (const Split split : {Split::kTrain, Split::kTest}) {
    SCOPED_TRACE(split_name(split));
    ImageNet16Options options;
    options.verify_official_md5 = false;
    const ImageSet set = load_imagenet16(folder, split, options);
    EXPECT_EQ(set.channels, 3);
    EXPECT_EQ(set.height, 16);
    EXPECT_EQ(set.width, 16);
    EXPECT_EQ(set.num_classes, 120);
    EXPECT_EQ(set.sources.size(), split == Split::kTrain ? 10u : 1u);

    // Against Python's own unpickler used as NAS-Bench-201 uses it.
    const std::string rows = read_bytes(folder + "/expected_" + split_name(split) + ".bin");
    ASSERT_EQ(set.pixels.size(), rows.size());
    EXPECT_TRUE(std::equal(set.pixels.begin(), set.pixels.end(),
                           reinterpret_cast<const std::uint8_t*>(rows.data())));
    EXPECT_EQ(set.labels,
              read_labels(folder + "/expected_" + split_name(split) + "_labels.txt"));

    // Against the generator's formulas, independently of Python's unpickler.
    const auto expected = expected_images(split);
    ASSERT_EQ(set.size(), static_cast<std::int64_t>(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(set.labels[i], expected[i].label) << "image " << i;
      for (int k : {0, 1, 255, 256, 300, 511, 512, 767})  // R, G and B planes
        EXPECT_EQ(set.image(static_cast<std::int64_t>(i))[k],
                  (37 * expected[i].file + 11 * expected[i].row + k) % 256)
            << "image " << i << " byte " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllPickleLayouts, ImageNet16Layouts,
                         ::testing::Values("py2_proto0", "py2_proto1", "py2_proto2",
                                           "py3_proto0", "py3_proto1", "py3_proto2",
                                           "py3_proto3", "py3_default", "py3_proto5"));

TEST(ImageNet16, ClassFilterAndMinibatchAt16Px) {
  REQUIRE_FIXTURES();
  const std::string folder = fixture_dir() + "/py2_proto2";
  const ImageSet all = read_imagenet16_batches({folder + "/val_data"}, 1000);
  ASSERT_EQ(all.size(), 9);  // nothing dropped
  EXPECT_EQ(all.labels[3], 999);
  const ImageSet two = read_imagenet16_batches({folder + "/val_data"}, 2);
  EXPECT_EQ(two.labels, (std::vector<std::int32_t>{0, 1, 0}));  // labels 1, 2, 1 of rows 0, 5, 7
  EXPECT_THROW(read_imagenet16_batches({folder + "/val_data"}, 0), Error);
  EXPECT_THROW(read_imagenet16_batches({folder + "/val_data"}, 1001), Error);

  // 16 px images make 16 px minibatches directly, and 8 px by 2 x 2 boxes; never 32 px.
  const Minibatch mb = make_minibatch(two, {1}, kImageNet16Normalisation, 16);
  ASSERT_EQ(mb.images.size(), 3u * 256u);
  // Kept image 1 = val row 5: byte (11 * 5 + k) % 256; G plane, pixel 7 -> k = 263 -> 62.
  EXPECT_FLOAT_EQ(mb.images[256 + 7], (62.0f / 255.0f - static_cast<float>(116.66 / 255)) /
                                          static_cast<float>(61.26 / 255));
  const Minibatch small = make_minibatch(two, {0}, kImageNet16Normalisation, 8);
  // Row 0, R plane, output (0, 0) covers bytes 0, 1, 16, 17 -> mean 8.5.
  EXPECT_FLOAT_EQ(small.images[0], (8.5f / 255.0f - static_cast<float>(122.68 / 255)) /
                                       static_cast<float>(63.22 / 255));
  EXPECT_THROW(make_minibatch(two, {0}, kImageNet16Normalisation, 32), Error);
}

TEST(ImageNet16, MalformedFilesNameTheFileAndTheProblem) {
  REQUIRE_FIXTURES();
  const std::pair<const char*, const char*> cases[] = {
      {"bad_label_zero", "labels[1] = 0 is not an ImageNet class 1..1000"},
      {"bad_label_1001", "labels[2] = 1001 is not an ImageNet class"},
      {"bad_label_count", "has 3 images but 2 labels"},
      {"bad_row_size", "not a uint8 N x 768"},
      {"bad_dtype", "not a uint8 N x 768"},
      {"bad_order", "not a uint8 N x 768"},
      {"bad_no_labels", "no 'labels' key"},
      {"bad_labels_set", "global '__builtin__.set' is not allowed"},
  };
  for (const auto& [name, message] : cases) {
    const std::string path = fixture_dir() + "/" + name + "/val_data";
    try {
      read_imagenet16_batches({path}, 120);
      ADD_FAILURE() << name << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

TEST(ImageNet16, OfficialMd5IsCheckedByDefault) {
  REQUIRE_FIXTURES();
  const std::string folder = fixture_dir() + "/py3_default";
  try {
    load_imagenet16(folder, Split::kTrain);
    FAIL() << "fixture files passed as the official ones";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(folder + "/train_data_batch_1' has MD5"), std::string::npos) << what;
    EXPECT_NE(what.find("27846dcaa50de8e21a7d1a35f30f0e91"), std::string::npos) << what;
  }
  EXPECT_THROW(load_imagenet16(temp_dir(), Split::kTest), Error);  // no val_data at all
}

// --- the pickle reader on hand-made byte strings (no Python needed) ---

std::string parse_error(const std::string& bytes) {
  try {
    pickle::parse(bytes, "hand-made.pkl");
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

using namespace std::string_literals;  // pickles hold NUL bytes

TEST(PickleReader, RefusesCodeExecutionAndUnknownOpcodes) {
  // cos\nsystem\n: the classic pickle exploit.
  const std::string exploit = "\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00" "ls\x85R."s;
  EXPECT_NE(parse_error(exploit).find("global 'os.system' is not allowed"), std::string::npos)
      << parse_error(exploit);
  EXPECT_NE(parse_error(exploit).find("hand-made.pkl', byte 2"), std::string::npos);
  const std::string empty_set = "\x80\x04\x8f.";
  EXPECT_NE(parse_error(empty_set).find("unsupported opcode 0x8f (EMPTY_SET)"), std::string::npos)
      << parse_error(empty_set);
  const std::string newobj = "\x80\x02\x81.";
  EXPECT_NE(parse_error(newobj).find("0x81 (NEWOBJ)"), std::string::npos);
  EXPECT_NE(parse_error("\xff.").find("0xff (unknown)"), std::string::npos);
}

TEST(PickleReader, RefusesTruncatedAndTrailingData) {
  EXPECT_NE(parse_error("\x80\x02X\x10\x00\x00\x00" "abc"s).find("needs 16 more bytes"),
            std::string::npos);
  EXPECT_NE(parse_error("\x80\x02]q\x00"s).find("ends without STOP"), std::string::npos);
  EXPECT_NE(parse_error("N.N.").find("2 bytes after STOP"), std::string::npos);
  EXPECT_NE(parse_error("NN.").find("values left on the stack"), std::string::npos);
  EXPECT_NE(parse_error("a.").find("stack underflow"), std::string::npos);
  EXPECT_NE(parse_error("h\x05.").find("memo entry 5 was never stored"), std::string::npos);
}

TEST(PickleReader, Protocol0TextOpcodes) {
  // {'k': [1, True, -7, 2**40, 'a\tb\\x00']} as Python 2 protocol 0 writes it.
  const std::string text =
      "(dp0\nS'k'\np1\n(lp2\nI1\naI01\naI-7\naL1099511627776L\naS'a\\tb\\\\\\x00'\np3\na"
      "V\\u00e9\\u005c\np4\nag3\nas.";
  const pickle::ValuePtr v = pickle::parse(text, "text.pkl");
  ASSERT_EQ(v->kind, pickle::Kind::kDict);
  const pickle::Value* list = v->find("k");
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->kind, pickle::Kind::kList);
  ASSERT_EQ(list->items.size(), 7u);
  EXPECT_EQ(list->items[0]->integer, 1);
  EXPECT_EQ(list->items[1]->kind, pickle::Kind::kBool);
  EXPECT_EQ(list->items[2]->integer, -7);
  EXPECT_EQ(list->items[3]->integer, std::int64_t{1} << 40);
  EXPECT_EQ(list->items[4]->text, std::string("a\tb\\\0", 5));
  EXPECT_EQ(list->items[5]->kind, pickle::Kind::kText);
  EXPECT_EQ(list->items[5]->text, "\xc3\xa9\\");       // U+00E9 as UTF-8, then a backslash
  EXPECT_EQ(list->items[6].get(), list->items[4].get());  // g3: the memoised object itself
  EXPECT_EQ(v->find("missing"), nullptr);
}

}  // namespace
}  // namespace nbz
