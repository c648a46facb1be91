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

.PHONY: all deps configure build test unit-test tsan-test lab serve bench bench-server clean format

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

# Host tests first (fast unit tests, then integration), then the sanitizer
# build of the engine, then the QEMU lab.
test: build
	bash scripts/test.sh $(BUILD)

serve: build
	bash scripts/serve.sh $(BUILD) $(POOL) $(POOL_SIZE) $(PORT)

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')
