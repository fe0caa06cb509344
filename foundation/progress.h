// Sweep progress: a redrawn bar with rate and ETA on a terminal, plain periodic lines otherwise
// (logs, CI). Torch-free.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace nbz {

class Progress {
 public:
  // total = items to do in this process; interactive = draw a bar (stderr is a terminal).
  Progress(std::int64_t total, bool interactive, double line_interval_s = 10.0,
           std::FILE* out = stderr);
  void advance(std::int64_t items = 1);
  void finish();

 private:
  void draw(bool final_line);
  std::int64_t total_, done_ = 0;
  bool interactive_;
  double interval_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace nbz
