#!/bin/bash
# On a bare GPU machine (a pip PyTorch with CUDA, CMake, a C++ compiler; no apt, no network):
# builds `nasbench` and `nasbench_bench` against that PyTorch's LibTorch, with the other C++
# libraries from the Debian packages that scripts/gpu_prepare.sh gathered on the Debian machine.
# Nothing is installed: the packages are unpacked into <carry>/prefix. Writes <build>/env.sh,
# which sets LD_LIBRARY_PATH (and PATH, for the sqlite3 CLI) for the built programs.
#
#   scripts/gpu_build.sh [--carry DIR] [--build DIR]     (defaults gpu-carry, build-gpu)
#   PYTHON=python3 JOBS=$(nproc) are read from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

carry=gpu-carry
build=build-gpu
while [ $# -gt 0 ]; do
  case "$1" in
    --carry) carry=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
python=${PYTHON:-python3}
jobs=${JOBS:-$(nproc)}
die() { echo "gpu_build: $*" >&2; exit 1; }

[ -d "$carry/debs" ] || die "no '$carry/debs': run scripts/gpu_prepare.sh on the Debian machine and carry '$carry'"
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)') ||
  die "'$python' cannot import torch (a pip PyTorch is needed)"
abi=$("$python" -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')
[ "$abi" = 1 ] || die "this PyTorch uses the pre-C++11 std::string ABI; Debian's libraries need the C++11 ABI"
"$python" -c 'import torch; print("gpu_build: PyTorch", torch.__version__, "CUDA", torch.version.cuda,
  "devices", torch.cuda.device_count())'

prefix=$(realpath "$carry")/prefix
rm -rf "$prefix"
mkdir -p "$prefix"
for deb in "$carry"/debs/*.deb; do
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$deb" "$prefix"
  else  # a .deb is an ar archive holding data.tar.*
    tmp=$(mktemp -d)
    (cd "$tmp" && ar x "$(realpath -m "$OLDPWD/$deb")" && tar -xf data.tar.* -C "$prefix")
    rm -rf "$tmp"
  fi
done
multiarch=$prefix/usr/lib/x86_64-linux-gnu

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# -idirafter: the machine's own headers (OpenSSL, libjpeg, the C library) win over the Debian ones;
# only what it lacks (sqlite3.h, archive.h, SQLiteCpp, benchmark) comes from the prefix.
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr" \
  -DCMAKE_CXX_FLAGS="-idirafter $prefix/usr/include -idirafter $prefix/usr/include/x86_64-linux-gnu" \
  -DCMAKE_BUILD_RPATH="$multiarch" \
  -DNBZ_BUILD_TESTS=OFF -DNBZ_DATA_DIR="$(realpath "$carry")/data"
cmake --build "$build" -j "$jobs" --target nasbench nasbench_bench

cat > "$build/env.sh" <<EOF
# source this before running $build/nasbench or $build/nasbench_bench (written by gpu_build.sh)
export LD_LIBRARY_PATH="$multiarch\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PATH="$prefix/usr/bin:\$PATH"
EOF
. "$build/env.sh"
"$build/nasbench" version
echo "gpu_build: built $build/nasbench and $build/nasbench_bench; source $build/env.sh to run them"
