#include "reports/report_tables.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "foundation/errors.h"
#include "foundation/statistics.h"
#include "spaces/arch_selection.h"
#include "spaces/nb101_space.h"

namespace nbz::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* const kFamilyOrder[] = {"architecture", "gradient", "jacobian-activation",
                                    "ntk",          "nngp",     "aggregate"};

std::size_t family_rank(const std::string& family) {
  for (std::size_t i = 0; i < std::size(kFamilyOrder); ++i)
    if (family == kFamilyOrder[i]) return i;
  return std::size(kFamilyOrder);
}

std::size_t dataset_rank(const std::string& dataset) {
  if (dataset == "cifar10") return 0;
  if (dataset == "cifar100") return 1;
  if (dataset == "imagenet16-120") return 2;
  return 3;
}

// Size of a space for the standard sample; 0 when the suite defines none.
std::int64_t space_size(const std::string& space) {
  if (space == "nb201") return 15625;  // 5 ops ^ 6 edges
  if (space == "nb101") return static_cast<std::int64_t>(nb101::kSpaceSize);
  return 0;
}

// Seconds shown in milliseconds with about three significant digits.
std::string format_ms(double seconds) {
  if (std::isnan(seconds)) return "–";
  const double ms = seconds * 1000;
  const int digits = ms >= 100 ? 0 : ms >= 10 ? 1 : ms >= 1 ? 2 : 3;
  return format_fixed(ms, digits);
}

TableCell ms_cell(double seconds) {
  return {format_ms(seconds), format_csv_number(seconds), false};
}

TableCell count_cell(std::int64_t n) { return text_cell(std::to_string(n)); }

std::string truth_title(const TruthKey& k) {
  return dataset_title(k.dataset) + " " + k.split + " accuracy after " + std::to_string(k.epochs) +
         " epochs";
}

// Ranks of candidate runs for a dataset column: most ok rows, then lowest seed, then run_id.
std::int64_t ok_rows(const RunData& r) {
  std::int64_t n = 0;
  for (const auto& [id, ps] : r.by_proxy) n += static_cast<std::int64_t>(ps.ok_arch.size());
  return n;
}

const RunData* best_run(const std::vector<const RunData*>& runs) {
  const RunData* best = nullptr;
  for (const auto* r : runs) {
    if (!best) {
      best = r;
      continue;
    }
    const auto a = std::make_tuple(-ok_rows(*r), r->info.seed, r->info.run_id);
    const auto b = std::make_tuple(-ok_rows(*best), best->info.seed, best->info.run_id);
    if (a < b) best = r;
  }
  return best;
}

std::vector<const RunData*> runs_of(const ReportData& data, const std::string& space,
                                    const std::string& dataset = "") {
  std::vector<const RunData*> out;
  for (const auto& r : data.runs)
    if (r.info.space == space && !r.info.timing_only() &&
        (dataset.empty() || r.info.dataset == dataset))
      out.push_back(&r);
  return out;
}

const ProxyScores* scores_of(const RunData& run, std::int64_t proxy_id) {
  auto it = run.by_proxy.find(proxy_id);
  return it == run.by_proxy.end() ? nullptr : &it->second;
}

// Groups the proxies' rows under family section headings.
template <typename AddRow>
void add_proxy_rows(Table& table, const std::vector<const ProxyDef*>& proxies, AddRow add_row) {
  std::string family;
  for (std::size_t i = 0; i < proxies.size(); ++i) {
    if (i == 0 || proxies[i]->family != family) {
      family = proxies[i]->family;
      table.add_section(family_title(family));
    }
    add_row(i, table.add_row(proxies[i]->name));
  }
}

std::string surrogate_note(const RunData& run) {
  return "† " + run.info.label() + ": the minibatch is CIFAR-10 images in place of " +
         dataset_title(run.info.dataset) + "'s (runs.images = \"" + run.info.images + "\").";
}

// "n = 200 architectures (jacob_cov 198)": the most common n, then the exceptions.
std::string n_summary(const std::vector<const ProxyDef*>& proxies,
                      const std::vector<std::int64_t>& ns) {
  std::map<std::int64_t, int> count;
  for (auto n : ns) ++count[n];
  std::int64_t common = 0;
  int most = -1;
  for (const auto& [n, c] : count)
    if (c > most || (c == most && n > common)) {
      common = n;
      most = c;
    }
  std::string out = "n = " + std::to_string(common) + " architectures";
  std::string exceptions;
  for (std::size_t i = 0; i < proxies.size(); ++i)
    if (ns[i] != common)
      exceptions += (exceptions.empty() ? "" : ", ") + proxies[i]->name + " " +
                    std::to_string(ns[i]);
  return exceptions.empty() ? out : out + " (" + exceptions + ")";
}

}  // namespace

