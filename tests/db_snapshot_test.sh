#!/bin/bash
# scripts/db_snapshot.sh end to end (ctest db_snapshot_roundtrip): a small sweep saved and
# restored is the same database (same .dump, same application_id and schema version), a sweep
# resumed on the restored copy finds every architecture complete, and every refusal (existing
# target, foreign SQLite file, unreadable snapshot) names the file and leaves it as it was.
#
#   tests/db_snapshot_test.sh NASBENCH DATA_DIR
set -uo pipefail

nasbench=${1:?usage: db_snapshot_test.sh NASBENCH DATA_DIR}
data=${2:?usage: db_snapshot_test.sh NASBENCH DATA_DIR}
snapshot=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/db_snapshot.sh
fail() { echo "FAILED: $*"; exit 1; }
command -v sqlite3 >/dev/null || { echo "SKIPPED: sqlite3 is not installed"; exit 77; }
command -v xz >/dev/null || { echo "SKIPPED: xz is not installed"; exit 77; }

dir=$(mktemp -d /tmp/nbz_snapshot_XXXXXX)
trap 'rm -rf "$dir"' EXIT
sweep() {  # DB
  "$nasbench" sweep --space nb201 --archs 0-2 --seed 0 --proxies params,flops,naswot \
    --threads 1 --no-progress-bar --data "$data" --db "$1" 2>&1
}

sweep "$dir/a.sqlite" > "$dir/sweep_a.log" || { cat "$dir/sweep_a.log"; fail "first sweep"; }
out=$("$snapshot" save "$dir/a.sqlite" "$dir/snap/a.sqlite.xz" 2>&1) || fail "save: $out"
echo "$out"
[[ $out == *"architectures scored 3, score rows 9 (failed 0), proxies 3 (3 rows each)"* ]] ||
  fail "save summary: $out"
[ -s "$dir/snap/a.sqlite.xz" ] || fail "no snapshot file"
[ -z "$(find "$dir/snap" -name '.db_snapshot_*')" ] || fail "temporary file left in $dir/snap"

out=$("$snapshot" restore "$dir/snap/a.sqlite.xz" "$dir/b.sqlite" 2>&1) || fail "restore: $out"
echo "$out"
for pragma in application_id user_version; do
  a=$(sqlite3 "$dir/a.sqlite" "PRAGMA $pragma")
  b=$(sqlite3 "$dir/b.sqlite" "PRAGMA $pragma")
  [ "$a" = "$b" ] || fail "PRAGMA $pragma: saved $a, restored $b"
done
sqlite3 "$dir/a.sqlite" .dump > "$dir/a.sql"
sqlite3 "$dir/b.sqlite" .dump > "$dir/b.sql"
cmp -s "$dir/a.sql" "$dir/b.sql" || { diff "$dir/a.sql" "$dir/b.sql" | head; fail "dumps differ"; }

# Resuming on the restored copy scores nothing again and adds no row.
sweep "$dir/b.sqlite" > "$dir/sweep_b.log" || { cat "$dir/sweep_b.log"; fail "resumed sweep"; }
grep -q "3 already complete, 0 to score" "$dir/sweep_b.log" ||
  { cat "$dir/sweep_b.log"; fail "the resumed sweep did not find the 3 architectures complete"; }
rows=$(sqlite3 "$dir/b.sqlite" "SELECT count(*) FROM scores")
[ "$rows" = 9 ] || fail "restored database has $rows score rows after the resume, expected 9"

# Refusals: each names the file and changes nothing.
before=$(sha256sum < "$dir/b.sqlite")
out=$("$snapshot" restore "$dir/snap/a.sqlite.xz" "$dir/b.sqlite" 2>&1) && fail "restore over an existing file succeeded"
[[ $out == *"'$dir/b.sqlite' exists"* ]] || fail "message does not name the existing file: $out"
[ "$(sha256sum < "$dir/b.sqlite")" = "$before" ] || fail "the existing database was modified"

sqlite3 "$dir/foreign.sqlite" "CREATE TABLE t(x); INSERT INTO t VALUES (1)"
out=$("$snapshot" save "$dir/foreign.sqlite" "$dir/snap/f.sqlite.xz" 2>&1) && fail "saved a foreign SQLite file"
[[ $out == *"'$dir/foreign.sqlite' is not a nasbench results database"* ]] || fail "foreign file message: $out"
[ ! -e "$dir/snap/f.sqlite.xz" ] || fail "a snapshot of the foreign file was written"

printf 'not xz' > "$dir/snap/broken.sqlite.xz"
out=$("$snapshot" restore "$dir/snap/broken.sqlite.xz" "$dir/c.sqlite" 2>&1) && fail "restored a broken snapshot"
[[ $out == *"'$dir/snap/broken.sqlite.xz' is not a readable xz file"* ]] || fail "broken snapshot message: $out"
[ ! -e "$dir/c.sqlite" ] || fail "a database was left behind by the failed restore"
[ -z "$(find "$dir" -name '.db_snapshot_*')" ] || fail "temporary file left behind"

xz -c "$dir/foreign.sqlite" > "$dir/snap/foreign.sqlite.xz"
out=$("$snapshot" restore "$dir/snap/foreign.sqlite.xz" "$dir/d.sqlite" 2>&1) && fail "restored a foreign database"
[[ $out == *"snapshot '$dir/snap/foreign.sqlite.xz' is not a nasbench results database"* ]] ||
  fail "foreign snapshot message: $out"
[ ! -e "$dir/d.sqlite" ] || fail "a database was left behind by the refused restore"

echo "PASSED"
