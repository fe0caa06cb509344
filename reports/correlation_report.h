// `nasbench report`: for every run in a results database, each proxy's Kendall tau-b and Spearman
// rho against every ground-truth column of the run's own space (NB201: 200- and 12-epoch
// accuracies; NB101: val_acc_108ep and its 36/12/4-epoch twins), the shorter trainings as
// baselines, failure counts and seconds per architecture. Torch-free.
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

// A short-training baseline: the accuracy after `epochs` of training, of the same dataset and
// split, as the predictor of each longer-trained column (NB201: 12 epochs for the 200-epoch
// columns; NB101: 4, 12 and 36 epochs for val_acc_108ep, and the shorter for the longer ones).
struct Baseline {
  int epochs = 0;
  // Aligned with RunReport::truth, over the run's architectures; n = 0 where the column is not
  // longer than `epochs` or has no `epochs` twin.
  std::vector<Correlation> by_truth;
};

struct RunReport {
  std::int64_t run_id = 0;
  std::string header;  // provenance, one or more lines
  std::string space;
  // The ground-truth columns of the run's own space, longest training first.
  std::vector<TruthKey> truth;
  std::vector<ProxyRow> proxies;
  // One per training length that has a longer twin column, longest first.
  std::vector<Baseline> short_training;
};

struct ReportData;
// From the reports' one loader (reports/report_data.h); timing-only runs are left out.
std::vector<RunReport> correlation_report(const ReportData& data);
std::vector<RunReport> correlation_report(db::ResultsDb& db);  // loads, then the above
void print_correlation_report(const std::vector<RunReport>& reports, std::ostream& out);

}  // namespace nbz::report
