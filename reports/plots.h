// The report's figures, written as SVG directly (no plotting library: exact control of the layout
// and nothing to install for the SVG), and rasterised to PNG by rsvg-convert (Debian package
// librsvg2-bin) so that the PNG is the same picture:
//  * scatter: one panel per proxy, proxy rank against accuracy, tau in the panel title,
//  * bars: Kendall tau per proxy per dataset (the paper table's KT columns),
//  * timing: median seconds per architecture per proxy per device (log scale), p90 whiskers.
#pragma once

#include <optional>
#include <string>

#include "reports/report_data.h"
#include "reports/report_tables.h"

namespace nbz::report {

// nullopt when the run's dataset has no ground truth or the run has no ok scores.
std::optional<std::string> scatter_plot_svg(const ReportData& data, const RunData& run,
                                            const ReportOptions& options);
std::string tau_bar_chart_svg(const PaperTable& paper);
// nullopt when the space has no ok timing rows.
std::optional<std::string> timing_chart_svg(const ReportData& data, const std::string& space);

// Path of rsvg-convert on PATH, empty when absent.
std::string find_rsvg_convert();
// Rasterises an SVG file (white background, 2x zoom). Throws nbz::Error naming the files when
// rsvg-convert is missing or fails.
void svg_to_png(const std::string& svg_path, const std::string& png_path);
// The PNG bytes of an SVG document (through a temporary directory); nullopt without
// rsvg-convert.
std::optional<std::string> svg_to_png_bytes(const std::string& svg);

}  // namespace nbz::report
