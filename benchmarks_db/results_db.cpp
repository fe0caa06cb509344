#include "benchmarks_db/results_db.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>

#include "benchmarks_db/schema.h"
#include "foundation/errors.h"
#include "foundation/run_context.h"

namespace nbz::db {
namespace {

// Another process may hold the write lock for a whole architecture's transaction: wait rather
// than fail.
constexpr int kBusyTimeoutMs = 60000;

SQLite::Database open_database(const std::string& path) {
  try {
    return SQLite::Database(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, kBusyTimeoutMs);
  } catch (const SQLite::Exception& e) {
    throw Error("cannot open results database '" + path + "': " + e.what());
  }
}

}  // namespace

std::string migrate_config_key_to_v3(const std::string& key, const std::string& blas) {
  const std::string old_part = ";blas=" + blas + ";";
  const auto at = key.find(old_part);
  if (at == std::string::npos) return key;
  return key.substr(0, at) + ";blas=" + blas_build(blas) + ";" + key.substr(at + old_part.size());
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

ResultsDb::ResultsDb(const std::string& path) : path_(path), db_(open_database(path)) {
  try {
    const int tables = db_.execAndGet("SELECT count(*) FROM sqlite_master").getInt();
    if (tables == 0) {
      create_schema();
    } else {
      check_schema();
    }
    db_.exec("PRAGMA foreign_keys = ON");
    // Fault injection for the tests of a full disk: caps the file size in pages, so that a write
    // fails with SQLITE_FULL exactly as on a full file system.
    if (const char* pages = std::getenv("NBZ_FAULT_MAX_PAGE_COUNT"))
      db_.exec("PRAGMA max_page_count = " + std::to_string(std::atol(pages)));
  } catch (const SQLite::Exception& e) {
    throw Error("results database '" + path + "': " + e.what());
  }
}

void ResultsDb::create_schema() {
  // WAL lets report readers run while a sweep writes; set before the first transaction.
  db_.exec("PRAGMA journal_mode = WAL");
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  // A second process may have created the schema while we waited for the lock.
  if (db_.execAndGet("SELECT count(*) FROM sqlite_master").getInt() != 0) {
    tx.commit();
    check_schema();
    return;
  }
  db_.exec(kSchemaSql);
  db_.exec(kProxyScoresViewSql);
  db_.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
  db_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  SQLite::Statement meta(db_, "INSERT INTO meta(key, value) VALUES (?, ?)");
  meta.bind(1, "created_at");
  meta.bind(2, utc_now());
  meta.exec();
  tx.commit();
}

namespace {

// The identity checks shared by ResultsDb and open_results_read_only; returns the schema version,
// one this build reads (kOldestSchemaVersion to kSchemaVersion).
int check_identity(SQLite::Database& db, const std::string& path) {
  const int app = db.execAndGet("PRAGMA application_id").getInt();
  if (app != kApplicationId)
    throw Error("'" + path +
                "' is an SQLite file but not a nasbench-zc results database (application_id " +
                std::to_string(app) + "); refusing to use it");
  const int version = db.execAndGet("PRAGMA user_version").getInt();
  if (version < kOldestSchemaVersion || version > kSchemaVersion)
    throw Error("results database '" + path + "' has schema version " + std::to_string(version) +
                ", this build reads versions " + std::to_string(kOldestSchemaVersion) + " to " +
                std::to_string(kSchemaVersion) + " (see docs/schema.md)");
  return version;
}

}  // namespace

void ResultsDb::check_schema() {
  const int version = check_identity(db_, path_);
  db_.exec("PRAGMA journal_mode = WAL");
  if (version < kSchemaVersion) migrate();
}

void ResultsDb::migrate() {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  // Another process may have migrated the file while we waited for the lock.
  const int version = db_.execAndGet("PRAGMA user_version").getInt();
  if (version == kSchemaVersion) {
    tx.commit();
    return;
  }
  NBZ_ASSERT(version == 1 || version == 2,
             "no migration from schema version " + std::to_string(version));
  if (version == 1) db_.exec(kMigrateV1ToV2Sql);
  db_.exec(kMigrateV2ToV3Sql);
  rewrite_config_keys_for_v3();
  if (version == 1) db_.exec(kProxyScoresViewSql);
  // user_version lives in the file header, which is written in the same transaction: a crash
  // leaves the old version with its old columns and keys, or the new one with all of them.
  db_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  tx.commit();
}

void ResultsDb::rewrite_config_keys_for_v3() {
  std::vector<std::pair<std::int64_t, std::string>> rewrites;
  {
    SQLite::Statement read(db_, "SELECT run_id, config_key, blas FROM runs ORDER BY run_id");
    while (read.executeStep()) {
      const std::string key = read.getColumn(1).getString();
      const std::string rewritten = migrate_config_key_to_v3(key, read.getColumn(2).getString());
      if (rewritten != key) rewrites.emplace_back(read.getColumn(0).getInt64(), rewritten);
    }
  }
  // Two runs that differ only in the picked kernel (the same sweep started on two machines) would
  // get one key: the earlier run takes it, the later keeps its old key and stays a run of its own,
  // rows untouched; `nasbench merge` never joins them either. Nothing is lost or rewritten.
  SQLite::Statement taken(db_, "SELECT count(*) FROM runs WHERE config_key = ?");
  SQLite::Statement update(db_, "UPDATE runs SET config_key = ? WHERE run_id = ?");
  for (const auto& [run_id, key] : rewrites) {
    taken.reset();
    taken.bind(1, key);
    taken.executeStep();
    if (taken.getColumn(0).getInt() != 0) continue;
    update.reset();
    update.bind(1, key);
    update.bind(2, run_id);
    update.exec();
  }
}

SQLite::Database open_results_read_only(const std::string& path, int* schema_version) {
  if (access(path.c_str(), F_OK) != 0)
    throw Error("results database '" + path + "' does not exist");
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    const int version = check_identity(db, path);
    if (schema_version) *schema_version = version;
    return db;
  } catch (const SQLite::Exception& e) {
    throw Error("cannot read results database '" + path + "': " + e.what());
  }
}

std::map<std::int64_t, std::int64_t> ResultsDb::ensure_architectures(
    const std::string& space, const std::vector<ArchRow>& rows) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement insert(db_,
                           "INSERT INTO architectures(space, arch_index, arch, canonical_key) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT(space, arch_index) DO NOTHING");
  SQLite::Statement check(db_,
                          "SELECT arch_id, arch FROM architectures WHERE space = ? AND arch_index = ?");
  std::map<std::int64_t, std::int64_t> ids;
  for (const auto& row : rows) {
    insert.bind(1, space);
    insert.bind(2, static_cast<std::int64_t>(row.index));
    insert.bind(3, row.arch);
    insert.bind(4, row.canonical_key);
    insert.exec();
    insert.reset();
    check.bind(1, space);
    check.bind(2, static_cast<std::int64_t>(row.index));
    NBZ_ASSERT(check.executeStep(), "architecture row vanished");
    if (check.getColumn(1).getString() != row.arch)
      throw Error("results database '" + path_ + "': " + space + " index " +
                  std::to_string(row.index) + " is stored as '" + check.getColumn(1).getString() +
                  "' but the benchmark says '" + row.arch + "'");
    ids[row.index] = check.getColumn(0).getInt64();
    check.reset();
  }
  tx.commit();
  return ids;
}

