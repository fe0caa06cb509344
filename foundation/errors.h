// Two tiers of errors, as in faiss:
//  * nbz::Error  -- bad user input or environment (files, CLI values, DB state). Thrown with a
//    message that names the file, line or value; the CLI prints it and exits 2.
//  * NBZ_ASSERT  -- a bug in this code base. Aborts loudly with file:line.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace nbz {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line,
                                     const std::string& msg) {
  std::fprintf(stderr, "nasbench internal error: %s failed at %s:%d %s\n", expr, file, line,
               msg.c_str());
  std::abort();
}

}  // namespace nbz

#define NBZ_ASSERT(cond, msg)                                       \
  do {                                                              \
    if (!(cond)) ::nbz::assert_fail(#cond, __FILE__, __LINE__, msg); \
  } while (0)
