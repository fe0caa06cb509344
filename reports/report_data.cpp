#include "reports/report_data.h"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <set>

#include "foundation/errors.h"

namespace nbz::report {

std::string RunInfo::label() const {
  return "run " + std::to_string(run_id) + " (" + dataset + ", seed " + std::to_string(seed) +
         ", " + device + ")";
}

std::vector<std::string> ReportData::space_names() const {
  std::set<std::string> names;
  for (const auto& r : runs) names.insert(r.info.space);
  return {names.begin(), names.end()};
}

ReportData load_report_data(db::ResultsDb& db) {
  auto& sql = db.sql();
  ReportData data;
  data.db_path = db.path();
  try {
    SQLite::Statement runs(
        sql,
        "SELECT run_id, config_key, space, dataset, images, num_classes, input_size, seed, "
        "batch_size, device, device_name, threads, blas, torch_version, code_version, build, "
        "host, cpu, options_json, started_at, coalesce(ended_at, '') FROM runs ORDER BY run_id");
    while (runs.executeStep()) {
      RunData r;
      auto& i = r.info;
      int c = 0;
      i.run_id = runs.getColumn(c++).getInt64();
      i.config_key = runs.getColumn(c++).getString();
      i.space = runs.getColumn(c++).getString();
      i.dataset = runs.getColumn(c++).getString();
      i.images = runs.getColumn(c++).getString();
      i.num_classes = runs.getColumn(c++).getInt();
      i.input_size = runs.getColumn(c++).getInt();
      i.seed = runs.getColumn(c++).getInt64();
      i.batch_size = runs.getColumn(c++).getInt();
      i.device = runs.getColumn(c++).getString();
      i.device_name = runs.getColumn(c++).getString();
      i.threads = runs.getColumn(c++).getInt();
      i.blas = runs.getColumn(c++).getString();
      i.torch_version = runs.getColumn(c++).getString();
      i.code_version = runs.getColumn(c++).getString();
      i.build = runs.getColumn(c++).getString();
      i.host = runs.getColumn(c++).getString();
      i.cpu = runs.getColumn(c++).getString();
      i.options_json = runs.getColumn(c++).getString();
      i.started_at = runs.getColumn(c++).getString();
      i.ended_at = runs.getColumn(c++).getString();
      data.runs.push_back(std::move(r));
    }

    SQLite::Statement sessions(
        sql,
        "SELECT session_id, run_id, command_line, host, pid, code_version, started_at, "
        "coalesce(ended_at, ''), archs_done, outcome, coalesce(cpu, ''), coalesce(device_name, ''), "
        "coalesce(blas, '') FROM run_sessions ORDER BY session_id");
    while (sessions.executeStep()) {
      SessionInfo s;
      s.session_id = sessions.getColumn(0).getInt64();
      s.run_id = sessions.getColumn(1).getInt64();
      s.command_line = sessions.getColumn(2).getString();
      s.host = sessions.getColumn(3).getString();
      s.pid = sessions.getColumn(4).getInt64();
      s.code_version = sessions.getColumn(5).getString();
      s.started_at = sessions.getColumn(6).getString();
      s.ended_at = sessions.getColumn(7).getString();
      s.archs_done = sessions.getColumn(8).getInt64();
      s.outcome = sessions.getColumn(9).getString();
      s.cpu = sessions.getColumn(10).getString();
      s.device_name = sessions.getColumn(11).getString();
      s.blas = sessions.getColumn(12).getString();
      data.sessions.push_back(std::move(s));
    }

    SQLite::Statement proxies(
        sql, "SELECT proxy_id, name, sign, family, role, description FROM proxies "
             "ORDER BY proxy_id");
    while (proxies.executeStep()) {
      ProxyDef p;
      p.proxy_id = proxies.getColumn(0).getInt64();
      p.name = proxies.getColumn(1).getString();
      p.sign = proxies.getColumn(2).getInt();
      p.family = proxies.getColumn(3).getString();
      p.role = proxies.getColumn(4).getString();
      p.description = proxies.getColumn(5).getString();
      data.proxies.push_back(std::move(p));
    }

    SQLite::Statement scores(
        sql, "SELECT a.arch_index, s.proxy_id, s.status, s.rank_value, s.seconds, "
             "s.own_seconds, s.shared_seconds FROM scores s "
             "JOIN architectures a ON a.arch_id = s.arch_id WHERE s.run_id = ? "
             "ORDER BY a.arch_index, s.proxy_id");
    for (auto& r : data.runs) {
      scores.reset();
      scores.bind(1, static_cast<std::int64_t>(r.info.run_id));
      while (scores.executeStep()) {
        const std::int64_t arch = scores.getColumn(0).getInt64();
        auto& ps = r.by_proxy[scores.getColumn(1).getInt64()];
        const double seconds = scores.getColumn(4).getDouble();
        ps.seconds.push_back(seconds);
        ps.own_seconds.push_back(scores.getColumn(5).getDouble());
        ps.shared_seconds.push_back(scores.getColumn(6).getDouble());
        // A timing run's whole-set figure is its measured 'engine:all' pass (below).
        if (!r.info.timing_only()) r.arch_seconds[arch] += seconds;
        if (r.archs.empty() || r.archs.back() != arch) r.archs.push_back(arch);
        if (scores.getColumn(2).getString() != "ok") {
          ++ps.failed;
          continue;
        }
        ps.ok_arch.push_back(arch);
        ps.ok_value.push_back(scores.getColumn(3).getDouble());
        ps.ok_seconds.push_back(seconds);
      }
    }

    // A timing run times each proxy alone, every one paying the passes it would share in a sweep:
    // their sum is not what a sweep of the whole set costs. The engine on the whole set was timed
    // as the pass 'engine:all'; without it, a timing run has no whole-set figure.
    SQLite::Statement whole_set(
        sql, "SELECT a.arch_index, p.seconds FROM passes p "
             "JOIN architectures a ON a.arch_id = p.arch_id "
             "WHERE p.run_id = ? AND p.pass = 'engine:all' AND p.status = 'ok'");
    for (auto& r : data.runs) {
      if (!r.info.timing_only()) continue;
      whole_set.reset();
      whole_set.bind(1, static_cast<std::int64_t>(r.info.run_id));
      while (whole_set.executeStep())
        r.arch_seconds[whole_set.getColumn(0).getInt64()] = whole_set.getColumn(1).getDouble();
    }

    // Only the stored architectures' truth: NB101's table has 423,624 cells x 4 epochs.
    SQLite::Statement keys(sql, "SELECT space, arch_index, canonical_key FROM architectures");
    while (keys.executeStep())
      data.spaces[keys.getColumn(0).getString()].canonical_key[keys.getColumn(1).getInt64()] =
          keys.getColumn(2).getString();
    SQLite::Statement truth(
        sql, "SELECT g.space, g.dataset, g.split, g.epochs, g.arch_index, g.value "
             "FROM ground_truth g JOIN architectures a "
             "ON a.space = g.space AND a.arch_index = g.arch_index");
    while (truth.executeStep()) {
      TruthKey key{truth.getColumn(1).getString(), truth.getColumn(2).getString(),
                   truth.getColumn(3).getInt()};
      data.spaces[truth.getColumn(0).getString()].truth[key][truth.getColumn(4).getInt64()] =
          truth.getColumn(5).getDouble();
    }
    // DISTINCT walks the primary key (space, arch_index, ...): cheap even for NB101's 80,004 rows.
    SQLite::Statement truth_archs(
        sql, "SELECT DISTINCT space, arch_index FROM ground_truth ORDER BY space, arch_index");
    while (truth_archs.executeStep())
      data.spaces[truth_archs.getColumn(0).getString()].truth_archs.push_back(
          truth_archs.getColumn(1).getInt64());
  } catch (const SQLite::Exception& e) {
    throw Error("results database '" + db.path() + "': cannot read it for a report: " + e.what());
  }
  return data;
}

}  // namespace nbz::report
