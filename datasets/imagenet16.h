// ImageNet16 as distributed by the NAS-Bench-201 authors: the 16 x 16 downsampled ImageNet of
// Chrabaszcz, Loshchilov & Hutter (2017), as Python pickles train_data_batch_1 .. _10 and val_data.
// Each file is a dict with 'data' (a uint8 numpy array, N x 768, each row 256 R, 256 G, 256 B
// bytes, row-major - already CHW), 'labels' (a list of N ints, 1-based ImageNet classes 1..1000)
// and, in the training files, 'mean' (ignored).
//
// ImageNet16-120 is the subset with labels 1..120, mapped to 0..119, kept in file then record
// order - what xautodl's ImageNet16(root, train, transform, use_num_of_class_only=120) yields
// (151,700 training and 6,000 validation images).
#pragma once

#include <string>
#include <vector>

#include "datasets/image_set.h"

namespace nbz {

struct ImageNet16Options {
  // Keep labels 1..num_classes (xautodl's use_num_of_class_only); 1000 keeps every image.
  int num_classes = 120;
  // Check each file against the MD5 digests NAS-Bench-201's loader lists, as that loader does,
  // so that a wrong or damaged file is an error rather than silently different images.
  bool verify_official_md5 = true;
};

// Reads the given pickle files (train_data_batch_* / val_data layout) and keeps labels
// 1..num_classes as 0..num_classes-1. Throws nbz::Error naming the file for an unreadable or
// non-conforming pickle (see datasets/pickle_reader.h), a missing key, a 'data' array that is not
// uint8 N x 768 in C order, a label count that differs from N, or a label outside 1..1000.
ImageSet read_imagenet16_batches(const std::vector<std::string>& paths, int num_classes);

// <folder>/train_data_batch_1 .. 10 (kTrain) or <folder>/val_data (kTest).
ImageSet load_imagenet16(const std::string& folder, Split split,
                         const ImageNet16Options& options = {});

}  // namespace nbz
