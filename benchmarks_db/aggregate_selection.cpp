#include "benchmarks_db/aggregate_selection.h"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "foundation/csv.h"
#include "foundation/errors.h"
#include "foundation/statistics.h"

namespace nbz::db {
namespace {

using ScoresByIndex = std::map<std::int64_t, double>;  // arch_index -> value

std::string run_space(ResultsDb& db, std::int64_t run_id) {
  SQLite::Statement q(db.sql(), "SELECT space FROM runs WHERE run_id = ?");
  q.bind(1, run_id);
  if (!q.executeStep())
    throw Error("results database '" + db.path() + "' has no run " + std::to_string(run_id));
  return q.getColumn(0).getString();
}

// The truth column with its epochs resolved; throws when nothing is stored for it.
std::pair<ScoresByIndex, std::string> load_truth(ResultsDb& db, const std::string& space,
                                                 const TruthColumn& truth) {
  // Epochs 0 = the longest stored for that dataset and split.
  SQLite::Statement q(db.sql(),
                      "SELECT arch_index, value, epochs FROM ground_truth WHERE space = ?1 AND "
                      "dataset = ?2 AND split = ?3 AND epochs = CASE WHEN ?4 = 0 THEN (SELECT "
                      "MAX(epochs) FROM ground_truth WHERE space = ?1 AND dataset = ?2 AND "
                      "split = ?3) ELSE ?4 END");
  q.bind(1, space);
  q.bind(2, truth.dataset);
  q.bind(3, truth.split);
  q.bind(4, truth.epochs);
  TruthColumn t = truth;
  ScoresByIndex values;
  while (q.executeStep()) {
    values[q.getColumn(0).getInt64()] = q.getColumn(1).getDouble();
    t.epochs = q.getColumn(2).getInt();
  }
  if (values.empty())
    throw Error("results database '" + db.path() + "' stores no ground truth " + truth.label() +
                " for space " + space + " (import it with `nasbench import-truth`)");
  return {values, t.label()};
}

ScoresByIndex load_ok_scores(ResultsDb& db, std::int64_t run_id, const std::string& proxy) {
  SQLite::Statement q(db.sql(),
                      "SELECT arch_index, rank_value FROM proxy_scores WHERE run_id = ? AND "
                      "proxy = ? AND status = 'ok'");
  q.bind(1, run_id);
  q.bind(2, proxy);
  ScoresByIndex out;
  while (q.executeStep()) out[q.getColumn(0).getInt64()] = q.getColumn(1).getDouble();
  return out;
}

// Kendall tau-b of the aggregate (rule) of `members` against the truth on `cells`.
double aggregate_kendall(const std::string& rule, const std::vector<const ScoresByIndex*>& members,
                         const std::vector<std::int64_t>& cells, const std::vector<double>& truth) {
  std::vector<std::vector<double>> ranks;
  for (const auto* m : members) {
    std::vector<double> x;
    x.reserve(cells.size());
    for (auto c : cells) x.push_back(m->at(c));
    ranks.push_back(stats::average_ranks(x));
  }
  const auto values = ranks.size() == 1 ? ranks[0] : aggregate_values(rule, ranks);
  return stats::kendall_tau_b(values, truth);
}

// Names of the proxies with an ok score in the run that meet `condition` (SQL on proxies p).
std::vector<std::string> proxies_of_run(ResultsDb& db, std::int64_t run_id,
                                        const std::string& condition) {
  SQLite::Statement q(db.sql(),
                      "SELECT DISTINCT p.name FROM scores s JOIN proxies p ON p.proxy_id = "
                      "s.proxy_id WHERE s.run_id = ? AND s.status = 'ok' AND " + condition +
                          " ORDER BY p.name");
  q.bind(1, run_id);
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

// Best first; an undefined Kendall tau (a constant proxy) sorts last.
double sort_key(double tau) { return std::isnan(tau) ? -INFINITY : tau; }

std::string format_tau(double tau) {
  std::ostringstream s;
  s.precision(4);
  s << std::fixed << tau;
  return s.str();
}

}  // namespace

std::string TruthColumn::label() const {
  return dataset + ":" + split + ":" + (epochs == 0 ? std::string("longest") : std::to_string(epochs));
}

TruthColumn parse_truth_column(const std::string& text) {
  const auto parts = split_fields(text, ':');
  if (parts.empty() || parts.size() > 3 || std::any_of(parts.begin(), parts.end(),
                                      [](const std::string& p) { return p.empty(); }))
    throw Error("ground-truth column '" + text + "' is not DATASET[:SPLIT[:EPOCHS]] "
                "(e.g. cifar10:test:200)");
  TruthColumn t;
  t.dataset = parts[0];
  if (parts.size() > 1) t.split = parts[1];
  if (parts.size() > 2) {
    const auto& e = parts[2];
    if (e.find_first_not_of("0123456789") != std::string::npos || e.size() > 6)
      throw Error("ground-truth column '" + text + "': epochs '" + e + "' is not a number");
    t.epochs = std::stoi(e);
  }
  return t;
}

std::string AggregateSelection::description() const {
  std::string trace;
  for (const auto& s : steps)
    trace += (trace.empty() ? "" : ", ") + ("+" + s.added + " " + format_tau(s.kendall));
  return "label-free rank aggregate (" + definition.rule +
         ") of stored scores; members chosen by greedy forward selection on " +
         std::to_string(selection_cells) + " selection cells against " + truth_label +
         " (Kendall tau-b: " + trace + ")";
}

std::vector<std::string> score_proxies_of_run(ResultsDb& db, std::int64_t run_id) {
  return proxies_of_run(db, run_id,
                        "p.role = 'score' AND p.train_epochs = 0 AND p.family != 'aggregate'");
}

std::vector<std::string> aggregate_proxies_of_run(ResultsDb& db, std::int64_t run_id) {
  return proxies_of_run(db, run_id, "p.family = 'aggregate'");
}

AggregateSelection select_aggregate(ResultsDb& db, std::int64_t run_id,
                                    const AggregateSelectionOptions& o) {
  // parse_aggregate validates the rule and the name as --define does.
  parse_aggregate(o.name + "=" + o.rule + ":a,b");
  if (o.max_members < 2)
    throw Error("aggregate selection: --max-members " + std::to_string(o.max_members) +
                " is below 2 (an aggregate has at least two members)");
  const auto space = run_space(db, run_id);
  const auto [truth, truth_label] = load_truth(db, space, o.truth);

  auto candidates = o.candidates.empty() ? score_proxies_of_run(db, run_id) : o.candidates;
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  if (candidates.size() < 2)
    throw Error("aggregate selection: run " + std::to_string(run_id) + " of '" + db.path() +
                "' has " + std::to_string(candidates.size()) +
                " candidate proxies with ok scores; at least two are needed");
  std::vector<ScoresByIndex> scores;
  for (const auto& c : candidates) {
    scores.push_back(load_ok_scores(db, run_id, c));
    if (scores.back().empty())
      throw Error("aggregate selection: proxy '" + c + "' has no ok scores in run " +
                  std::to_string(run_id) + " of '" + db.path() + "'");
  }

  std::vector<std::int64_t> cells;
  std::int64_t missing = 0;
  for (auto index : o.selection) {
    if (!truth.count(index)) continue;
    bool all_ok = true;
    for (const auto& s : scores) all_ok = all_ok && s.count(index);
    if (all_ok) cells.push_back(index);
    else ++missing;
  }
  if (cells.size() < 10)
    throw Error("aggregate selection: only " + std::to_string(cells.size()) + " of the " +
                std::to_string(o.selection.size()) + " selection architectures (" +
                o.selection_label + ") have the truth and an ok score for every candidate in run " +
                std::to_string(run_id) + " (" + std::to_string(missing) +
                " lack some candidate); at least 10 are needed");
  std::vector<double> y;
  for (auto c : cells) y.push_back(truth.at(c));

  AggregateSelection out;
  out.definition.name = o.name;
  out.definition.rule = o.rule;
  out.truth_label = truth_label;
  out.selection_cells = static_cast<std::int64_t>(cells.size());
  std::vector<double> single_tau;  // by candidate; also the greedy search's first step
  for (size_t i = 0; i < candidates.size(); ++i) {
    single_tau.push_back(aggregate_kendall(o.rule, {&scores[i]}, cells, y));
    out.singles.emplace_back(candidates[i], single_tau.back());
  }
  std::stable_sort(out.singles.begin(), out.singles.end(),
                   [](const auto& a, const auto& b) { return sort_key(a.second) > sort_key(b.second); });

  std::vector<size_t> chosen;
  double best = -2;
  while (chosen.size() < std::min(o.max_members, candidates.size())) {
    size_t pick = candidates.size();
    double pick_tau = -2;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (std::find(chosen.begin(), chosen.end(), i) != chosen.end()) continue;
      std::vector<const ScoresByIndex*> members;
      for (auto c : chosen) members.push_back(&scores[c]);
      members.push_back(&scores[i]);
      const double tau =
          chosen.empty() ? single_tau[i] : aggregate_kendall(o.rule, members, cells, y);
      if (std::isfinite(tau) && tau > pick_tau) {
        pick = i;
        pick_tau = tau;
      }
    }
    if (pick == candidates.size()) break;
    if (chosen.size() >= 2 && pick_tau < best + o.min_gain) break;
    chosen.push_back(pick);
    best = pick_tau;
    out.steps.push_back({candidates[pick], pick_tau});
  }
  if (chosen.size() < 2)
    throw Error("aggregate selection: no two candidates give a defined Kendall tau on the " +
                std::to_string(cells.size()) + " selection cells");
  for (auto c : chosen) out.definition.members.push_back(candidates[c]);
  return out;
}

std::vector<ProxyEvaluation> evaluate_outside(ResultsDb& db, std::int64_t run_id,
                                              const std::vector<std::string>& proxies,
                                              const TruthColumn& truth,
                                              const std::set<std::int64_t>& excluded) {
  const auto [y_by_index, label] = load_truth(db, run_space(db, run_id), truth);
  std::vector<ProxyEvaluation> out;
  std::vector<ScoresByIndex> kept;  // per entry of `out`: its scores on the evaluation cells
  for (const auto& p : proxies) {
    ScoresByIndex scores;
    for (const auto& [index, value] : load_ok_scores(db, run_id, p))
      if (!excluded.count(index) && y_by_index.count(index)) scores[index] = value;
    if (scores.empty()) continue;
    std::vector<double> x, y;
    for (const auto& [index, value] : scores) {
      x.push_back(value);
      y.push_back(y_by_index.at(index));
    }
    out.push_back({p, static_cast<std::int64_t>(x.size()), stats::kendall_tau_b(x, y),
                   stats::spearman_rho(x, y), 0, 0, 0});
    kept.push_back(std::move(scores));
  }
  std::vector<std::int64_t> common;
  if (!kept.empty())
    for (const auto& [index, value] : kept[0]) {
      bool everywhere = true;
      for (const auto& k : kept) everywhere = everywhere && k.count(index);
      if (everywhere) common.push_back(index);
    }
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<double> x, y;
    for (auto index : common) {
      x.push_back(kept[i].at(index));
      y.push_back(y_by_index.at(index));
    }
    out[i].common_archs = static_cast<std::int64_t>(common.size());
    out[i].common_kendall = common.empty() ? NAN : stats::kendall_tau_b(x, y);
    out[i].common_spearman = common.empty() ? NAN : stats::spearman_rho(x, y);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return sort_key(a.kendall) > sort_key(b.kendall);
  });
  return out;
}

}  // namespace nbz::db