std::string describe_proxy_definition(int sign, const std::string& parameters, int train_epochs) {
  return "sign " + std::to_string(sign) + ", parameters '" + parameters + "' and " +
         std::to_string(train_epochs) + " training epochs";
}

std::map<std::string, std::int64_t> ResultsDb::ensure_proxies(const std::vector<ProxyRow>& rows) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement find(
      db_, "SELECT proxy_id, sign, parameters, train_epochs FROM proxies WHERE name = ?");
  SQLite::Statement insert(db_,
                           "INSERT INTO proxies(name, sign, family, role, passes, parameters, "
                           "description, train_epochs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  std::map<std::string, std::int64_t> ids;
  for (const auto& row : rows) {
    if (row.train_epochs < 0)
      throw Error("proxy '" + row.name + "' has " + std::to_string(row.train_epochs) +
                  " training epochs; must be >= 0");
    find.bind(1, row.name);
    if (find.executeStep()) {
      const int sign = find.getColumn(1).getInt();
      const std::string parameters = find.getColumn(2).getString();
      const int train_epochs = find.getColumn(3).getInt();
      // Training epochs change what a score means as much as its parameters do.
      if (sign != row.sign || parameters != row.parameters || train_epochs != row.train_epochs)
        throw Error("results database '" + path_ + "': proxy '" + row.name + "' is stored with " +
                    describe_proxy_definition(sign, parameters, train_epochs) +
                    ", this build defines it with " +
                    describe_proxy_definition(row.sign, row.parameters, row.train_epochs) +
                    "; use a new database file");
      ids[row.name] = find.getColumn(0).getInt64();
    } else {
      insert.bind(1, row.name);
      insert.bind(2, row.sign);
      insert.bind(3, row.family);
      insert.bind(4, row.role);
      insert.bind(5, row.passes);
      insert.bind(6, row.parameters);
      insert.bind(7, row.description);
      insert.bind(8, row.train_epochs);
      insert.exec();
      insert.reset();
      ids[row.name] = db_.getLastInsertRowid();
    }
    find.reset();
  }
  tx.commit();
  return ids;
}

