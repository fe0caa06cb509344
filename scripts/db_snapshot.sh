#!/bin/bash
# Snapshots of results databases as xz-compressed SQLite files, so that a sweep's scores outlive
# the machine that computed them (published/ keeps the ones behind the issue notes' tables).
#
#   scripts/db_snapshot.sh save DB OUT.sqlite.xz     consistent copy of DB (VACUUM INTO: safe while
#                                                    a sweep is writing; it sees committed
#                                                    architectures only), checked, compressed
#   scripts/db_snapshot.sh restore IN.sqlite.xz DB   DB must not exist; to combine a snapshot with
#                                                    a database you have, restore it to a new path
#                                                    and use `nasbench merge`
#   scripts/db_snapshot.sh summary DB               runs, sessions, architectures, score rows,
#                                                    proxies and rows per proxy
#
# A restored database is the saved one: resuming `nasbench sweep` on it with the same options
# scores only what is missing. Nothing is written in place: outputs appear by rename when whole.
set -euo pipefail

usage() { sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "db_snapshot: $*" >&2; exit 1; }

# PRAGMA application_id of a nasbench results database ("NBZC", benchmarks_db/results_db.cpp).
readonly kApplicationId=$((0x4E425A43))

command -v sqlite3 >/dev/null || die "sqlite3 is not installed (Debian: apt-get install sqlite3)"
command -v xz >/dev/null || die "xz is not installed (Debian: apt-get install xz-utils)"

# SQLite string literal of a path.
sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }

check_results_db() {  # FILE LABEL (how messages name FILE)
  local id check
  id=$(sqlite3 -readonly "$1" "PRAGMA application_id" 2>/dev/null) ||
    die "$2 is not an SQLite database"
  [ "$id" = "$kApplicationId" ] ||
    die "$2 is not a nasbench results database (application_id $id, expected $kApplicationId)"
  check=$(sqlite3 -readonly "$1" "PRAGMA integrity_check" 2>&1) || die "$2: $check"
  [ "$check" = ok ] || die "$2 fails PRAGMA integrity_check: $(echo "$check" | head -3)"
}

summary() {  # DB
  # A row is keyed by (run, architecture, proxy): "N rows each" with one run and N architectures
  # means every proxy has a row for every architecture.
  sqlite3 -bail -readonly "$1" "
    WITH per_proxy AS (SELECT count(*) AS n FROM scores GROUP BY run_id, proxy_id)
    SELECT 'runs ' || (SELECT count(*) FROM runs) ||
           ', sessions ' || (SELECT count(*) FROM run_sessions) ||
           ', architectures scored ' || (SELECT count(DISTINCT arch_id) FROM scores) ||
           ', score rows ' || (SELECT count(*) FROM scores) ||
           ' (failed ' || (SELECT count(*) FROM scores WHERE status = 'failed') || ')' ||
           ', proxies ' || (SELECT count(*) FROM per_proxy) || ' (' ||
           (SELECT CASE WHEN min(n) = max(n) THEN min(n) || ' rows each'
                        ELSE min(n) || ' to ' || max(n) || ' rows' END FROM per_proxy) || ')' ||
           ', schema version ' || (SELECT user_version FROM pragma_user_version);" || die "cannot read '$1'"
}

save() {  # DB OUT
  local db=$1 out=$2 tmp
  [ -f "$db" ] || die "database '$db' does not exist"
  check_results_db "$db" "database '$db'"
  case "$out" in *.sqlite.xz) ;; *) die "output '$out' must end in .sqlite.xz" ;; esac
  mkdir -p "$(dirname "$out")"
  tmp=$(mktemp "$(dirname "$out")/.db_snapshot_XXXXXX")
  trap 'rm -f "$tmp" "$tmp.xz"' EXIT
  rm -f "$tmp"  # VACUUM INTO refuses an existing non-empty file; mktemp only reserved the name
  sqlite3 -readonly "$db" "VACUUM INTO $(sql_quote "$tmp")" || die "VACUUM INTO failed on '$db'"
  check_results_db "$tmp" "the copy of '$db'"
  local counts
  counts=$(summary "$tmp")
  xz -9 -T1 "$tmp"
  mv -f "$tmp.xz" "$out"
  trap - EXIT
  echo "saved $db -> $out ($(stat -c %s "$out") bytes): $counts"
}

restore() {  # IN DB
  local in=$1 db=$2 tmp
  [ -f "$in" ] || die "snapshot '$in' does not exist"
  [ ! -e "$db" ] || die "'$db' exists: restore to a new path, then combine the two with" \
    "'nasbench merge OUT.sqlite $db NEW.sqlite'"
  mkdir -p "$(dirname "$db")"
  tmp=$(mktemp "$(dirname "$db")/.db_snapshot_XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  xz -dc "$in" > "$tmp" || die "'$in' is not a readable xz file"
  check_results_db "$tmp" "snapshot '$in'"
  mv -n "$tmp" "$db"
  [ ! -e "$tmp" ] || die "'$db' appeared while restoring; it was left as it is"
  trap - EXIT
  local counts
  counts=$(summary "$db")
  echo "restored $in -> $db: $counts"
}

[ $# -ge 1 ] || usage
case "$1" in
  save) [ $# = 3 ] || usage; save "$2" "$3" ;;
  restore) [ $# = 3 ] || usage; restore "$2" "$3" ;;
  summary) [ $# = 2 ] || usage; [ -f "$2" ] || die "database '$2' does not exist"
           check_results_db "$2" "database '$2'"; summary "$2" ;;
  *) usage ;;
esac
