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

// Minimal JSON string escaping for provenance fields.
std::string json_escape(const std::string& s);

}  // namespace nbz