ArchSet parse_arch_set(const std::string& name) {
  if (name == "all") return ArchSet::All;
  if (name == "sample") return ArchSet::StandardSample;
  if (name == "unique") return ArchSet::UniqueCells;
  throw Error("--set '" + name + "' is not one of all, sample, unique");
}

std::string arch_set_title(ArchSet set) {
  switch (set) {
    case ArchSet::All: return "all swept architectures";
    case ArchSet::StandardSample: return "standard sample (sample:1000, seed 0) ∩ swept";
    case ArchSet::UniqueCells: return "unique cells (one per canonical key, lowest index)";
  }
  return "";
}

std::vector<std::int64_t> arch_set(const ReportData& data, const RunData& run, ArchSet set) {
  if (set == ArchSet::All) return run.archs;
  if (set == ArchSet::StandardSample) {
    const auto size = space_size(run.info.space);
    if (size == 0) return {};
    std::vector<std::int64_t> sample;
    if (run.info.space == "nb101") {
      // NB101's standard sample is `--archs sample:1000` of an nb101 sweep: 1,000 of the
      // ground-truth cells (most of the space has no truth), seed 0.
      const auto space = data.spaces.find("nb101");
      if (space == data.spaces.end() || space->second.truth_archs.empty()) return {};
      Nb101Catalog catalog;
      catalog.space_size = size;
      catalog.truth_indices = space->second.truth_archs;
      const auto n = std::min<std::size_t>(1000, catalog.truth_indices.size());
      sample = select_nb101_architectures("sample:" + std::to_string(n), catalog, 0);
    } else {
      sample = select_architectures("sample:1000", size, 0);
    }
    std::vector<std::int64_t> out;
    std::set_intersection(run.archs.begin(), run.archs.end(), sample.begin(), sample.end(),
                          std::back_inserter(out));
    return out;
  }
  std::map<std::string, std::int64_t> first_of_key;
  const auto space = data.spaces.find(run.info.space);
  for (auto arch : run.archs) {  // sorted: the first seen is the lowest index
    std::string key = "#" + std::to_string(arch);  // no stored key: its own class
    if (space != data.spaces.end()) {
      auto it = space->second.canonical_key.find(arch);
      if (it != space->second.canonical_key.end()) key = it->second;
    }
    first_of_key.emplace(key, arch);
  }
  std::vector<std::int64_t> out;
  for (const auto& [key, arch] : first_of_key) out.push_back(arch);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<TruthKey> truth_for(const ReportData& data, const std::string& space,
                                  const std::string& dataset, const ReportOptions& options) {
  const auto sp = data.spaces.find(space);
  if (sp == data.spaces.end()) return std::nullopt;
  std::set<std::string> splits;
  for (const auto& [k, col] : sp->second.truth)
    if (k.dataset == dataset) splits.insert(k.split);
  if (splits.empty()) return std::nullopt;
  auto list = [](const auto& values) {
    std::ostringstream s;
    for (const auto& v : values) s << (&v == &*values.begin() ? "" : ", ") << v;
    return s.str();
  };
  std::string split = options.split;
  if (split == "auto") {
    split = splits.count("test") ? "test" : splits.count("valid") ? "valid" : *splits.begin();
  } else if (!splits.count(split)) {
    throw Error("--split '" + split + "': the " + space + " ground truth of " + dataset +
                " has the splits " + list(splits));
  }
  std::set<int> epochs;
  for (const auto& [k, col] : sp->second.truth)
    if (k.dataset == dataset && k.split == split) epochs.insert(k.epochs);
  int chosen = *epochs.rbegin();
  if (options.epochs > 0) {
    if (!epochs.count(options.epochs))
      throw Error("--epochs " + std::to_string(options.epochs) + ": the " + space +
                  " ground truth of " + dataset + " (" + split + ") has the epochs " +
                  list(epochs));
    chosen = options.epochs;
  }
  return TruthKey{dataset, split, chosen};
}

Paired pair_scores(const ProxyScores& scores, const TruthColumn& truth,
                   const std::vector<std::int64_t>* subset) {
  Paired p;
  for (std::size_t i = 0; i < scores.ok_arch.size(); ++i) {
    const auto arch = scores.ok_arch[i];
    if (subset && !std::binary_search(subset->begin(), subset->end(), arch)) continue;
    auto it = truth.find(arch);
    if (it == truth.end()) continue;
    p.score.push_back(scores.ok_value[i]);
    p.truth.push_back(it->second);
  }
  return p;
}

std::string dataset_title(const std::string& dataset) {
  if (dataset == "cifar10") return "CIFAR-10";
  if (dataset == "cifar100") return "CIFAR-100";
  if (dataset == "imagenet16-120") return "ImageNet16-120";
  return dataset;
}

std::string family_title(const std::string& family) {
  if (family == "architecture") return "Architecture-only";
  if (family == "gradient") return "Gradient";
  if (family == "jacobian-activation") return "Jacobian / activation";
  if (family == "ntk") return "NTK";
  if (family == "nngp") return "NNGP";
  if (family == "aggregate") return "Aggregates";
  return family;
}

std::vector<const ProxyDef*> table_proxies(const ReportData& data,
                                           const std::vector<const RunData*>& runs) {
  std::vector<const ProxyDef*> out;
  for (const auto& p : data.proxies) {
    if (p.auxiliary()) continue;
    bool has_ok = false;
    for (const auto* r : runs) {
      const auto* s = scores_of(*r, p.proxy_id);
      has_ok = has_ok || (s && !s->ok_arch.empty());
    }
    if (has_ok) out.push_back(&p);
  }
  std::stable_sort(out.begin(), out.end(), [](const ProxyDef* a, const ProxyDef* b) {
    const auto ra = family_rank(a->family), rb = family_rank(b->family);
    if (ra != rb) return ra < rb;
    return ra == std::size(kFamilyOrder) && a->family < b->family;  // unknown: by name
  });
  return out;
}

const RunData* primary_run(const ReportData& data, const std::string& space) {
  if (const auto* r = best_run(runs_of(data, space, "cifar10"))) return r;
  const auto all = runs_of(data, space);
  return all.empty() ? nullptr : all.front();
}

std::optional<PaperTable> paper_table(const ReportData& data, const std::string& space,
                                      const ReportOptions& options) {
  const auto sp = data.spaces.find(space);
  const RunData* fallback = primary_run(data, space);
  if (sp == data.spaces.end() || sp->second.truth.empty() || !fallback) return std::nullopt;
  const ArchSet set = parse_arch_set(options.set);

  std::vector<std::string> datasets;
  for (const auto& [k, col] : sp->second.truth)
    if (std::find(datasets.begin(), datasets.end(), k.dataset) == datasets.end())
      datasets.push_back(k.dataset);
  std::stable_sort(datasets.begin(), datasets.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(dataset_rank(a), a) < std::make_tuple(dataset_rank(b), b);
  });

  PaperTable paper;
  paper.space = space;
  for (const auto& d : datasets) {
    PaperColumn c;
    c.dataset = d;
    c.run = best_run(runs_of(data, space, d));
    if (!c.run) {
      c.run = fallback;
      c.other_dataset_run = true;
    }
    c.truth = *truth_for(data, space, d, options);
    paper.columns.push_back(c);
  }
  std::vector<const RunData*> used;
  for (const auto& c : paper.columns) used.push_back(c.run);
  paper.proxies = table_proxies(data, used);

  Table& t = paper.table;
  t.id = "paper_" + space;
  const std::string ndcg = "nDCG@" + std::to_string(options.ndcg_k);
  t.title = space + ": Kendall τ (KT), Spearman ρ (SPR) and " + ndcg +
            " of training-free proxies against ground-truth accuracy; " + arch_set_title(set);
  t.stub = "proxy";
  std::vector<std::size_t> all_columns;
  for (const auto& c : paper.columns) {
    std::string label = dataset_title(c.dataset);
    if (c.run->info.surrogate()) label += "†";
    if (c.other_dataset_run) label += "‡";
    t.groups.push_back({label, 3});
    const std::string key = c.dataset + "_";
    for (const auto& [name, csv] : {std::pair<std::string, std::string>{"KT", "kt"},
                                    {"SPR", "spr"},
                                    {ndcg, "ndcg" + std::to_string(options.ndcg_k)}}) {
      all_columns.push_back(t.columns.size());
      t.columns.push_back(name);
      t.csv_columns.push_back(key + csv);
    }
  }

  std::map<const RunData*, std::vector<std::int64_t>> sets;
  for (const auto* r : used)
    if (!sets.count(r)) sets[r] = arch_set(data, *r, set);
  paper.values.assign(paper.proxies.size(), {});
  std::vector<std::vector<std::int64_t>> n_by_column(paper.columns.size());
  add_proxy_rows(t, paper.proxies, [&](std::size_t i, TableRow& row) {
    for (std::size_t c = 0; c < paper.columns.size(); ++c) {
      const auto& col = paper.columns[c];
      CorrelationCell cell{0, kNaN, kNaN, kNaN};
      if (const auto* s = scores_of(*col.run, paper.proxies[i]->proxy_id)) {
        const auto p = pair_scores(*s, sp->second.truth.at(col.truth), &sets.at(col.run));
        cell = {static_cast<std::int64_t>(p.score.size()), stats::kendall_tau_b(p.score, p.truth),
                stats::spearman_rho(p.score, p.truth),
                stats::ndcg_at(p.score, p.truth, options.ndcg_k)};
      }
      paper.values[i].push_back(cell);
      n_by_column[c].push_back(cell.n);
      row.cells.push_back(number_cell(cell.tau, 3));
      row.cells.push_back(number_cell(cell.rho, 3));
      row.cells.push_back(number_cell(cell.ndcg, 3));
    }
  });
  mark_best(t, all_columns, false);

  std::set<const RunData*> surrogate_noted;
  for (std::size_t c = 0; c < paper.columns.size(); ++c) {
    const auto& col = paper.columns[c];
    t.notes.push_back(dataset_title(col.dataset) + ": " + col.run->info.label() + " against " +
                      truth_title(col.truth) + "; " + n_summary(paper.proxies, n_by_column[c]) +
                      ".");
  }
  for (const auto& col : paper.columns)
    if (col.run->info.surrogate() && surrogate_noted.insert(col.run).second)
      t.notes.push_back(surrogate_note(*col.run));
  // One ‡ note per run lent to other datasets' columns.
  std::map<const RunData*, std::vector<std::string>> lent;
  for (const auto& col : paper.columns)
    if (col.other_dataset_run) lent[col.run].push_back(dataset_title(col.dataset));
  for (const auto& [run, names] : lent) {
    std::string list;
    for (std::size_t i = 0; i < names.size(); ++i)
      list += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    t.notes.push_back("‡ No " + list + " run in this database: " + run->info.label() +
                      "'s scores (" + run->info.dataset + " head and minibatch) against " +
                      (names.size() == 1 ? "its" : "their") +
                      " ground truth, as in NAS-Bench-Suite-Zero.");
  }
  t.notes.push_back("Correlations of rank_value (sign × value, higher is better) over the "
                    "architectures with an ok score; best value per column in bold.");
  return paper;
}

