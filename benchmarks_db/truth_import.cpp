#include "benchmarks_db/truth_import.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "foundation/errors.h"

namespace nbz::db {

std::size_t import_nb201_truth(ResultsDb& db, const nb201::Space& space) {
  if (db.has_truth("nb201")) return 0;
  std::vector<TruthRow> rows;
  for (const auto& col : space.truth())
    for (std::int64_t i = 0; i < space.size(); ++i)
      rows.push_back({i, col.dataset, col.split, col.epochs, col.values[static_cast<size_t>(i)]});
  db.import_truth("nb201", space.source_path(), rows);
  return rows.size();
}

namespace {

// load_ground_truth's numbering: the header is line 1, row r is line r + 2.
std::string where(const std::string& path, size_t row) {
  return path + ":" + std::to_string(row + 2) + ": ";
}

// The shortest text that reads back as v, as the CSV most likely wrote it.
std::string shortest(double v) {
  char buf[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace

std::vector<std::int64_t> nb101_truth_indices(
    const std::string& path, const std::vector<nb101::GroundTruthRow>& rows,
    const std::function<std::int64_t(const std::string&)>& index_of) {
  std::vector<std::int64_t> out;
  out.reserve(rows.size());
  std::map<std::int64_t, size_t> row_of;
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::int64_t index = index_of(rows[r].module_hash);
    if (index < 0)
      throw Error(where(path, r) + "module_hash '" + rows[r].module_hash +
                  "' is not in the NAS-Bench-101 space");
    const auto [it, fresh] = row_of.emplace(index, r);
    if (!fresh)
      throw Error(where(path, r) + "module_hash '" + rows[r].module_hash + "' repeats line " +
                  std::to_string(it->second + 2));
    out.push_back(index);
  }
  return out;
}

std::size_t import_nb101_truth(ResultsDb& db, const std::string& path,
                               const std::vector<nb101::GroundTruthRow>& rows,
                               const std::vector<std::int64_t>& indices) {
  NBZ_ASSERT(indices.size() == rows.size(), "NB101 truth indices not aligned with the rows");
  if (db.has_truth("nb101")) return 0;
  std::vector<TruthRow> out;
  out.reserve(rows.size() * 4);
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string hash = nb101::module_hash(row.cell);
    if (hash != row.module_hash)
      throw Error(where(path, r) + "module_hash '" + row.module_hash +
                  "' is not the hash of its spec (" + nb101::format_adjacency(row.cell) + " " +
                  nb101::format_operations(row.cell) + " hashes to '" + hash + "')");
    const std::pair<int, double> columns[] = {{4, row.val_acc_4ep},
                                              {12, row.val_acc_12ep},
                                              {36, row.val_acc_36ep},
                                              {108, row.val_acc_108ep}};
    for (const auto& [epochs, fraction] : columns) {
      // A file already in percent would otherwise be stored as 100x the accuracy.
      if (!(fraction >= 0 && fraction <= 1))
        throw Error(where(path, r) + "val_acc_" + std::to_string(epochs) + "ep " +
                    shortest(fraction) + " is not a fraction in [0, 1]");
      out.push_back({indices[r], "cifar10", "valid", epochs, 100.0 * fraction});
    }
  }
  db.import_truth("nb101", path, out);
  return out.size();
}

}  // namespace nbz::db
