#include "reports/plots.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "foundation/errors.h"
#include "foundation/statistics.h"

namespace nbz::report {
namespace {

const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char* color(std::size_t i) { return kPalette[i % std::size(kPalette)]; }

std::string num(double v) {  // one decimal is plenty at SVG pixel scale
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A minimal SVG writer: absolute coordinates in pixels, DejaVu Sans (installed with the fonts
// rsvg-convert and Chromium use on Debian).
class Svg {
 public:
  Svg(double width, double height) : width_(width), height_(height) {}

  void text(double x, double y, const std::string& s, double size = 12,
            const char* anchor = "middle", const char* extra = "") {
    body_ << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\"" << num(size)
          << "\" text-anchor=\"" << anchor << "\" " << extra << ">" << html_escape(s)
          << "</text>\n";
  }
  void line(double x1, double y1, double x2, double y2, const char* stroke = "#000",
            double width = 1, const char* extra = "") {
    body_ << "<line x1=\"" << num(x1) << "\" y1=\"" << num(y1) << "\" x2=\"" << num(x2)
          << "\" y2=\"" << num(y2) << "\" stroke=\"" << stroke << "\" stroke-width=\""
          << num(width) << "\" " << extra << "/>\n";
  }
  void rect(double x, double y, double w, double h, const char* fill, const char* extra = "") {
    body_ << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w)
          << "\" height=\"" << num(h) << "\" fill=\"" << fill << "\" " << extra << "/>\n";
  }
  void raw(const std::string& s) { body_ << s; }

  std::string str() const {
    std::ostringstream out;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width_) << "\" height=\""
        << num(height_) << "\" viewBox=\"0 0 " << num(width_) << " " << num(height_)
        << "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        << body_.str() << "</svg>\n";
    return out.str();
  }

 private:
  double width_, height_;
  std::ostringstream body_;
};

// Round tick values covering [lo, hi], about `target` of them (steps of 1, 2 or 5 x 10^k).
std::vector<double> nice_ticks(double lo, double hi, int target = 5) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * step; t += step)
    ticks.push_back(std::abs(t) < 1e-12 * step ? 0.0 : t);
  return ticks;
}

