// What every architecture of a run is scored with besides its network, prepared once: the
// minibatch as tensors, TE-NAS's linear-region crops, the NNGP split; and the NB201 and NB101
// network factories. One definition, used by the sweep and by the benchmarks so that both measure the
// same thing.
#pragma once

#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>

#include "datasets/cifar10.h"
#include "proxies/nngp.h"
#include "spaces/nb101_network.h"
#include "spaces/nb201_network.h"

namespace nbz {

std::pair<torch::Tensor, torch::Tensor> minibatch_tensors(const Minibatch& mb);

// TE-NAS's linear-region inputs: 3 x 1000 single-channel 3x3 crops of `train`, drawn with `seed`.
torch::Tensor linear_region_crops(const ImageSet& train, std::uint64_t seed);

// The NNGP split (proxies.md section 5): n_train + n_val distinct images of a training image set
// (`set`, loaded by the caller so that a sweep reads each set once; `set_name` for messages) drawn
// with the seed (train = the first n_train, validation = the last n_val, never test images) and a
// BatchNorm batch of up to 100 drawn from the train part. Throws nbz::Error for bad sizes.
std::unique_ptr<NngpData> prepare_nngp_split(const ImageSet& set, const std::string& set_name,
                                             int n_train, int n_val, std::uint64_t seed,
                                             int input_size, int num_classes);

NetworkFactory nb201_factory(const nb201::Cell& cell, const nb201::NetworkOptions& options);
// TE-NAS's thin network for linear regions: one cell of 1 channel on the 1-channel input, no
// stem, no reduction, then the head (BN, ReLU, pool, Linear).
nb201::NetworkOptions nb201_thin_options(nb201::NetworkOptions full);

// The exact NAS-Bench-101 network of `cell` (pruned by the network). NB101 has no TE-NAS thin
// network: a sweep leaves EngineInput::make_thin_network empty, so linear_regions is a failed
// row saying so. NNGP needs nothing of its own: it works on the pooled features of this network.
NetworkFactory nb101_factory(const nb101::Cell& cell, const nb101::NetworkOptions& options);

// While alive, networks are built with their real module tree (the same constructors, real CPU
// tensors of the real shapes) but without running the initialisers, and the global generator is
// not advanced: the Meta key in the thread's included dispatch keys sends every op on an
// existing tensor (uniform_, fill_, zero_) to its Meta kernel, which only checks shapes, while
// factory functions (torch::empty) still allocate on the CPU. Building an NB101 network with its
// weights drawn costs ~50 ms (8.5M parameters), ~17 minutes for the 20,001 ground-truth rows;
// this is what lets `check-space` count all of them in seconds. ForceDispatchKeyGuard restores
// the exact previous key set. Networks built here are only fit for counting parameters and
// shapes, never for a forward pass. (tests/nb101_network_test.cpp checks the trick: same names
// and shapes as a normally built network.)
class SkipInitScope {
 public:
  SkipInitScope() : guard_(with_meta_included()) {}

 private:
  static c10::impl::LocalDispatchKeySet with_meta_included() {
    auto keys = c10::impl::tls_local_dispatch_key_set();
    keys.included_ = keys.included_ | c10::DispatchKeySet(c10::DispatchKey::Meta);
    return keys;
  }
  torch::NoGradGuard no_grad_;
  c10::impl::ForceDispatchKeyGuard guard_;
};

}  // namespace nbz
