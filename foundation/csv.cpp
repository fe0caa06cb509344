#include "foundation/csv.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "foundation/errors.h"

namespace nbz {

std::vector<std::string> split_fields(const std::string& text, char separator) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(text);
  while (std::getline(in, field, separator)) fields.push_back(field);
  if (!text.empty() && text.back() == separator) fields.emplace_back();
  return fields;
}

CsvTable CsvTable::read(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open CSV file '" + path + "'");
  CsvTable t;
  t.path_ = path;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.find('"') != std::string::npos)
      throw Error(path + ":" + std::to_string(line_no) + ": quoted fields are not supported");
    auto fields = split_fields(line);
    if (t.header_.empty()) {
      t.header_ = fields;
      for (size_t i = 0; i < fields.size(); ++i) {
        if (!t.columns_.emplace(fields[i], i).second)
          throw Error(path + ":1: duplicate column '" + fields[i] + "'");
      }
      continue;
    }
    if (fields.size() != t.header_.size())
      throw Error(path + ":" + std::to_string(line_no) + ": expected " +
                  std::to_string(t.header_.size()) + " fields, found " +
                  std::to_string(fields.size()));
    t.cells_.push_back(std::move(fields));
  }
  if (t.header_.empty()) throw Error("CSV file '" + path + "' is empty");
  return t;
}

size_t CsvTable::column(const std::string& name) const {
  auto it = columns_.find(name);
  if (it == columns_.end()) throw Error(path_ + ": missing column '" + name + "'");
  return it->second;
}

double CsvTable::number(size_t row, size_t col) const {
  const std::string& s = cells_[row][col];
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v))
    throw Error(path_ + ":" + std::to_string(row + 2) + ": column '" + header_[col] +
                "': not a finite number: '" + s + "'");
  return v;
}

long long CsvTable::integer(size_t row, size_t col) const {
  const std::string& s = cells_[row][col];
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE)
    throw Error(path_ + ":" + std::to_string(row + 2) + ": column '" + header_[col] +
                "': not an integer: '" + s + "'");
  return v;
}

}  // namespace nbz