std::string tick_label(double v) {
  char buf[32];
  if (std::abs(v) >= 1000 || v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

// A linear axis mapping [lo, hi] onto pixels [p0, p1].
struct Scale {
  double lo, hi, p0, p1;
  double operator()(double v) const { return p0 + (v - lo) / (hi - lo) * (p1 - p0); }
};

}  // namespace

std::optional<std::string> scatter_plot_svg(const ReportData& data, const RunData& run,
                                            const ReportOptions& options) {
  const auto key = truth_for(data, run.info.space, run.info.dataset, options);
  if (!key) return std::nullopt;
  const auto& truth = data.spaces.at(run.info.space).truth.at(*key);
  const auto proxies = table_proxies(data, {&run});
  if (proxies.empty()) return std::nullopt;

  const int columns = 3;
  const double panel_w = 320, panel_h = 250, top = 56;
  const int rows = static_cast<int>((proxies.size() + columns - 1) / columns);
  Svg svg(columns * panel_w + 20, top + rows * panel_h + 10);
  svg.text((columns * panel_w + 20) / 2, 24,
           run.info.space + " " + run.info.label() + (run.info.surrogate() ? " †" : "") +
               ": proxy rank against " + dataset_title(key->dataset) + " " + key->split +
               " accuracy (" + std::to_string(key->epochs) + " epochs)",
           15, "middle", "font-weight=\"bold\"");
  svg.text((columns * panel_w + 20) / 2, 44,
           "x: rank of the proxy's score among the architectures (higher = scored better); "
           "y: accuracy %",
           11, "middle", "fill=\"#444\"");
  for (std::size_t i = 0; i < proxies.size(); ++i) {
    const auto p = pair_scores(run.by_proxy.at(proxies[i]->proxy_id), truth);
    const double ox = 10 + static_cast<double>(i % columns) * panel_w;
    const double oy = top + static_cast<double>(i / columns) * panel_h;
    const double left = ox + 52, right = ox + panel_w - 14;
    const double ptop = oy + 26, bottom = oy + panel_h - 40;
    const double tau = stats::kendall_tau_b(p.score, p.truth);
    svg.text((left + right) / 2, oy + 16,
             proxies[i]->name + "   τ = " + format_fixed(tau, 3) + "   (n = " +
                 std::to_string(p.score.size()) + ")",
             13, "middle", "font-weight=\"bold\"");
    svg.rect(left, ptop, right - left, bottom - ptop, "#fafafa", "stroke=\"#888\"");
    if (p.score.empty()) continue;
    const auto ranks = stats::average_ranks(p.score);
    const double n = static_cast<double>(p.score.size());
    double y_lo = *std::min_element(p.truth.begin(), p.truth.end());
    double y_hi = *std::max_element(p.truth.begin(), p.truth.end());
    if (y_hi == y_lo) {
      y_lo -= 1;
      y_hi += 1;
    }
    const double pad = 0.04 * (y_hi - y_lo);
    const Scale sx{0, n + 1, left, right}, sy{y_lo - pad, y_hi + pad, bottom, ptop};
    for (double t : nice_ticks(1, n, 4)) {
      svg.line(sx(t), bottom, sx(t), bottom + 4, "#444");
      svg.text(sx(t), bottom + 16, tick_label(t), 10);
    }
    for (double t : nice_ticks(y_lo, y_hi, 5)) {
      svg.line(left - 4, sy(t), left, sy(t), "#444");
      svg.line(left, sy(t), right, sy(t), "#e4e4e4", 0.8);
      svg.text(left - 6, sy(t) + 3.5, tick_label(t), 10, "end");
    }
    svg.text((left + right) / 2, bottom + 32, "proxy rank", 11);
    svg.text(ox + 14, (ptop + bottom) / 2, "accuracy %", 11, "middle",
             ("transform=\"rotate(-90 " + num(ox + 14) + " " + num((ptop + bottom) / 2) + ")\"")
                 .c_str());
    std::ostringstream dots;
    dots << "<g fill=\"" << color(0) << "\" fill-opacity=\"0.45\">\n";
    const double radius = n > 2000 ? 1.2 : 2.2;
    for (std::size_t j = 0; j < ranks.size(); ++j)
      dots << "<circle cx=\"" << num(sx(ranks[j])) << "\" cy=\"" << num(sy(p.truth[j]))
           << "\" r=\"" << num(radius) << "\"/>\n";
    dots << "</g>\n";
    svg.raw(dots.str());
  }
  return svg.str();
}

std::string tau_bar_chart_svg(const PaperTable& paper) {
  const std::size_t np = paper.proxies.size(), nd = paper.columns.size();
  const double bar = 14, gap = 18, left = 70, top = 70, plot_h = 300;
  const double group_w = static_cast<double>(nd) * bar + gap;
  const double width = std::max(520.0, left + static_cast<double>(np) * group_w + 30);
  const double bottom = top + plot_h;
  Svg svg(width, bottom + 130);
  svg.text(width / 2, 24, paper.space + ": Kendall τ of each proxy against accuracy, per dataset",
           15, "middle", "font-weight=\"bold\"");
  double lo = 0, hi = 0;
  for (const auto& row : paper.values)
    for (const auto& c : row)
      if (!std::isnan(c.tau)) {
        lo = std::min(lo, c.tau);
        hi = std::max(hi, c.tau);
      }
  lo = std::floor(lo * 10 - 1e-9) / 10;
  hi = std::min(1.0, std::ceil(hi * 10 + 1e-9) / 10);
  if (hi <= lo) hi = lo + 0.1;
  const Scale sy{lo, hi, bottom, top};
  const double right = width - 20;
  for (double t : nice_ticks(lo, hi, 6)) {
    svg.line(left, sy(t), right, sy(t), t == 0 ? "#000" : "#e0e0e0", t == 0 ? 1.2 : 0.8);
    svg.text(left - 6, sy(t) + 4, tick_label(t), 11, "end");
  }
  svg.text(18, (top + bottom) / 2, "Kendall τ", 12, "middle",
           ("transform=\"rotate(-90 18 " + num((top + bottom) / 2) + ")\"").c_str());
  // Legend: one swatch per dataset column, with its markers.
  double lx = left;
  for (std::size_t d = 0; d < nd; ++d) {
    svg.rect(lx, 40, 12, 12, color(d));
    const std::string label = paper.table.groups[d].label;
    svg.text(lx + 16, 50, label, 12, "start");
    lx += 40 + 8.0 * static_cast<double>(label.size());
  }
  std::string family;
  int families = 0;
  for (std::size_t i = 0; i < np; ++i) {
    const double gx = left + gap / 2 + static_cast<double>(i) * group_w;
    if (paper.proxies[i]->family != family) {
      family = paper.proxies[i]->family;
      if (i > 0) svg.line(gx - gap / 2, top, gx - gap / 2, bottom + 118, "#bbb", 1,
                          "stroke-dasharray=\"3,3\"");
      // Two staggered rows, so that the names of one-proxy families do not run into each other.
      svg.text(gx - gap / 2 + 3, bottom + 106 + 14.0 * (families++ % 2), family_title(family), 11,
               "start", "fill=\"#555\"");
    }
    for (std::size_t d = 0; d < nd; ++d) {
      const double tau = paper.values[i][d].tau;
      if (std::isnan(tau)) continue;
      const double x = gx + static_cast<double>(d) * bar;
      const double y0 = sy(0), y1 = sy(tau);
      svg.rect(x, std::min(y0, y1), bar - 2, std::abs(y1 - y0), color(d));
    }
    const double cx = gx + static_cast<double>(nd) * bar / 2;
    svg.text(cx, bottom + 14, paper.proxies[i]->name, 11, "end",
             ("transform=\"rotate(-40 " + num(cx) + " " + num(bottom + 14) + ")\"").c_str());
  }
  return svg.str();
}

std::optional<std::string> timing_chart_svg(const ReportData& data, const std::string& space) {
  const auto groups = timing_groups(data, space);
  std::vector<const RunData*> runs;
  for (const auto& g : groups) runs.insert(runs.end(), g.runs.begin(), g.runs.end());
  const auto proxies = table_proxies(data, runs);
  std::vector<std::vector<TimingStats>> stats(proxies.size());
  double lo = INFINITY, hi = 0;
  for (std::size_t i = 0; i < proxies.size(); ++i)
    for (const auto& g : groups) {
      stats[i].push_back(timing_stats(g, proxies[i]->proxy_id));
      const auto& s = stats[i].back();
      if (s.n == 0 || !(s.median > 0)) continue;
      lo = std::min(lo, s.median);
      hi = std::max(hi, std::max(s.median, s.p90));
    }
  if (!(hi > 0)) return std::nullopt;
  const double bar = 12, row_gap = 10, left = 130, top = 60 + 18.0 * groups.size(), width = 860;
  const double row_h = static_cast<double>(groups.size()) * bar + row_gap;
  const double bottom = top + static_cast<double>(proxies.size()) * row_h;
  Svg svg(width, bottom + 50);
  svg.text(width / 2, 24,
           space + ": seconds per architecture per proxy (median bar, 90th percentile whisker)", 15,
           "middle", "font-weight=\"bold\"");
  for (std::size_t g = 0; g < groups.size(); ++g) {
    svg.rect(left, 40 + 18.0 * g, 12, 12, color(g));
    svg.text(left + 16, 50 + 18.0 * g,
             std::string(1, static_cast<char>('A' + g % 26)) + ": " + groups[g].label(), 12,
             "start");
  }
  // Log10 axis over whole decades around the data, in milliseconds.
  const double d_lo = std::floor(std::log10(lo * 1000)), d_hi = std::ceil(std::log10(hi * 1000));
  const double right = width - 30;
  const Scale sx{d_lo, std::max(d_hi, d_lo + 1), left, right};
  for (double d = d_lo; d <= std::max(d_hi, d_lo + 1) + 1e-9; d += 1) {
    svg.line(sx(d), top - 4, sx(d), bottom, "#ddd", 0.8);
    svg.text(sx(d), bottom + 16, tick_label(std::pow(10, d)), 11);
  }
  svg.text((left + right) / 2, bottom + 36, "milliseconds per architecture (log scale)", 12);
  for (std::size_t i = 0; i < proxies.size(); ++i) {
    const double y = top + static_cast<double>(i) * row_h;
    svg.text(left - 8, y + row_h / 2 + 1, proxies[i]->name, 12, "end");
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto& s = stats[i][g];
      if (s.n == 0 || !(s.median > 0)) continue;
      const double by = y + static_cast<double>(g) * bar;
      const double x1 = sx(std::log10(s.median * 1000));
      svg.rect(left, by, std::max(1.0, x1 - left), bar - 2, color(g));
      const double xp = sx(std::log10(std::max(s.p90, s.median) * 1000));
      svg.line(x1, by + (bar - 2) / 2, xp, by + (bar - 2) / 2, "#222", 1.2);
      svg.line(xp, by + 1, xp, by + bar - 3, "#222", 1.2);
    }
  }
  return svg.str();
}

