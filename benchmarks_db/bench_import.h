// `nasbench import-bench`: stores the JSON output of build/nasbench_bench (Google Benchmark,
// --benchmark_out_format=json) in a results database as a timing run. Torch-free.
//
// What goes where (docs/schema.md, "Timing runs"):
//   runs          one run per benchmark execution: config_key "timing;..." with the date of the
//                 execution, so re-importing the same file finds the same run and adds nothing;
//                 device, threads, BLAS, LibTorch, code version, build, host and CPU from the
//                 binary's run context; options_json {"kind":"timing", ...} with the floors' pass
//                 counts
//   scores        engine/<proxy>/<arch>: value = seconds per call (the median over repetitions,
//                 or of the single repetition's mean), rank_value = -seconds, own_seconds =
//                 seconds, shared_seconds = 0; status 'failed' (value NULL) with the reason when
//                 the proxy's value was not finite on that architecture (its time still stands)
//   passes        floor/<passes>/<arch> as pass 'floor:<passes>' and engine/zc|all/<arch> as
//                 'engine:zc' / 'engine:all', seconds as above, users = the proxies they belong to
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "benchmarks_db/results_db.h"
#include "proxies/catalog.h"

namespace nbz::db {

// The name of a pass set in floor benchmark names: the catalog's pass names in enum order joined
// by '+', e.g. "build+train_forward+loss_grad". bench/ names its floors with it, the importer
// matches them with it.
std::string pass_set_name(const std::set<Pass>& passes);

struct BenchImportSummary {
  std::int64_t run_id = 0;
  bool run_created = false;
  int archs = 0;
  int proxy_timings = 0, failed_timings = 0, floors = 0, sets = 0;
  int rows_inserted = 0;  // scores; 0 when this file was imported before
  std::vector<std::string> lines;  // per architecture: engine vs floor, for the terminal
  std::vector<std::string> notes;  // skipped entries, warnings
};

// Throws nbz::Error naming the file for unreadable or malformed JSON, a file that does not come
// from nasbench_bench (no nbz_* context), or an architecture that contradicts the database.
BenchImportSummary import_benchmark_json(ResultsDb& db, const std::string& json_path,
                                         const std::string& command_line);

}  // namespace nbz::db
