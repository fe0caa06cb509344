// Label-free rank aggregates (proxies.md section 6), computed from stored scores without re-running
// anything, and stored as proxies of their own with their definition. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "benchmarks_db/results_db.h"

namespace nbz::db {

struct AggregateDefinition {
  std::string name;   // the proxy name it is stored under, e.g. "vote", "tenas"
  std::string rule;   // mean_rank | rank_sum | log_rank | vote
  std::vector<std::string> members;
  // Stored as the proxy's description; empty = "label-free rank aggregate (RULE) of stored
  // scores". How the members were chosen goes here (aggregate_selection.h), not in parameters:
  // the values depend on the rule and the members alone.
  std::string description;

  // "rule=vote;members=synflow,jacob_cov,snip": stored as the proxy's parameters.
  std::string parameters() const;
};

// Parses "NAME=RULE:a,b,c" (e.g. "vote=vote:synflow,jacob_cov,snip"). Throws nbz::Error naming
// the text for an unknown rule, fewer than two members or a malformed definition.
AggregateDefinition parse_aggregate(const std::string& text);

// The standard aggregates: vote (Abdelfattah et al.: synflow, jacob_cov, snip) and tenas
// (TE-NAS: rank sum of -ntk_cond and linear_regions).
std::vector<AggregateDefinition> standard_aggregates();

struct AggregateCounts {
  std::int64_t scored = 0;  // architectures with an ok aggregate row
  std::int64_t failed = 0;  // architectures stored as failed: a member failed or is missing there
};

// Scores every architecture of `run_id` that has ok scores for all members; ranks are average
// ranks of rank_value over that set (1 = worst, N = best). Every other architecture with a row
// for some member gets a failed row whose reason names the member and its own reason. Rules:
//   mean_rank  mean of the members' ranks
//   rank_sum   sum of the members' ranks (TE-NAS)
//   log_rank   sum of log(rank / N) (AZ-NAS's non-linear aggregation)
//   vote       Copeland count: the number of other architectures that a strict majority of the
//              members ranks below this one (pairwise majority vote, Abdelfattah et al.)
// Replaces the aggregate's earlier rows of that run (the set may have grown) in one transaction.
// Throws nbz::Error when a member has no ok scores in the run.
AggregateCounts compute_aggregate(ResultsDb& db, std::int64_t run_id,
                                  const AggregateDefinition& def, const std::string& command_line);

// The same value computation on plain vectors: ranks[m][i] = rank of architecture i for member m.
std::vector<double> aggregate_values(const std::string& rule,
                                     const std::vector<std::vector<double>>& ranks);

}  // namespace nbz::db
