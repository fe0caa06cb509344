// Ground truth from ../shared/data into the results database (torch-free).
#pragma once

#include "benchmarks_db/results_db.h"
#include "suite/nb201_space.h"

namespace nbz::db {

// Imports every NB201 ground-truth column (200- and 12-epoch) once; a no-op when present.
// Returns the number of rows inserted.
std::size_t import_nb201_truth(ResultsDb& db, const nb201::Space& space);

}  // namespace nbz::db
