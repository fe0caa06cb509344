// The results database schema, version by version. docs/schema.md documents every table and
// column; a change here bumps kSchemaVersion, adds the migration from the previous version
// (ResultsDb applies it when it opens an older file) and documents both.
//
// Versions:
//   1  the first schema
//   2  proxies.train_epochs (epochs of ordinary training before the proxy was computed; 0 = at
//      initialisation), exposed by the proxy_scores view
//   3  run_sessions.cpu, device_name, blas (the machine each session really ran on); runs.config_key
//      names the BLAS build without the kernel OpenBLAS picked for the CPU (foundation/run_context.h)
#pragma once

namespace nbz::db {

constexpr int kSchemaVersion = 3;
// The oldest version this build opens; older versions in [kOldestSchemaVersion, kSchemaVersion)
// are migrated by ResultsDb and read as they are by merge.
constexpr int kOldestSchemaVersion = 1;
// Written into PRAGMA application_id so a foreign SQLite file is recognised ("NBZC").
constexpr int kApplicationId = 0x4E425A43;

constexpr const char* kSchemaSql = R"SQL(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE runs (
  run_id        INTEGER PRIMARY KEY,
  config_key    TEXT NOT NULL UNIQUE,
  space         TEXT NOT NULL,
  dataset       TEXT NOT NULL,
  images        TEXT NOT NULL,
  num_classes   INTEGER NOT NULL,
  input_size    INTEGER NOT NULL,
  seed          INTEGER NOT NULL,
  batch_size    INTEGER NOT NULL,
  batch_indices TEXT NOT NULL,
  device        TEXT NOT NULL,
  device_name   TEXT NOT NULL,
  threads       INTEGER NOT NULL,
  blas          TEXT NOT NULL,
  torch_version TEXT NOT NULL,
  code_version  TEXT NOT NULL,
  build         TEXT NOT NULL,
  host          TEXT NOT NULL,
  cpu           TEXT NOT NULL,
  options_json  TEXT NOT NULL,
  started_at    TEXT NOT NULL,
  ended_at      TEXT
);
CREATE TABLE run_sessions (
  session_id   INTEGER PRIMARY KEY,
  run_id       INTEGER NOT NULL REFERENCES runs(run_id),
  command_line TEXT NOT NULL,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  code_version TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  ended_at     TEXT,
  archs_done   INTEGER NOT NULL DEFAULT 0,
  outcome      TEXT NOT NULL DEFAULT 'running',
  cpu          TEXT,
  device_name  TEXT,
  blas         TEXT
);
CREATE TABLE architectures (
  arch_id       INTEGER PRIMARY KEY,
  space         TEXT NOT NULL,
  arch_index    INTEGER NOT NULL,
  arch          TEXT NOT NULL,
  canonical_key TEXT NOT NULL,
  UNIQUE (space, arch_index),
  UNIQUE (space, arch)
);
CREATE TABLE proxies (
  proxy_id    INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  sign        INTEGER NOT NULL CHECK (sign IN (-1, 1)),
  family      TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('score', 'auxiliary')),
  passes      TEXT NOT NULL,
  parameters  TEXT NOT NULL,
  description TEXT NOT NULL,
  train_epochs INTEGER NOT NULL DEFAULT 0 CHECK (train_epochs >= 0)
);
CREATE TABLE scores (
  run_id         INTEGER NOT NULL REFERENCES runs(run_id),
  arch_id        INTEGER NOT NULL REFERENCES architectures(arch_id),
  proxy_id       INTEGER NOT NULL REFERENCES proxies(proxy_id),
  value          REAL,
  rank_value     REAL,
  status         TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
  failure_reason TEXT,
  own_seconds    REAL NOT NULL,
  shared_seconds REAL NOT NULL,
  seconds        REAL NOT NULL,
  session_id     INTEGER NOT NULL REFERENCES run_sessions(session_id),
  PRIMARY KEY (run_id, arch_id, proxy_id),
  CHECK ((status = 'ok') = (value IS NOT NULL AND failure_reason IS NULL))
) WITHOUT ROWID;
CREATE TABLE passes (
  run_id   INTEGER NOT NULL REFERENCES runs(run_id),
  arch_id  INTEGER NOT NULL REFERENCES architectures(arch_id),
  pass     TEXT NOT NULL,
  seconds  REAL NOT NULL,
  users    TEXT NOT NULL,
  status   TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
  PRIMARY KEY (run_id, arch_id, pass)
) WITHOUT ROWID;
CREATE TABLE ground_truth (
  space      TEXT NOT NULL,
  arch_index INTEGER NOT NULL,
  dataset    TEXT NOT NULL,
  split      TEXT NOT NULL,
  epochs     INTEGER NOT NULL,
  value      REAL NOT NULL,
  source     TEXT NOT NULL,
  PRIMARY KEY (space, arch_index, dataset, split, epochs)
) WITHOUT ROWID;
)SQL";

// The stable interface for SQL users; new columns go at the end so that positional readers of
// older versions keep working. Recreated by every migration that changes it.
constexpr const char* kProxyScoresViewSql = R"SQL(
CREATE VIEW proxy_scores AS
  SELECT a.space, a.arch_index, a.arch, p.name AS proxy, s.value, s.rank_value, s.status,
         s.seconds, s.run_id, p.train_epochs
  FROM scores s
  JOIN architectures a ON a.arch_id = s.arch_id
  JOIN proxies p ON p.proxy_id = s.proxy_id;
)SQL";

// Version 1 -> 2, run in one transaction followed by kProxyScoresViewSql. ALTER TABLE ... ADD
// COLUMN with a constant default rewrites no row: every existing proxy reads 0 (computed at
// initialisation), which is what every version-1 score was.
constexpr const char* kMigrateV1ToV2Sql = R"SQL(
ALTER TABLE proxies ADD COLUMN train_epochs INTEGER NOT NULL DEFAULT 0 CHECK (train_epochs >= 0);
DROP VIEW proxy_scores;
)SQL";

// Version 2 -> 3, run in the same transaction as the earlier steps; ResultsDb then rewrites each
// run's config_key (migrate_config_key_to_v3). Up to version 2 a session could only join a run
// whose config_key held its exact BLAS string, so the run's blas is each old session's; its CPU
// and device name were never recorded and stay NULL.
constexpr const char* kMigrateV2ToV3Sql = R"SQL(
ALTER TABLE run_sessions ADD COLUMN cpu TEXT;
ALTER TABLE run_sessions ADD COLUMN device_name TEXT;
ALTER TABLE run_sessions ADD COLUMN blas TEXT;
UPDATE run_sessions SET blas = (SELECT r.blas FROM runs r WHERE r.run_id = run_sessions.run_id);
)SQL";

}  // namespace nbz::db
