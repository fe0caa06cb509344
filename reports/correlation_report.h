// `nasbench report`: for every run in a results database, each proxy's Kendall tau-b and Spearman
// rho against every ground-truth column present for the swept architectures, failure counts and
// seconds per architecture. Reads the SQLite file only (torch-free).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "benchmarks_db/results_db.h"

namespace nbz::report {

struct TruthKey {
  std::string dataset, split;
  int epochs = 0;
  std::string label() const;  // e.g. cifar10_test, cifar100_valid_12ep
  bool operator<(const TruthKey& o) const {
    return std::tie(dataset, split, epochs) < std::tie(o.dataset, o.split, o.epochs);
  }
  bool operator==(const TruthKey& o) const {
    return dataset == o.dataset && split == o.split && epochs == o.epochs;
  }
};

struct Correlation {
  std::int64_t n = 0;
  double tau = 0, rho = 0;  // NaN when undefined
};

struct ProxyRow {
  std::string proxy;
  bool auxiliary = false;
  std::int64_t ok = 0, failed = 0;
  std::vector<Correlation> by_truth;  // aligned with RunReport::truth
  double median_seconds = 0, median_own_seconds = 0, median_shared_seconds = 0;
};

struct RunReport {
  std::int64_t run_id = 0;
  std::string header;  // provenance, one or more lines
  std::string space;
  std::vector<TruthKey> truth;
  std::vector<ProxyRow> proxies;
  // The short-training baseline, aligned with `truth`: the 12-epoch accuracy of the same dataset
  // and split as the predictor of each longer-trained column, over the run's architectures
  // (n = 0 where the column is itself 12-epoch or has no 12-epoch twin).
  std::vector<Correlation> short_training;
};

std::vector<RunReport> correlation_report(db::ResultsDb& db);
void print_correlation_report(const std::vector<RunReport>& reports, std::ostream& out);

}  // namespace nbz::report
