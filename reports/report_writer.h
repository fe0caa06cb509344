// Builds every research table and figure of a results database and writes them: tables as
// LaTeX, Markdown and CSV, figures as SVG and PNG, and one self-contained HTML page (tables,
// figures inlined as data: URIs, provenance of every run) that opens offline. Torch-free.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "reports/report_data.h"
#include "reports/report_table.h"
#include "reports/report_tables.h"

namespace nbz::report {

// Table kinds, as named by `nasbench report --table`.
const std::vector<std::string>& table_kinds();  // paper, proxy-corr, correlations, seeds,
                                                // timing, provenance

struct Figure {
  std::string id;  // file stem
  std::string title;
  std::string svg;
};

struct ReportBundle {
  struct Entry {
    std::string kind;
    std::string space;  // empty for database-wide tables
    Table table;
  };
  std::vector<Entry> tables;
  std::vector<Figure> figures;
  std::vector<std::string> remarks;  // what could not be made, and why
};

// `kinds` empty = every kind. Throws nbz::Error for an unknown kind (naming it and the valid ones).
ReportBundle build_report(const ReportData& data, const ReportOptions& options,
                          const std::set<std::string>& kinds, bool figures);

// The self-contained page.
std::string html_page(const ReportData& data, const ReportBundle& bundle,
                      const ReportOptions& options);

struct WrittenFiles {
  std::vector<std::string> files;
  std::vector<std::string> warnings;  // e.g. PNGs skipped because rsvg-convert is missing
};

// Writes each table as DIR/<id>.{tex,md,csv} and each figure as DIR/<id>.{svg,png}; creates DIR.
// Throws nbz::Error naming the path when it cannot be written.
WrittenFiles write_bundle(const ReportBundle& bundle, const std::string& dir);
// Writes DIR/report.html; returns its path.
std::string write_html(const ReportData& data, const ReportBundle& bundle,
                       const ReportOptions& options, const std::string& dir);

}  // namespace nbz::report
