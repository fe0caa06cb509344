#include "benchmarks_db/merge.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>
#include <tuple>

#include "benchmarks_db/results_db.h"
#include "foundation/errors.h"
#include "foundation/run_context.h"
#include "foundation/version_info.h"

namespace nbz::db {
namespace {

// Columns of runs copied as they are (run_id is re-keyed), in one list so that the SELECT from the
// input and the INSERT into the output cannot disagree.
constexpr const char* kRunColumns =
    "config_key, space, dataset, images, num_classes, input_size, seed, batch_size, "
    "batch_indices, device, device_name, threads, blas, torch_version, code_version, build, host, "
    "cpu, options_json, started_at, ended_at";
constexpr int kRunColumnCount = 21;

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::optional<double> nullable_double(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

std::string describe_value(const std::string& status, const std::optional<double>& value) {
  return value ? status + " " + number(*value) : status + " (no value)";
}

// Binds a value read from one database into a statement of another, keeping its SQLite type.
void bind_column(SQLite::Statement& statement, int index, const SQLite::Column& c) {
  if (c.isInteger()) {
    statement.bind(index, c.getInt64());
  } else if (c.isFloat()) {
    statement.bind(index, c.getDouble());
  } else if (c.isText()) {
    statement.bind(index, c.getString());
  } else if (c.isBlob()) {
    statement.bind(index, c.getBlob(), c.getBytes());
  } else {
    statement.bind(index);
  }
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// Which file each row of the output came from, so that a conflict names both files.
struct Origins {
  std::string out_path;
  std::map<std::string, std::string> proxy;                        // name -> file
  std::map<std::pair<std::string, std::int64_t>, std::string> arch;  // (space, index) -> file
  std::map<std::int64_t, std::string> session;                     // output session_id -> file
  const std::string& of_session(std::int64_t id) const {
    auto it = session.find(id);
    return it == session.end() ? out_path : it->second;
  }
};

class InputMerger {
 public:
  InputMerger(SQLite::Database& out, SQLite::Database& in, const std::string& in_path,
              int in_version, Origins& origins, MergeInputStats& stats)
      : out_(out), in_(in), in_path_(in_path), in_version_(in_version), origins_(origins),
        stats_(stats) {}

  void run() {
    merge_proxies();
    merge_architectures();
    merge_runs();
    merge_sessions();
    merge_scores();
    merge_passes();
    merge_truth();
  }

 private:
  const std::string& origin_of(const std::map<std::string, std::string>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? origins_.out_path : it->second;
  }

  void merge_proxies() {
    // Version 1 has no train_epochs: every score of it was computed at initialisation.
    SQLite::Statement read(in_, std::string("SELECT proxy_id, name, sign, family, role, passes, "
                                            "parameters, description, ") +
                                    (in_version_ >= 2 ? "train_epochs" : "0") + " FROM proxies");
    SQLite::Statement find(out_, "SELECT proxy_id, sign, parameters, train_epochs FROM proxies "
                                 "WHERE name = ?");
    SQLite::Statement insert(out_, "INSERT INTO proxies(name, sign, family, role, passes, "
                                   "parameters, description, train_epochs) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    while (read.executeStep()) {
      const std::string name = read.getColumn(1).getString();
      const int sign = read.getColumn(2).getInt();
      const std::string parameters = read.getColumn(6).getString();
      const int train_epochs = read.getColumn(8).getInt();
      find.reset();
      find.bind(1, name);
      std::int64_t id;
      if (find.executeStep()) {
        const int out_sign = find.getColumn(1).getInt();
        const std::string out_parameters = find.getColumn(2).getString();
        const int out_train_epochs = find.getColumn(3).getInt();
        if (out_sign != sign || out_parameters != parameters || out_train_epochs != train_epochs)
          throw Error("merge: proxy '" + name + "' has " +
                      describe_proxy_definition(out_sign, out_parameters, out_train_epochs) +
                      " in '" + origin_of(origins_.proxy, name) + "' but " +
                      describe_proxy_definition(sign, parameters, train_epochs) + " in '" +
                      in_path_ + "': their scores do not mean the same thing");
        id = find.getColumn(0).getInt64();
      } else {
        insert.reset();
        for (int c = 1; c <= 8; ++c) bind_column(insert, c, read.getColumn(c));
        insert.exec();
        id = out_.getLastInsertRowid();
        origins_.proxy[name] = in_path_;
        ++stats_.proxies_new;
      }
      proxy_ids_[read.getColumn(0).getInt64()] = id;
      proxy_names_[read.getColumn(0).getInt64()] = name;
    }
  }

  void merge_architectures() {
    SQLite::Statement read(in_, "SELECT arch_id, space, arch_index, arch, canonical_key "
                                "FROM architectures");
    SQLite::Statement find(out_, "SELECT arch_id, arch FROM architectures "
                                 "WHERE space = ? AND arch_index = ?");
    SQLite::Statement find_arch(out_, "SELECT arch_index FROM architectures "
                                      "WHERE space = ? AND arch = ?");
    SQLite::Statement insert(out_, "INSERT INTO architectures(space, arch_index, arch, "
                                   "canonical_key) VALUES (?, ?, ?, ?)");
    while (read.executeStep()) {
      const std::string space = read.getColumn(1).getString();
      const std::int64_t index = read.getColumn(2).getInt64();
      const std::string arch = read.getColumn(3).getString();
      const auto key = std::make_pair(space, index);
      find.reset();
      find.bind(1, space);
      find.bind(2, index);
      std::int64_t id;
      if (find.executeStep()) {
        if (find.getColumn(1).getString() != arch)
          throw Error("merge: " + space + " arch_index " + std::to_string(index) + " is '" +
                      find.getColumn(1).getString() + "' in '" +
                      (origins_.arch.count(key) ? origins_.arch.at(key) : origins_.out_path) +
                      "' but '" + arch + "' in '" + in_path_ + "'");
        id = find.getColumn(0).getInt64();
      } else {
        find_arch.reset();
        find_arch.bind(1, space);
        find_arch.bind(2, arch);
        if (find_arch.executeStep())
          throw Error("merge: " + space + " arch '" + arch + "' has arch_index " +
                      std::to_string(find_arch.getColumn(0).getInt64()) + " in '" +
                      origins_.out_path + "' (or an input merged before) but " +
                      std::to_string(index) + " in '" + in_path_ + "'");
        insert.reset();
        for (int c = 1; c <= 4; ++c) bind_column(insert, c, read.getColumn(c));
        insert.exec();
        id = out_.getLastInsertRowid();
        origins_.arch[key] = in_path_;
        ++stats_.archs_new;
      }
      arch_ids_[read.getColumn(0).getInt64()] = id;
      arch_names_[read.getColumn(0).getInt64()] = space + " arch_index " + std::to_string(index);
    }
  }

  void merge_runs() {
    SQLite::Statement read(in_, std::string("SELECT run_id, ") + kRunColumns + " FROM runs");
    SQLite::Statement find(out_, "SELECT run_id FROM runs WHERE config_key = ?");
    // ISO 8601 UTC strings of one format order as text; a run still going has no ended_at.
    SQLite::Statement widen(out_,
                            "UPDATE runs SET started_at = min(started_at, ?1), ended_at = "
                            "CASE WHEN ?2 IS NULL THEN ended_at WHEN ended_at IS NULL THEN ?2 "
                            "ELSE max(ended_at, ?2) END WHERE run_id = ?3");
    std::string placeholders;
    for (int c = 0; c < kRunColumnCount; ++c) placeholders += c ? ",?" : "?";
    SQLite::Statement insert(out_, std::string("INSERT INTO runs(") + kRunColumns +
                                       ") VALUES (" + placeholders + ")");
    while (read.executeStep()) {
      const std::int64_t in_id = read.getColumn(0).getInt64();
      // An input older than version 3 keys its runs with OpenBLAS's picked kernel: match it by the
      // key this version writes (the output is always the current version).
      const std::string key =
          in_version_ >= 3 ? read.getColumn(1).getString()
                           : migrate_config_key_to_v3(read.getColumn(1).getString(),
                                                      read.getColumn(13).getString());
      find.reset();
      find.bind(1, key);
      std::int64_t id;
      if (find.executeStep()) {
        id = find.getColumn(0).getInt64();
        widen.reset();
        bind_column(widen, 1, read.getColumn(20));  // started_at
        bind_column(widen, 2, read.getColumn(21));  // ended_at
        widen.bind(3, id);
        widen.exec();
        ++stats_.runs_known;
      } else {
        insert.reset();
        insert.bind(1, key);
        for (int c = 2; c <= kRunColumnCount; ++c) bind_column(insert, c, read.getColumn(c));
        insert.exec();
        id = out_.getLastInsertRowid();
        ++stats_.runs_new;
      }
      run_ids_[in_id] = id;
      // config_key is long (it lists the minibatch): name the run by what a reader recognises.
      run_names_[in_id] = "run " + std::to_string(id) + " of the output (" +
                          read.getColumn(2).getString() + ", " + read.getColumn(3).getString() +
                          ", seed " + std::to_string(read.getColumn(7).getInt64()) + ", " +
                          std::to_string(read.getColumn(12).getInt()) + " threads)";
    }
  }

  void merge_sessions() {
    // Before version 3 a session's machine was not recorded, but its BLAS was its run's (the key
    // held it): what the version-2-to-3 migration fills in.
    SQLite::Statement read(in_, std::string("SELECT session_id, run_id, command_line, host, pid, "
                                            "code_version, started_at, ended_at, archs_done, "
                                            "outcome, ") +
                                    (in_version_ >= 3
                                         ? "cpu, device_name, blas FROM run_sessions"
                                         : "NULL, NULL, (SELECT r.blas FROM runs r WHERE r.run_id "
                                           "= run_sessions.run_id) FROM run_sessions"));
    SQLite::Statement find(out_, "SELECT session_id FROM run_sessions WHERE run_id = ? AND "
                                 "host = ? AND pid = ? AND started_at = ? AND command_line = ?");
    // The same session seen again: the input may have grown since (a shard merged while it was
    // still running); an ended session wins over one that was still running.
    SQLite::Statement update(out_,
                             "UPDATE run_sessions SET outcome = CASE WHEN ended_at IS NULL AND "
                             "?1 IS NOT NULL THEN ?2 ELSE outcome END, ended_at = "
                             "coalesce(ended_at, ?1), archs_done = max(archs_done, ?3) "
                             "WHERE session_id = ?4");
    SQLite::Statement insert(out_, "INSERT INTO run_sessions(run_id, command_line, host, pid, "
                                   "code_version, started_at, ended_at, archs_done, outcome, "
                                   "cpu, device_name, blas) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    while (read.executeStep()) {
      const std::int64_t run = mapped(run_ids_, read.getColumn(1).getInt64(), "run");
      find.reset();
      find.bind(1, run);
      bind_column(find, 2, read.getColumn(3));
      bind_column(find, 3, read.getColumn(4));
      bind_column(find, 4, read.getColumn(6));
      bind_column(find, 5, read.getColumn(2));
      std::int64_t id;
      if (find.executeStep()) {
        id = find.getColumn(0).getInt64();
        update.reset();
        bind_column(update, 1, read.getColumn(7));
        bind_column(update, 2, read.getColumn(9));
        bind_column(update, 3, read.getColumn(8));
        update.bind(4, id);
        update.exec();
        ++stats_.sessions_known;
      } else {
        insert.reset();
        insert.bind(1, run);
        for (int c = 2; c <= 12; ++c) bind_column(insert, c, read.getColumn(c));
        insert.exec();
        id = out_.getLastInsertRowid();
        origins_.session[id] = in_path_;
        ++stats_.sessions_new;
      }
      session_ids_[read.getColumn(0).getInt64()] = id;
    }
  }

  void merge_scores() {
    SQLite::Statement read(in_, "SELECT run_id, arch_id, proxy_id, value, rank_value, status, "
                                "failure_reason, own_seconds, shared_seconds, seconds, session_id "
                                "FROM scores");
    SQLite::Statement insert(out_, "INSERT INTO scores(run_id, arch_id, proxy_id, value, "
                                   "rank_value, status, failure_reason, own_seconds, "
                                   "shared_seconds, seconds, session_id) "
                                   "VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
    SQLite::Statement existing(out_, "SELECT status, value, session_id FROM scores "
                                     "WHERE run_id = ? AND arch_id = ? AND proxy_id = ?");
    while (read.executeStep()) {
      const std::int64_t in_run = read.getColumn(0).getInt64();
      const std::int64_t in_arch = read.getColumn(1).getInt64();
      const std::int64_t in_proxy = read.getColumn(2).getInt64();
      const std::int64_t run = mapped(run_ids_, in_run, "run");
      const std::int64_t arch = mapped(arch_ids_, in_arch, "architecture");
      const std::int64_t proxy = mapped(proxy_ids_, in_proxy, "proxy");
      insert.reset();
      insert.bind(1, run);
      insert.bind(2, arch);
      insert.bind(3, proxy);
      for (int c = 3; c <= 9; ++c) bind_column(insert, c + 1, read.getColumn(c));
      insert.bind(11, mapped(session_ids_, read.getColumn(10).getInt64(), "session"));
      if (insert.exec() == 1) {
        ++stats_.scores_new;
        continue;
      }
      // Already stored (an overlapping shard, or this file merged before): it must agree.
      // Timings may differ between processes; status and value may not.
      ++stats_.scores_known;
      existing.reset();
      existing.bind(1, run);
      existing.bind(2, arch);
      existing.bind(3, proxy);
      NBZ_ASSERT(existing.executeStep(), "conflicting score row vanished");
      const std::string out_status = existing.getColumn(0).getString();
      const auto out_value = nullable_double(existing.getColumn(1));
      const std::string in_status = read.getColumn(5).getString();
      const auto in_value = nullable_double(read.getColumn(3));
      if (out_status != in_status || out_value != in_value)
        throw Error("merge: conflicting score for (" + run_names_.at(in_run) + ", " +
                    arch_names_.at(in_arch) + ", proxy '" + proxy_names_.at(in_proxy) + "'): " +
                    describe_value(out_status, out_value) + " in '" +
                    origins_.of_session(existing.getColumn(2).getInt64()) + "' but " +
                    describe_value(in_status, in_value) + " in '" + in_path_ + "'");
    }
  }

  void merge_passes() {
    SQLite::Statement read(in_, "SELECT run_id, arch_id, pass, seconds, users, status FROM passes");
    SQLite::Statement insert(out_, "INSERT INTO passes(run_id, arch_id, pass, seconds, users, "
                                   "status) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING");
    while (read.executeStep()) {
      insert.reset();
      insert.bind(1, mapped(run_ids_, read.getColumn(0).getInt64(), "run"));
      insert.bind(2, mapped(arch_ids_, read.getColumn(1).getInt64(), "architecture"));
      for (int c = 2; c <= 5; ++c) bind_column(insert, c + 1, read.getColumn(c));
      stats_.passes_new += insert.exec();
    }
  }

  void merge_truth() {
    SQLite::Statement read(in_, "SELECT space, arch_index, dataset, split, epochs, value, source "
                                "FROM ground_truth");
    SQLite::Statement insert(out_, "INSERT INTO ground_truth(space, arch_index, dataset, split, "
                                   "epochs, value, source) VALUES (?,?,?,?,?,?,?) "
                                   "ON CONFLICT DO NOTHING");
    SQLite::Statement existing(out_, "SELECT value, source FROM ground_truth WHERE space = ? AND "
                                     "arch_index = ? AND dataset = ? AND split = ? AND epochs = ?");
    while (read.executeStep()) {
      insert.reset();
      for (int c = 0; c < 7; ++c) bind_column(insert, c + 1, read.getColumn(c));
      if (insert.exec() == 1) {
        ++stats_.truth_new;
        continue;
      }
      existing.reset();
      for (int c = 0; c < 5; ++c) bind_column(existing, c + 1, read.getColumn(c));
      NBZ_ASSERT(existing.executeStep(), "conflicting ground-truth row vanished");
      const double out_value = existing.getColumn(0).getDouble();
      const double in_value = read.getColumn(5).getDouble();
      if (out_value != in_value)
        throw Error("merge: ground truth " + read.getColumn(0).getString() + " arch_index " +
                    std::to_string(read.getColumn(1).getInt64()) + " " +
                    read.getColumn(2).getString() + "/" + read.getColumn(3).getString() + "/" +
                    std::to_string(read.getColumn(4).getInt()) + " epochs is " +
                    number(out_value) + " (from " + existing.getColumn(1).getString() +
                    ") in the output '" + origins_.out_path + "' but " + number(in_value) +
                    " (from " + read.getColumn(6).getString() + ") in '" + in_path_ + "'");
    }
  }

  std::int64_t mapped(const std::map<std::int64_t, std::int64_t>& ids, std::int64_t id,
                      const char* what) const {
    auto it = ids.find(id);
    // Foreign keys make this impossible in a database written by ResultsDb; a hand-edited file
    // could still get here.
    if (it == ids.end())
      throw Error("merge: '" + in_path_ + "' refers to " + what + " " + std::to_string(id) +
                  " which it does not define (damaged file?)");
    return it->second;
  }

  SQLite::Database& out_;
  SQLite::Database& in_;
  const std::string& in_path_;
  const int in_version_;  // its schema version: older inputs are read as they are, never migrated
  Origins& origins_;
  MergeInputStats& stats_;
  std::map<std::int64_t, std::int64_t> proxy_ids_, arch_ids_, run_ids_, session_ids_;
  std::map<std::int64_t, std::string> proxy_names_, arch_names_, run_names_;
};

void remove_database_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    std::remove((path + suffix).c_str());
}

}  // namespace

std::vector<MergeInputStats> merge_databases(const std::string& out_path,
                                             const std::vector<std::string>& inputs,
                                             const std::string& command_line) {
  if (inputs.empty()) throw Error("merge: no input databases given");
  // Every input is checked before the output is created or written; they are opened again one at
  // a time for the merge, so that a thousand shards do not hold three thousand descriptors.
  for (const auto& path : inputs) {
    if (same_file(path, out_path))
      throw Error("merge: input '" + path + "' is the output file '" + out_path + "'");
    (void)open_results_read_only(path);
  }
  const bool out_existed = access(out_path.c_str(), F_OK) == 0;
  std::vector<MergeInputStats> stats;
  std::string current = out_path;
  try {
    ResultsDb out(out_path);
    SQLite::Transaction tx(out.sql(), SQLite::TransactionBehavior::IMMEDIATE);
    Origins origins;
    origins.out_path = out_path;
    for (const auto& path : inputs) {
      current = path;
      int version = 0;
      SQLite::Database in = open_results_read_only(path, &version);
      // One snapshot of the input even while a sweep is still writing it (WAL readers); its
      // version is read again inside it, in case a newer build migrated the file meanwhile.
      SQLite::Transaction snapshot(in);
      version = in.execAndGet("PRAGMA user_version").getInt();
      stats.push_back({});
      stats.back().path = path;
      InputMerger(out.sql(), in, path, version, origins, stats.back()).run();
    }
    current = out_path;
    std::string json = "{\"inputs\":[";
    for (size_t i = 0; i < inputs.size(); ++i)
      json += (i ? ",\"" : "\"") + json_escape(inputs[i]) + "\"";
    json += "],\"command_line\":\"" + json_escape(command_line) + "\",\"code_version\":\"" +
            json_escape(code_version()) + "\",\"pid\":" + std::to_string(getpid()) + "}";
    SQLite::Statement meta(out.sql(), "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
    meta.bind(1, "merge " + utc_now() + " pid " + std::to_string(getpid()));
    meta.bind(2, json);
    meta.exec();
    tx.commit();
  } catch (const SQLite::Exception& e) {
    if (!out_existed) remove_database_files(out_path);
    throw Error("merge into '" + out_path + "'" +
                (current == out_path ? std::string() : " from '" + current + "'") + ": " +
                e.what() + "; the output is unchanged");
  } catch (...) {
    if (!out_existed) remove_database_files(out_path);
    throw;
  }
  return stats;
}

}  // namespace nbz::db
