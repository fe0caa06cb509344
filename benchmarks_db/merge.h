// Merging results databases: the shard databases of a split sweep (`--shard K/N` on several
// machines, a Slurm job array) combined into one, without duplicates and with every process's
// provenance kept. Torch-free.
//
// What is the same thing in two files:
//   runs          the same config_key (what decides the values): one run, the earliest started_at
//                 and the latest ended_at of the two
//   run_sessions  the same run, host, pid, started_at and command line (a file merged twice, or an
//                 input that grew since the last merge); every other session is copied, re-keyed
//   architectures the same (space, arch_index); their arch strings must be equal
//   proxies       the same name; their sign, parameters and train_epochs must be equal (a
//                 schema-version-1 input has no train_epochs column and is read as 0)
//   scores        the same (run, arch, proxy): kept once; a different status or value is an error
//   passes        the same (run, arch, pass): kept once (timings differ between processes)
//   ground_truth  the same (space, arch_index, dataset, split, epochs): equal values, kept once
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nbz::db {

// What one input contributed; "new" rows were inserted, "known" ones were already in the output.
struct MergeInputStats {
  std::string path;
  std::int64_t runs_new = 0, runs_known = 0;
  std::int64_t sessions_new = 0, sessions_known = 0;
  std::int64_t archs_new = 0, proxies_new = 0;
  std::int64_t scores_new = 0, scores_known = 0;
  std::int64_t passes_new = 0, truth_new = 0;
};

// Merges `inputs` into `out_path` (created when absent, else a results database; an older schema
// is migrated as ResultsDb does, in its own transaction, before the merge). Inputs of any schema
// version this build reads (docs/schema.md) are opened read-only, never migrated, and all checked
// (existence, nasbench-zc database, schema version) before the output is touched; the output is
// always written in the current version. The whole merge is one transaction: any error (a
// conflict, a foreign file, an I/O error) leaves the output's rows exactly as they were, and an
// output created by this call is removed again. Conflicts throw nbz::Error naming both files and
// the conflicting key. `command_line` is recorded in the output's meta table with the inputs.
std::vector<MergeInputStats> merge_databases(const std::string& out_path,
                                             const std::vector<std::string>& inputs,
                                             const std::string& command_line);

}  // namespace nbz::db
