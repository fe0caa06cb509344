// Facts about the machine recorded with every run (google/benchmark's "context"): host, CPU,
// and which BLAS the process really loaded. Torch-free.
#pragma once

#include <string>

namespace nbz {

struct HostInfo {
  std::string host;
  std::string cpu;  // model name from /proc/cpuinfo
  int cores = 1;    // logical CPUs available to this process
};
HostInfo host_info();

// The BLAS library mapped into this process, resolved through Debian's alternatives symlinks
// (e.g. ".../openblas-openmp/libblas.so.3"), plus OpenBLAS's own config string when it is
// OpenBLAS. "none loaded" when no BLAS is mapped yet.
std::string loaded_blas();

// `blas` (a loaded_blas() string) without the kernel an OpenBLAS DYNAMIC_ARCH build picked for
// this CPU at load time: the library and its build, which is what a run's config_key names. The
// picked kernel is hardware, like the CPU model, and is recorded per session instead, so that a
// sweep resumed on another machine continues its run (docs/decisions.md, "Runs and resumption").
// OpenBLAS's config string puts that kernel name last, before " MAX_THREADS=N" or
// " SINGLE_THREADED"; any other string is returned unchanged.
std::string blas_build(const std::string& blas);

// OpenBLAS 0.3.21 (Debian 12) does not know some newer CPUs (seen: Xeon family 6 model 207, with
// AVX-512 and BF16) and then runs its Prescott (SSE3) kernels, 1.7x slower on GraSP's Hessian pass
// and the batch-1 gradients of a large NB201 cell than its Cooperlake kernels. Given a
// loaded_blas() string and the CPU's /proc/cpuinfo flags, the OPENBLAS_CORETYPE that matches the
// CPU (Cooperlake: AVX-512 BF16; SkylakeX: AVX-512 F/BW/VL/DQ/CD; Haswell: AVX2 + FMA;
// Sandybridge: AVX), or "" when OpenBLAS did not fall back to Prescott or the CPU has none of them.
std::string better_openblas_coretype(const std::string& blas, const std::string& cpu_flags);

// The "flags" line of /proc/cpuinfo (first CPU), "" when unreadable.
std::string cpu_flags();

// At the start of a command that computes: when OpenBLAS fell back to Prescott on a CPU it does
// not know and the user has not set OPENBLAS_CORETYPE, re-executes this program with
// OPENBLAS_CORETYPE set to better_openblas_coretype() (OpenBLAS reads it only when it loads).
// The kernel in use is recorded with every run (loaded_blas()). Returns only when no restart is
// needed or the restart failed.
void restart_with_matching_openblas_kernel(char** argv);

// A CUDA device as the NVIDIA driver describes it, for run provenance. Read through the driver API
// (libcuda.so.1, opened at run time) and /proc/driver/nvidia/version, so that it needs neither
// CUDA headers nor a CUDA build of LibTorch, and says why when there is no driver.
struct CudaDeviceInfo {
  bool found = false;
  std::string error;           // why not found
  std::string name;            // e.g. "NVIDIA H100 80GB HBM3"
  int compute_major = 0, compute_minor = 0;
  unsigned long long total_memory = 0;  // bytes
  int driver_api_version = 0;  // cuDriverGetVersion: 12020 = the driver supports CUDA 12.2
  std::string driver_release;  // kernel module release, e.g. "535.104.05" (empty if unreadable)

  // "NVIDIA H100 80GB HBM3, compute capability 9.0, 79.6 GiB, driver 535.104.05 (CUDA 12.2)",
  // or "CUDA device info unavailable: <error>".
  std::string describe() const;
};
// `ordinal` in the driver's enumeration, which is CUDA's (and so LibTorch's) device index.
CudaDeviceInfo cuda_device_info(int ordinal);

// Minimal JSON string escaping for provenance fields.
std::string json_escape(const std::string& s);

}  // namespace nbz
