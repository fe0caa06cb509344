#include "spaces/training.h"

#include <cmath>
#include <string>

#include "foundation/errors.h"
#include "foundation/rng.h"
#include "foundation/stopwatch.h"

namespace nbz {
namespace {

// Keeps the training streams apart from the minibatch and sample streams of the same run seed.
constexpr std::uint64_t kTrainingSalt = 0x747261696E2D6570ULL;  // "train-ep"

std::uint64_t epoch_stream_seed(std::uint64_t seed, int epoch) {
  // Hashed twice rather than added, so that (seed, epoch + 1) is not (seed + 1, epoch)'s stream
  // shifted by one draw.
  const std::uint64_t run = SplitMix64(seed ^ kTrainingSalt).next();
  return SplitMix64(run ^ (static_cast<std::uint64_t>(epoch) * 0xD1B54A32D192ED03ULL)).next();
}

void check_options(const TrainingOptions& o) {
  auto fail = [](const std::string& what) { throw Error("training options: " + what); };
  if (!(o.lr >= 0) || !(o.lr_min >= 0) || o.lr_min > o.lr)
    fail("need 0 <= lr_min <= lr, got lr " + std::to_string(o.lr) + ", lr_min " +
         std::to_string(o.lr_min));
  if (!(o.momentum >= 0)) fail("momentum must be >= 0, got " + std::to_string(o.momentum));
  if (o.nesterov && o.momentum == 0) fail("Nesterov momentum needs a momentum > 0");
  if (!(o.weight_decay >= 0))
    fail("weight decay must be >= 0, got " + std::to_string(o.weight_decay));
  if (o.batch_size < 1) fail("batch size must be >= 1, got " + std::to_string(o.batch_size));
  if (o.schedule_epochs < 1)
    fail("the cosine horizon must be >= 1 epoch, got " + std::to_string(o.schedule_epochs));
  if (o.crop_padding < 0)
    fail("crop padding must be >= 0, got " + std::to_string(o.crop_padding));
}

}  // namespace

double cosine_learning_rate(const TrainingOptions& o, int epoch, std::int64_t iteration,
                            std::int64_t iterations_per_epoch) {
  NBZ_ASSERT(epoch >= 0 && iteration >= 0 && iteration < iterations_per_epoch,
             "iteration outside its epoch");
  if (epoch >= o.schedule_epochs) return o.lr_min;
  double t = epoch;
  if (o.lr_per_iteration)
    t += 1.0 * static_cast<double>(iteration) / static_cast<double>(iterations_per_epoch);
  // xautodl's expression, operation for operation, so the values are the same doubles.
  return o.lr_min + (o.lr - o.lr_min) * (1 + std::cos(M_PI * t / o.schedule_epochs)) / 2;
}

void augment_image(const std::uint8_t* src, int channels, int height, int width, int padding,
                   const Augmentation& a, std::uint8_t* dst) {
  NBZ_ASSERT(a.top >= 0 && a.top <= 2 * padding && a.left >= 0 && a.left <= 2 * padding,
             "crop outside the padded image");
  for (int c = 0; c < channels; ++c) {
    const std::uint8_t* plane = src + static_cast<size_t>(c) * height * width;
    std::uint8_t* out = dst + static_cast<size_t>(c) * height * width;
    for (int y = 0; y < height; ++y) {
      const int sy = y + a.top - padding;
      for (int x = 0; x < width; ++x) {
        // Column of the flipped image, then of the original.
        const int fx = x + a.left - padding;
        const int sx = a.flip ? width - 1 - fx : fx;
        const bool inside = sy >= 0 && sy < height && fx >= 0 && fx < width;
        out[static_cast<size_t>(y) * width + x] =
            inside ? plane[static_cast<size_t>(sy) * width + sx] : std::uint8_t{0};
      }
    }
  }
}

EpochPlan plan_epoch(std::int64_t num_images, const TrainingOptions& o, int epoch) {
  NBZ_ASSERT(num_images > 0 && epoch >= 0, "empty epoch");
  SplitMix64 rng(epoch_stream_seed(o.seed, epoch));
  EpochPlan plan;
  plan.order.resize(static_cast<size_t>(num_images));
  for (std::int64_t i = 0; i < num_images; ++i) plan.order[static_cast<size_t>(i)] = i;
  // Fisher-Yates over the whole set (PyTorch's RandomSampler: a fresh permutation each epoch).
  for (std::int64_t i = 0; i + 1 < num_images; ++i) {
    const auto j =
        i + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(num_images - i)));
    std::swap(plan.order[static_cast<size_t>(i)], plan.order[static_cast<size_t>(j)]);
  }
  // Per image in visiting order: the flip, then the crop's top and left (torchvision's order of
  // RandomHorizontalFlip, then RandomCrop drawing i then j).
  const auto offsets = static_cast<std::uint64_t>(2 * o.crop_padding + 1);
  plan.augmentations.resize(static_cast<size_t>(num_images));
  for (auto& a : plan.augmentations) {
    a.flip = o.horizontal_flip && rng.below(2) == 1;
    a.top = static_cast<int>(rng.below(offsets));
    a.left = static_cast<int>(rng.below(offsets));
  }
  return plan;
}

