// A report table as data (title, optional spanning column groups, rows in sections, footnotes),
// and its renderings: LaTeX (booktabs, ready to \input), Markdown, CSV and HTML. Text is UTF-8;
// the LaTeX rendering maps the few symbols the reports use (dagger, tau, x, +-, ...) to math.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace nbz::report {

struct TableCell {
  std::string text;  // as displayed
  std::optional<std::string> csv;  // machine value for CSV (full precision); nullopt: the text
  bool best = false;  // marked (bold) as the best of its column
};
inline TableCell text_cell(const std::string& text) { return {text, std::nullopt, false}; }

struct TableRow {
  std::string label;  // first column (e.g. the proxy); for a section row, the section title
  std::vector<TableCell> cells;
  bool section = false;  // a heading row that starts a group of rows
};

struct ColumnGroup {
  std::string label;  // may carry a marker, e.g. "CIFAR-100†"
  std::size_t span = 1;
};

struct Table {
  std::string id;     // file stem: paper_nb201, timing_nb201, ...
  std::string title;  // caption
  std::string stub;   // header of the label column
  std::vector<ColumnGroup> groups;  // optional; spans must add up to columns.size()
  std::vector<std::string> columns;      // header of each data column
  std::vector<std::string> csv_columns;  // machine names of the data columns
  std::vector<TableRow> rows;
  std::vector<std::string> notes;  // footnotes, in order

  TableRow& add_row(const std::string& label) { return rows.emplace_back(TableRow{label, {}}); }
  void add_section(const std::string& title) { rows.push_back({title, {}, true}); }
};

// Fixed-point text of a value, "–" for NaN.
std::string format_fixed(double value, int digits);
// Text for CSV: 10 significant digits (more than any table shows), empty for NaN.
std::string format_csv_number(double value);
TableCell number_cell(double value, int digits);

// Marks as best, in each listed column, the cells whose displayed value is the highest (ties all
// marked; none when every value of the column is the same), over the whole table or within each
// section.
void mark_best(Table& table, const std::vector<std::size_t>& columns, bool per_section);

std::string render_latex(const Table& table);
std::string render_markdown(const Table& table);
std::string render_csv(const Table& table);
std::string render_html(const Table& table);  // a <table> element with its caption and notes

std::string html_escape(const std::string& text);
std::string latex_escape(const std::string& text);

}  // namespace nbz::report
