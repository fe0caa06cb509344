// CIFAR-100 in the official binary layout (cifar-100-binary: train.bin, test.bin): records of
// 3,074 bytes, a coarse label byte (20 superclasses), a fine label byte (100 classes), then
// 1024 R, 1024 G, 1024 B bytes, row-major.
#pragma once

#include <string>
#include <vector>

#include "datasets/image_set.h"

namespace nbz {

// Fine labels (100 classes) are what NAS-Bench-201 and torchvision's CIFAR100 use.
enum class Cifar100Labels { kFine, kCoarse };

// Reads and concatenates any number of record files, in file then record order. Throws
// nbz::Error naming the file when it is missing, its size is not a positive multiple of 3,074
// bytes, or a label is out of range (fine >= 100, coarse >= 20; both are checked whichever is
// kept, since either being out of range means the file is not CIFAR-100).
ImageSet read_cifar100_binary(const std::vector<std::string>& paths,
                              Cifar100Labels labels = Cifar100Labels::kFine);

// <folder>/train.bin (50,000 images) or <folder>/test.bin (10,000), the folder the official
// cifar-100-binary.tar.gz unpacks to. Throws nbz::Error when the count is not the official one.
ImageSet load_cifar100(const std::string& folder, Split split,
                       Cifar100Labels labels = Cifar100Labels::kFine);

}  // namespace nbz