Trainer::Trainer(SearchNetwork network, const ImageSet& images, const TrainingOptions& options)
    : network_(std::move(network)), images_(&images), options_(options) {
  NBZ_ASSERT(network_ != nullptr && !network_->parameters().empty(),
             "training a null network or one without parameters");
  check_options(options_);
  if (images.size() == 0)
    throw Error("cannot train on an empty image set (" + images.description + ")");
  if (images.channels != 3)
    throw Error("training needs 3-channel images, got " + std::to_string(images.channels) +
                " channels in " + images.description);
  // Every parameter, in one group, as NB201's get_optim_scheduler(net.parameters(), ...).
  optimizer_ = std::make_unique<torch::optim::SGD>(
      network_->parameters(/*recurse=*/true), torch::optim::SGDOptions(options_.lr)
                                                  .momentum(options_.momentum)
                                                  .dampening(0)
                                                  .weight_decay(options_.weight_decay)
                                                  .nesterov(options_.nesterov));
}

std::int64_t Trainer::iterations_per_epoch() const {
  return (images_->size() + options_.batch_size - 1) / options_.batch_size;
}

std::pair<torch::Tensor, torch::Tensor> Trainer::make_batch(const EpochPlan& plan,
                                                            std::int64_t begin,
                                                            std::int64_t end) const {
  NBZ_ASSERT(begin >= 0 && begin < end && end <= static_cast<std::int64_t>(plan.order.size()),
             "batch outside the epoch");
  const ImageSet& set = *images_;
  const int channels = set.channels, height = set.height, width = set.width;
  const size_t plane = static_cast<size_t>(height) * width;
  // cpu: filled pixel by pixel on the host, then moved to the network's device and dtype below
  auto inputs = torch::empty({end - begin, channels, height, width}, torch::kFloat32);
  auto labels = torch::empty({end - begin}, torch::kInt64);  // cpu: as the inputs
  float* x = inputs.data_ptr<float>();
  std::int64_t* y = labels.data_ptr<std::int64_t>();
  std::vector<std::uint8_t> pixels(set.image_bytes());
  const Normalisation& norm = options_.normalisation;
  for (std::int64_t b = begin; b < end; ++b) {
    const std::int64_t index = plan.order[static_cast<size_t>(b)];
    augment_image(set.image(index), channels, height, width, options_.crop_padding,
                  plan.augmentations[static_cast<size_t>(b)], pixels.data());
    // Normalised after augmentation, as torchvision's ToTensor + Normalize in float32: padded
    // pixels are 0 before normalisation, like torchvision's zero fill.
    for (size_t c = 0; c < static_cast<size_t>(channels); ++c)
      for (size_t i = 0; i < plane; ++i)
        *x++ = (pixels[c * plane + i] / 255.0f - norm.mean[c]) / norm.std[c];
    *y++ = set.labels[static_cast<size_t>(index)];
  }
  const auto reference = network_->parameters().front();
  return {inputs.to(reference.device(), reference.scalar_type()), labels.to(reference.device())};
}

StepResult Trainer::step(const torch::Tensor& inputs, const torch::Tensor& labels, double lr) {
  for (auto& group : optimizer_->param_groups())
    static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
  optimizer_->zero_grad();
  network_->train(true);
  const auto logits = network_->forward(inputs);
  const auto loss = torch::nn::functional::cross_entropy(logits, labels);
  StepResult result;
  result.loss = loss.item<double>();
  result.correct = logits.detach().argmax(1).eq(labels).sum().item<std::int64_t>();
  if (!std::isfinite(result.loss)) return result;  // the caller decides; no update with it
  loss.backward();
  optimizer_->step();
  return result;
}

EpochMetrics Trainer::train_epoch() {
  Stopwatch clock;
  const bool was_training = network_->is_training();
  const std::int64_t n = images_->size();
  const std::int64_t iterations = iterations_per_epoch();
  const EpochPlan plan = plan_epoch(n, options_, epochs_done_);
  EpochMetrics m;
  double loss_sum = 0;
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < iterations; ++i) {
    const std::int64_t begin = i * options_.batch_size;
    const std::int64_t end = std::min(n, begin + options_.batch_size);
    const double lr = cosine_learning_rate(options_, epochs_done_, i, iterations);
    if (i == 0) m.lr_first = lr;
    m.lr_last = lr;
    const auto [inputs, labels] = make_batch(plan, begin, end);
    const StepResult r = step(inputs, labels, lr);
    if (!std::isfinite(r.loss)) {
      network_->train(was_training);
      throw Error("training diverged: loss " + std::to_string(r.loss) + " in epoch " +
                  std::to_string(epochs_done_ + 1) + ", iteration " + std::to_string(i + 1) +
                  " of " + std::to_string(iterations) + " (lr " + std::to_string(lr) + ")");
    }
    // Weighted by the batch size like NB201's AverageMeter, so the partial batch counts per image.
    loss_sum += r.loss * static_cast<double>(end - begin);
    correct += r.correct;
  }
  // Gradients of the last batch would otherwise accumulate into a proxy's backward.
  for (auto& p : network_->parameters()) p.mutable_grad() = torch::Tensor();
  network_->train(was_training);
  ++epochs_done_;
  m.epoch = epochs_done_;
  m.images = n;
  m.iterations = iterations;
  m.mean_loss = loss_sum / static_cast<double>(n);
  m.accuracy = 100.0 * static_cast<double>(correct) / static_cast<double>(n);
  m.seconds = clock.seconds();
  return m;
}

}  // namespace nbz
