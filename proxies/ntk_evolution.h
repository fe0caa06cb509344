// The NTK time evolution (proxies.md section 4, lga_trained_k): the network of the run's seed is
// trained with NAS-Bench-201's recipe (spaces/training.h) and, after each requested epoch k, the
// NTK-family proxies are computed again on the trained weights by the same shared-pass engine, as
// `<metric>_trained_<k>` (catalog: ProxyInfo::train_epochs / base_name). The training loss and
// accuracy of each of those epochs are stored beside them as auxiliary `train_loss_trained_<k>`
// and `train_acc_trained_<k>`.
//
// Training runs once per architecture up to the largest requested k; the network scored at k is
// a copy, so scoring never changes the training trajectory. A diverged epoch fails every proxy
// of that epoch and later ones, with the reason, and nothing is dropped.
#pragma once

#include <string>
#include <vector>

#include "datasets/image_set.h"
#include "proxies/engine.h"
#include "spaces/training.h"

namespace nbz {

// `proxies` must all have train_epochs > 0. `input.make_network` (after torch::manual_seed of
// input.seed) gives the initial network, exactly the one the engine scores at epoch 0. The
// training seed is options.seed (the caller sets it from the run seed). Threads are the caller's.
// The passes come back named `build_for_training`, `train_epoch_<k>` (the epoch of training that
// ended at k) and `<pass>_trained_<k>` (the engine's passes on the network trained to k).
ArchScores score_after_training(const EngineInput& input, const ImageSet& training_images,
                                const TrainingOptions& options,
                                const std::vector<const ProxyInfo*>& proxies);

}  // namespace nbz
