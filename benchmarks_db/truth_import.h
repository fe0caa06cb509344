// Ground truth from ../shared/data into the results database (torch-free).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "benchmarks_db/results_db.h"
#include "spaces/nb101_space.h"
#include "spaces/nb201_space.h"

namespace nbz::db {

// Imports every NB201 ground-truth column (200- and 12-epoch) once; a no-op when present.
// Returns the number of rows inserted.
std::size_t import_nb201_truth(ResultsDb& db, const nb201::Space& space);

// The NB101 arch_index (position in the space sorted by module hash) of every ground-truth row
// read from `path` by nb101::load_ground_truth, aligned with `rows`. `index_of` maps a hash to
// its index, -1 when it is not in the space. Throws nbz::Error naming path:line and the hash of
// the first row whose hash is not in the space or repeats an earlier row.
std::vector<std::int64_t> nb101_truth_indices(
    const std::string& path, const std::vector<nb101::GroundTruthRow>& rows,
    const std::function<std::int64_t(const std::string&)>& index_of);

// Imports the NB101 rows once (a no-op when the database has NB101 truth; returns the number of
// rows inserted): per row, (nb101, indices[i], cifar10, valid, E) for E = 4, 12, 36, 108 with
// val_acc_<E>ep in percent (the CSV stores fractions; as NB201's rows, the table holds
// percent), source = `path`. Before anything is written every row is checked: the module hash
// of its spec must be the stored hash and every accuracy a fraction in [0, 1]; the first
// violation is an nbz::Error naming path:line and the value.
std::size_t import_nb101_truth(ResultsDb& db, const std::string& path,
                               const std::vector<nb101::GroundTruthRow>& rows,
                               const std::vector<std::int64_t>& indices);

}  // namespace nbz::db
