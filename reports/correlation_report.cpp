#include "reports/correlation_report.h"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "reports/statistics.h"

namespace nbz::report {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

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

std::vector<RunReport> correlation_report(db::ResultsDb& db) {
  auto& sql = db.sql();
  std::vector<RunReport> reports;
  SQLite::Statement runs(sql,
                         "SELECT run_id, space, dataset, num_classes, input_size, seed, batch_size, "
                         "device, device_name, threads, blas, torch_version, code_version, host, "
                         "images, started_at, coalesce(ended_at, 'not ended') FROM runs "
                         // import-bench's timing runs: see the timing table of `report --out`.
                         "WHERE config_key NOT LIKE 'timing;%' ORDER BY run_id");
  while (runs.executeStep()) {
    RunReport r;
    r.run_id = runs.getColumn(0).getInt64();
    r.space = runs.getColumn(1).getString();
    std::ostringstream h;
    h << "run " << r.run_id << ": " << r.space << " / " << runs.getColumn(2).getString() << " ("
      << runs.getColumn(3).getInt() << " classes, " << runs.getColumn(4).getInt()
      << " px), seed " << runs.getColumn(5).getInt64() << ", batch " << runs.getColumn(6).getInt()
      << ", " << runs.getColumn(7).getString() << " (" << runs.getColumn(8).getString() << ") x "
      << runs.getColumn(9).getInt() << " threads\n"
      << "  BLAS " << runs.getColumn(10).getString() << "; LibTorch "
      << runs.getColumn(11).getString() << "; code " << runs.getColumn(12).getString()
      << "; host " << runs.getColumn(13).getString() << "\n"
      << "  images: " << runs.getColumn(14).getString() << "\n"
      << "  started " << runs.getColumn(15).getString() << ", last session ended "
      << runs.getColumn(16).getString();
    r.header = h.str();
    reports.push_back(std::move(r));
  }

  for (auto& r : reports) {
    // Ground truth of this space: (dataset, split, epochs) -> arch_index -> value.
    std::map<std::tuple<std::string, std::string, int>, std::map<std::int64_t, double>> truth;
    SQLite::Statement t(sql,
                        "SELECT dataset, split, epochs, arch_index, value FROM ground_truth "
                        "WHERE space = ? ORDER BY epochs DESC, dataset, split DESC");
    t.bind(1, r.space);
    std::vector<std::tuple<std::string, std::string, int>> order;
    while (t.executeStep()) {
      auto key = std::make_tuple(t.getColumn(0).getString(), t.getColumn(1).getString(),
                                 t.getColumn(2).getInt());
      if (!truth.count(key)) order.push_back(key);
      truth[key][t.getColumn(3).getInt64()] = t.getColumn(4).getDouble();
    }
    for (const auto& k : order)
      r.truth.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k)});

    struct Scores {
      bool auxiliary = false;
      std::int64_t failed = 0;
      std::vector<std::int64_t> arch;
      std::vector<double> value, seconds, own, shared;
    };
    std::map<std::int64_t, std::pair<std::string, Scores>> by_proxy;  // ordered by proxy_id
    std::set<std::int64_t> swept;
    SQLite::Statement s(sql,
                        "SELECT p.proxy_id, p.name, p.role, a.arch_index, s.status, s.rank_value, "
                        "s.seconds, s.own_seconds, s.shared_seconds FROM scores s "
                        "JOIN proxies p ON p.proxy_id = s.proxy_id "
                        "JOIN architectures a ON a.arch_id = s.arch_id WHERE s.run_id = ?");
    s.bind(1, static_cast<std::int64_t>(r.run_id));
    while (s.executeStep()) {
      auto& [name, sc] = by_proxy[s.getColumn(0).getInt64()];
      name = s.getColumn(1).getString();
      sc.auxiliary = s.getColumn(2).getString() == "auxiliary";
      sc.seconds.push_back(s.getColumn(6).getDouble());
      sc.own.push_back(s.getColumn(7).getDouble());
      sc.shared.push_back(s.getColumn(8).getDouble());
      swept.insert(s.getColumn(3).getInt64());
      if (s.getColumn(4).getString() != "ok") {
        ++sc.failed;
        continue;
      }
      sc.arch.push_back(s.getColumn(3).getInt64());
      sc.value.push_back(s.getColumn(5).getDouble());
    }
    for (auto& [id, entry] : by_proxy) {
      (void)id;
      auto& [name, sc] = entry;
      ProxyRow row;
      row.proxy = name;
      row.auxiliary = sc.auxiliary;
      row.ok = static_cast<std::int64_t>(sc.value.size());
      row.failed = sc.failed;
      row.median_seconds = median(sc.seconds);
      row.median_own_seconds = median(sc.own);
      row.median_shared_seconds = median(sc.shared);
      for (const auto& k : order) {
        const auto& column = truth.at(k);
        std::vector<double> x, y;
        for (size_t i = 0; i < sc.arch.size(); ++i) {
          auto it = column.find(sc.arch[i]);
          if (it == column.end()) continue;
          x.push_back(sc.value[i]);
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
    for (const auto& k : order) lengths.insert(std::get<2>(k));
    for (int short_epochs : lengths) {
      Baseline b;
      b.epochs = short_epochs;
      bool any = false;
      for (const auto& k : order) {
        Correlation c;
        const auto twin = std::make_tuple(std::get<0>(k), std::get<1>(k), short_epochs);
        if (std::get<2>(k) > short_epochs && truth.count(twin)) {
          std::vector<double> x, y;
          for (auto arch : swept) {
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
  }
  return reports;
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
    out << r.header << "\n";
    if (r.truth.empty())
      out << "\n  no " << r.space << " ground truth in this database: no correlations\n";
    for (const auto& cols : column_tables(r)) {
      auto width = [&](size_t c) { return std::max<size_t>(16, r.truth[c].label().size() + 1); };
      out << "\n  Kendall tau-b / Spearman rho of rank_value against " << epochs_text(r, cols)
          << " (n = architectures with an ok score)\n";
      out << "  " << pad("proxy", 13) << pad("n", 6) << pad("failed", 7);
      for (size_t c : cols) out << pad(r.truth[c].label(), width(c));
      out << "\n";
      for (const auto& p : r.proxies) {
        if (p.auxiliary) continue;
        out << "  " << pad(p.proxy, 13) << pad(std::to_string(p.ok), 6)
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
        out << "  " << pad(std::to_string(b.epochs) + "ep-acc*", 13) << pad(std::to_string(n), 6)
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
    out << "  " << pad("proxy", 13) << pad("total", 11) << pad("own", 11) << pad("shared", 11)
        << "\n";
    for (const auto& p : r.proxies)
      out << "  " << pad(p.proxy, 13) << pad(fixed(p.median_seconds, 5), 11)
          << pad(fixed(p.median_own_seconds, 5), 11) << pad(fixed(p.median_shared_seconds, 5), 11)
          << "\n";
    out << "\n";
  }
}

}  // namespace nbz::report
