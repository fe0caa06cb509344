#include "suite/torch_runtime.h"

#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/torch.h>

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "foundation/errors.h"
#include "foundation/run_context.h"

namespace nbz {
namespace {

// The CUDA runtime and cuDNN that this LibTorch was built with, through its CUDA hooks (present
// in every build; only a CUDA build answers).
std::string cuda_libraries() {
  const auto& hooks = at::detail::getCUDAHooks();
  const long cudart = hooks.versionCUDART();
  std::string out = "CUDA runtime " + std::to_string(cudart / 1000) + "." +
                    std::to_string((cudart % 1000) / 10);
  out += hooks.compiledWithCuDNN() ? ", cuDNN " + std::to_string(hooks.versionCuDNN())
                                   : ", no cuDNN";
  return out;
}

// Bit-reproducible GPU scores: cuDNN's deterministic algorithms without autotuning, cuBLAS with
// a fixed workspace (the variable must be set before the first cuBLAS handle, i.e. before any
// GPU work), and PyTorch's deterministic implementations where an op has one. Ops with none
// (e.g. adaptive average pooling's backward) warn instead of failing, so every proxy still runs;
// the returned text goes into the run's provenance.
std::string make_cuda_deterministic() {
  setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  auto& context = at::globalContext();
  context.setBenchmarkCuDNN(false);
  context.setDeterministicCuDNN(true);
  context.setDeterministicAlgorithms(true, /*warn_only=*/true);
  return std::string("cudnn.deterministic=1, cudnn.benchmark=0, deterministic_algorithms=warn_only, "
                     "CUBLAS_WORKSPACE_CONFIG=") + std::getenv("CUBLAS_WORKSPACE_CONFIG");
}

// Every pass frees its activations and the next allocates tensors of the same sizes again. With
// glibc's defaults those pages go back to the kernel (heap trimming, and mmap for blocks above a
// threshold that adapts) and are faulted in again, zero-filled: a tenth of a GraSP pass on the
// NB201 median cell went to page faults (perf). Keeping up to 1 GiB of freed heap and serving
// blocks up to 32 MiB (glibc's largest threshold) from the heap avoids that; values are untouched.
void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
#endif
}

}  // namespace

TorchRuntime configure_torch(const std::string& device, int threads) {
  TorchRuntime rt;
  rt.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                     std::to_string(TORCH_VERSION_MINOR) + "." +
                     std::to_string(TORCH_VERSION_PATCH);
  const HostInfo host = host_info();
  rt.threads = threads > 0 ? threads : host.cores;
  torch::set_num_threads(rt.threads);
  keep_freed_memory();
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
    const std::string determinism = make_cuda_deterministic();  // before any GPU work
    rt.device_name = cuda_device_info(index).describe() + "; " + cuda_libraries() + "; " + determinism;
  } else {
    throw Error("unknown device '" + device + "' (expected cpu, cuda or cuda:N)");
  }
  // Touch BLAS once so that the library is mapped before it is recorded.
  // cpu: the host BLAS is the one recorded
  (void)torch::matmul(torch::ones({2, 2}), torch::ones({2, 2}));
  rt.blas = loaded_blas();
  return rt;
}

}  // namespace nbz
