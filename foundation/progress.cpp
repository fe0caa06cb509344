#include "foundation/progress.h"

#include <algorithm>

namespace nbz {
namespace {

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const long total = static_cast<long>(s + 0.5);
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", total / 60, total % 60);
  }
  return buf;
}

}  // namespace

Progress::Progress(std::int64_t total, bool interactive, double line_interval_s, std::FILE* out)
    : total_(total), interactive_(interactive), interval_(line_interval_s), out_(out),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::advance(std::int64_t items) {
  done_ += items;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (interactive_ ? since >= 0.2 : since >= interval_) {
    last_ = now;
    draw(false);
  }
}

void Progress::finish() { draw(true); }

void Progress::draw(bool final_line) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1;
  const double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1;
  if (interactive_) {
    const int width = 30;
    const int filled = std::clamp(static_cast<int>(frac * width), 0, width);
    std::fprintf(out_, "\r[%s%s] %lld/%lld %5.1f%% %.2f arch/s ETA %s   ",
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(width - filled), '.').c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), 100 * frac, rate,
                 format_duration(eta).c_str());
    if (final_line) std::fputc('\n', out_);
  } else {
    std::fprintf(out_, "progress: %lld/%lld archs (%.1f%%), %.2f arch/s, elapsed %s, ETA %s\n",
                 static_cast<long long>(done_), static_cast<long long>(total_), 100 * frac, rate,
                 format_duration(elapsed).c_str(), format_duration(eta).c_str());
  }
  std::fflush(out_);
}

}  // namespace nbz