std::int64_t ResultsDb::find_or_create_run(const RunRecord& r, bool* created) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement find(db_, "SELECT run_id FROM runs WHERE config_key = ?");
  find.bind(1, r.config_key);
  if (find.executeStep()) {
    const auto id = find.getColumn(0).getInt64();
    tx.commit();
    if (created) *created = false;
    return id;
  }
  SQLite::Statement insert(
      db_,
      "INSERT INTO runs(config_key, space, dataset, images, num_classes, input_size, seed, "
      "batch_size, batch_indices, device, device_name, threads, blas, torch_version, "
      "code_version, build, host, cpu, options_json, started_at) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  int i = 1;
  insert.bind(i++, r.config_key);
  insert.bind(i++, r.space);
  insert.bind(i++, r.dataset);
  insert.bind(i++, r.images);
  insert.bind(i++, r.num_classes);
  insert.bind(i++, r.input_size);
  insert.bind(i++, static_cast<std::int64_t>(r.seed));
  insert.bind(i++, r.batch_size);
  insert.bind(i++, r.batch_indices);
  insert.bind(i++, r.device);
  insert.bind(i++, r.device_name);
  insert.bind(i++, r.threads);
  insert.bind(i++, r.blas);
  insert.bind(i++, r.torch_version);
  insert.bind(i++, r.code_version);
  insert.bind(i++, r.build);
  insert.bind(i++, r.host);
  insert.bind(i++, r.cpu);
  insert.bind(i++, r.options_json);
  insert.bind(i++, utc_now());
  insert.exec();
  const auto id = db_.getLastInsertRowid();
  tx.commit();
  if (created) *created = true;
  return id;
}

std::int64_t ResultsDb::begin_session(std::int64_t run_id, const std::string& command_line,
                                      const std::string& host, const std::string& code_version,
                                      const SessionMachine& machine) {
  SQLite::Statement insert(db_,
                           "INSERT INTO run_sessions(run_id, command_line, host, pid, "
                           "code_version, started_at, cpu, device_name, blas) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  int i = 7;
  for (const std::string* field : {&machine.cpu, &machine.device_name, &machine.blas}) {
    if (field->empty()) {
      insert.bind(i++);
    } else {
      insert.bind(i++, *field);
    }
  }
  insert.bind(1, static_cast<std::int64_t>(run_id));
  insert.bind(2, command_line);
  insert.bind(3, host);
  insert.bind(4, static_cast<std::int64_t>(getpid()));
  insert.bind(5, code_version);
  insert.bind(6, utc_now());
  insert.exec();
  return db_.getLastInsertRowid();
}

void ResultsDb::end_session(std::int64_t session_id, const std::string& outcome) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  const std::string now = utc_now();
  SQLite::Statement session(db_,
                            "UPDATE run_sessions SET ended_at = ?, outcome = ? WHERE session_id = ?");
  session.bind(1, now);
  session.bind(2, outcome);
  session.bind(3, static_cast<std::int64_t>(session_id));
  session.exec();
  SQLite::Statement run(db_,
                        "UPDATE runs SET ended_at = ? WHERE run_id = "
                        "(SELECT run_id FROM run_sessions WHERE session_id = ?)");
  run.bind(1, now);
  run.bind(2, static_cast<std::int64_t>(session_id));
  run.exec();
  tx.commit();
}

std::set<std::pair<std::int64_t, std::int64_t>> ResultsDb::stored_pairs(std::int64_t run_id) {
  SQLite::Statement q(db_, "SELECT arch_id, proxy_id FROM scores WHERE run_id = ?");
  q.bind(1, static_cast<std::int64_t>(run_id));
  std::set<std::pair<std::int64_t, std::int64_t>> pairs;
  while (q.executeStep()) pairs.emplace(q.getColumn(0).getInt64(), q.getColumn(1).getInt64());
  return pairs;
}

