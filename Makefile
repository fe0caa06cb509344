# Entry points (README): `make run` = main job, `make test` = tests. Both do every set-up step
# they need, starting with the Debian packages.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DATA ?= ../shared/data
DB ?= results/nasbench.sqlite
RUN_ARCHS ?= sample:200
RUN_PROXIES ?= params,flops,l2_norm,grad_norm,snip,synflow,synflow_log,naswot,jacob_cov
DEPS = cmake g++ make libtorch-dev libsqlitecpp-dev libsqlite3-dev libgtest-dev libbenchmark-dev \
       libopenblas0-openmp libssl-dev sqlite3 git python3-torch libarchive-dev libjpeg-dev
# reports: PNG figures (rsvg-convert), the HTML page test (headless chromium), fonts for both
DEPS += librsvg2-bin chromium fonts-dejavu-core

ASAN_BUILD_DIR ?= build-asan
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

.PHONY: deps configure build test test-asan run check-space clean

# Installs only what is missing, so repeated runs cost a dpkg query.
deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DNBZ_DATA_DIR=$(abspath $(DATA))

configure: deps $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The torch-free tests (label "fast") under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNBZ_DATA_DIR=$(abspath $(DATA)) \
	  -DCMAKE_CXX_FLAGS="$(SANITIZE)" -DCMAKE_EXE_LINKER_FLAGS="$(SANITIZE)"
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS) --target core_tests
	cd $(ASAN_BUILD_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L fast

run: build
	@mkdir -p $(dir $(DB))
	$(BUILD_DIR)/nasbench sweep --space nb201 --archs $(RUN_ARCHS) --seed 0 --proxies $(RUN_PROXIES) --db $(DB) --data $(DATA)
	$(BUILD_DIR)/nasbench report --db $(DB)
	$(BUILD_DIR)/nasbench report --db $(DB) --out $(dir $(DB))report

# NB201: all 15,625 parameter counts; NB101: the enumeration, the hashes and parameter counts of
# the 20,001 ground-truth rows (README, "Timings").
check-space: build
	$(BUILD_DIR)/nasbench check-space --space nb201 --data $(DATA)
	$(BUILD_DIR)/nasbench check-space --space nb101 --data $(DATA)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)

# Microbenchmarks (bench/, Google Benchmark): the engine per proxy and per group, and the
# bare-pass floors. The default (NB201 median architecture, one short repetition) takes a few
# minutes on 2 cores; BENCH_FILTER=. runs every architecture (NB201 smallest, median, largest and
# the NB101 cell, which alone takes about an hour), BENCH_ARGS adds flags, e.g.
# BENCH_ARGS="--benchmark_min_time=2 --benchmark_repetitions=5 --threads=2" (README, "Benchmarks").
BENCH_FILTER ?= nb201-median
BENCH_OUT ?= $(BUILD_DIR)/bench.json
BENCH_ARGS ?=
.PHONY: bench test-slurm
bench: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target nasbench_bench
	$(BUILD_DIR)/nasbench_bench --data=$(abspath $(DATA)) --benchmark_filter='$(BENCH_FILTER)' \
	  --benchmark_min_time=0.01 --benchmark_out=$(BENCH_OUT) --benchmark_out_format=json $(BENCH_ARGS)
	@echo "JSON in $(BENCH_OUT); store it with: $(BUILD_DIR)/nasbench import-bench --db results/bench.sqlite --json $(BENCH_OUT)"

# The Slurm job array + dependent merge on a throw-away single-node Slurm (README, "Clusters").
# Installs slurm-wlm and munge with the other packages; exits 0 with the reason when it skips.
test-slurm: DEPS += slurm-wlm munge
test-slurm: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target nasbench
	scripts/test_slurm.sh $(BUILD_DIR)/nasbench $(abspath $(DATA)); rc=$$?; [ $$rc = 77 ] || exit $$rc