Table proxy_correlation_table(const ReportData& data, const RunData& run, ArchSet set) {
  const auto proxies = table_proxies(data, {&run});
  const auto subset = arch_set(data, run, set);
  Table t;
  t.id = "proxy_corr_" + run.info.space;
  t.title = run.info.space + ": Kendall τ between proxies (" + run.info.label() + ", " +
            arch_set_title(set) + ")";
  t.stub = "proxy";
  for (const auto* p : proxies) {
    t.columns.push_back(p->name);
    t.csv_columns.push_back(p->name);
  }
  // Each proxy's ok values by architecture, restricted to the set.
  std::vector<std::map<std::int64_t, double>> values(proxies.size());
  for (std::size_t i = 0; i < proxies.size(); ++i) {
    const auto& s = run.by_proxy.at(proxies[i]->proxy_id);
    for (std::size_t j = 0; j < s.ok_arch.size(); ++j)
      if (std::binary_search(subset.begin(), subset.end(), s.ok_arch[j]))
        values[i][s.ok_arch[j]] = s.ok_value[j];
  }
  std::int64_t min_n = -1, max_n = 0;
  add_proxy_rows(t, proxies, [&](std::size_t i, TableRow& row) {
    for (std::size_t j = 0; j < proxies.size(); ++j) {
      std::vector<double> a, b;
      for (const auto& [arch, v] : values[i]) {
        auto it = values[j].find(arch);
        if (it == values[j].end()) continue;
        a.push_back(v);
        b.push_back(it->second);
      }
      const auto n = static_cast<std::int64_t>(a.size());
      min_n = min_n < 0 ? n : std::min(min_n, n);
      max_n = std::max(max_n, n);
      row.cells.push_back(number_cell(stats::kendall_tau_b(a, b), 2));
    }
  });
  t.notes.push_back("Over the architectures where both proxies are ok: n = " +
                    (min_n == max_n ? std::to_string(max_n)
                                    : std::to_string(min_n) + " to " + std::to_string(max_n)) +
                    ".");
  if (run.info.surrogate()) t.notes.push_back(surrogate_note(run));
  return t;
}

