#include "foundation/run_context.h"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace nbz {

HostInfo host_info() {
  HostInfo info;
  char name[HOST_NAME_MAX + 1] = {0};
  info.host = gethostname(name, sizeof name - 1) == 0 ? name : "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      info.cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  if (info.cpu.empty()) info.cpu = "unknown";
  cpu_set_t set;
  info.cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                          : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (info.cores < 1) info.cores = 1;
  return info;
}

std::string loaded_blas() {
  std::ifstream maps("/proc/self/maps");
  std::string line, path;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string file = line.substr(slash);
    const auto base = file.substr(file.rfind('/') + 1);
    if (base.rfind("libblas.so", 0) == 0 || base.rfind("libopenblas", 0) == 0 ||
        base.rfind("libmkl_rt", 0) == 0) {
      path = file;
      break;
    }
  }
  if (path.empty()) return "none loaded";
  char resolved[PATH_MAX];
  std::string result = realpath(path.c_str(), resolved) ? resolved : path;
  using ConfigFn = char* (*)();
  if (auto fn = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
    result += " (" + std::string(fn()) + ")";
  return result;
}

std::string better_openblas_coretype(const std::string& blas, const std::string& flags) {
  if (blas.find("OpenBLAS") == std::string::npos || blas.find(" DYNAMIC_ARCH ") == std::string::npos ||
      blas.find(" Prescott ") == std::string::npos)
    return "";
  std::istringstream in(flags);
  std::set<std::string> has;
  for (std::string f; in >> f;) has.insert(f);
  auto all = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (!has.count(n)) return false;
    return true;
  };
  if (all({"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_bf16"})) return "Cooperlake";
  if (all({"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"})) return "SkylakeX";
  if (all({"avx2", "fma"})) return "Haswell";
  if (all({"avx"})) return "Sandybridge";
  return "";
}

std::string cpu_flags() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("flags", 0) == 0) return line.substr(line.find(':') + 1);
  return "";
}

void restart_with_matching_openblas_kernel(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice, or our restart
  const std::string coretype = better_openblas_coretype(loaded_blas(), cpu_flags());
  if (coretype.empty()) return;
  setenv("OPENBLAS_CORETYPE", coretype.c_str(), /*overwrite=*/1);
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // exec failed: go on with the kernel OpenBLAS picked
}

std::string blas_build(const std::string& blas) {
  if (blas.find(" DYNAMIC_ARCH ") == std::string::npos) return blas;
  std::size_t end = blas.find(" MAX_THREADS=");
  if (end == std::string::npos) end = blas.find(" SINGLE_THREADED");
  if (end == std::string::npos) return blas;
  const std::size_t start = blas.rfind(' ', end - 1);
  if (start == std::string::npos || start + 1 >= end) return blas;
  // Build flags (NO_AFFINITY, USE_OPENMP, DYNAMIC_ARCH) hold an underscore, kernel names never:
  // a string without a kernel name keeps its last flag.
  if (blas.substr(start + 1, end - start - 1).find('_') != std::string::npos) return blas;
  return blas.substr(0, start) + blas.substr(end);
}

std::string CudaDeviceInfo::describe() const {
  if (!found) return "CUDA device info unavailable: " + error;
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << name << ", compute capability " << compute_major << "." << compute_minor << ", "
      << static_cast<double>(total_memory) / (1024.0 * 1024.0 * 1024.0) << " GiB, driver "
      << (driver_release.empty() ? "release unknown" : driver_release) << " (CUDA "
      << driver_api_version / 1000 << "." << (driver_api_version % 1000) / 10 << ")";
  return out.str();
}

CudaDeviceInfo cuda_device_info(int ordinal) {
  CudaDeviceInfo info;
  // The driver API's C ABI: CUresult is an int enum (0 = success), CUdevice an int.
  using InitFn = int (*)(unsigned);
  using VersionFn = int (*)(int*);
  using DeviceGetFn = int (*)(int*, int);
  using NameFn = int (*)(char*, int, int);
  using AttributeFn = int (*)(int*, int, int);
  using MemoryFn = int (*)(std::size_t*, int);
  constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76;  // CUdevice_attribute
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    info.error = std::string("cannot open libcuda.so.1: ") + (why ? why : "unknown reason");
    return info;
  }
  auto symbol = [&](const char* name) { return dlsym(lib, name); };
  auto init = reinterpret_cast<InitFn>(symbol("cuInit"));
  auto version = reinterpret_cast<VersionFn>(symbol("cuDriverGetVersion"));
  auto device_get = reinterpret_cast<DeviceGetFn>(symbol("cuDeviceGet"));
  auto get_name = reinterpret_cast<NameFn>(symbol("cuDeviceGetName"));
  auto attribute = reinterpret_cast<AttributeFn>(symbol("cuDeviceGetAttribute"));
  auto memory = reinterpret_cast<MemoryFn>(symbol("cuDeviceTotalMem_v2"));
  int device = 0;
  char name[256] = {0};
  if (!init || !version || !device_get || !get_name || !attribute || !memory) {
    info.error = "libcuda.so.1 lacks a driver API entry point";
  } else if (int rc = init(0); rc != 0) {
    info.error = "cuInit failed with CUresult " + std::to_string(rc);
  } else if (int rc = device_get(&device, ordinal); rc != 0) {
    info.error = "cuDeviceGet(" + std::to_string(ordinal) + ") failed with CUresult " +
                 std::to_string(rc);
  } else {
    std::size_t bytes = 0;
    version(&info.driver_api_version);
    get_name(name, static_cast<int>(sizeof name - 1), device);
    attribute(&info.compute_major, kComputeCapabilityMajor, device);
    attribute(&info.compute_minor, kComputeCapabilityMinor, device);
    memory(&bytes, device);
    info.name = name;
    info.total_memory = bytes;
    info.found = true;
  }
  // Opened for good: LibTorch's own CUDA runtime holds the same library, closing gains nothing.
  std::ifstream proc("/proc/driver/nvidia/version");
  std::string line;
  // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023"
  const std::string marker = "Kernel Module";
  if (info.found && std::getline(proc, line) && line.find(marker) != std::string::npos) {
    std::istringstream words(line.substr(line.find(marker) + marker.size()));
    words >> info.driver_release;
  }
  return info;
}

std::string json_escape(const std::string& s) {
  std::ostringstream out;
  for (char c : s) {
    switch (c) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      case '\t': out << "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out << buf;
        } else {
          out << c;
        }
    }
  }
  return out.str();
}

}  // namespace nbz
