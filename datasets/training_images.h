// Dataset-level entry point: the image sets a run can draw its minibatch from, by name, each with
// a human-readable ImageSet::description to record with the run.
#pragma once

#include <string>
#include <vector>

#include "datasets/image_set.h"

namespace nbz {

// The names load_training_images accepts, in a stable order (for --help texts and errors):
//   cifar10-exact-4k  the first 4,000 CIFAR-10 training images, exact pixels, official order
//                     (cifar10/data_batch_1_first4000.bin)
//   cifar10-jpeg-50k  all 50,000 CIFAR-10 training images from the lossy JPEG archive, sorted by
//                     (class, file number) (cifar10/CIFAR-10-images.tar.gz)
const std::vector<std::string>& training_image_set_names();

// Loads the named set from the shared data folder, checksum-verified. Throws nbz::Error for an
// unknown name (listing the known ones) or a missing / corrupt file.
ImageSet load_training_images(const std::string& data_dir, const std::string& which);

}  // namespace nbz