std::optional<Table> correlations_table(const ReportData& data, const RunData& run,
                                        const ReportOptions& options) {
  const auto key = truth_for(data, run.info.space, run.info.dataset, options);
  if (!key) return std::nullopt;
  const auto& truth = data.spaces.at(run.info.space).truth.at(*key);
  const auto proxies = table_proxies(data, {&run});
  Table t;
  t.id = "correlations_run" + std::to_string(run.info.run_id);
  t.title = run.info.label() + (run.info.surrogate() ? "†" : "") + " against " +
            truth_title(*key) + ": rank correlations with bootstrap 95 % intervals (" +
            std::to_string(options.resamples) + " resamples, seed " +
            std::to_string(options.bootstrap_seed) + "), precision at the top and nDCG";
  t.stub = "proxy";
  t.columns = {"n",     "KT",    "KT 95% CI", "SPR",     "SPR 95% CI",
               "P@1%",  "P@5%",  "P@10%",     "nDCG@10", "nDCG@100"};
  t.csv_columns = {"n",     "kt",    "kt_ci95", "spr",    "spr_ci95",
                   "p_top1", "p_top5", "p_top10", "ndcg10", "ndcg100"};
  for (ArchSet set : {ArchSet::All, ArchSet::StandardSample, ArchSet::UniqueCells}) {
    const auto subset = arch_set(data, run, set);
    t.add_section(arch_set_title(set) + ": " + std::to_string(subset.size()) + " architectures");
    for (const auto* proxy : proxies) {
      auto& row = t.add_row(proxy->name);
      const auto p = pair_scores(run.by_proxy.at(proxy->proxy_id), truth, &subset);
      const auto ci =
          stats::bootstrap_tau_rho(p.score, p.truth, options.resamples, options.bootstrap_seed);
      auto interval = [](const stats::Interval& i) -> TableCell {
        if (std::isnan(i.lo)) return {"–", "", false};
        return {"[" + format_fixed(i.lo, 3) + ", " + format_fixed(i.hi, 3) + "]",
                format_csv_number(i.lo) + ";" + format_csv_number(i.hi), false};
      };
      const bool any = !p.score.empty();
      row.cells = {count_cell(static_cast<std::int64_t>(p.score.size())),
                   number_cell(stats::kendall_tau_b(p.score, p.truth), 3),
                   interval(ci.tau),
                   number_cell(stats::spearman_rho(p.score, p.truth), 3),
                   interval(ci.rho),
                   number_cell(any ? stats::precision_at_top(p.score, p.truth, 0.01) : kNaN, 3),
                   number_cell(any ? stats::precision_at_top(p.score, p.truth, 0.05) : kNaN, 3),
                   number_cell(any ? stats::precision_at_top(p.score, p.truth, 0.10) : kNaN, 3),
                   number_cell(stats::ndcg_at(p.score, p.truth, 10), 3),
                   number_cell(stats::ndcg_at(p.score, p.truth, 100), 3)};
    }
  }
  mark_best(t, {1, 3, 5, 6, 7, 8, 9}, true);
  if (space_size(run.info.space) == 0)
    t.notes.push_back("No standard sample is defined for space " + run.info.space + ".");
  t.notes.push_back("P@x%: share of the top x % by the proxy that is in the top x % by accuracy "
                    "(k = round(x % · n), at least 1); ties at the boundary count by their "
                    "expectation over random tie-breaking. nDCG gain: accuracy min-max scaled "
                    "over the set. Best value per column and set in bold.");
  if (run.info.surrogate()) t.notes.push_back(surrogate_note(run));
  return t;
}

