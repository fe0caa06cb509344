// The research tables built from a loaded results database (reports/report_data.h):
//  * the paper table of a space (NAS-Bench-201 / NAS-Bench-101 layout: one row per proxy grouped
//    by family, per dataset KT, SPR and nDCG@k, best value per column marked),
//  * proxy-vs-proxy rank correlations,
//  * per-run correlation details over three architecture sets (all swept, the standard sample,
//    unique cells) with bootstrap intervals, precision at the top 1/5/10 % and nDCG@10/100,
//  * per-seed correlations with the mean and spread over seeds,
//  * seconds per architecture per proxy per device/threads/BLAS, and a cross-device ratio.
// Every correlation uses rank_value (sign * value, higher is better) of rows with status 'ok';
// auxiliary proxies are never rows. Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reports/report_data.h"
#include "reports/report_table.h"

namespace nbz::report {

struct ReportOptions {
  std::string set = "all";     // architecture set of the paper tables: all | sample | unique
  std::string split = "auto";  // ground-truth split; auto = test where the dataset has it, else
                               // valid
  int epochs = 0;              // training epochs of the ground truth; 0 = the longest available
  std::size_t ndcg_k = 10;     // the nDCG@k column of the paper table
  int resamples = 1000;        // bootstrap resamples
  std::uint64_t bootstrap_seed = 0;
};

enum class ArchSet { All, StandardSample, UniqueCells };
// "all" | "sample" | "unique"; throws nbz::Error naming the value otherwise.
ArchSet parse_arch_set(const std::string& name);
std::string arch_set_title(ArchSet set);

// The architectures of `run` (any score row) in `set`, sorted: all of them; those of the
// standard sample (NB201: select_architectures("sample:1000", 15625, 0); NB101: 1,000 of its
// ground-truth cells, select_nb101_architectures("sample:1000", ..., 0)); or one per canonical
// key (the lowest arch_index, so the choice does not depend on scores).
std::vector<std::int64_t> arch_set(const ReportData& data, const RunData& run, ArchSet set);

// The ground-truth column `dataset` is compared with: the options' split (auto: test, else
// valid) and epochs (0: the longest). nullopt when the space has no truth for the dataset;
// nbz::Error when an explicitly asked split or epochs does not exist (naming what does).
std::optional<TruthKey> truth_for(const ReportData& data, const std::string& space,
                                  const std::string& dataset, const ReportOptions& options);

struct Paired {
  std::vector<double> score, truth;
};
// Pairs the ok scores of a proxy with a truth column, restricted to `subset` (sorted) if given.
Paired pair_scores(const ProxyScores& scores, const TruthColumn& truth,
                   const std::vector<std::int64_t>* subset = nullptr);

// Display name of a dataset (CIFAR-10) and of a proxy family (Gradient); group order of families:
// architecture, gradient, jacobian-activation, ntk, nngp, aggregate, then unknown ones by name.
std::string dataset_title(const std::string& dataset);
std::string family_title(const std::string& family);
// The proxies with role 'score' that have ok rows in any of `runs`, ordered by family group, then
// proxy_id.
std::vector<const ProxyDef*> table_proxies(const ReportData& data,
                                           const std::vector<const RunData*>& runs);

struct CorrelationCell {
  std::int64_t n = 0;
  double tau = 0, rho = 0, ndcg = 0;  // NaN when undefined
};

struct PaperColumn {
  std::string dataset;
  const RunData* run = nullptr;
  TruthKey truth;
  bool other_dataset_run = false;  // no run of this dataset: another run's scores (marked ‡)
};

struct PaperTable {
  std::string space;
  Table table;
  std::vector<PaperColumn> columns;
  std::vector<const ProxyDef*> proxies;
  std::vector<std::vector<CorrelationCell>> values;  // [proxy][column]
};

// The paper table of a space; nullopt when the space has no runs or no ground truth. For each
// dataset of the space's ground truth: the run of that dataset (the one with the most ok rows,
// then the lowest seed, then run_id), else the cifar10 run's (else the first run's) scores
// against that dataset's truth, marked ‡; runs whose minibatch was surrogate CIFAR-10 images are
// marked †.
std::optional<PaperTable> paper_table(const ReportData& data, const std::string& space,
                                      const ReportOptions& options);

// The run a space's single-run tables use: the cifar10 run chosen as in the paper table, else
// the first run of the space.
const RunData* primary_run(const ReportData& data, const std::string& space);

// Kendall tau-b between every two proxies of a run, over the architectures of `set` where both
// are ok.
Table proxy_correlation_table(const ReportData& data, const RunData& run, ArchSet set);

// One run against its own dataset's truth, for each architecture set: n, KT and SPR with
// bootstrap 95 % intervals, precision at the top 1/5/10 %, nDCG@10/100. nullopt when the run's
// dataset has no ground truth.
std::optional<Table> correlations_table(const ReportData& data, const RunData& run,
                                        const ReportOptions& options);

// How much of a proxy's ranking survives a new seed: the Spearman between its scores in two runs
// that differ only in the seed (initialisation and minibatch), over `archs` (ok in every run);
// the mean over pairs of runs of different seeds when there are more than two (two runs of one
// seed are not a pair). NaN when no pair has two architectures in common.
double seed_stability(const std::vector<const RunData*>& runs, std::int64_t proxy_id,
                      const std::vector<std::int64_t>& archs);
// The table's word for a stability: "barely survives a new seed" below 0.5, "seed-sensitive"
// below 0.9, else empty.
std::string stability_note(double stability);

// Runs that differ only in their seed (same space, dataset, images, batch size, device, threads,
// BLAS, LibTorch) with at least two seeds: KT per seed over the architectures ok in every one of
// them, mean and standard deviation over seeds of KT and SPR, and the seed stability of each
// proxy's scores. One table per such group.
std::vector<Table> seed_tables(const ReportData& data, const std::string& space,
                               const ReportOptions& options);

struct TimingGroup {
  std::string space, device, device_name, blas;
  int threads = 0;
  std::vector<const RunData*> runs;
  std::string label() const;        // "cpu (AMD EPYC), 2 threads, OpenBLAS 0.3.21 openmp"
  std::string short_label() const;  // "cpu (AMD EPYC), 2 thr" for column headers
};

struct TimingStats {
  std::int64_t n = 0;
  double median = 0, p90 = 0;  // seconds; NaN when n == 0
};

// Runs of a space pooled by (device, device name, threads, BLAS), in order of first run_id.
std::vector<TimingGroup> timing_groups(const ReportData& data, const std::string& space);
// Seconds per architecture (scores.seconds of ok rows) of a proxy over a group's runs;
// proxy_id 0: the whole sweep per architecture (all proxies of the run, every row).
TimingStats timing_stats(const TimingGroup& group, std::int64_t proxy_id);
// "OpenBLAS 0.3.21 openmp" from the recorded library path and configuration.
std::string blas_short_name(const std::string& blas);

Table timing_table(const ReportData& data, const std::string& space);
// When the space's runs come from several devices: each device's median relative to the first
// group (a CPU one when there is one), as reference median / device median (> 1: faster).
std::optional<Table> timing_ratio_table(const ReportData& data, const std::string& space);

// Runs table: the provenance of every run, and one of every session.
Table runs_table(const ReportData& data);
Table sessions_table(const ReportData& data);

}  // namespace nbz::report
