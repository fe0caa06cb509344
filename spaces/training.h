// Ordinary training of any SearchNetwork with NAS-Bench-201's recipe, for the proxies that are
// computed after k epochs (lga_trained_k, the NTK time evolution; ../shared/docs/proxies.md
// section 4): SGD with Nesterov momentum 0.9, lr 0.1 with cosine annealing over a fixed 200-epoch
// horizon, weight decay 5e-4 on every parameter, batch 256, random horizontal flip then random
// crop with zero padding 4, reshuffled every epoch, mean cross-entropy, train-mode BatchNorm.
//
// Shuffling and augmentation draw from the suite's own PRNG (foundation/rng.h) seeded from
// TrainingOptions::seed, never from torch's global generator, so the weights after k epochs are
// reproducible to the bit on the CPU with a fixed thread count, and training does not shift the
// random streams of anything built after it. docs/decisions.md ("Training") says why each choice.
//
//   nbz::Trainer trainer(network, images, options);
//   for (int k = 0; k < epochs; ++k) {
//     const nbz::EpochMetrics m = trainer.train_epoch();  // m.epoch == k + 1
//     ...  // score the network after m.epoch epochs
//   }
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "datasets/cifar10.h"
#include "datasets/image_set.h"
#include "spaces/network.h"

namespace nbz {

struct TrainingOptions {
  double lr = 0.1;              // base learning rate (NB201: LR)
  double lr_min = 0.0;          // the cosine's floor (NB201: eta_min)
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;   // on every parameter, BatchNorm and biases included, as NB201
  std::int64_t batch_size = 256;  // the last, partial batch of an epoch is kept
  // The cosine horizon T_max in epochs. Fixed (not the number of epochs a caller trains), so the
  // network after k epochs is the same whether 1 or 10 epochs were asked for.
  int schedule_epochs = 200;
  // false (NB201's code): one lr per epoch, cos(pi e / T). true: updated every iteration with
  // the fractional epoch e + i / iterations_per_epoch.
  bool lr_per_iteration = false;
  int crop_padding = 4;         // zero padding of the random crop (the crop is the image size)
  bool horizontal_flip = true;  // flip with probability 1/2, before the crop (torchvision order)
  std::uint64_t seed = 0;       // shuffling and augmentation (not the weights)
  Normalisation normalisation = kCifar10Normalisation;  // applied after augmentation
};

// The learning rate of iteration `iteration` (0-based) of epoch `epoch` (0-based), as xautodl's
// CosineAnnealingLR computes it: lr_min + (lr - lr_min) * (1 + cos(pi * t / T)) / 2 with t = epoch
// (or epoch + iteration / iterations_per_epoch with lr_per_iteration), lr_min from epoch T on.
double cosine_learning_rate(const TrainingOptions& options, int epoch, std::int64_t iteration,
                            std::int64_t iterations_per_epoch);

// One image's augmentation: mirrored left-right first, then the crop whose top-left corner is
// (top, left) in the image zero-padded by `padding` on every side; top, left in [0, 2 padding].
struct Augmentation {
  bool flip = false;
  int top = 0, left = 0;
};

// Applies `a` to one CHW uint8 image (channels x height x width) into `dst` (same shape).
void augment_image(const std::uint8_t* src, int channels, int height, int width, int padding,
                   const Augmentation& a, std::uint8_t* dst);

// What one epoch visits: a permutation of the images and each position's augmentation, drawn
// from splitmix64 seeded with a hash of (options.seed, epoch), so any epoch can be reproduced on
// its own.
struct EpochPlan {
  std::vector<std::int64_t> order;          // image indices, in visiting order
  std::vector<Augmentation> augmentations;  // per position of `order`
};
EpochPlan plan_epoch(std::int64_t num_images, const TrainingOptions& options, int epoch);

struct EpochMetrics {
  int epoch = 0;               // epochs of training the network has had after this one (1-based)
  double mean_loss = 0;        // mean cross-entropy per image over the epoch
  double accuracy = 0;         // top-1 on the augmented training batches, in percent
  std::int64_t images = 0;     // images seen (the whole set, once)
  std::int64_t iterations = 0; // optimiser steps (ceil(images / batch_size))
  double lr_first = 0, lr_last = 0;  // learning rate of the first and last iteration
  double seconds = 0;          // wall-clock time of the epoch, data preparation included
};

struct StepResult {
  double loss = 0;             // the batch's mean cross-entropy
  std::int64_t correct = 0;    // top-1 hits in the batch
};

// Owns the optimiser state (momentum buffers) of one network. `images` must outlive the trainer;
// `network` is shared and trained in place. Threads are the caller's (torch::set_num_threads).
class Trainer {
 public:
  // Throws nbz::Error for an empty or non-3-channel image set or an option out of range.
  Trainer(SearchNetwork network, const ImageSet& images, const TrainingOptions& options = {});
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // One pass over the image set. The network is in train mode during the epoch and left in the
  // mode it was in before; its gradients are cleared afterwards (undefined, as after building),
  // so proxies computed next start from a clean state. Throws nbz::Error when a batch loss is
  // non-finite (training diverged), before that batch's update.
  EpochMetrics train_epoch();

  // One SGD iteration on prepared inputs (on the network's device and dtype) and int64 labels:
  // zero the gradients, train-mode forward, mean cross-entropy, backward, update with `lr`.
  // train_epoch is a loop over it; exposed for tests and custom loops. Leaves the gradients of
  // this step in place.
  StepResult step(const torch::Tensor& inputs, const torch::Tensor& labels, double lr);

  // The normalised, augmented batch of positions [begin, end) of `plan`, and its labels, on the
  // network's device and dtype.
  std::pair<torch::Tensor, torch::Tensor> make_batch(const EpochPlan& plan, std::int64_t begin,
                                                     std::int64_t end) const;

  int epochs_done() const { return epochs_done_; }
  std::int64_t iterations_per_epoch() const;
  const SearchNetwork& network() const { return network_; }
  const TrainingOptions& options() const { return options_; }

 private:
  SearchNetwork network_;
  const ImageSet* images_;
  TrainingOptions options_;
  std::unique_ptr<torch::optim::SGD> optimizer_;
  int epochs_done_ = 0;
};

}  // namespace nbz