double seed_stability(const std::vector<const RunData*>& runs, std::int64_t proxy_id,
                      const std::vector<std::int64_t>& archs) {
  std::vector<std::map<std::int64_t, double>> values;
  for (const auto* r : runs) {
    std::map<std::int64_t, double> by_arch;
    if (const auto* s = scores_of(*r, proxy_id))
      for (std::size_t k = 0; k < s->ok_arch.size(); ++k) by_arch[s->ok_arch[k]] = s->ok_value[k];
    values.push_back(std::move(by_arch));
  }
  std::vector<double> rhos;
  for (std::size_t a = 0; a < values.size(); ++a)
    for (std::size_t b = a + 1; b < values.size(); ++b) {
      // Two runs of one seed (a proxy set added later as a run of its own) say nothing about
      // the seed; only pairs of different seeds count.
      if (runs[a]->info.seed == runs[b]->info.seed) continue;
      std::vector<double> x, y;
      for (auto arch : archs) {
        auto ia = values[a].find(arch), ib = values[b].find(arch);
        if (ia == values[a].end() || ib == values[b].end()) continue;
        x.push_back(ia->second);
        y.push_back(ib->second);
      }
      const double rho = stats::spearman_rho(x, y);
      if (!std::isnan(rho)) rhos.push_back(rho);
    }
  return rhos.empty() ? std::nan("") : stats::mean(rhos);
}

std::string stability_note(double stability) {
  if (std::isnan(stability)) return "";
  if (stability < 0.5) return "barely survives a new seed";
  if (stability < 0.9) return "seed-sensitive";
  return "";
}