namespace {

constexpr const char* kInsertScoreSql =
    "INSERT INTO scores(run_id, arch_id, proxy_id, value, rank_value, status, failure_reason, "
    "own_seconds, shared_seconds, seconds, session_id) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT DO NOTHING";

// Binds one score row to kInsertScoreSql, runs it and resets it; returns the rows inserted.
int insert_score(SQLite::Statement& insert, std::int64_t run_id, std::int64_t session_id,
                 std::int64_t arch_id, const ScoreRow& s) {
  int i = 1;
  insert.bind(i++, run_id);
  insert.bind(i++, arch_id);
  insert.bind(i++, s.proxy_id);
  if (s.ok) {
    insert.bind(i++, s.value);
    insert.bind(i++, s.rank_value);
    insert.bind(i++, "ok");
    insert.bind(i++);  // NULL reason
  } else {
    insert.bind(i++);
    insert.bind(i++);
    insert.bind(i++, "failed");
    insert.bind(i++, s.failure_reason);
  }
  insert.bind(i++, s.own_seconds);
  insert.bind(i++, s.shared_seconds);
  insert.bind(i++, s.own_seconds + s.shared_seconds);
  insert.bind(i++, session_id);
  const int inserted = insert.exec();
  insert.reset();
  return inserted;
}

}  // namespace

int ResultsDb::store_arch_result(std::int64_t run_id, std::int64_t session_id,
                                 std::int64_t arch_id, const std::vector<ScoreRow>& scores,
                                 const std::vector<PassRow>& passes) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement insert(db_, kInsertScoreSql);
  int inserted = 0;
  for (const auto& s : scores) inserted += insert_score(insert, run_id, session_id, arch_id, s);
  SQLite::Statement pass(db_,
                         "INSERT INTO passes(run_id, arch_id, pass, seconds, users, status) "
                         "VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING");
  for (const auto& p : passes) {
    pass.bind(1, static_cast<std::int64_t>(run_id));
    pass.bind(2, static_cast<std::int64_t>(arch_id));
    pass.bind(3, p.pass);
    pass.bind(4, p.seconds);
    pass.bind(5, p.users);
    pass.bind(6, p.ok ? "ok" : "failed");
    pass.exec();
    pass.reset();
  }
  SQLite::Statement progress(db_,
                             "UPDATE run_sessions SET archs_done = archs_done + 1 WHERE session_id = ?");
  progress.bind(1, static_cast<std::int64_t>(session_id));
  progress.exec();
  tx.commit();
  return inserted;
}

void ResultsDb::replace_proxy_scores(std::int64_t run_id, std::int64_t session_id,
                                     std::int64_t proxy_id,
                                     const std::vector<std::pair<std::int64_t, ScoreRow>>& rows) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement clear(db_, "DELETE FROM scores WHERE run_id = ? AND proxy_id = ?");
  clear.bind(1, run_id);
  clear.bind(2, proxy_id);
  clear.exec();
  SQLite::Statement insert(db_, kInsertScoreSql);
  for (const auto& [arch_id, score] : rows) {
    NBZ_ASSERT(score.proxy_id == proxy_id, "replace_proxy_scores: a row of another proxy");
    insert_score(insert, run_id, session_id, arch_id, score);
  }
  tx.commit();
}

bool ResultsDb::has_truth(const std::string& space) {
  SQLite::Statement q(db_, "SELECT EXISTS(SELECT 1 FROM ground_truth WHERE space = ?)");
  q.bind(1, space);
  q.executeStep();
  return q.getColumn(0).getInt() != 0;
}

void ResultsDb::import_truth(const std::string& space, const std::string& source,
                             const std::vector<TruthRow>& rows) {
  SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement insert(db_,
                           "INSERT INTO ground_truth(space, arch_index, dataset, split, epochs, "
                           "value, source) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
  for (const auto& r : rows) {
    insert.bind(1, space);
    insert.bind(2, static_cast<std::int64_t>(r.arch_index));
    insert.bind(3, r.dataset);
    insert.bind(4, r.split);
    insert.bind(5, r.epochs);
    insert.bind(6, r.value);
    insert.bind(7, source);
    insert.exec();
    insert.reset();
  }
  tx.commit();
}

}  // namespace nbz::db
