# daxkv: the usual steps. `make serve` and `make test` are the README's two
# set-up commands; each installs what it needs first.
BUILD ?= build
POOL ?= ./data/daxkv.pool
POOL_SIZE ?= 1G
PORT ?= 6379
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CMAKE_FLAGS ?=
ifeq ($(CI),true)
  CMAKE_FLAGS += -DDAXKV_WERROR=ON
endif
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test unit-test tsan-test lab serve bench bench-server bench-leaderboard clean format

all: build

deps:
	@echo "== [$$(date -u +%T)] dependencies =="
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: deps configure
	@echo "== [$$(date -u +%T)] build =="
	cmake --build $(BUILD) -j $(JOBS)

# Host tests first (fast unit tests, then integration), then the sanitizer
# build of the engine, then the QEMU lab.
test: build
	bash scripts/test.sh $(BUILD)

serve: build
	bash scripts/serve.sh $(BUILD) $(POOL) $(POOL_SIZE) $(PORT)

# daxkv-server vs redis-server (no persistence, AOF everysec, AOF always on
# disk and on tmpfs) with redis-benchmark; BENCH_N, BENCH_ROUNDS, ... in the
# script's header. Table on stdout, JSON in $(BUILD)/bench/server.json.
bench-server: build
	bash scripts/bench_server.sh $(BUILD)

# A leaderboard (ZINCRBY by 1, thousands of members per score), which
# redis-benchmark's zero-padded members cannot send: daxkv-server against
# redis-server without persistence; knobs in the script's header.
bench-leaderboard: build
	bash scripts/bench_leaderboard.sh $(BUILD)

# The whole QEMU DAX lab (both kernels, every flavour, power cuts, and the
# multi-boot legacy-vs-refcounted comparison); results and the summary
# table under $(BUILD)/lab/. `make test` runs its CI subset.
# LAB_ALLOW_MISSING=1 reports unbuilt binaries without failing.
lab: build
	bash tests/lab/run.sh $(BUILD) full

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

# Engine benchmark: daxkv vs LMDB and RocksDB (bench/engine/), medians of 3,
# on a /dev/shm pool with cache-line persistence. BENCH_ENGINE_FLAGS passes
# flags (--keys=10000000, --pool=/dev/dax0.0 --peer_dir=...). JSON in
# $(BUILD)/bench/engine.json, then the side-by-side table.
.PHONY: bench-engine
bench: bench-engine
bench-engine: build
	mkdir -p $(BUILD)/bench
	$(BUILD)/bin/daxkv-bench --benchmark_out=$(BUILD)/bench/engine.json \
	  --benchmark_out_format=json $(BENCH_ENGINE_FLAGS)
	python3 bench/engine/summary.py $(BUILD)/bench/engine.json

# Compaction alone (daxkv-bench-compaction): CPU per key compacted at 10%
# and 50% live, the work the background thread takes from writers. JSON in
# $(BUILD)/bench/compaction.json.
.PHONY: bench-compaction
bench: bench-compaction
bench-compaction: build
	mkdir -p $(BUILD)/bench
	$(BUILD)/bin/daxkv-bench-compaction \
	  --benchmark_out=$(BUILD)/bench/compaction.json \
	  --benchmark_out_format=json

# Collection structures (issue 14): DRAM bytes per element next to
# redis-server's used_memory per element for the same shapes, then the
# structures' speed and recovery bulk-build cost. JSON in
# $(BUILD)/bench/collections.json and $(BUILD)/bench/redis_memory.json.
.PHONY: bench-collections
bench: bench-collections
bench-collections: build
	mkdir -p $(BUILD)/bench
	python3 bench/collections/redis_memory.py \
	  --out $(BUILD)/bench/redis_memory.json > /dev/null
	$(BUILD)/bin/daxkv-coll-bench \
	  --benchmark_out=$(BUILD)/bench/collections.json \
	  --benchmark_out_format=json
	python3 bench/collections/summary.py $(BUILD)/bench/collections.json \
	  $(BUILD)/bench/redis_memory.json
