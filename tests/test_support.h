// Shared helpers for the test binaries.
#pragma once

#include <cstdlib>
#include <string>

namespace nbz::test {

// The shared data folder: $NBZ_DATA when set, else the path CMake baked in (../shared/data
// relative to the source tree).
inline std::string data_dir() {
  if (const char* env = std::getenv("NBZ_DATA")) return env;
  return NBZ_DEFAULT_DATA_DIR;
}

}  // namespace nbz::test
