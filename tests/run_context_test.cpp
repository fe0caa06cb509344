// Run provenance facts: the host, and a CUDA device as the driver describes it (both the
// no-driver answer, which CI always sees, and the description format).
#include "foundation/run_context.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

namespace nbz {
namespace {

TEST(HostInfo, NamesTheCpuAndCountsUsableCores) {
  const HostInfo host = host_info();
  EXPECT_FALSE(host.host.empty());
  EXPECT_FALSE(host.cpu.empty());
  EXPECT_GE(host.cores, 1);
}

TEST(BlasBuild, DropsOnlyTheKernelOpenBlasPickedForTheCpu) {
  const std::string lib = "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblasp-r0.3.21.so ";
  const std::string build = lib + "(OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY USE_OPENMP";
  EXPECT_EQ(blas_build(build + " Zen MAX_THREADS=64)"), build + " MAX_THREADS=64)");
  EXPECT_EQ(blas_build(build + " Cooperlake MAX_THREADS=64)"), build + " MAX_THREADS=64)");
  EXPECT_EQ(blas_build(build + " Haswell SINGLE_THREADED)"), build + " SINGLE_THREADED)");
  // No kernel name (a build flag precedes the limit), no dynamic dispatch, not OpenBLAS: as given.
  EXPECT_EQ(blas_build(build + " MAX_THREADS=64)"), build + " MAX_THREADS=64)");
  const std::string fixed = lib + "(OpenBLAS 0.3.21 NO_LAPACKE USE_OPENMP Haswell MAX_THREADS=64)";
  EXPECT_EQ(blas_build(fixed), fixed);
  EXPECT_EQ(blas_build("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"),
            "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0");
  EXPECT_EQ(blas_build("none loaded"), "none loaded");
}

TEST(OpenBlasKernel, RestartsOnlyAPrescottFallbackOnACpuWithWiderVectors) {
  const std::string dynamic = "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblasp-r0.3.21.so "
                              "(OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY USE_OPENMP ";
  const std::string prescott = dynamic + "Prescott MAX_THREADS=64)";
  // The flags of the Xeon (family 6, model 207) that OpenBLAS 0.3.21 does not know.
  const std::string xeon = " fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx avx2 avx512f avx512dq "
                           "avx512cd avx512bw avx512vl avx512_bf16 avx512_fp16";
  EXPECT_EQ(better_openblas_coretype(prescott, xeon), "Cooperlake");
  EXPECT_EQ(better_openblas_coretype(prescott, " avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl"),
            "SkylakeX");
  EXPECT_EQ(better_openblas_coretype(prescott, " sse2 avx avx2 fma"), "Haswell");
  EXPECT_EQ(better_openblas_coretype(prescott, " sse2 avx"), "Sandybridge");
  // A flag is a whole word: avx512f alone (no bw/vl/...) is not AVX-512 for SkylakeX's kernels.
  EXPECT_EQ(better_openblas_coretype(prescott, " avx avx512f avx512_fp16"), "Sandybridge");
  EXPECT_EQ(better_openblas_coretype(prescott, " sse2 ssse3"), "");
  // OpenBLAS recognised the CPU, is not a dynamic build, or is not OpenBLAS: nothing to do.
  EXPECT_EQ(better_openblas_coretype(dynamic + "Cooperlake MAX_THREADS=64)", xeon), "");
  EXPECT_EQ(better_openblas_coretype(dynamic + "Zen MAX_THREADS=64)", xeon), "");
  EXPECT_EQ(better_openblas_coretype("/x/libopenblasp.so (OpenBLAS 0.3.21 USE_OPENMP Prescott "
                                     "MAX_THREADS=64)", xeon), "");
  EXPECT_EQ(better_openblas_coretype("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", xeon), "");
  EXPECT_EQ(better_openblas_coretype("none loaded", xeon), "");
}

TEST(CudaDeviceInfo, DescribesNameCapabilityMemoryAndDriver) {
  CudaDeviceInfo info;
  info.found = true;
  info.name = "NVIDIA H100 80GB HBM3";
  info.compute_major = 9;
  info.compute_minor = 0;
  info.total_memory = 85520809984ULL;  // 79.65 GiB
  info.driver_api_version = 12020;
  info.driver_release = "535.104.05";
  EXPECT_EQ(info.describe(),
            "NVIDIA H100 80GB HBM3, compute capability 9.0, 79.6 GiB, driver 535.104.05 (CUDA 12.2)");
  info.driver_release.clear();
  EXPECT_NE(info.describe().find("driver release unknown (CUDA 12.2)"), std::string::npos);
  CudaDeviceInfo missing;
  missing.error = "cannot open libcuda.so.1: no such file";
  EXPECT_EQ(missing.describe(), "CUDA device info unavailable: cannot open libcuda.so.1: no such file");
}

TEST(CudaDeviceInfo, SaysWhyWithoutADriverAndNamesTheDeviceWithOne) {
  const CudaDeviceInfo info = cuda_device_info(0);
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver) {
    EXPECT_FALSE(info.found);
    EXPECT_NE(info.error.find("libcuda.so.1"), std::string::npos) << info.error;
    return;
  }
  if (info.found) {
    EXPECT_FALSE(info.name.empty());
    EXPECT_GE(info.compute_major, 1);
    EXPECT_GT(info.total_memory, 0u);
    EXPECT_GE(info.driver_api_version, 1000);
  } else {
    EXPECT_FALSE(info.error.empty());  // a driver without a usable device 0
  }
  // An ordinal no machine has is refused by the driver, with the ordinal named.
  const CudaDeviceInfo none = cuda_device_info(4096);
  EXPECT_FALSE(none.found);
  EXPECT_NE(none.error.find(info.found ? "4096" : ""), std::string::npos) << none.error;
}

}  // namespace
}  // namespace nbz