std::string find_rsvg_convert() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/rsvg-convert";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

void svg_to_png(const std::string& svg_path, const std::string& png_path) {
  const std::string tool = find_rsvg_convert();
  if (tool.empty())
    throw Error("cannot write '" + png_path + "': rsvg-convert (Debian package librsvg2-bin) is "
                "not on PATH");
  // Arguments go straight to exec: no shell, so no quoting of the paths is needed.
  std::vector<std::string> args = {tool, "--zoom=2", "--background-color=white",
                                   "--output=" + png_path, svg_path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw Error("cannot start rsvg-convert: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error("rsvg-convert failed to rasterise '" + svg_path + "' into '" + png_path + "'");
}

std::optional<std::string> svg_to_png_bytes(const std::string& svg) {
  if (find_rsvg_convert().empty()) return std::nullopt;
  std::string dir = (std::filesystem::temp_directory_path() / "nbz_svg_XXXXXX").string();
  if (!mkdtemp(dir.data())) throw Error("cannot create a temporary directory in " + dir);
  const std::string svg_path = dir + "/figure.svg", png_path = dir + "/figure.png";
  std::ofstream(svg_path, std::ios::binary) << svg;
  std::string png;
  try {
    svg_to_png(svg_path, png_path);
    std::ifstream in(png_path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    png = bytes.str();
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);
  return png;
}

}  // namespace nbz::report
