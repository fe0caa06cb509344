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

check-space: build
	$(BUILD_DIR)/nasbench check-space --space nb201 --data $(DATA)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
