#!/bin/bash
# Submits a nasbench sweep to Slurm as a job array of N shards, each writing its own database,
# and a merge job that runs once every shard has succeeded (README, "Clusters").
#
#   scripts/slurm_sweep.sh --shards N --out DIR [options] -- SWEEP_OPTIONS...
#
#   --shards N          number of array tasks (shard K/N sweeps every N-th selected architecture)
#   --out DIR           shared directory: DIR/shard_K.sqlite, DIR/merged.sqlite, DIR/logs/
#   --nasbench PATH     the executable, reachable from every node (default: build/nasbench)
#   --cpus-per-task C   CPUs of each shard task, also its --threads (default 1)
#   --max-running M     at most M shards at once (sbatch --array=1-N%M)
#   --sbatch ARG        an extra sbatch argument for both jobs (repeatable), e.g. --sbatch
#                       --partition=cpu --sbatch --time=04:00:00 --sbatch --account=nas
#   --wait              block until the merge job has finished; exit with its status
#
# SWEEP_OPTIONS are `nasbench sweep` options without --shard, --db and --jobs, e.g.
#   -- --space nb201 --archs all --proxies all --seed 0 --data /shared/data
# Uses only sbatch: --array, --dependency=afterok, --parsable, --output, --wait.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
nasbench="$here/../build/nasbench"
shards="" out="" cpus=1 max_running="" wait=0
extra=()
die() { echo "slurm_sweep.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards=${2:?--shards needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --nasbench) nasbench=${2:?--nasbench needs a value}; shift 2 ;;
    --cpus-per-task) cpus=${2:?--cpus-per-task needs a value}; shift 2 ;;
    --max-running) max_running=${2:?--max-running needs a value}; shift 2 ;;
    --sbatch) extra+=("${2:?--sbatch needs a value}"); shift 2 ;;
    --wait) wait=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (sweep options go after --)" ;;
  esac
done
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "--shards '$shards' must be a positive integer"
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || die "--cpus-per-task '$cpus' must be a positive integer"
[ -n "$out" ] || die "--out DIR is required"
[ $# -gt 0 ] || die "no sweep options after -- (at least --archs and --proxies)"
for a in "$@"; do
  case "$a" in
    --shard|--shard=*|--db|--db=*|--jobs|--jobs=*) die "'$a' is set per shard by this script" ;;
  esac
done
command -v sbatch >/dev/null || die "sbatch not found: is this a Slurm submit host?"
[ -x "$nasbench" ] || die "'$nasbench' is not an executable (build it, or give --nasbench)"
nasbench=$(cd "$(dirname "$nasbench")" && pwd)/$(basename "$nasbench")
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
script="$here/slurm_sweep.sbatch"

array="1-$shards${max_running:+%$max_running}"
# --parsable prints "jobid" or "jobid;cluster".
array_job=$(sbatch --parsable --array="$array" --cpus-per-task="$cpus" \
  --job-name=nbz-sweep --output="$out/logs/shard_%a.log" --open-mode=append \
  "${extra[@]}" "$script" shard "$nasbench" "$out" "$shards" "$@")
array_job=${array_job%%;*}
echo "submitted shards: job array $array_job ($shards tasks, logs $out/logs/shard_K.log)"

merge_args=(--parsable --dependency="afterok:$array_job" --kill-on-invalid-dep=yes
            --job-name=nbz-merge --output="$out/logs/merge.log" --open-mode=append)
if [ "$wait" = 1 ]; then
  echo "waiting for the merge job (after all shards) ..."
  set +e
  merge_job=$(sbatch "${merge_args[@]}" --wait "${extra[@]}" "$script" merge "$nasbench" "$out" "$shards")
  status=$?
  set -e
  echo "merge job ${merge_job%%;*} finished with status $status -> $out/merged.sqlite"
  exit $status
fi
merge_job=$(sbatch "${merge_args[@]}" "${extra[@]}" "$script" merge "$nasbench" "$out" "$shards")
echo "submitted merge: job ${merge_job%%;*} (after every shard succeeded) -> $out/merged.sqlite"
