// The shared-pass engine: for one architecture, one seed and one minibatch, it works out which
// passes the requested proxies need, runs each pass once, hands every proxy what it needs, and
// times both. A pass or proxy that throws or yields a non-finite value becomes a failed outcome
// with its reason; nothing is dropped.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "proxies/catalog.h"
#include "proxies/nngp.h"
#include "spaces/network.h"

namespace nbz {

struct EngineInput {
  NetworkFactory make_network;  // called right after torch::manual_seed(seed)
  // TE-NAS's thin variant of the same cell for linear_regions; empty = not defined for the space
  // (linear_regions then fails with that reason).
  NetworkFactory make_thin_network;
  torch::Tensor linear_region_inputs;  // [N, 1, h, w]: TE-NAS's single-channel crops
  std::uint64_t seed = 0;
  torch::Tensor images;  // [B, 3, H, W] float32, normalised
  torch::Tensor labels;  // [B] int64
  torch::Device device = torch::kCPU;
  // Floating type of the network and every batch. Scores are float32; float64 exists for the
  // CPU-side check that every tensor a pass makes takes the network's options (a tensor made on
  // the CPU in float32 then fails as a dtype mismatch, as it fails as a device mismatch on CUDA;
  // tests/device_options_test.cpp).
  torch::Dtype dtype = torch::kFloat32;
  torch::TensorOptions options() const { return torch::TensorOptions().device(device).dtype(dtype); }
  // The NNGP split and options; required when an nngp proxy is requested.
  const NngpData* nngp_data = nullptr;
  NngpOptions nngp;
};

struct ProxyOutcome {
  const ProxyInfo* proxy = nullptr;
  bool ok = false;
  double value = 0;
  std::string failure;
  double own_seconds = 0;     // the proxy's own reduction (and its taps)
  double shared_seconds = 0;  // its share of the passes it used: pass seconds / users
};

struct PassOutcome {
  Pass pass = Pass::Build;
  // As the `passes` table stores it: pass_name(pass), or for the NTK time evolution a name that
  // says which epoch (`train_epoch_1`, `ntk_jacobian_trained_1`, ...).
  std::string name;
  double seconds = 0;
  bool ok = true;
  std::string failure;
  std::vector<std::string> users;
};

struct ArchScores {
  std::vector<ProxyOutcome> proxies;  // in the order requested
  std::vector<PassOutcome> passes;    // in the order run
};

// The first line of an exception's message: the reason stored in a failed row (c10::Error
// appends a backtrace after it).
std::string failure_reason(const std::exception& e);

// Waits for the work queued on `device` (CUDA runs asynchronously), so that a stopwatch read next
// charges the work to the pass that queued it. Nothing to wait for on the CPU.
void wait_for_device(const torch::Device& device);

ArchScores score_architecture(const EngineInput& input,
                              const std::vector<const ProxyInfo*>& proxies);

}  // namespace nbz