std::vector<Table> seed_tables(const ReportData& data, const std::string& space,
                               const ReportOptions& options) {
  std::map<std::tuple<std::string, std::string, std::string, int, std::string, std::string, int,
                      std::string, std::string>,
           std::vector<const RunData*>>
      groups;
  std::vector<std::vector<const RunData*>*> order;
  for (const auto& r : data.runs) {
    const auto& i = r.info;
    if (i.space != space || i.timing_only()) continue;
    auto& g = groups[{i.space, i.dataset, i.images, i.batch_size, i.device, i.device_name,
                      i.threads, i.blas, i.torch_version}];
    if (g.empty()) order.push_back(&g);
    g.push_back(&r);
  }
  std::vector<Table> tables;
  for (auto* group : order) {
    std::set<std::int64_t> seeds;
    for (const auto* r : *group) seeds.insert(r->info.seed);
    if (seeds.size() < 2) continue;
    const auto& first = *group->front();
    const auto key = truth_for(data, first.info.space, first.info.dataset, options);
    if (!key) continue;
    const auto& truth = data.spaces.at(first.info.space).truth.at(*key);
    const auto proxies = table_proxies(data, *group);
    Table t;
    t.id = "seeds_run" + std::to_string(first.info.run_id);
    t.title = first.info.space + " / " + first.info.dataset + " on " + first.info.device + ": " +
              "Kendall τ per seed against " + truth_title(*key) + ", mean and spread over " +
              std::to_string(group->size()) + " runs";
    t.stub = "proxy";
    for (const auto* r : *group) {
      t.columns.push_back("KT seed " + std::to_string(r->info.seed));
      t.csv_columns.push_back("kt_run" + std::to_string(r->info.run_id));
    }
    const std::vector<std::string> summary = {"KT mean", "KT sd", "SPR mean", "SPR sd", "n",
                                              "seed stability", "stability"};
    const std::vector<std::string> summary_csv = {"kt_mean", "kt_sd", "spr_mean", "spr_sd", "n",
                                                  "seed_stability", "stability_note"};
    t.columns.insert(t.columns.end(), summary.begin(), summary.end());
    t.csv_columns.insert(t.csv_columns.end(), summary_csv.begin(), summary_csv.end());
    add_proxy_rows(t, proxies, [&](std::size_t i, TableRow& row) {
      // The architectures ok in every seed's run that scored this proxy, so that the spread is
      // the seeds' alone; a run of the group without the proxy (another proxy set) is left out.
      std::vector<const ProxyScores*> scored;  // per run of the group, null without the proxy
      std::vector<const RunData*> with_proxy;
      for (const auto* r : *group) {
        scored.push_back(scores_of(*r, proxies[i]->proxy_id));
        if (scored.back()) with_proxy.push_back(r);
      }
      std::vector<std::int64_t> common;
      bool first_run = true;
      for (const auto* s : scored) {
        if (!s) continue;
        std::vector<std::int64_t> ok = s->ok_arch;
        std::sort(ok.begin(), ok.end());
        if (first_run) {
          common = ok;
        } else {
          std::vector<std::int64_t> both;
          std::set_intersection(common.begin(), common.end(), ok.begin(), ok.end(),
                                std::back_inserter(both));
          common.swap(both);
        }
        first_run = false;
      }
      std::vector<double> taus, rhos;
      for (const auto* s : scored) {
        const auto p = s ? pair_scores(*s, truth, &common) : Paired{};
        const double tau = stats::kendall_tau_b(p.score, p.truth);
        const double rho = stats::spearman_rho(p.score, p.truth);
        row.cells.push_back(number_cell(tau, 3));
        if (!std::isnan(tau)) taus.push_back(tau);
        if (!std::isnan(rho)) rhos.push_back(rho);
      }
      row.cells.push_back(number_cell(stats::mean(taus), 3));
      row.cells.push_back(number_cell(stats::sample_sd(taus), 3));
      row.cells.push_back(number_cell(stats::mean(rhos), 3));
      row.cells.push_back(number_cell(stats::sample_sd(rhos), 3));
      row.cells.push_back(count_cell(static_cast<std::int64_t>(common.size())));
      const double stability = seed_stability(with_proxy, proxies[i]->proxy_id, common);
      row.cells.push_back(number_cell(stability, 3));
      row.cells.push_back(text_cell(stability_note(stability)));
    });
    std::string runs;
    for (const auto* r : *group) runs += (runs.empty() ? "" : ", ") + r->info.label();
    t.notes.push_back("Runs: " + runs + ". n: architectures ok in every run that scored the proxy; sd: sample "
                      "standard deviation over those runs. Seed stability: Spearman between the "
                      "proxy's scores of two seeds on those n architectures (the mean over pairs "
                      "of runs of different seeds), i.e. how much of a ranking survives a new initialisation and "
                      "minibatch; stability says 'barely survives a new seed' below 0.5 and "
                      "'seed-sensitive' below 0.9.");
    if (first.info.surrogate()) t.notes.push_back(surrogate_note(first));
    tables.push_back(std::move(t));
  }
  return tables;
}

std::string blas_short_name(const std::string& blas) {
  std::string name;
  const auto open = blas.find("(OpenBLAS ");
  if (open != std::string::npos) {
    std::istringstream words(blas.substr(open + 1));
    std::string library, version;
    words >> library >> version;
    name = library + " " + version;
  } else {
    const auto end = blas.find(' ');
    name = blas.substr(0, end);
    const auto slash = name.rfind('/');
    if (slash != std::string::npos) name = name.substr(slash + 1);
  }
  if (blas.find("USE_OPENMP") != std::string::npos || blas.find("openblas-openmp") !=
                                                          std::string::npos)
    name += " openmp";
  else if (blas.find("openblas-pthread") != std::string::npos)
    name += " pthread";
  return name.empty() ? "unknown BLAS" : name;
}

