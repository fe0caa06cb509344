#include "benchmarks_db/aggregates.h"

#include <SQLiteCpp/Statement.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "foundation/csv.h"
#include "foundation/errors.h"
#include "foundation/statistics.h"
#include "foundation/stopwatch.h"
#include "foundation/version_info.h"

namespace nbz::db {
namespace {

const std::set<std::string> kRules = {"mean_rank", "rank_sum", "log_rank", "vote"};

}  // namespace

std::string AggregateDefinition::parameters() const {
  std::string m;
  for (const auto& name : members) m += (m.empty() ? "" : ",") + name;
  return "rule=" + rule + ";members=" + m;
}

AggregateDefinition parse_aggregate(const std::string& text) {
  const auto eq = text.find('='), colon = text.find(':');
  if (eq == std::string::npos || colon == std::string::npos || colon < eq || eq == 0)
    throw Error("aggregate '" + text + "' is not of the form NAME=RULE:member,member,...");
  AggregateDefinition def;
  def.name = text.substr(0, eq);
  def.rule = text.substr(eq + 1, colon - eq - 1);
  if (!kRules.count(def.rule))
    throw Error("aggregate '" + text + "': unknown rule '" + def.rule +
                "' (mean_rank, rank_sum, log_rank, vote)");
  def.members = split_fields(text.substr(colon + 1));
  if (def.members.empty() ||
      std::find(def.members.begin(), def.members.end(), "") != def.members.end())
    throw Error("aggregate '" + text + "': empty member name");
  if (def.members.size() < 2)
    throw Error("aggregate '" + text + "': needs at least two members");
  if (std::set<std::string>(def.members.begin(), def.members.end()).size() != def.members.size())
    throw Error("aggregate '" + text + "': a member appears twice");
  return def;
}

std::vector<AggregateDefinition> standard_aggregates() {
  return {{"vote", "vote", {"synflow", "jacob_cov", "snip"}, ""},
          {"tenas", "rank_sum", {"ntk_cond", "linear_regions"}, ""}};
}

std::vector<double> aggregate_values(const std::string& rule,
                                     const std::vector<std::vector<double>>& ranks) {
  NBZ_ASSERT(!ranks.empty(), "aggregate without members");
  const size_t n = ranks[0].size();
  std::vector<double> out(n, 0);
  if (rule == "vote") {
    const size_t members = ranks.size();
    for (size_t a = 0; a < n; ++a)
      for (size_t b = 0; b < n; ++b) {
        if (a == b) continue;
        size_t above = 0;
        for (const auto& r : ranks) above += r[a] > r[b];
        if (2 * above > members) out[a] += 1;
      }
    return out;
  }
  for (const auto& r : ranks)
    for (size_t i = 0; i < n; ++i)
      out[i] += rule == "log_rank" ? std::log(r[i] / static_cast<double>(n)) : r[i];
  if (rule == "mean_rank")
    for (auto& v : out) v /= static_cast<double>(ranks.size());
  return out;
}

AggregateCounts compute_aggregate(ResultsDb& db, std::int64_t run_id,
                                  const AggregateDefinition& def,
                                  const std::string& command_line) {
  Stopwatch watch;
  auto& sql = db.sql();
  // Per member: rank_value of every ok score, and the reason of every failed one, by arch_id.
  std::vector<std::map<std::int64_t, double>> by_member;
  std::vector<std::map<std::int64_t, std::string>> failed_by_member;
  std::set<std::int64_t> touched;  // every architecture with a row for some member
  for (const auto& member : def.members) {
    SQLite::Statement q(sql,
                        "SELECT s.arch_id, s.status, s.rank_value, s.failure_reason FROM scores s "
                        "JOIN proxies p ON p.proxy_id = s.proxy_id "
                        "WHERE s.run_id = ? AND p.name = ?");
    q.bind(1, run_id);
    q.bind(2, member);
    std::map<std::int64_t, double> values;
    std::map<std::int64_t, std::string> failed;
    while (q.executeStep()) {
      const auto arch = q.getColumn(0).getInt64();
      touched.insert(arch);
      if (q.getColumn(1).getString() == "ok") values[arch] = q.getColumn(2).getDouble();
      else failed[arch] = q.getColumn(3).getString();
    }
    if (values.empty())
      throw Error("aggregate '" + def.name + "': proxy '" + member + "' has no ok scores in run " +
                  std::to_string(run_id) + " of '" + db.path() + "'");
    by_member.push_back(std::move(values));
    failed_by_member.push_back(std::move(failed));
  }
  // An architecture where a member failed (or was never scored) gets a failed aggregate row that
  // says which member and why, so the report counts it instead of silently shrinking n.
  std::vector<std::int64_t> archs;
  std::vector<std::pair<std::int64_t, std::string>> unscorable;
  for (auto arch : touched) {
    std::string reason;
    for (size_t m = 0; m < def.members.size() && reason.empty(); ++m) {
      if (by_member[m].count(arch)) continue;
      const auto f = failed_by_member[m].find(arch);
      reason = f != failed_by_member[m].end()
                   ? "member '" + def.members[m] + "' failed: " + f->second
                   : "member '" + def.members[m] + "' has no score for this architecture";
    }
    if (reason.empty()) archs.push_back(arch);
    else unscorable.emplace_back(arch, reason);
  }
  std::vector<std::vector<double>> ranks;
  for (const auto& m : by_member) {
    std::vector<double> x;
    for (auto arch : archs) x.push_back(m.at(arch));
    ranks.push_back(stats::average_ranks(x));
  }
  const auto values = aggregate_values(def.rule, ranks);

  const auto proxy_id =
      db.ensure_proxies({{def.name, 1, "aggregate", "score", "stored scores", def.parameters(),
                          def.description.empty()
                              ? "label-free rank aggregate (" + def.rule + ") of stored scores"
                              : def.description}})
          .at(def.name);
  if (!def.description.empty()) {  // a new selection of the same members says how it was made
    SQLite::Statement update(sql, "UPDATE proxies SET description = ? WHERE proxy_id = ?");
    update.bind(1, def.description);
    update.bind(2, proxy_id);
    update.exec();
  }
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const auto session = db.begin_session(run_id, command_line, host, code_version());
  const double per_arch = archs.empty() ? 0 : watch.seconds() / static_cast<double>(archs.size());
  std::vector<std::pair<std::int64_t, ScoreRow>> rows;
  for (size_t i = 0; i < archs.size(); ++i)
    rows.push_back({archs[i], {proxy_id, true, values[i], values[i], "", per_arch, 0}});
  for (const auto& [arch, reason] : unscorable)
    rows.push_back({arch, {proxy_id, false, 0, 0, reason, 0, 0}});
  db.replace_proxy_scores(run_id, session, proxy_id, rows);
  db.end_session(session, "completed");
  return {static_cast<std::int64_t>(archs.size()), static_cast<std::int64_t>(unscorable.size())};
}

}  // namespace nbz::db
