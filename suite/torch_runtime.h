// LibTorch set-up shared by every command that computes: threads, device, versions. The header is
// torch-free so the CLI does not pay for <torch/torch.h>.
#pragma once

#include <string>

namespace nbz {

struct TorchRuntime {
  std::string torch_version;  // e.g. "1.13.1"
  std::string device;         // "cpu", "cuda:0"
  std::string device_name;    // CPU model or GPU name
  int threads = 1;            // intra-op threads actually set
  std::string blas;           // loaded BLAS (foundation/run_context.h)
};

// Sets intra-op threads (threads <= 0: all available cores; LibTorch from Debian would default
// to 1) and validates the device ("cpu", "cuda", "cuda:N"). Throws nbz::Error naming the device
// when it is unknown or not available in this build.
TorchRuntime configure_torch(const std::string& device, int threads);

}  // namespace nbz
