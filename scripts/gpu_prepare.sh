#!/bin/bash
# On the Debian machine, before a GPU run: gathers into one ignored folder (default gpu-carry/)
# everything a bare GPU machine needs besides the checkout, so that `device` can carry it:
#   gpu-carry/debs/   Debian 12 packages of the C++ libraries the build links besides LibTorch
#                     (SQLiteCpp + SQLite, libarchive, Google Benchmark, OpenSSL, libjpeg) and the
#                     sqlite3 CLI for scripts/db_snapshot.sh, fetched with `apt-get download`
#   gpu-carry/data/   the data files a GPU check reads, with their SHA256SUMS lines
# The GPU machine (Ubuntu, pip PyTorch with CUDA, no apt, no network) unpacks the packages into a
# prefix (scripts/gpu_build.sh); nothing is installed there.
#
#   scripts/gpu_prepare.sh [--data DIR] [--out DIR] [--no-jpeg-50k]
#     --data DIR      the shared data folder (default ../shared/data)
#     --out DIR       where to gather (default gpu-carry; must be ignored by git)
#     --no-jpeg-50k   leave out CIFAR-10-images.tar.gz (20 MB): then the check's LGA run is skipped
set -euo pipefail
cd "$(dirname "$0")/.."

data=../shared/data
out=gpu-carry
jpeg=1
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-jpeg-50k) jpeg=0; shift ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
die() { echo "gpu_prepare: $*" >&2; exit 1; }

# The set that built and ran on the H200 machine (issue #26), plus the sqlite3 CLI.
packages=(libsqlitecpp-dev libsqlite3-dev libsqlite3-0 sqlite3 libarchive-dev libarchive13
          libbenchmark-dev libbenchmark1debian libssl-dev libssl3 libjpeg62-turbo
          libjpeg62-turbo-dev)
files=(nasbench201/nb201_ground_truth.csv cifar10/data_batch_1_first4000.bin)
[ "$jpeg" = 1 ] && files+=(cifar10/CIFAR-10-images.tar.gz)

mkdir -p "$out"
git check-ignore -q "$out" || die "'$out' is not ignored by git: it must not be committed"
[ -f "$data/SHA256SUMS" ] || die "no SHA256SUMS in the data folder '$data'"
command -v apt-get >/dev/null || die "apt-get not found: run this on the Debian machine"

mkdir -p "$out/debs" "$out/data"
rm -f "$out"/debs/*.deb
(cd "$out/debs" && apt-get download "${packages[@]}") || die "apt-get download failed"

: > "$out/data/SHA256SUMS"
for f in "${files[@]}"; do
  [ -f "$data/$f" ] || die "missing data file '$data/$f'"
  mkdir -p "$out/data/$(dirname "$f")"
  cp "$data/$f" "$out/data/$f"
  grep -F "  $f" "$data/SHA256SUMS" >> "$out/data/SHA256SUMS" || die "'$f' has no line in SHA256SUMS"
done
(cd "$out/data" && sha256sum --quiet -c SHA256SUMS) || die "a copied data file fails its checksum"

size=$(du -sm "$out" | cut -f1)
echo "gpu_prepare: $out holds ${#packages[@]} packages and ${#files[@]} data files, ${size} MiB"
[ "$size" -le 60 ] || echo "gpu_prepare: warning: the device tool carries at most 64 MiB in all" >&2
echo "next, on the GPU machine (device tool: carry [\"$out\"]): scripts/gpu_check.sh"
