// Everything the reports read from a results database, loaded once into plain structures: runs
// with their provenance and sessions, proxy definitions, each run's scores and seconds, canonical
// keys and the ground truth of the swept architectures. Torch-free; the only SQL of the reports.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "benchmarks_db/results_db.h"
#include "reports/correlation_report.h"

namespace nbz::report {

struct RunInfo {
  std::int64_t run_id = 0;
  std::string config_key, space, dataset, images;
  int num_classes = 0, input_size = 0;
  std::int64_t seed = 0;
  int batch_size = 0;
  std::string device, device_name;
  int threads = 0;
  std::string blas, torch_version, code_version, build, host, cpu, options_json;
  std::string started_at, ended_at;  // ended_at empty while never ended

  // The minibatch was CIFAR-10 images standing in for this run's dataset (runs.images).
  bool surrogate() const { return images.rfind("SURROGATE:", 0) == 0; }
  // Imported by `nasbench import-bench` from a benchmark JSON: seconds of each proxy on a few fixed
  // architectures. It belongs in the timing tables; its handful of values says nothing about ranking.
  bool timing_only() const { return config_key.rfind("timing;", 0) == 0; }
  // "run 2 (cifar100, seed 0, cpu)"
  std::string label() const;
};

struct SessionInfo {
  std::int64_t session_id = 0, run_id = 0, pid = 0, archs_done = 0;
  std::string command_line, host, code_version, started_at, ended_at, outcome;
  std::string cpu, device_name, blas;  // the session's machine; empty = not recorded (schema < 3)
};

struct ProxyDef {
  std::int64_t proxy_id = 0;
  std::string name, family, role, description;
  int sign = 1;
  bool auxiliary() const { return role == "auxiliary"; }
};

// One proxy in one run. ok_* are the rows with status 'ok' (rank_value, higher is better);
// seconds are those of the ok rows too (a failure's time says little about the proxy's cost).
struct ProxyScores {
  std::vector<std::int64_t> ok_arch;  // arch_index
  std::vector<double> ok_value;       // rank_value, aligned with ok_arch
  std::vector<double> ok_seconds;     // scores.seconds, aligned with ok_arch
  std::int64_t failed = 0;
  // Every row, failed ones included: what the proxy cost per architecture (scores.seconds) and
  // its split into own computation and share of shared passes.
  std::vector<double> seconds, own_seconds, shared_seconds;
};

struct RunData {
  RunInfo info;
  std::map<std::int64_t, ProxyScores> by_proxy;  // proxy_id ->
  std::vector<std::int64_t> archs;               // arch_index with any score row, sorted
  // Per architecture, what the whole proxy set cost: for a sweep, the sum of scores.seconds over
  // every proxy of the run (auxiliary and failed rows included); for a timing run, the measured
  // engine on `--proxies all` (pass 'engine:all'), absent when that benchmark was not run.
  std::map<std::int64_t, double> arch_seconds;
};

using TruthColumn = std::map<std::int64_t, double>;  // arch_index -> accuracy (percent)

struct SpaceData {
  std::map<std::int64_t, std::string> canonical_key;  // arch_index -> key, stored architectures
  std::map<TruthKey, TruthColumn> truth;              // only the stored architectures' rows
  // Every arch_index with a ground-truth row, stored or not, sorted: NB101's standard sample is
  // drawn from its 20,001 ground-truth cells, as `--archs sample:1000` of an nb101 sweep.
  std::vector<std::int64_t> truth_archs;
};

struct ReportData {
  std::string db_path;
  std::vector<RunData> runs;  // by run_id
  std::vector<SessionInfo> sessions;
  std::vector<ProxyDef> proxies;  // by proxy_id
  std::map<std::string, SpaceData> spaces;

  std::vector<std::string> space_names() const;  // spaces with at least one run, sorted
};

ReportData load_report_data(db::ResultsDb& db);

}  // namespace nbz::report
