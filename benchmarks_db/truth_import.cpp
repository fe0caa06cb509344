#include "benchmarks_db/truth_import.h"

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

}  // namespace nbz::db
