// Choosing a rank aggregate's members honestly (issue #27): by a rule fixed in advance, on a
// selection sample of architectures whose ground truth may be looked at, and evaluated only on the
// architectures outside it. The aggregate itself stays label-free: once chosen, it is computed from
// stored scores alone (benchmarks_db/aggregates.h). Torch-free.
//
// The rule (greedy forward selection):
//   1. candidates: the given proxies, or every score proxy of the run at initialisation
//      (role 'score', train_epochs 0, not an aggregate); the selection cells: the selection
//      sample's architectures of the run that have the ground truth and an ok score for every
//      candidate;
//   2. on the selection cells, each candidate's Kendall tau-b (rank_value against the truth);
//      the best is the first member;
//   3. the second member is the candidate whose addition gives the aggregate (RULE) the highest
//      Kendall tau-b; each further one is added the same way only while it raises that Kendall tau
//      by at least min_gain, up to max_members.
// Ties go to the candidate first in name order, so the choice is a function of the stored scores.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "benchmarks_db/aggregates.h"
#include "benchmarks_db/results_db.h"

namespace nbz::db {

// Which ground-truth column the selection and the evaluation read.
struct TruthColumn {
  std::string dataset = "cifar10";
  std::string split = "test";
  int epochs = 0;  // 0 = the longest stored for that dataset and split

  // "cifar10:test:200"
  std::string label() const;
};

// Parses "DATASET[:SPLIT[:EPOCHS]]" (e.g. "cifar10", "cifar100:valid:200"). Throws nbz::Error
// naming the text for an empty part or a bad epoch count.
TruthColumn parse_truth_column(const std::string& text);

struct AggregateSelectionOptions {
  std::string name = "selected";   // the proxy name the chosen aggregate is stored under
  std::string rule = "mean_rank";  // mean_rank | rank_sum | log_rank | vote
  std::set<std::int64_t> selection;  // arch_index of every architecture of the selection sample
  std::string selection_label;       // how it was drawn, e.g. "sample:1000:1" (provenance)
  TruthColumn truth;
  std::vector<std::string> candidates;  // empty = every score proxy of the run (see the rule)
  std::size_t max_members = 5;
  double min_gain = 0.005;
};

struct SelectionStep {
  std::string added;
  double kendall = 0;  // of the aggregate of the members so far (of the proxy alone at step 1)
};

struct AggregateSelection {
  AggregateDefinition definition;  // name, rule, members in the order they were added
  std::string truth_label;         // the column read, with its epochs resolved
  std::int64_t selection_cells = 0;
  std::vector<std::pair<std::string, double>> singles;  // each candidate's Kendall, best first
  std::vector<SelectionStep> steps;
  std::string description() const;  // the rule and the selection, stored with the proxy
};

// Applies the rule above to the scores of `run_id`. Throws nbz::Error when the rule is unknown,
// the truth column is not stored, fewer than two candidates have scores, or fewer than 10
// selection cells remain (the error names which candidate is missing where).
AggregateSelection select_aggregate(ResultsDb& db, std::int64_t run_id,
                                    const AggregateSelectionOptions& options);

struct ProxyEvaluation {
  std::string proxy;
  std::int64_t archs = 0;  // architectures outside the selection with an ok score and the truth
  double kendall = 0;
  double spearman = 0;
  // The same on the common cells: those where every evaluated proxy is ok, so that proxies that
  // fail on different cells are compared on one set.
  std::int64_t common_archs = 0;
  double common_kendall = 0;
  double common_spearman = 0;
};

// Kendall tau-b and Spearman rho of each proxy's ok scores (rank_value) against the truth on the
// run's architectures whose arch_index is not in `excluded`, best Kendall first; and on the
// common cells. A proxy without ok scores there is left out of the result (and of the common
// cells).
std::vector<ProxyEvaluation> evaluate_outside(ResultsDb& db, std::int64_t run_id,
                                              const std::vector<std::string>& proxies,
                                              const TruthColumn& truth,
                                              const std::set<std::int64_t>& excluded);

// The candidate list of the rule: every score proxy with an ok score in the run, at
// initialisation, that is not an aggregate, in name order.
std::vector<std::string> score_proxies_of_run(ResultsDb& db, std::int64_t run_id);

// Every aggregate proxy (family 'aggregate') with an ok score in the run, in name order.
std::vector<std::string> aggregate_proxies_of_run(ResultsDb& db, std::int64_t run_id);

}  // namespace nbz::db
