#include "reports/correlation_report.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "foundation/statistics.h"
#include "reports/report_data.h"

namespace nbz::report {
namespace {

std::string fixed(double v, int digits) {
  if (std::isnan(v)) return "n/a";
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::string TruthKey::label() const {
  std::string d = dataset == "imagenet16-120" ? "imagenet16_120" : dataset;
  // 200 epochs is NB201's standard column; any other length (12, NB101's 4/12/36/108) is named.
  return d + "_" + split + (epochs == 200 ? "" : "_" + std::to_string(epochs) + "ep");
}

namespace {

// A run resumed on another machine (docs/decisions.md, "Runs and resumption"): its rows agree
// across machines to float rounding only, so the header lists them. Empty for one machine; sessions
// that computed nothing (aggregate) record none and are not counted.
std::string machines_line(const ReportData& data, std::int64_t run_id) {
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::int64_t>> machines;
  for (const auto& s : data.sessions) {
    if (s.run_id != run_id || s.blas.empty()) continue;
    auto& [ids, archs] = machines[{s.device_name.empty() ? "device not recorded" : s.device_name,
                                   s.blas}];
    ids += (ids.empty() ? "" : ",") + std::to_string(s.session_id);
    archs += s.archs_done;
  }
  if (machines.size() < 2) return "";
  std::ostringstream out;
  out << "\n  computed on " << machines.size()
      << " machines (rows agree across them to float rounding, not to the bit):";
  for (const auto& [machine, sessions] : machines)
    out << "\n    sessions " << sessions.first << " (" << sessions.second
        << " architectures): " << machine.first << ", BLAS " << machine.second;
  return out.str();
}

}  // namespace

std::vector<RunReport> correlation_report(const ReportData& data) {
  std::map<std::int64_t, const ProxyDef*> proxy_by_id;
  for (const auto& p : data.proxies) proxy_by_id[p.proxy_id] = &p;
  std::vector<RunReport> reports;
  for (const auto& run : data.runs) {
    const RunInfo& i = run.info;
    // import-bench's timing runs: see the timing table of `report --out`.
    if (i.timing_only()) continue;
    RunReport r;
    r.run_id = i.run_id;
    r.space = i.space;
    std::ostringstream h;
    h << "run " << i.run_id << ": " << i.space << " / " << i.dataset << " (" << i.num_classes
      << " classes, " << i.input_size << " px), seed " << i.seed << ", batch " << i.batch_size
      << ", " << i.device << " (" << i.device_name << ") x " << i.threads << " threads\n"
      << "  BLAS " << i.blas << "; LibTorch " << i.torch_version << "; code " << i.code_version
      << "; host " << i.host << "\n"
      << "  images: " << i.images << "\n"
      << "  started " << i.started_at << ", last session ended "
      << (i.ended_at.empty() ? "not ended" : i.ended_at);
    h << machines_line(data, i.run_id);
    r.header = h.str();

    // The ground-truth columns of this space, longest training first, then by dataset and with
    // test before valid.
    static const std::map<TruthKey, TruthColumn> kNoTruth;
    const auto space = data.spaces.find(i.space);
    const auto& truth = space == data.spaces.end() ? kNoTruth : space->second.truth;
    for (const auto& [key, column] : truth) r.truth.push_back(key);
    std::sort(r.truth.begin(), r.truth.end(), [](const TruthKey& a, const TruthKey& b) {
      if (a.epochs != b.epochs) return a.epochs > b.epochs;
      if (a.dataset != b.dataset) return a.dataset < b.dataset;
      return a.split > b.split;
    });

    for (const auto& [proxy_id, sc] : run.by_proxy) {
      const ProxyDef* def = proxy_by_id.at(proxy_id);
      ProxyRow row;
      row.proxy = def->name;
      row.auxiliary = def->auxiliary();
      row.ok = static_cast<std::int64_t>(sc.ok_value.size());
      row.failed = sc.failed;
      row.median_seconds = stats::quantile(sc.seconds, 0.5);
      row.median_own_seconds = stats::quantile(sc.own_seconds, 0.5);
      row.median_shared_seconds = stats::quantile(sc.shared_seconds, 0.5);
      for (const auto& k : r.truth) {
        const auto& column = truth.at(k);
        std::vector<double> x, y;
        for (size_t a = 0; a < sc.ok_arch.size(); ++a) {
          auto it = column.find(sc.ok_arch[a]);
          if (it == column.end()) continue;
          x.push_back(sc.ok_value[a]);
          y.push_back(it->second);
        }
        row.by_truth.push_back({static_cast<std::int64_t>(x.size()), stats::kendall_tau_b(x, y),
                                stats::spearman_rho(x, y)});
      }
      r.proxies.push_back(std::move(row));
    }
    // Short-training baselines: each shorter training length predicting the longer columns of
    // the same dataset and split.
    std::set<int, std::greater<int>> lengths;
    for (const auto& k : r.truth) lengths.insert(k.epochs);
    for (int short_epochs : lengths) {
      Baseline b;
      b.epochs = short_epochs;
      bool any = false;
      for (const auto& k : r.truth) {
        Correlation c;
        const TruthKey twin{k.dataset, k.split, short_epochs};
        if (k.epochs > short_epochs && truth.count(twin)) {
          std::vector<double> x, y;
          for (auto arch : run.archs) {
            auto short_it = truth.at(twin).find(arch);
            auto long_it = truth.at(k).find(arch);
            if (short_it == truth.at(twin).end() || long_it == truth.at(k).end()) continue;
            x.push_back(short_it->second);
            y.push_back(long_it->second);
          }
          c = {static_cast<std::int64_t>(x.size()), stats::kendall_tau_b(x, y),
               stats::spearman_rho(x, y)};
          any = true;
        }
        b.by_truth.push_back(c);
      }
      if (any) r.short_training.push_back(std::move(b));
    }
    reports.push_back(std::move(r));
  }
  return reports;
}

std::vector<RunReport> correlation_report(db::ResultsDb& db) {
  return correlation_report(load_report_data(db));
}

namespace {

// The columns printed together, longest training first: one table per training length when a
// length has several dataset/split columns (NB201: 6 at 200 epochs, 6 at 12), else a single table
// of every length (NB101: cifar10 valid after 108, 36, 12, 4 epochs).
std::vector<std::vector<size_t>> column_tables(const RunReport& r) {
  std::map<int, std::vector<size_t>, std::greater<int>> by_epochs;
  for (size_t i = 0; i < r.truth.size(); ++i) by_epochs[r.truth[i].epochs].push_back(i);
  bool one_per_length = true;
  for (const auto& [epochs, cols] : by_epochs) one_per_length = one_per_length && cols.size() == 1;
  std::vector<std::vector<size_t>> tables;
  for (const auto& [epochs, cols] : by_epochs) {
    if (one_per_length && !tables.empty()) {
      tables.front().push_back(cols.front());
    } else {
      tables.push_back(cols);
    }
  }
  return tables;
}

// "200-epoch accuracy", "108, 36, 12, 4-epoch accuracy".
std::string epochs_text(const RunReport& r, const std::vector<size_t>& cols) {
  std::vector<int> epochs;
  for (size_t c : cols)
    if (std::find(epochs.begin(), epochs.end(), r.truth[c].epochs) == epochs.end())
      epochs.push_back(r.truth[c].epochs);
  std::string text;
  for (int e : epochs) text += (text.empty() ? "" : ", ") + std::to_string(e);
  return text + "-epoch accuracy";
}

}  // namespace

void print_correlation_report(const std::vector<RunReport>& reports, std::ostream& out) {
  if (reports.empty()) out << "no runs in this database\n";
  for (const auto& r : reports) {
    // The name column fits the longest proxy name (ntk_lambda_min, gradalign_gram_b1, ...).
    size_t name_width = 13;
    for (const auto& p : r.proxies) name_width = std::max(name_width, p.proxy.size() + 1);
    const auto name = [&](const std::string& s) { return pad(s, name_width); };
    out << r.header << "\n";
    if (r.truth.empty())
      out << "\n  no " << r.space << " ground truth in this database: no correlations\n";
    for (const auto& cols : column_tables(r)) {
      auto width = [&](size_t c) { return std::max<size_t>(16, r.truth[c].label().size() + 1); };
      out << "\n  Kendall tau-b / Spearman rho of rank_value against " << epochs_text(r, cols)
          << " (n = architectures with an ok score)\n";
      out << "  " << name("proxy") << pad("n", 6) << pad("failed", 7);
      for (size_t c : cols) out << pad(r.truth[c].label(), width(c));
      out << "\n";
      for (const auto& p : r.proxies) {
        if (p.auxiliary) continue;
        out << "  " << name(p.proxy) << pad(std::to_string(p.ok), 6)
            << pad(std::to_string(p.failed), 7);
        for (size_t c : cols) {
          const auto& cor = p.by_truth[c];
          out << pad(fixed(cor.tau, 3) + " / " + fixed(cor.rho, 3), width(c));
        }
        out << "\n";
      }
      std::string baseline_epochs;
      for (const auto& b : r.short_training) {
        std::int64_t n = 0;
        for (size_t c : cols) n = n ? n : b.by_truth[c].n;
        if (n == 0) continue;
        out << "  " << name(std::to_string(b.epochs) + "ep-acc*") << pad(std::to_string(n), 6)
            << pad("-", 7);
        for (size_t c : cols) {
          const auto& cor = b.by_truth[c];
          out << pad(cor.n ? fixed(cor.tau, 3) + " / " + fixed(cor.rho, 3) : "-", width(c));
        }
        out << "\n";
        baseline_epochs += (baseline_epochs.empty() ? "" : ", ") + std::to_string(b.epochs);
      }
      if (!baseline_epochs.empty())
        out << "\n  * short-training baseline: the " << baseline_epochs
            << "-epoch accuracy of the same dataset and split as the predictor, over the same "
               "architectures\n";
    }
    out << "\n  seconds per architecture (median over architectures; shared = this proxy's share of "
           "passes it shares)\n";
    out << "  " << name("proxy") << pad("total", 11) << pad("own", 11) << pad("shared", 11)
        << "\n";
    for (const auto& p : r.proxies)
      out << "  " << name(p.proxy) << pad(fixed(p.median_seconds, 5), 11)
          << pad(fixed(p.median_own_seconds, 5), 11) << pad(fixed(p.median_shared_seconds, 5), 11)
          << "\n";
    out << "\n";
  }
}

}  // namespace nbz::report
