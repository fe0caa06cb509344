// The results database: one SQLite file (WAL mode) holding runs with full provenance,
// architectures, proxy definitions, scores, per-pass timings and ground truth. Torch-free.
// Every write of one architecture's results is one transaction, so a process killed at any
// moment leaves whole architectures or nothing; (run, arch, proxy) is the primary key, so a
// rerun can neither lose nor duplicate a score.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace nbz::db {

struct ArchRow {
  std::int64_t index = 0;
  std::string arch;
  std::string canonical_key;
};

struct ProxyRow {
  std::string name;
  int sign = 1;
  std::string family;
  std::string role;  // score | auxiliary
  std::string passes;
  std::string parameters;
  std::string description;
  // Epochs of ordinary training (spaces/training.h) the network had when the proxy was computed;
  // 0 = at initialisation. Part of the proxy's definition, like sign and parameters.
  int train_epochs = 0;
};

// Everything that decides what a score means (config_key) plus the provenance of the process
// that first created the run.
struct RunRecord {
  std::string config_key;
  std::string space, dataset, images;
  int num_classes = 10, input_size = 32;
  std::int64_t seed = 0;
  int batch_size = 0;
  std::string batch_indices;  // JSON list
  std::string device, device_name;
  int threads = 1;
  std::string blas, torch_version, code_version, build, host, cpu;
  std::string options_json;
};

// The machine a session really ran on (schema version 3). Empty fields are stored as NULL: not
// recorded (commands that compute no scores; sessions from before version 3).
struct SessionMachine {
  std::string cpu;          // model name
  std::string device_name;  // the CPU model or GPU name the scores were computed on
  std::string blas;         // the full loaded BLAS string, with the kernel OpenBLAS picked
};

// A version-2 config_key as version 3 writes it: the "blas=<blas>;" part names the BLAS build
// without OpenBLAS's picked kernel (blas_build). Any other key is returned unchanged.
std::string migrate_config_key_to_v3(const std::string& key, const std::string& blas);

struct ScoreRow {
  std::int64_t proxy_id = 0;
  bool ok = false;
  double value = 0, rank_value = 0;
  std::string failure_reason;
  double own_seconds = 0, shared_seconds = 0;
};

struct PassRow {
  std::string pass;
  double seconds = 0;
  std::string users;  // comma-separated proxy names
  bool ok = true;
};

struct TruthRow {
  std::int64_t arch_index = 0;
  std::string dataset, split;
  int epochs = 0;
  double value = 0;
};

class ResultsDb {
 public:
  // Opens or creates `path`. An older schema this build knows (docs/schema.md) is migrated to
  // kSchemaVersion in one transaction, rows unchanged. Throws nbz::Error naming the file when it
  // is not a nasbench-zc database (foreign SQLite file, a newer or unknown schema) or cannot be
  // opened/created.
  explicit ResultsDb(const std::string& path);

  const std::string& path() const { return path_; }
  SQLite::Database& sql() { return db_; }

  // Inserts missing architectures of `space`; returns arch_id by index for all of `rows`.
  std::map<std::int64_t, std::int64_t> ensure_architectures(const std::string& space,
                                                            const std::vector<ArchRow>& rows);
  // Inserts missing proxies; an existing proxy whose definition (sign, parameters, training
  // epochs) changed is an error (its stored scores would silently change meaning). Returns
  // proxy_id by name.
  std::map<std::string, std::int64_t> ensure_proxies(const std::vector<ProxyRow>& rows);

  // The run with this config_key, created with `record`'s provenance if absent.
  std::int64_t find_or_create_run(const RunRecord& record, bool* created = nullptr);
  std::int64_t begin_session(std::int64_t run_id, const std::string& command_line,
                             const std::string& host, const std::string& code_version,
                             const SessionMachine& machine = {});
  void end_session(std::int64_t session_id, const std::string& outcome);

  // (arch_id, proxy_id) pairs already stored for a run, failed ones included.
  std::set<std::pair<std::int64_t, std::int64_t>> stored_pairs(std::int64_t run_id);

  // Stores one architecture's scores and passes in one transaction; rows already present
  // (another process got there first) are left as they are. Returns the number inserted.
  int store_arch_result(std::int64_t run_id, std::int64_t session_id, std::int64_t arch_id,
                        const std::vector<ScoreRow>& scores, const std::vector<PassRow>& passes);

  // Replaces every score of `proxy_id` in `run_id` with `rows` (arch_id, score; each score's
  // proxy_id must be `proxy_id`) in one transaction: how a proxy computed from other stored
  // scores (a rank aggregate) is recomputed in place. Does not count architectures as done.
  void replace_proxy_scores(std::int64_t run_id, std::int64_t session_id, std::int64_t proxy_id,
                            const std::vector<std::pair<std::int64_t, ScoreRow>>& rows);

  bool has_truth(const std::string& space);
  void import_truth(const std::string& space, const std::string& source,
                    const std::vector<TruthRow>& rows);

 private:
  void create_schema();
  void check_schema();
  void migrate();
  void rewrite_config_keys_for_v3();

  std::string path_;
  SQLite::Database db_;
};

// Opens an existing results database read-only, for readers that must never write it (merge
// inputs): nothing is created, no pragma is changed, and an older schema is not migrated: its
// version is stored in `*schema_version` (when given) for the reader to adapt its queries. Throws
// nbz::Error naming the file when it is missing, not SQLite, a foreign SQLite file or of a schema
// version this build does not read (the checks ResultsDb applies).
SQLite::Database open_results_read_only(const std::string& path, int* schema_version = nullptr);

// "sign 1, parameters '...' and 0 training epochs": a proxy's definition in error messages.
std::string describe_proxy_definition(int sign, const std::string& parameters, int train_epochs);

// Current UTC time as ISO 8601 with milliseconds.
std::string utc_now();

}  // namespace nbz::db
