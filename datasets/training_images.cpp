#include "datasets/training_images.h"

#include "datasets/cifar10.h"
#include "datasets/cifar10_jpeg.h"
#include "foundation/errors.h"

namespace nbz {

const std::vector<std::string>& training_image_set_names() {
  static const std::vector<std::string> names = {"cifar10-exact-4k", "cifar10-jpeg-50k"};
  return names;
}

ImageSet load_training_images(const std::string& data_dir, const std::string& which) {
  if (which == "cifar10-exact-4k") return load_cifar10_train(data_dir);
  if (which == "cifar10-jpeg-50k") return load_cifar10_jpeg(data_dir, Split::kTrain);
  std::string known;
  for (const auto& name : training_image_set_names()) known += (known.empty() ? "" : ", ") + name;
  throw Error("unknown training image set '" + which + "' (expected one of: " + known + ")");
}

}  // namespace nbz
