# The two commands: `make demo` and `make test` (README.md). Everything else is here
# for developers. Each target installs missing Debian packages first.
BUILD      ?= build
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja
FUZZ_SECONDS ?= 5

.PHONY: all deps configure build test unit demo bench fuzz fuzz-smoke test-asan test-tsan \
        format format-check tidy check-layering clean

all: build

deps:
	@scripts/install-deps

# -g1 (line tables: enough for backtraces and perf) keeps the build a quarter faster than -g.
RELWITHDEBINFO_FLAGS := -O2 -g1 -DNDEBUG

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(RELWITHDEBINFO_FLAGS)" >/dev/null

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Unit + integration tests on the normal build, then a smoke run of every fuzz target.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 600
	$(MAKE) --no-print-directory fuzz-smoke

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -LE integration

# The sanitizer pass reuses the fuzz build (clang, ASan + UBSan + coverage hooks): one
# instrumented build serves both the fuzz smoke run and the sanitized test run.
test-asan: $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	# alloc_dealloc_mismatch=0: under clang, asio 1.22's thread_info_base frees with free()
	# (aligned_delete) a block its recycling allocator got from operator new; ASan reports
	# that in every test that runs an io_context on a second thread (seen in the DNS channel
	# tests). It is asio's, not ours; every other ASan/UBSan check stays on.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:alloc_dealloc_mismatch=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(FUZZ_BUILD) --output-on-failure -j$(JOBS) --timeout 900 -LE fuzz

test-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
	  -DSAMIZDAT_SANITIZE=thread -DSAMIZDAT_BENCH=ON >/dev/null
	cmake --build $(TSAN_BUILD) -j$(JOBS)
	ctest --test-dir $(TSAN_BUILD) --output-on-failure -j$(JOBS) --timeout 900

$(FUZZ_BUILD)/build.ninja: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
	  -DSAMIZDAT_FUZZ=ON -DSAMIZDAT_TESTS=ON -DSAMIZDAT_BENCH=OFF \
	  -DSAMIZDAT_FUZZ_SMOKE_SECONDS=$(FUZZ_SECONDS) >/dev/null

# A few seconds of every libFuzzer target, replaying tests/fuzz/corpus/ first.
fuzz-smoke: $(FUZZ_BUILD)/build.ninja
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DSAMIZDAT_FUZZ_SMOKE_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_targets
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -L fuzz -j$(JOBS)

# The long campaign (not in CI): every target FUZZ_SECONDS (default here 600) on its own
# core, then the inputs with new coverage merged into tests/fuzz/corpus/ (replayed by
# `make test`). FUZZ_TARGETS="a b" runs only those. Summary: $(FUZZ_BUILD)/fuzz-campaign/latest/summary.md
fuzz: $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_targets
	JOBS=$(JOBS) scripts/fuzz-campaign $(FUZZ_BUILD) $${FUZZ_SECONDS:-600} $(FUZZ_TARGETS)

bench: build
	cmake --build $(BUILD) -j$(JOBS) --target benchmarks
	scripts/run-bench $(BUILD)
	scripts/bench-load $(BUILD) short

demo: build
	scripts/demo $(BUILD)

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

# CI: every tracked C++ file must already be clang-formatted.
format-check: deps
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

# CI: no src/ layer includes a later one (util < crypto < wire < transport < reach < store <
# server < client < cli), and src/ never includes tests/, bench/ or censor/.
check-layering:
	scripts/check-layering

# Every src/ file through clang-tidy (.clang-tidy); any finding fails.
tidy: configure
	scripts/tidy $(BUILD) $(JOBS)

clean:
	rm -rf $(BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)

# The censorship testbed (needs root): replays RKN 2018 against every subject of the
# scenario (the plain-TCP control and the real samizdatd/samizdat) and prints the summary.
.PHONY: censor-demo
censor-demo: configure
	cmake --build $(BUILD) -j$(JOBS) --target samizdat-censor samizdat-censor-control samizdatd samizdat
	$(BUILD)/censor/samizdat-censor run censor/scenarios/rkn-2018.toml --report $(BUILD)/censor-demo

# Server load benchmarks (samizdat-loadgen against a real samizdatd on loopback):
# 1,000 pairs saturation + latency, idle connections; and the 100,000-connection run.
.PHONY: bench-load bench-100k
bench-load: configure
	cmake --build $(BUILD) -j$(JOBS) --target samizdat-loadgen
	scripts/bench-load $(BUILD) full
bench-100k: configure
	cmake --build $(BUILD) -j$(JOBS) --target samizdat-loadgen
	scripts/bench-load $(BUILD) 100k

# Samizdat next to Mosquitto (QoS 1 + persistence, QoS 0), Redis pub/sub, NATS (core,
# JetStream) and an epoll relay, same harness and run (docs/BENCHMARKS.md "Peers"; < 10 min).
.PHONY: bench-peers
bench-peers: configure
	cmake --build $(BUILD) -j$(JOBS) --target samizdat-peers
	scripts/bench-peers $(BUILD)
