// Minimal reader for the comma-separated ground-truth files (no quoting is used in them; a quote
// character is rejected rather than misread). Every error names file and line.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace nbz {

// `text` split at every `separator`, empty items kept ("a,,b" -> a, "", b; "a," -> a, ""); an
// empty text has no items. Callers that refuse empty items check for them.
std::vector<std::string> split_fields(const std::string& text, char separator = ',');

class CsvTable {
 public:
  // Reads `path`; the first line is the header. Throws nbz::Error naming the file and line on a
  // missing file, a row with the wrong number of fields, or a quoted field.
  static CsvTable read(const std::string& path);

  const std::string& path() const { return path_; }
  size_t rows() const { return cells_.size(); }
  // Index of a header column; throws nbz::Error naming the file and the column when absent.
  size_t column(const std::string& name) const;
  bool has_column(const std::string& name) const { return columns_.count(name) != 0; }
  const std::vector<std::string>& header() const { return header_; }
  const std::string& cell(size_t row, size_t col) const { return cells_[row][col]; }
  // Numeric access with errors that name file, line (1-based, header = line 1) and column.
  double number(size_t row, size_t col) const;
  long long integer(size_t row, size_t col) const;

 private:
  std::string path_;
  std::vector<std::string> header_;
  std::map<std::string, size_t> columns_;
  std::vector<std::vector<std::string>> cells_;
};

}  // namespace nbz
