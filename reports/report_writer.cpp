#include "reports/report_writer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "benchmarks_db/results_db.h"
#include "foundation/errors.h"
#include "foundation/version_info.h"
#include "reports/plots.h"

namespace nbz::report {
namespace {

constexpr std::size_t kLargeSvgBytes = 1500000;

std::string base64(const std::string& bytes) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw Error("cannot write report file '" + path + "'");
}

void make_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw Error("cannot create report directory '" + dir + "': " +
                (ec ? ec.message() : "not a directory"));
}

const char* kStyle = R"CSS(
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px auto; max-width: 1280px;
       padding: 0 16px; color: #222; line-height: 1.4; }
h1 { font-size: 26px; } h2 { border-bottom: 2px solid #ccc; padding-bottom: 4px; margin-top: 40px; }
h3 { margin-top: 28px; }
.scroll { overflow-x: auto; margin: 12px 0 20px; }
table.report { border-collapse: collapse; font-size: 14px; }
table.report caption { caption-side: top; text-align: left; font-weight: bold; padding: 6px 0; }
table.report th, table.report td { padding: 3px 9px; border-bottom: 1px solid #e3e3e3; }
table.report td { text-align: right; font-variant-numeric: tabular-nums; }
table.report thead th { border-bottom: 2px solid #888; background: #f3f3f3; }
table.report th.group { text-align: center; }
table.report tbody th { text-align: left; font-weight: normal; }
table.report tr.section th { text-align: left; font-style: italic; background: #f7f7fb;
                             color: #444; font-weight: bold; }
table.report td.best { background: #e8f4e8; }
table.report td.note { text-align: left; font-size: 12px; color: #555; border: none; }
#runs td, #sessions td { text-align: left; font-size: 12px; overflow-wrap: anywhere; }
figure { margin: 16px 0 28px; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 13px; color: #555; }
.meta { font-size: 13px; color: #555; } .remark { color: #a33; }
nav ul { columns: 2; font-size: 14px; }
)CSS";

// Marks each figure once its image has decoded, so a failure is visible on the page (and to the
// headless-browser test, which reads the attribute from the DOM).
const char* kScript = R"JS(
window.addEventListener('load', function () {
  document.querySelectorAll('figure img').forEach(function (img) {
    var ok = img.complete && img.naturalWidth > 0;
    img.setAttribute('data-rendered', ok ? 'yes' : 'no');
    if (!ok) img.insertAdjacentHTML('afterend', '<p class="remark">image could not be shown</p>');
  });
});
)JS";

}  // namespace

const std::vector<std::string>& table_kinds() {
  static const std::vector<std::string> kinds = {"paper", "proxy-corr", "correlations",
                                                 "seeds", "timing",     "provenance"};
  return kinds;
}

ReportBundle build_report(const ReportData& data, const ReportOptions& options,
                          const std::set<std::string>& kinds, bool figures) {
  for (const auto& k : kinds)
    if (std::find(table_kinds().begin(), table_kinds().end(), k) == table_kinds().end()) {
      std::string valid;
      for (const auto& v : table_kinds()) valid += (valid.empty() ? "" : ", ") + v;
      throw Error("--table '" + k + "' is not one of " + valid);
    }
  parse_arch_set(options.set);  // a bad --set fails even when no paper table is asked for
  auto wanted = [&](const std::string& kind) { return kinds.empty() || kinds.count(kind) != 0; };
  ReportBundle b;
  if (data.runs.empty()) b.remarks.push_back("The database holds no runs.");
  for (const auto& space : data.space_names()) {
    const auto paper = paper_table(data, space, options);
    if (!paper) b.remarks.push_back("No paper table for " + space + ": no ground truth stored.");
    if (paper && wanted("paper")) b.tables.push_back({"paper", space, paper->table});
    if (paper && figures)
      b.figures.push_back({"tau_" + space, space + ": Kendall τ per proxy and dataset",
                           tau_bar_chart_svg(*paper)});
    const RunData* primary = primary_run(data, space);
    if (wanted("proxy-corr") && primary)
      b.tables.push_back({"proxy-corr", space,
                          proxy_correlation_table(data, *primary, parse_arch_set(options.set))});
    for (const auto& run : data.runs) {
      if (run.info.space != space || run.info.timing_only()) continue;
      if (wanted("correlations")) {
        if (auto t = correlations_table(data, run, options))
          b.tables.push_back({"correlations", space, std::move(*t)});
        else
          b.remarks.push_back(run.info.label() + ": no " + space + " ground truth for " +
                              run.info.dataset + ".");
      }
      if (figures)
        if (auto svg = scatter_plot_svg(data, run, options))
          b.figures.push_back({"scatter_run" + std::to_string(run.info.run_id),
                               run.info.label() + ": proxy rank against accuracy, per proxy",
                               std::move(*svg)});
    }
    if (wanted("seeds"))
      for (auto& t : seed_tables(data, space, options))
        b.tables.push_back({"seeds", space, std::move(t)});
    if (wanted("timing")) {
      b.tables.push_back({"timing", space, timing_table(data, space)});
      if (auto t = timing_ratio_table(data, space))
        b.tables.push_back({"timing", space, std::move(*t)});
    }
    if (figures)
      if (auto svg = timing_chart_svg(data, space))
        b.figures.push_back({"timing_" + space, space + ": seconds per architecture per proxy",
                             std::move(*svg)});
  }
  if (wanted("provenance")) {
    b.tables.push_back({"provenance", "", runs_table(data)});
    b.tables.push_back({"provenance", "", sessions_table(data)});
  }
  return b;
}

std::string html_page(const ReportData& data, const ReportBundle& bundle,
                      const ReportOptions& options) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<title>nasbench-zc report: " << html_escape(data.db_path) << "</title>\n<style>"
    << kStyle << "</style>\n<script>" << kScript << "</script>\n</head>\n<body>\n"
    << "<h1>nasbench-zc report</h1>\n<p class=\"meta\">Database <code>"
    << html_escape(data.db_path) << "</code>: " << data.runs.size() << " run"
    << (data.runs.size() == 1 ? "" : "s") << ", " << data.sessions.size() << " session"
    << (data.sessions.size() == 1 ? "" : "s") << ". Generated " << db::utc_now()
    << " by nasbench " << html_escape(code_version()) << ". Ground truth split: "
    << html_escape(options.split) << ", epochs: "
    << (options.epochs ? std::to_string(options.epochs) : std::string("longest")) << "; paper "
    << "set: " << html_escape(arch_set_title(parse_arch_set(options.set))) << "; bootstrap "
    << options.resamples << " resamples, seed " << options.bootstrap_seed << ".</p>\n";
  for (const auto& r : bundle.remarks) h << "<p class=\"remark\">" << html_escape(r) << "</p>\n";

  struct Section {
    std::string id, title;
    std::string body;
  };
  std::vector<Section> sections;
  auto table_html = [](const Table& t) {
    return "<div class=\"scroll\">\n" + render_html(t) + "</div>\n";
  };
  auto figure_html = [](const Figure& f) {
    // A scatter of a whole space is ~5 MB of SVG circles, slow for a browser to draw: such a
    // figure goes in as its PNG (~0.5 MB) when rsvg-convert is there.
    std::string uri = "data:image/svg+xml;base64," + base64(f.svg);
    if (f.svg.size() > kLargeSvgBytes)
      if (const auto png = svg_to_png_bytes(f.svg)) uri = "data:image/png;base64," + base64(*png);
    return "<figure id=\"fig_" + html_escape(f.id) + "\"><img alt=\"" + html_escape(f.title) +
           "\" src=\"" + uri + "\"><figcaption>" + html_escape(f.title) + " (" +
           html_escape(f.id) + ".svg / .png)</figcaption></figure>\n";
  };
  auto figure_by_id = [&](const std::string& id) -> const Figure* {
    for (const auto& f : bundle.figures)
      if (f.id == id) return &f;
    return nullptr;
  };
  for (const auto& space : data.space_names()) {
    auto tables_of = [&](const std::string& kind) {
      std::string out;
      for (const auto& e : bundle.tables)
        if (e.space == space && e.kind == kind) out += table_html(e.table);
      return out;
    };
    Section paper{"paper_" + space, space + ": paper table", tables_of("paper")};
    if (const auto* f = figure_by_id("tau_" + space)) paper.body += figure_html(*f);
    paper.body += tables_of("proxy-corr");
    sections.push_back(paper);
    Section detail{"correlations_" + space, space + ": correlations per run", ""};
    for (const auto& run : data.runs) {
      if (run.info.space != space || run.info.timing_only()) continue;
      detail.body += "<h3>" + html_escape(run.info.label()) + "</h3>\n";
      for (const auto& e : bundle.tables)
        if (e.kind == "correlations" &&
            e.table.id == "correlations_run" + std::to_string(run.info.run_id))
          detail.body += table_html(e.table);
      if (const auto* f = figure_by_id("scatter_run" + std::to_string(run.info.run_id)))
        detail.body += figure_html(*f);
    }
    sections.push_back(detail);
    const std::string seeds = tables_of("seeds");
    if (!seeds.empty()) sections.push_back({"seeds_" + space, space + ": seeds", seeds});
    Section timing{"timing_" + space, space + ": timing", tables_of("timing")};
    if (const auto* f = figure_by_id("timing_" + space)) timing.body += figure_html(*f);
    sections.push_back(timing);
  }
  std::string provenance;
  for (const auto& e : bundle.tables)
    if (e.kind == "provenance") provenance += table_html(e.table);
  sections.push_back({"provenance", "Provenance of every run", provenance});

  h << "<nav><h2>Contents</h2><ul>\n";
  for (const auto& s : sections)
    h << "<li><a href=\"#" << html_escape(s.id) << "\">" << html_escape(s.title) << "</a></li>\n";
  h << "</ul></nav>\n";
  for (const auto& s : sections)
    h << "<section id=\"" << html_escape(s.id) << "\">\n<h2>" << html_escape(s.title) << "</h2>\n"
      << s.body << "</section>\n";
  h << "</body>\n</html>\n";
  return h.str();
}

WrittenFiles write_bundle(const ReportBundle& bundle, const std::string& dir) {
  make_dir(dir);
  WrittenFiles w;
  for (const auto& e : bundle.tables) {
    const std::string stem = dir + "/" + e.table.id;
    write_file(stem + ".tex", render_latex(e.table));
    write_file(stem + ".md", render_markdown(e.table));
    write_file(stem + ".csv", render_csv(e.table));
    w.files.insert(w.files.end(), {stem + ".tex", stem + ".md", stem + ".csv"});
  }
  const bool can_rasterise = !find_rsvg_convert().empty();
  if (!bundle.figures.empty() && !can_rasterise)
    w.warnings.push_back("PNG figures skipped: rsvg-convert (Debian package librsvg2-bin) is not "
                         "on PATH; the SVG files are complete");
  for (const auto& f : bundle.figures) {
    const std::string stem = dir + "/" + f.id;
    write_file(stem + ".svg", f.svg);
    w.files.push_back(stem + ".svg");
    if (can_rasterise) {
      svg_to_png(stem + ".svg", stem + ".png");
      w.files.push_back(stem + ".png");
    }
  }
  return w;
}

std::string write_html(const ReportData& data, const ReportBundle& bundle,
                       const ReportOptions& options, const std::string& dir) {
  make_dir(dir);
  const std::string path = dir + "/report.html";
  write_file(path, html_page(data, bundle, options));
  return path;
}

}  // namespace nbz::report