std::string TimingGroup::label() const {
  return device + " (" + device_name + "), " + std::to_string(threads) + " thread" +
         (threads == 1 ? "" : "s") + ", " + blas_short_name(blas);
}

std::string TimingGroup::short_label() const {
  return device + " (" + device_name + "), " + std::to_string(threads) + " thr";
}

std::vector<TimingGroup> timing_groups(const ReportData& data, const std::string& space) {
  std::vector<TimingGroup> groups;
  for (const auto& r : data.runs) {
    if (r.info.space != space) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const TimingGroup& g) {
      return g.device == r.info.device && g.device_name == r.info.device_name &&
             g.threads == r.info.threads && g.blas == r.info.blas;
    });
    if (it == groups.end()) {
      groups.push_back({space, r.info.device, r.info.device_name, r.info.blas, r.info.threads, {}});
      it = groups.end() - 1;
    }
    it->runs.push_back(&r);
  }
  return groups;
}

TimingStats timing_stats(const TimingGroup& group, std::int64_t proxy_id) {
  std::vector<double> seconds;
  for (const auto* r : group.runs) {
    if (proxy_id == 0) {
      for (const auto& [arch, s] : r->arch_seconds) seconds.push_back(s);
    } else if (const auto* s = scores_of(*r, proxy_id)) {
      seconds.insert(seconds.end(), s->ok_seconds.begin(), s->ok_seconds.end());
    }
  }
  return {static_cast<std::int64_t>(seconds.size()), stats::quantile(seconds, 0.5),
          stats::quantile(seconds, 0.9)};
}

Table timing_table(const ReportData& data, const std::string& space) {
  const auto groups = timing_groups(data, space);
  std::vector<const RunData*> runs;
  for (const auto& g : groups) runs.insert(runs.end(), g.runs.begin(), g.runs.end());
  const auto proxies = table_proxies(data, runs);
  Table t;
  t.id = "timing_" + space;
  t.title = space + ": seconds per architecture per proxy (median and 90th percentile, in ms) by "
                    "device, threads and BLAS";
  t.stub = "proxy";
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::string letter(1, static_cast<char>('A' + g % 26));
    t.groups.push_back({letter + ": " + groups[g].short_label(), 3});
    t.columns.insert(t.columns.end(), {"median ms", "p90 ms", "n"});
    for (const char* c : {"median_s", "p90_s", "n"})
      t.csv_columns.push_back(letter + "_" + c);
  }
  auto fill = [&](TableRow& row, std::int64_t proxy_id) {
    for (const auto& g : groups) {
      const auto s = timing_stats(g, proxy_id);
      row.cells.push_back(ms_cell(s.median));
      row.cells.push_back(ms_cell(s.p90));
      row.cells.push_back(count_cell(s.n));
    }
  };
  add_proxy_rows(t, proxies,
                 [&](std::size_t i, TableRow& row) { fill(row, proxies[i]->proxy_id); });
  t.add_section("Whole sweep");
  fill(t.add_row("all proxies"), 0);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::string runs_text;
    for (const auto* r : groups[g].runs)
      runs_text += (runs_text.empty() ? "" : ", ") + std::to_string(r->info.run_id);
    t.notes.push_back(std::string(1, static_cast<char>('A' + g % 26)) + ": " +
                      groups[g].label() + "; runs " + runs_text + "; BLAS " + groups[g].blas +
                      "; LibTorch " + groups[g].runs.front()->info.torch_version + ".");
  }
  t.notes.push_back("Seconds of a proxy = its own computation plus its share of the passes it "
                    "shares (scores.seconds), over its ok rows; \"all proxies\" = everything the "
                    "sweep spent on one architecture (auxiliary proxies and failures included), "
                    "or for a benchmark import the engine timed on the whole set.");
  return t;
}

