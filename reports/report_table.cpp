#include "reports/report_table.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <utility>

#include "foundation/errors.h"

namespace nbz::report {
namespace {

// The displayed value of a cell, NaN when it is not a plain number ("–", "12 / 200").
double displayed_value(const TableCell& cell) {
  if (cell.text.empty()) return std::nan("");
  char* end = nullptr;
  const double v = std::strtod(cell.text.c_str(), &end);
  return end == cell.text.c_str() + cell.text.size() ? v : std::nan("");
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string markdown_escape(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

void check_shape(const Table& t) {
  NBZ_ASSERT(t.csv_columns.size() == t.columns.size(), "table " + t.id + ": csv column names");
  std::size_t spans = 0;
  for (const auto& g : t.groups) spans += g.span;
  NBZ_ASSERT(t.groups.empty() || spans == t.columns.size(), "table " + t.id + ": group spans");
  for (const auto& r : t.rows)
    NBZ_ASSERT(r.section || r.cells.size() == t.columns.size(),
               "table " + t.id + ": row '" + r.label + "' has the wrong number of cells");
}

bool has_sections(const Table& t) {
  for (const auto& r : t.rows)
    if (r.section) return true;
  return false;
}

}  // namespace

std::string format_fixed(double value, int digits) {
  if (std::isnan(value)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  std::string s = buf;
  if (s.rfind("-0.", 0) == 0 && std::strtod(s.c_str(), nullptr) == 0) s = s.substr(1);  // "-0.000"
  return s;
}

std::string format_csv_number(double value) {
  if (std::isnan(value)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", value);
  return buf;
}

TableCell number_cell(double value, int digits) {
  return {format_fixed(value, digits), format_csv_number(value), false};
}

void mark_best(Table& table, const std::vector<std::size_t>& columns, bool per_section) {
  auto mark_range = [&](std::size_t begin, std::size_t end) {
    for (std::size_t c : columns) {
      double best = -std::numeric_limits<double>::infinity();
      for (std::size_t r = begin; r < end; ++r) {
        if (table.rows[r].section) continue;
        const double v = displayed_value(table.rows[r].cells.at(c));
        if (!std::isnan(v) && v > best) best = v;
      }
      // A column where every value is the same has no best: marking all of it says nothing.
      std::size_t values = 0, at_best = 0;
      for (std::size_t r = begin; r < end; ++r) {
        if (table.rows[r].section) continue;
        const double v = displayed_value(table.rows[r].cells.at(c));
        values += !std::isnan(v);
        at_best += v == best;
      }
      for (std::size_t r = begin; r < end; ++r) {
        if (table.rows[r].section) continue;
        auto& cell = table.rows[r].cells.at(c);
        cell.best = displayed_value(cell) == best && (values < 2 || at_best < values);
      }
    }
  };
  if (!per_section) {
    mark_range(0, table.rows.size());
    return;
  }
  std::size_t begin = 0;
  for (std::size_t r = 0; r <= table.rows.size(); ++r) {
    if (r == table.rows.size() || table.rows[r].section) {
      mark_range(begin, r);
      begin = r;
    }
  }
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string latex_escape(const std::string& text) {
  static const std::pair<const char*, const char*> kSymbols[] = {
      {"†", "$^\\dagger$"}, {"‡", "$^\\ddagger$"}, {"§", "\\S{}"},     {"τ", "$\\tau$"},
      {"ρ", "$\\rho$"},     {"±", "$\\pm$"},       {"×", "$\\times$"}, {"–", "--"},
      {"—", "---"},         {"∩", "$\\cap$"},      {"≥", "$\\geq$"},   {"≤", "$\\leq$"},
      {"·", "$\\cdot$"},    {"…", "\\ldots{}"},    {"µ", "$\\mu$"}};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [symbol, latex] : kSymbols) {
      const std::string s = symbol;
      if (text.compare(i, s.size(), s) == 0) {
        out += latex;
        i += s.size();
        replaced = true;
        break;
      }
    }
    if (replaced) continue;
    const char c = text[i++];
    switch (c) {
      case '\\': out += "\\textbackslash{}"; break;
      case '&': case '%': case '$': case '#': case '_': case '{': case '}':
        out += '\\';
        out += c;
        break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '<': out += "\\textless{}"; break;
      case '>': out += "\\textgreater{}"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_latex(const Table& t) {
  check_shape(t);
  const std::size_t ncols = t.columns.size() + 1;
  std::ostringstream out;
  out << "% " << latex_escape(t.title) << "\n"
      << "% Generated by `nasbench report`; needs \\usepackage{booktabs}.\n"
      << "\\begin{tabular}{l";
  if (t.groups.empty()) {
    out << std::string(t.columns.size(), 'r');
  } else {
    for (const auto& g : t.groups) out << (&g == &t.groups.front() ? "" : "@{\\quad}")
                                       << std::string(g.span, 'r');
  }
  out << "}\n\\toprule\n";
  if (!t.groups.empty()) {
    std::size_t col = 2;
    std::string rules;
    for (const auto& g : t.groups) {
      out << " & \\multicolumn{" << g.span << "}{c}{" << latex_escape(g.label) << "}";
      rules += "\\cmidrule(lr){" + std::to_string(col) + "-" + std::to_string(col + g.span - 1) +
               "} ";
      col += g.span;
    }
    out << " \\\\\n" << rules << "\n";
  }
  out << latex_escape(t.stub);
  for (const auto& c : t.columns) out << " & " << latex_escape(c);
  out << " \\\\\n\\midrule\n";
  bool first_row = true;
  for (const auto& r : t.rows) {
    if (r.section) {
      if (!first_row) out << "\\addlinespace\n";
      out << "\\multicolumn{" << ncols << "}{l}{\\textit{" << latex_escape(r.label)
          << "}} \\\\\n";
    } else {
      out << latex_escape(r.label);
      for (const auto& c : r.cells) {
        // A negative number gets a real minus sign, not a hyphen.
        std::string text = latex_escape(c.text);
        if (text.size() > 1 && text[0] == '-' && std::isdigit(static_cast<unsigned char>(text[1])))
          text = "$-$" + text.substr(1);
        out << " & " << (c.best ? "\\textbf{" + text + "}" : text);
      }
      out << " \\\\\n";
    }
    first_row = false;
  }
  out << "\\bottomrule\n\\end{tabular}\n";
  if (!t.notes.empty()) {
    out << "\\par\\smallskip\n{\\footnotesize\n";
    for (const auto& n : t.notes) out << latex_escape(n) << "\\par\n";
    out << "}\n";
  }
  return out.str();
}

std::string render_markdown(const Table& t) {
  check_shape(t);
  std::ostringstream out;
  out << "**" << markdown_escape(t.title) << "**\n\n| " << markdown_escape(t.stub) << " |";
  std::vector<std::string> headers;
  if (t.groups.empty()) {
    headers = t.columns;
  } else {
    std::size_t col = 0;
    for (const auto& g : t.groups)
      for (std::size_t i = 0; i < g.span; ++i, ++col)
        headers.push_back(g.label + " " + t.columns[col]);
  }
  for (const auto& h : headers) out << " " << markdown_escape(h) << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < headers.size(); ++i) out << "---:|";
  out << "\n";
  for (const auto& r : t.rows) {
    if (r.section) {
      out << "| *" << markdown_escape(r.label) << "* |";
      for (std::size_t i = 0; i < headers.size(); ++i) out << " |";
    } else {
      out << "| " << markdown_escape(r.label) << " |";
      for (const auto& c : r.cells)
        out << " " << (c.best ? "**" + markdown_escape(c.text) + "**" : markdown_escape(c.text))
            << " |";
    }
    out << "\n";
  }
  if (!t.notes.empty()) {
    out << "\n";
    for (const auto& n : t.notes) out << markdown_escape(n) << "\n\n";
  }
  return out.str();
}

std::string render_csv(const Table& t) {
  check_shape(t);
  const bool sections = has_sections(t);
  std::ostringstream out;
  if (sections) out << "section,";
  out << csv_field(t.stub);
  for (const auto& c : t.csv_columns) out << "," << csv_field(c);
  out << ",best\n";
  std::string section;
  for (const auto& r : t.rows) {
    if (r.section) {
      section = r.label;
      continue;
    }
    if (sections) out << csv_field(section) << ",";
    out << csv_field(r.label);
    std::string best;
    for (std::size_t i = 0; i < r.cells.size(); ++i) {
      const auto& c = r.cells[i];
      out << "," << csv_field(c.csv ? *c.csv : c.text);
      if (c.best) best += (best.empty() ? "" : ";") + t.csv_columns[i];
    }
    out << "," << csv_field(best) << "\n";
  }
  // Footnotes as comment lines (pandas.read_csv(..., comment='#') skips them).
  for (const auto& n : t.notes) out << "# " << n << "\n";
  return out.str();
}

std::string render_html(const Table& t) {
  check_shape(t);
  const std::size_t ncols = t.columns.size() + 1;
  std::ostringstream out;
  out << "<table class=\"report\" id=\"" << html_escape(t.id) << "\">\n<caption>"
      << html_escape(t.title) << "</caption>\n<thead>\n";
  if (!t.groups.empty()) {
    out << "<tr><th></th>";
    for (const auto& g : t.groups)
      out << "<th class=\"group\" colspan=\"" << g.span << "\">" << html_escape(g.label) << "</th>";
    out << "</tr>\n";
  }
  out << "<tr><th>" << html_escape(t.stub) << "</th>";
  for (const auto& c : t.columns) out << "<th>" << html_escape(c) << "</th>";
  out << "</tr>\n</thead>\n<tbody>\n";
  for (const auto& r : t.rows) {
    if (r.section) {
      out << "<tr class=\"section\"><th colspan=\"" << ncols << "\">" << html_escape(r.label)
          << "</th></tr>\n";
      continue;
    }
    out << "<tr><th>" << html_escape(r.label) << "</th>";
    for (const auto& c : r.cells)
      out << (c.best ? "<td class=\"best\"><b>" : "<td>") << html_escape(c.text)
          << (c.best ? "</b></td>" : "</td>");
    out << "</tr>\n";
  }
  out << "</tbody>\n";
  if (!t.notes.empty()) {
    out << "<tfoot>\n";
    for (const auto& n : t.notes)
      out << "<tr><td class=\"note\" colspan=\"" << ncols << "\">" << html_escape(n)
          << "</td></tr>\n";
    out << "</tfoot>\n";
  }
  out << "</table>\n";
  return out.str();
}

}  // namespace nbz::report
