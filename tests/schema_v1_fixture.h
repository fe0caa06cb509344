// A results database of schema version 1, as the first release wrote it, for the tests of the
// migration to later versions and of merging old shard files. The DDL is a frozen copy of
// benchmarks_db/schema.h at version 1: never edit it to follow the current schema.
#pragma once

#include <SQLiteCpp/Database.h>

#include <string>

namespace nbz::test {

// Version 1's kSchemaSql, verbatim.
inline constexpr const char* kSchemaV1Sql = R"SQL(
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
  outcome      TEXT NOT NULL DEFAULT 'running'
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
  description TEXT NOT NULL
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
CREATE VIEW proxy_scores AS
  SELECT a.space, a.arch_index, a.arch, p.name AS proxy, s.value, s.rank_value, s.status,
         s.seconds, s.run_id
  FROM scores s
  JOIN architectures a ON a.arch_id = s.arch_id
  JOIN proxies p ON p.proxy_id = s.proxy_id;
)SQL";

// Creates `path` as a version-1 database with one row in every table: run 'v1-run' (seed 7),
// architecture nb201 index 5 'arch-five', proxies 'p1' (ok score 1.5) and 'p2' (sign -1, failed
// score), a completed session, one pass, one ground-truth row.
inline void make_v1_database(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("BEGIN");
  db.exec(kSchemaV1Sql);
  db.exec("PRAGMA application_id = 1312971331");  // 0x4E425A43, "NBZC"
  db.exec("PRAGMA user_version = 1");
  db.exec(R"SQL(
INSERT INTO meta VALUES ('created_at', '2024-01-01T00:00:00.000Z');
INSERT INTO runs(run_id, config_key, space, dataset, images, num_classes, input_size, seed,
  batch_size, batch_indices, device, device_name, threads, blas, torch_version, code_version,
  build, host, cpu, options_json, started_at, ended_at)
VALUES (1, 'v1-run', 'nb201', 'cifar10', 'test images', 10, 32, 7, 2, '[0,1]', 'cpu', 'test cpu',
  1, 'test blas', '1.13.1', 'v1', 'Release', 'host', 'cpu', '{}', '2024-01-01T00:00:01.000Z',
  '2024-01-01T00:00:02.000Z');
INSERT INTO run_sessions(session_id, run_id, command_line, host, pid, code_version, started_at,
  ended_at, archs_done, outcome)
VALUES (1, 1, 'nasbench sweep ...', 'host', 42, 'v1', '2024-01-01T00:00:01.000Z',
  '2024-01-01T00:00:02.000Z', 1, 'completed');
INSERT INTO architectures VALUES (1, 'nb201', 5, 'arch-five', 'k5');
INSERT INTO proxies VALUES (1, 'p1', 1, 'test', 'score', 'build', 'k=1', 'a test proxy');
INSERT INTO proxies VALUES (2, 'p2', -1, 'test', 'score', 'build', '', 'another test proxy');
INSERT INTO scores VALUES (1, 1, 1, 1.5, 1.5, 'ok', NULL, 0.25, 0.5, 0.75, 1);
INSERT INTO scores VALUES (1, 1, 2, NULL, NULL, 'failed', 'non-finite value: nan', 0.0, 0.5, 0.5,
  1);
INSERT INTO passes VALUES (1, 1, 'build', 0.5, 'p1,p2', 'ok');
INSERT INTO ground_truth VALUES ('nb201', 5, 'cifar10', 'test', 200, 93.5, 'file.csv');
)SQL");
  db.exec("COMMIT");
}

}  // namespace nbz::test
