// Shared helpers for the test binaries.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace nbz::test {

// The shared data folder: $NBZ_DATA when set, else the path CMake baked in (../shared/data
// relative to the source tree).
inline std::string data_dir() {
  if (const char* env = std::getenv("NBZ_DATA")) return env;
  return NBZ_DEFAULT_DATA_DIR;
}

// A fresh folder under one scratch root per test process (/tmp/nbz_test_*), removed when the
// process exits.
inline std::string scratch_dir() {
  static const struct Root {
    std::string path;
    Root() {
      char tmpl[] = "/tmp/nbz_test_XXXXXX";
      path = mkdtemp(tmpl);
    }
    ~Root() { std::filesystem::remove_all(path); }
  } root;
  static int next = 0;
  const std::string dir = root.path + "/" + std::to_string(next++);
  std::filesystem::create_directory(dir);
  return dir;
}

}  // namespace nbz::test
