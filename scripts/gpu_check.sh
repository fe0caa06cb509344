#!/bin/bash
# The prepared GPU check (issue #26): one call on a GPU machine, under 8 minutes, that builds the
# suite against the machine's pip PyTorch and measures what a CPU cannot. Run from the repository
# root after scripts/gpu_prepare.sh gathered gpu-carry/ on the Debian machine, e.g. through the
# device tool: command "scripts/gpu_check.sh", carry ["gpu-carry"]. Everything it writes goes to
# $OUT (the device tool's result folder; default ./gpu-out), at most 8 files of at most 16 MiB:
#   gpu_check.log                    this script's whole output, with each stage's wall time
#   agreement.md                     (a) score --device cuda on the 5 architectures of
#                                    tests/gpu/cpu_reference_nb201.json against those CPU scores:
#                                    per proxy, status, relative difference, ranks; GPU seconds
#   scores_cuda.jsonl                (a) the GPU answers, one JSON object per architecture
#   bench_cuda.json                  (b) nasbench_bench --device=cuda, engine and floor benchmarks
#                                    of NB201 smallest/median/largest (warm-up untimed); for
#                                    `nasbench import-bench`
#   nb201_sample1000_cuda.sqlite.xz  (c) --proxies all on a slice of the standard sample, several
#                                    processes sharing the GPU (throughput)
#   nb201_lga50k_cuda.sqlite.xz      (d) lga/ntk after 0, 1, 2 epochs on all 50k CIFAR-10 JPEGs
#   reports.txt                      `nasbench report` of both databases, with throughput lines
# Stage budgets (seconds) and sizes come from the environment: NBZ_GPU_{SWEEP,LGA,BENCH}_SECONDS,
# NBZ_GPU_JOBS (processes sharing the GPU, default 8), NBZ_GPU_SWEEP_SHARD (default 1/10: 100
# architectures), NBZ_GPU_LGA_SHARD (default 1/50: 20 architectures). A stage that runs out of time
# is stopped (SIGINT: a sweep stops after the architecture in flight; SIGKILL 15-20 s later if it
# has not) and the script goes on, so the outputs always come back; sweeps resume if run again.
# A dry run of the plumbing on a CPU machine: NBZ_GPU_DEVICE=cpu NBZ_GPU_PROXIES=params,grad_norm
# with small budgets (the agreement then covers those proxies only).
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-$PWD/gpu-out}
carry=${NBZ_GPU_CARRY:-gpu-carry}
data=$(realpath "$carry/data")
build=build-gpu
device=${NBZ_GPU_DEVICE:-cuda}
proxies=${NBZ_GPU_PROXIES:-all}
jobs=${NBZ_GPU_JOBS:-8}
sweep_seconds=${NBZ_GPU_SWEEP_SECONDS:-120}
lga_seconds=${NBZ_GPU_LGA_SECONDS:-120}
bench_seconds=${NBZ_GPU_BENCH_SECONDS:-100}
sweep_shard=${NBZ_GPU_SWEEP_SHARD:-1/10}
lga_shard=${NBZ_GPU_LGA_SHARD:-1/50}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
start=$(date +%s)
stage() { echo; echo "== $(( $(date +%s) - start )) s: $*"; }

stage "machine"
nvidia-smi -L || true
nproc
stage "build (scripts/gpu_build.sh)"
scripts/gpu_build.sh --carry "$carry" --build "$build" || { echo "gpu_check: the build failed"; exit 1; }
. "$build/env.sh"
nb="$build/nasbench"

stage "(a) agreement with the CPU scores"
reference=tests/gpu/cpu_reference_nb201.json
archs=$(python3 -c "import json; print(' '.join(str(a['arch_index']) for a in json.load(open('$reference'))['answers']))")
: > "$OUT/scores_cuda.jsonl"
for a in $archs; do
  s0=$(date +%s)
  "$nb" score --space nb201 --arch-index "$a" --seed 0 --threads 1 --device "$device" --proxies "$proxies" \
    --data "$data" >> "$OUT/scores_cuda.jsonl" || echo "gpu_check: score of architecture $a failed"
  echo "architecture $a: $(( $(date +%s) - s0 )) s"
done
python3 scripts/gpu_compare.py compare "$reference" "$OUT/scores_cuda.jsonl" | tee "$OUT/agreement.md"

stage "(b) benchmarks on $device"
timeout -k 15 "$bench_seconds" "$build/nasbench_bench" --device="$device" --data="$data" --nb101=0 \
  --benchmark_filter='^(engine|floor)/.*/nb201-(smallest|median|largest)$' \
  --benchmark_min_time=0.01 --benchmark_out="$OUT/bench_cuda.json" --benchmark_out_format=json \
  || echo "gpu_check: nasbench_bench stopped (exit $?); the JSON keeps what finished"
[ -f "$OUT/bench_cuda.json" ] && python3 scripts/gpu_compare.py close-bench-json "$OUT/bench_cuda.json"

stage "(c) --proxies $proxies, $jobs processes sharing the GPU, shard $sweep_shard of sample:1000"
db_all=$PWD/$build/nb201_sample1000_cuda.sqlite
s0=$(date +%s)
timeout -k 20 --signal=INT "$sweep_seconds" "$nb" sweep --device "$device" --space nb201 --archs sample:1000 \
  --shard "$sweep_shard" --proxies "$proxies" --seed 0 --jobs "$jobs" --threads 1 --db "$db_all" \
  --data "$data"
echo "sweep wall time $(( $(date +%s) - s0 )) s"

stage "(d) lga/ntk after 0, 1, 2 epochs on the 50k JPEG images, shard $lga_shard of sample:1000"
db_lga=$PWD/$build/nb201_lga50k_cuda.sqlite
if [ -f "$data/cifar10/CIFAR-10-images.tar.gz" ]; then
  s0=$(date +%s)
  timeout -k 20 --signal=INT "$lga_seconds" "$nb" sweep --device "$device" --space nb201 --archs sample:1000 \
    --shard "$lga_shard" --proxies lga,ntk_cond,ntk_trace --train-epochs 0,1,2 \
    --train-images cifar10-jpeg-50k --seed 0 --jobs 4 --threads 1 --db "$db_lga" --data "$data"
  echo "lga sweep wall time $(( $(date +%s) - s0 )) s"
else
  echo "gpu_check: no CIFAR-10-images.tar.gz carried (gpu_prepare.sh --no-jpeg-50k): skipped"
fi

stage "(e) reports and compressed databases"
: > "$OUT/reports.txt"
for db in "$db_all" "$db_lga"; do
  [ -f "$db" ] || continue
  {
    echo "### $(basename "$db")"
    scripts/db_snapshot.sh summary "$db"
    sqlite3 -readonly "$db" "SELECT 'session ' || session_id || ': ' || archs_done ||
      ' architectures in ' || printf('%.0f', (julianday(ended_at) - julianday(started_at)) * 86400) ||
      ' s, ' || outcome FROM run_sessions ORDER BY session_id"
    "$nb" report --db "$db"
  } >> "$OUT/reports.txt" 2>&1
  scripts/db_snapshot.sh save "$db" "$OUT/$(basename "$db").xz" || echo "gpu_check: snapshot of $db failed"
done
ls -la "$OUT"
stage "done"