std::optional<Table> timing_ratio_table(const ReportData& data, const std::string& space) {
  const auto groups = timing_groups(data, space);
  std::set<std::pair<std::string, std::string>> devices;
  for (const auto& g : groups) devices.insert({g.device, g.device_name});
  if (devices.size() < 2) return std::nullopt;
  std::size_t ref = 0;
  for (std::size_t g = 0; g < groups.size(); ++g)
    if (groups[g].device == "cpu") {
      ref = g;
      break;
    }
  std::vector<const RunData*> runs;
  for (const auto& g : groups) runs.insert(runs.end(), g.runs.begin(), g.runs.end());
  const auto proxies = table_proxies(data, runs);
  Table t;
  t.id = "timing_ratio_" + space;
  t.title = space + ": cross-device comparison, median seconds per architecture relative to " +
            groups[ref].label() + " (ratio = reference median / device median; > 1 is faster)";
  t.stub = "proxy";
  t.columns.push_back("reference ms");
  t.csv_columns.push_back("reference_median_s");
  std::vector<std::size_t> others;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (g == ref) continue;
    if (groups[g].device == groups[ref].device && groups[g].device_name == groups[ref].device_name)
      continue;  // same device, other threads/BLAS: in the timing table, not a device ratio
    others.push_back(g);
    const std::string letter(1, static_cast<char>('A' + g % 26));
    t.groups.push_back({letter + ": " + groups[g].short_label(), 2});
    t.columns.insert(t.columns.end(), {"median ms", "ratio"});
    t.csv_columns.insert(t.csv_columns.end(), {letter + "_median_s", letter + "_ratio"});
  }
  if (!t.groups.empty())
    t.groups.insert(t.groups.begin(),
                    {std::string(1, static_cast<char>('A' + ref % 26)) + " (reference)", 1});
  auto fill = [&](TableRow& row, std::int64_t proxy_id) {
    const auto r = timing_stats(groups[ref], proxy_id);
    row.cells.push_back(ms_cell(r.median));
    for (auto g : others) {
      const auto s = timing_stats(groups[g], proxy_id);
      row.cells.push_back(ms_cell(s.median));
      const double ratio = s.n && r.n && s.median > 0 ? r.median / s.median : kNaN;
      row.cells.push_back(number_cell(ratio, ratio >= 10 ? 1 : 2));
    }
  };
  add_proxy_rows(t, proxies,
                 [&](std::size_t i, TableRow& row) { fill(row, proxies[i]->proxy_id); });
  t.add_section("Whole sweep");
  fill(t.add_row("all proxies"), 0);
  for (std::size_t g = 0; g < groups.size(); ++g)
    if (g == ref || std::find(others.begin(), others.end(), g) != others.end())
      t.notes.push_back(std::string(1, static_cast<char>('A' + g % 26)) + ": " +
                        groups[g].label() + ".");
  t.notes.push_back("Ratios of medians over each group's own architectures (the timing table "
                    "gives n); groups lettered as in the timing table.");
  return t;
}

Table runs_table(const ReportData& data) {
  Table t;
  t.id = "runs";
  t.title = "Provenance of every run";
  t.stub = "run";
  t.columns = {"space",  "dataset", "images", "seed",    "batch", "device",  "threads",
               "BLAS",   "LibTorch", "code",  "build",   "host",  "started", "ended",
               "options"};
  t.csv_columns = {"space", "dataset",       "images",       "seed",  "batch_size",
                   "device", "threads",      "blas",         "torch_version", "code_version",
                   "build", "host",          "started_at",   "ended_at", "options_json"};
  for (const auto& r : data.runs) {
    const auto& i = r.info;
    auto& row = t.add_row(std::to_string(i.run_id));
    for (const std::string& v :
         {i.space, i.dataset, i.images + (i.surrogate() ? " †" : ""), std::to_string(i.seed),
          std::to_string(i.batch_size), i.device + " (" + i.device_name + ")",
          std::to_string(i.threads), i.blas, i.torch_version, i.code_version, i.build,
          i.host + " (" + i.cpu + ")", i.started_at, i.ended_at.empty() ? "not ended" : i.ended_at,
          i.options_json})
      row.cells.push_back(text_cell(v));
  }
  t.notes.push_back("† surrogate: CIFAR-10 images stand in for the run's dataset.");
  return t;
}

Table sessions_table(const ReportData& data) {
  Table t;
  t.id = "sessions";
  t.title = "Every process that wrote into a run (run_sessions)";
  t.stub = "session";
  t.columns = {"run", "outcome", "architectures", "started", "ended", "host", "pid", "code",
               "command line", "device", "BLAS"};
  t.csv_columns = {"run_id", "outcome", "archs_done", "started_at", "ended_at", "host", "pid",
                   "code_version", "command_line", "device_name", "blas"};
  bool unrecorded = false;
  for (const auto& s : data.sessions) {
    auto& row = t.add_row(std::to_string(s.session_id));
    unrecorded = unrecorded || s.device_name.empty();
    for (const std::string& v :
         {std::to_string(s.run_id), s.outcome, std::to_string(s.archs_done), s.started_at,
          s.ended_at.empty() ? "not ended" : s.ended_at, s.host, std::to_string(s.pid),
          s.code_version, s.command_line, s.device_name.empty() ? "not recorded" : s.device_name,
          s.blas.empty() ? "not recorded" : s.blas})
      row.cells.push_back(text_cell(v));
  }
  // NULL machine columns have two causes (docs/schema.md, run_sessions); say both.
  if (unrecorded)
    t.notes.push_back("device not recorded: sessions that computed no scores (aggregate, "
                      "import-bench), and sessions written before schema version 3, whose BLAS "
                      "is their run's (the run key held it).");
  return t;
}

}  // namespace nbz::report
