#include "suite/torch_runtime.h"

#include <torch/torch.h>

#include "suite/errors.h"
#include "suite/run_context.h"

namespace nbz {

TorchRuntime configure_torch(const std::string& device, int threads) {
  TorchRuntime rt;
  rt.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                     std::to_string(TORCH_VERSION_MINOR) + "." +
                     std::to_string(TORCH_VERSION_PATCH);
  const HostInfo host = host_info();
  rt.threads = threads > 0 ? threads : host.cores;
  torch::set_num_threads(rt.threads);
  if (device == "cpu") {
    rt.device = "cpu";
    rt.device_name = host.cpu;
  } else if (device == "cuda" || device.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw Error("device '" + device + "' requested but this LibTorch build has no usable CUDA");
    torch::Device d(device);
    const int index = d.has_index() ? d.index() : 0;
    if (index >= static_cast<int>(torch::cuda::device_count()))
      throw Error("device '" + device + "': only " + std::to_string(torch::cuda::device_count()) +
                  " CUDA devices");
    rt.device = "cuda:" + std::to_string(index);
    rt.device_name = "CUDA device " + std::to_string(index);
  } else {
    throw Error("unknown device '" + device + "' (expected cpu, cuda or cuda:N)");
  }
  // Touch BLAS once so that the library is mapped before it is recorded.
  (void)torch::matmul(torch::ones({2, 2}), torch::ones({2, 2}));
  rt.blas = loaded_blas();
  return rt;
}

}  // namespace nbz
